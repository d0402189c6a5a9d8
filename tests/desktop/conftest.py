"""Desktop fixtures: a real sidecar child process seeded with the demo data, and clients logged in to it.

Every network wait has a timeout (``wait_call``). The seeded sidecar is shared by the whole session; tests
that change data (keys, alert triage) work in an organisation of their own (``fresh_account``).
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from desktop.api.client import Call, SidecarClient
from desktop.api.transport import Transport
from sidecar import demo
from tests.helpers import PASSWORD, ROOT, SidecarProcess

WAIT_MS = 15_000
_counter = itertools.count()


@dataclass(frozen=True)
class Seeded:
    url: str
    email: str
    password: str
    data_dir: Path | None = None  # the sidecar's, for arranging what the API cannot (e.g. an outdated pack)


def http(url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
    """A plain urllib call for arranging and checking state, outside the code under test."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            raw, status, head = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        raw, status, head = exc.read(), exc.code, dict(exc.headers)
    return status, (json.loads(raw) if raw and raw[:1] in b"[{" else raw), head


def token_for(url: str, email: str, password: str = PASSWORD) -> str:
    status, body, _ = http(f"{url}/api/v1/auth/login", "POST", {"email": email, "password": password})
    assert status == 200, body
    return body["accessToken"]


def wait_call(qtbot: Any, call: Call, timeout: int = WAIT_MS) -> Any:
    """Wait for a call to end; return its result or raise its ApiError."""
    qtbot.waitUntil(lambda: call.finished, timeout=timeout)
    if call.error is not None:
        raise call.error
    return call.result


@pytest.fixture(autouse=True)
def close_transports(monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> Iterator[None]:
    """Close every transport a test made, as the app does on quit: nothing still in flight may answer while
    the test's objects are being torn down."""
    made: list[Transport] = []
    original = Transport.__init__

    def tracking_init(self: Transport, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)
    monkeypatch.setattr(Transport, "__init__", tracking_init)
    yield
    for transport in made:
        transport.close()
    qtbot.wait(1)  # let the aborted replies' deletions run


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One sidecar for the session, with the demo organisation seeded through the HTTP API."""
    process = SidecarProcess(tmp_path_factory.mktemp("sidecar"))
    url = process.start()
    try:
        assert demo.seed(demo.Api(url), demo.DEMO_EMAIL, demo.DEMO_PASSWORD, force=False, traces=30) == 0
        yield Seeded(url, demo.DEMO_EMAIL, demo.DEMO_PASSWORD, process.data_dir)
    finally:
        process.stop()


@pytest.fixture
def fresh_account(seeded: Seeded) -> tuple[str, str]:
    """A new organisation (email, password) on the shared sidecar."""
    email = f"analyst{next(_counter)}-{os.getpid()}@acme.test"
    status, body, _ = http(f"{seeded.url}/api/v1/auth/register", "POST",
                           {"name": "Acme", "email": email, "password": PASSWORD})
    assert status == 201, body
    return email, PASSWORD


@pytest.fixture
def client(qtbot: Any, seeded: Seeded) -> SidecarClient:
    """A client logged in to the demo organisation."""
    api = SidecarClient(Transport(seeded.url))
    wait_call(qtbot, api.login(seeded.email, seeded.password))
    return api


def alerts_available(url: str) -> bool:
    status, _, _ = http(f"{url}/api/v1/alerts?limit=1", headers={"Authorization": "Bearer x"})
    return status != 404


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FixedPortSidecar:
    """``agentaudit serve`` on a chosen port, so that a restarted sidecar comes back at the same address."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir, self.port = data_dir, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        output = open(self.data_dir / "sidecar.out", "ab")  # noqa: SIM115 - the child owns it from here
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sidecar", "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)],
            cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=output, stderr=subprocess.STDOUT,
        )
        output.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if http(f"{self.url}/health")[0] == 200:
                    return self.url
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the sidecar did not start: " + (self.data_dir / "sidecar.out").read_text())

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def alerting_account(url: str, email: str, password: str = PASSWORD, *, events: int = 2) -> list[str]:
    """Install the hipaa pack for the account and ingest events with a US SSN: each raises critical alerts.

    Returns the ids of the events. Skips the test when this sidecar has no compliance packs yet.
    """
    headers = {"Authorization": f"Bearer {token_for(url, email, password)}"}
    status, body, _ = http(f"{url}/api/v1/compliance-rules/packs", "POST", {"packId": "hipaa"}, headers)
    if status == 404:
        pytest.skip("this sidecar has no compliance packs yet")
    assert status in (201, 409), body
    ids = []
    for n in range(events):
        status, body, _ = http(f"{url}/api/v1/audit-logs", "POST",
                               {"action": "llm_call", "agentId": f"intake-{n}",
                                "prompt": "SSN 123-45-6789 for patient intake"}, headers)
        assert status == 201 and body["complianceFlags"], body
        ids.append(body["id"])
    return ids


def outdated_pack(seeded: Seeded, email: str, password: str = PASSWORD, pack_id: str = "hipaa") -> None:
    """Install ``pack_id`` for the account and make it look installed from version 1.0.0, behind the sidecar's
    back: the stored version is rewritten and one rule gets a definition the shipped pack no longer has."""
    import sqlite3

    assert seeded.data_dir is not None
    headers = {"Authorization": f"Bearer {token_for(seeded.url, email, password)}"}
    status, body, _ = http(f"{seeded.url}/api/v1/compliance-rules/packs", "POST", {"packId": pack_id}, headers)
    assert status == 201, body
    org_id = http(f"{seeded.url}/api/v1/auth/me", headers=headers)[1]["organization"]["id"]
    with sqlite3.connect(seeded.data_dir / "agentaudit.db", timeout=10) as conn:
        conn.execute("UPDATE installed_packs SET version = '1.0.0' WHERE org_id = ? AND pack_id = ?", (org_id, pack_id))
        conn.execute("UPDATE rules SET name = 'Old rule' WHERE id = ?", (body[-1]["id"],))
    conn.close()


def make_shell(url: str, *, poll_ms: int = 300) -> Any:
    """The app's object graph (as desktop.app builds it) against ``url``, never starting a sidecar."""
    from desktop.presenters.shell import Shell
    from desktop.sidecar_process import SidecarManager

    api = SidecarClient(Transport(url))
    manager = SidecarManager(api, port=int(url.rsplit(":", 1)[1]), may_start=False, poll_ms=poll_ms)
    return Shell(api, manager, live_poll_ms=500)
