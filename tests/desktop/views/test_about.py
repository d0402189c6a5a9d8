"""Help > About names the app's version, the sidecar it talks to (asked over HTTP) and the runtime."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from PySide6.QtWidgets import QApplication

from desktop.sidecar_process import SidecarState
from desktop.views.about import AboutDialog
from desktop.views.main_window import MainWindow
from tests.desktop.conftest import Seeded, free_port, make_shell


def _open_about(qtbot: Any, window: MainWindow) -> AboutDialog:
    help_menu = window.menuBar().actions()[-1]
    assert help_menu.text() == "&Help"
    assert help_menu.menu().actions() == [window.about_action]
    window.about_action.trigger()
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, AboutDialog) and w.isVisible())
    qtbot.addWidget(dialog)
    return dialog


def test_about_shows_the_app_and_sidecar_versions(qtbot: Any, seeded: Seeded) -> None:
    window = MainWindow(make_shell(seeded.url), tray=False)
    qtbot.addWidget(window)
    window.shell.sidecar.start()
    qtbot.waitUntil(lambda: window.shell.sidecar.status.state is SidecarState.UP, timeout=10_000)
    try:
        dialog = _open_about(qtbot, window)
        health = window.shell.sidecar.status
        assert dialog.values["Version"].text() == f"{metadata.version('agentaudit')} (from source)"
        assert dialog.values["Sidecar"].text() == f"{health.version} at {seeded.url}"
        assert health.version == metadata.version("agentaudit")
        assert dialog.values["Runtime"].text().startswith("Python 3.")
        dialog.reject()
        assert not dialog.isVisible()
    finally:
        window.shell.live.stop()
        window.shell.sidecar.shutdown()


def test_about_says_when_no_sidecar_answers(qtbot: Any) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    window = MainWindow(make_shell(url), tray=False)
    qtbot.addWidget(window)
    window.shell.sidecar.start()
    qtbot.waitUntil(lambda: window.shell.sidecar.status.detail.startswith("nothing answers"), timeout=10_000)
    try:
        dialog = _open_about(qtbot, window)
        assert dialog.values["Sidecar"].text() == f"not connected ({url})"
    finally:
        window.shell.live.stop()
        window.shell.sidecar.shutdown()
