"""The sidecar banner: its button says what it will do (start a sidecar only when this app may; otherwise check
again), and its sentence starts with a capital."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from desktop.api.client import SidecarClient
from desktop.api.transport import Transport
from desktop.sidecar_process import SidecarManager
from desktop.views.banner import SidecarBanner
from desktop.views.main_window import MainWindow
from tests.desktop.conftest import FixedPortSidecar, free_port, make_shell


def test_without_leave_to_start_the_banner_offers_to_check_again(qtbot: Any, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    window = MainWindow(make_shell(url), tray=False)  # as with --no-start: the app never starts a sidecar
    qtbot.addWidget(window)
    window.show()
    sidecar = FixedPortSidecar(tmp_path / "data", port)
    try:
        window.shell.sidecar.start()
        banner = window.banner
        qtbot.waitUntil(lambda: banner.isVisible() and "answers" in banner.detail.text(), timeout=10_000)
        assert banner.restart.text() == "Check again"
        assert banner.detail.text().startswith(f"Nothing answers at {url}. Retrying")
        assert not window.shell.sidecar.status.can_start
        sidecar.start()
        qtbot.mouseClick(banner.restart, Qt.MouseButton.LeftButton)  # it looks again at once
        qtbot.waitUntil(banner.isHidden, timeout=2_000)  # well before the next poll
    finally:
        window.shell.live.stop()
        window.shell.sidecar.shutdown()
        sidecar.stop()


def test_start_is_offered_only_when_this_app_may_start_a_sidecar(qtbot: Any) -> None:
    banner = SidecarBanner()
    qtbot.addWidget(banner)
    for host, may_start, expected in (("127.0.0.1", True, "Start sidecar"), ("127.0.0.1", False, "Check again"),
                                      ("192.0.2.10", True, "Check again")):  # a remote sidecar: never started
        client = SidecarClient(Transport(f"http://{host}:{free_port()}"))
        manager = SidecarManager(client, port=free_port(), host=host, may_start=may_start)
        banner.show_status(manager.status)
        assert banner.restart.text() == expected, (host, may_start)
        assert banner.detail.text()[:1].isupper()
        assert manager.status.can_start is (expected == "Start sidecar")
