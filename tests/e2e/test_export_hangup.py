"""A client that hangs up in the middle of a streamed export is no server error: one line at INFO, no traceback,
and the sidecar goes on serving."""

from __future__ import annotations

import socket
import time
import urllib.parse

from tests.e2e.conftest import bootstrap, call
from tests.helpers import SidecarProcess


def test_hanging_up_mid_export_logs_one_line_and_no_traceback(sidecar: SidecarProcess) -> None:
    _, key = bootstrap(sidecar.url)
    for _ in range(40):  # 4 MB of events: far more than the socket buffers hold
        status, _ = call(f"{sidecar.url}/api/v1/audit-logs/batch", "POST",
                         [{"action": "bulk", "prompt": "p" * 2000}] * 50, {"X-API-Key": key})
        assert status == 201
    address = urllib.parse.urlsplit(sidecar.url)
    for path in ("/api/v1/audit-logs/export?format=jsonl", "/api/v1/ledger/export"):
        with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\n\r\n".encode())
            head = conn.recv(200)
            assert head.startswith(b"HTTP/1.1 200"), head
        # closed with most of the answer unread
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and sum("the client closed the connection" in line
                                              for line in sidecar.output) < 2:
        time.sleep(0.05)
    log = "".join(sidecar.output)
    assert "GET /api/v1/audit-logs/export: the client closed the connection" in log
    assert "GET /api/v1/ledger/export: the client closed the connection" in log
    assert "Traceback" not in log and " ERROR " not in log, log
    status, health = call(f"{sidecar.url}/health")
    assert status == 200
