"""Notifications survive a SIGKILL of the sidecar: every alert reaches the receiver, once per event id."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.e2e.conftest import bootstrap, call
from tests.helpers import SidecarProcess

SSN = "Patient SSN 123-45-6789 in the intake form."


class _Hooks:
    def __init__(self) -> None:
        self.up = False
        self.secret = b""
        self.ids: list[str] = []
        self.bad = 0
        self.lock = threading.Lock()


def _server(hooks: _Hooks) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if not hooks.up:
                self.send_response(503)
                self.end_headers()
                return
            parts = dict(p.split("=", 1) for p in self.headers["X-AgentAudit-Signature"].split(","))
            good = hmac.compare_digest(hmac.new(hooks.secret, f"{parts['t']}.".encode() + body,
                                                hashlib.sha256).hexdigest(), parts["v1"])
            with hooks.lock:
                if good:
                    hooks.ids.append(json.loads(body)["id"])
                else:
                    hooks.bad += 1
            self.send_response(204 if good else 401)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _wait(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_no_notification_is_lost_across_a_crash(tmp_path) -> None:
    hooks = _Hooks()
    server = _server(hooks)
    sidecar = SidecarProcess(tmp_path / "data", env={"AGENTAUDIT_NOTIFY_RETRY_BASE_MS": "100"})
    base = sidecar.start()
    try:
        token, key = bootstrap(base)
        jwt = {"Authorization": f"Bearer {token}"}
        call(f"{base}/api/v1/compliance-rules/packs", "POST", {"packId": "hipaa"}, jwt)
        status, settings = call(f"{base}/api/v1/notifications/settings", "PATCH", {
            "webhookUrl": f"http://127.0.0.1:{server.server_port}/hook", "notifyWebhook": True,
            "allowPrivateWebhookTargets": True, "notifyMinSeverity": "info"}, jwt)
        assert status == 200
        hooks.secret = settings["webhookSecret"].encode()  # type: ignore[index]
        for i in range(20):
            status, _ = call(f"{base}/api/v1/audit-logs", "POST", {"action": "x", "prompt": SSN, "agentId": f"a{i}"},
                             {"X-API-Key": key})
            assert status == 201
        sidecar.kill()  # the receiver has been down all along: everything is still in the outbox
        hooks.up = True
        base = sidecar.start()
        status, alerts = call(f"{base}/api/v1/alerts?limit=500", headers=jwt)
        expected = len(alerts)  # type: ignore[arg-type]
        assert expected >= 20
        _wait(lambda: len(set(hooks.ids)) == expected)
        time.sleep(0.5)
        assert len(set(hooks.ids)) == expected and hooks.bad == 0
        status, log = call(f"{base}/api/v1/notifications/deliveries?limit=500", headers=jwt)
        assert {d["status"] for d in log} == {"delivered"}  # type: ignore[union-attr]
    finally:
        sidecar.stop()
        server.shutdown()
        server.server_close()
