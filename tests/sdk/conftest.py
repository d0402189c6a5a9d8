"""Fixtures: one real sidecar per session, accounts with API keys, a restartable sidecar, a scripted HTTP server."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import agentaudit
from tests.e2e.conftest import call
from tests.helpers import _LISTENING, PASSWORD, ROOT, SidecarProcess, _drain

assert Path(agentaudit.__file__).is_relative_to(ROOT / "sdk" / "python"), agentaudit.__file__
_emails = itertools.count()


@dataclass
class Org:
    """A registered organisation on a sidecar: its base URL, owner token and keys."""

    url: str
    token: str
    key: str  # logs:write + logs:read
    admin_key: str  # logs:write + logs:read + admin

    @property
    def base(self) -> str:
        return f"{self.url}/api/v1"

    def client(self, **kwargs: Any) -> agentaudit.AgentAuditClient:
        kwargs.setdefault("max_retries", 0)
        return agentaudit.AgentAuditClient(api_key=kwargs.pop("api_key", self.admin_key), base_url=self.base, **kwargs)


def new_org(url: str) -> Org:
    email = f"sdk{next(_emails)}-{uuid.uuid4().hex[:6]}@acme.test"
    status, _ = call(f"{url}/api/v1/auth/register", "POST", {"name": "Acme", "email": email, "password": PASSWORD})
    assert status == 201
    status, login = call(f"{url}/api/v1/auth/login", "POST", {"email": email, "password": PASSWORD})
    assert status == 200
    token = login["accessToken"]  # type: ignore[index]
    jwt = {"Authorization": f"Bearer {token}"}
    keys = []
    for scopes in (["logs:write", "logs:read"], ["logs:write", "logs:read", "admin"]):
        status, key = call(f"{url}/api/v1/auth/api-keys", "POST", {"name": "+".join(scopes), "scopes": scopes}, jwt)
        assert status == 201, key
        keys.append(key["key"])  # type: ignore[index]
    return Org(url, token, keys[0], keys[1])


@pytest.fixture(scope="session")
def shared_sidecar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SidecarProcess]:
    process = SidecarProcess(tmp_path_factory.mktemp("sdk-sidecar") / "data")
    process.start()
    yield process
    process.stop()


@pytest.fixture
def org(shared_sidecar: SidecarProcess) -> Org:
    """A fresh organisation on the session's sidecar (so counts and alerts belong to this test alone)."""
    return new_org(shared_sidecar.url)


@pytest.fixture
def client(org: Org) -> Iterator[agentaudit.AgentAuditClient]:
    with org.client() as c:
        yield c


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RestartableSidecar(SidecarProcess):
    """A sidecar that comes back on the same port after a kill, as a supervised one would."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.port = free_port()

    def start(self, timeout: float = 20.0) -> str:
        self._release()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sidecar", "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)],
            cwd=ROOT, env={**__import__("os").environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                break
            self.output.append(line)
            found = _LISTENING.search(line)
            if found:
                self.url = found.group(1)
                self._pump = _drain(self.proc)
                return self.url
        self.kill()
        raise RuntimeError("the sidecar did not start:\n" + "".join(self.output))


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[RestartableSidecar]:
    process = RestartableSidecar(tmp_path / "data")
    process.start()
    yield process
    process.stop()


@dataclass
class Seen:
    at: float
    method: str
    path: str
    body: Any


@dataclass
class ScriptedServer:
    """A local aiohttp server answering from a script of (status, headers, body); then 201 with the batch echoed.

    Runs its own event loop in a thread so the sync client can call it.
    """

    script: list[tuple[int, dict[str, str], Any]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""
    delay: float = 0.0  # seconds each answer takes
    in_flight: int = 0
    most_in_flight: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body = json.loads(raw) if raw else None
        self.seen.append(Seen(time.monotonic(), request.method, request.path, body))
        if self.script:
            status, headers, payload = self.script.pop(0)
            return web.json_response(payload, status=status, headers=headers)
        if request.path.endswith("/batch"):
            return web.json_response({"data": body, "processed": len(body), "errors": 0}, status=201)
        return web.json_response({"id": "log_1", **(body or {})}, status=201)

    def __enter__(self) -> ScriptedServer:
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def start() -> None:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self.handle)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            port = self._runner.addresses[0][1]
            self.url = f"http://127.0.0.1:{port}/api/v1"
            ready.set()

        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(start(), self._loop)
        assert ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server
