"""No call blocks the GUI thread: against a server that answers after 2 s, the event loop keeps turning."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from PySide6.QtCore import QElapsedTimer, QTimer

from desktop.api import schemas
from desktop.api.client import SidecarClient
from desktop.api.errors import ApiError
from desktop.api.transport import Transport
from tests.desktop.conftest import wait_call

DELAY_S = 2.0


class SlowHandler(BaseHTTPRequestHandler):
    """Answers every request after DELAY_S: a health body, or an empty page of events."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        time.sleep(DELAY_S)
        body = (b'{"status": "ok", "version": "0.1.0", "database": "up"}' if self.path.startswith("/health")
                else b'{"data": [], "pagination": {"total": 0, "limit": 200}}')
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test): nothing to answer

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def slow_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_event_loop_keeps_turning_while_a_slow_sidecar_answers(qtbot: Any, slow_url: str) -> None:
    client = SidecarClient(Transport(slow_url))
    client._access = "token"  # the slow server does not check it
    gaps: list[int] = []
    clock = QElapsedTimer()
    clock.start()
    last = [0]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now
    ticker = QTimer()
    ticker.setInterval(10)
    ticker.timeout.connect(tick)
    ticker.start()
    started = time.monotonic()
    calls = [client.health(timeout_ms=10_000), client.list_logs(schemas.LogFilter())]
    assert time.monotonic() - started < 0.1  # the calls returned at once
    assert wait_call(qtbot, calls[0]).status == "ok"
    assert wait_call(qtbot, calls[1]).items == ()
    ticker.stop()
    elapsed = time.monotonic() - started
    assert elapsed >= DELAY_S * 0.95
    assert len(gaps) > elapsed * 1000 / 10 * 0.5  # at least half the expected ticks ran during the wait
    assert max(gaps[1:]) < 150, f"the GUI thread stalled {max(gaps[1:])} ms"


def test_a_call_that_exceeds_its_timeout_fails_as_a_timeout(qtbot: Any, slow_url: str) -> None:
    client = SidecarClient(Transport(slow_url))
    started = time.monotonic()
    with pytest.raises(ApiError) as caught:
        wait_call(qtbot, client.health(timeout_ms=300))
    assert caught.value.code == "timeout" and caught.value.is_network
    assert time.monotonic() - started < DELAY_S
