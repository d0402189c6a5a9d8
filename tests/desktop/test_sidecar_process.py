"""SidecarManager: start a child when none answers, stop it on quit; notice a killed sidecar and its return."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from desktop.api.client import SidecarClient
from desktop.api.transport import Transport
from desktop.sidecar_process import SidecarManager, SidecarState, compatible
from tests.desktop.conftest import FixedPortSidecar, free_port, http


def wait_state(qtbot: Any, manager: SidecarManager, state: SidecarState, timeout: int = 20_000) -> None:
    qtbot.waitUntil(lambda: manager.status.state is state, timeout=timeout)


def test_starts_a_child_when_none_answers_and_stops_it_on_quit(qtbot: Any, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    manager = SidecarManager(SidecarClient(Transport(url)), port=port, data_dir=str(tmp_path / "data"), poll_ms=300)
    states: list[SidecarState] = []
    manager.status_changed.connect(lambda status: states.append(status.state))
    manager.start()
    wait_state(qtbot, manager, SidecarState.UP)
    assert states[0] is SidecarState.STARTING and manager.status.owned and manager.status.version
    first_pid = manager.process_id
    assert http(f"{url}/health")[1]["status"] == "ok"
    assert (tmp_path / "data" / "agentaudit.db").exists()
    manager.restart()  # the banner's button: without blocking, the old child exits and a new one starts
    assert manager.status.state is SidecarState.STARTING
    wait_state(qtbot, manager, SidecarState.UP)
    pid = manager.process_id
    assert pid != first_pid and manager.status.owned
    with pytest.raises(ProcessLookupError):
        os.kill(first_pid, 0)
    manager.shutdown()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(OSError):
        http(f"{url}/health")


def test_a_killed_sidecar_is_noticed_and_its_return_picked_up(qtbot: Any, tmp_path: Path) -> None:
    sidecar = FixedPortSidecar(tmp_path / "data", free_port())
    sidecar.start()
    manager = SidecarManager(SidecarClient(Transport(sidecar.url)), port=sidecar.port, may_start=False, poll_ms=250)
    try:
        manager.start()
        wait_state(qtbot, manager, SidecarState.UP, 10_000)
        assert not manager.status.owned
        sidecar.kill()
        wait_state(qtbot, manager, SidecarState.UNREACHABLE, 10_000)
        assert "nothing answers" in manager.status.detail
        sidecar.start()
        wait_state(qtbot, manager, SidecarState.UP, 15_000)
        manager.shutdown()
        assert http(f"{sidecar.url}/health")[0] == 200  # a sidecar we did not start is left running
    finally:
        manager.shutdown()
        sidecar.stop()


class FutureSidecar(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = json.dumps({"status": "ok", "version": "9.4.0", "database": "up"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def future_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FutureSidecar)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_another_minor_version_is_a_version_mismatch(qtbot: Any, future_url: str) -> None:
    manager = SidecarManager(SidecarClient(Transport(future_url)), port=int(future_url.rsplit(":", 1)[1]),
                             may_start=False, poll_ms=250)
    manager.start()
    wait_state(qtbot, manager, SidecarState.VERSION_MISMATCH, 10_000)
    assert manager.status.connected and "9.4.0" in manager.status.detail
    manager.shutdown()
    assert compatible("0.1.0", "0.1.7") and not compatible("0.1.0", "0.2.0")
