"""The composition root: ``agentaudit desktop [--url URL] [--data-dir DIR] [--screenshot DIR]``.

Builds the QApplication, the settings, the transport and client, the sidecar manager, the presenters and the
window, and passes each what it needs (no globals).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop import crash, log, theme
from desktop.api.client import SidecarClient
from desktop.api.transport import Transport
from desktop.presenters.session import DEMO_EMAIL, DEMO_PASSWORD
from desktop.presenters.shell import Shell
from desktop.settings import DesktopSettings, credentials_from_env
from desktop.sidecar_process import SidecarManager
from desktop.views.main_window import MainWindow


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentaudit desktop", description="The AgentAudit desktop app")
    parser.add_argument("--url", help="the sidecar's address (default http://127.0.0.1:8731, or AGENTAUDIT_PORT)")
    parser.add_argument("--data-dir", help="data dir for a sidecar this app starts (default: the sidecar's own)")
    parser.add_argument("--no-start", action="store_true", help="never start a sidecar; only connect to one")
    parser.add_argument("--screenshot", metavar="DIR",
                        help="log in, save a PNG of each main view into DIR and exit")
    parser.add_argument("--email", help="with --screenshot: the account (env AGENTAUDIT_EMAIL; default the demo's)")
    parser.add_argument("--password", help="with --screenshot: its password (env AGENTAUDIT_PASSWORD)")
    parser.add_argument("--log-level", default="WARNING")
    return parser


def settle_heap() -> None:
    """Move everything built at start-up (modules, Qt wrappers, the window: tens of thousands of objects that
    live until exit) out of the collector's sight, so a full collection later walks only what came after:
    33 ms instead of a few, with PySide's types in the heap. (The documented use of ``gc.freeze``.)"""
    gc.collect()
    gc.freeze()


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(["agentaudit"])
    assert isinstance(app, QApplication)
    app.setApplicationName("AgentAudit")
    app.setOrganizationName("AgentAudit")
    app.setQuitOnLastWindowClosed(True)
    screenshot = Path(args.screenshot) if args.screenshot else None
    store = None if screenshot else QSettings()
    settings = DesktopSettings.load(store, os.environ, url=args.url, data_dir=args.data_dir,
                                    start_sidecar=False if args.no_start else None)
    themes = theme.ThemeController(app)
    themes.set_mode("light" if screenshot else settings.theme)

    transport = Transport(settings.url)
    client = SidecarClient(transport)
    sidecar = SidecarManager(client, port=settings.port, host=settings.host, data_dir=settings.data_dir,
                             may_start=settings.start_sidecar)
    shell = Shell(client, sidecar, desktop_settings=settings, store=store, apply_theme=themes.set_mode)
    window = MainWindow(shell, last_email=settings.last_email, tray=screenshot is None)

    def report(summary: str) -> None:
        if screenshot is not None:
            print(f"agentaudit desktop: {summary}", file=sys.stderr)
            app.exit(70)
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "AgentAudit", "Something went wrong in the app.", parent=window)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText(summary + "\n\nThe details are in the log. You can keep working; if the app "
                               "misbehaves, restart it.")
        box.exec()

    crash.install(report)
    settle_heap()
    app.aboutToQuit.connect(sidecar.shutdown)
    app.aboutToQuit.connect(shell.live.stop)
    app.aboutToQuit.connect(transport.close)
    app.aboutToQuit.connect(shell.traces.close)
    sidecar.start()
    if screenshot is not None:
        from desktop import screenshots

        env_email, env_password = credentials_from_env(os.environ)
        email = args.email or env_email or DEMO_EMAIL
        password = args.password or env_password or (DEMO_PASSWORD if email == DEMO_EMAIL else "")
        window.resize(1280, 800)
        code = screenshots.run(app, window, screenshot, email, password)
        sidecar.shutdown()
        return code
    window.show()
    code = app.exec()
    if store is not None:
        replace(shell.settings.desktop, last_email=shell.session.last_email or settings.last_email).save(store)
    log.root.info("desktop app exiting with %s", code)
    return code
