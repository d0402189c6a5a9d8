"""Test helpers: a JSON client over aiohttp's test client, accounts, and a sidecar in a child process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-9"


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any


@dataclass
class Account:
    org_id: str
    email: str
    token: str
    refresh: str
    key: str
    key_id: str
    extra_keys: dict[str, str] = field(default_factory=dict)

    @property
    def jwt(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def api_key(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


class ApiClient:
    """Thin wrapper: ``await api.post(path, json=..., headers=...)`` returns a :class:`Reply`."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        if not path.startswith("/"):
            path = "/api/v1/" + path
        async with self.client.request(method, path, **kwargs) as response:
            raw = await response.read()
            ctype = response.headers.get("Content-Type", "")
            body: Any = raw
            if ctype.startswith("application/json") and raw:
                body = __import__("json").loads(raw)
            return Reply(response.status, body, response.headers)

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("POST", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("DELETE", path, **kwargs)

    async def new_account(self, email: str, *, name: str = "Org", scopes: list[str] | None = None) -> Account:
        reply = await self.post("auth/register", json={"name": name, "email": email, "password": PASSWORD})
        assert reply.status == 201, reply.body
        org_id = reply.body["id"]
        login = await self.post("auth/login", json={"email": email, "password": PASSWORD})
        assert login.status == 200, login.body
        token = login.body["accessToken"]
        key = await self.post("auth/api-keys", json={"name": "agent", **({"scopes": scopes} if scopes else {})},
                              headers={"Authorization": f"Bearer {token}"})
        assert key.status == 201, key.body
        return Account(org_id, email, token, login.body["refreshToken"], key.body["key"], key.body["id"])

    async def key_with(self, account: Account, scopes: list[str]) -> str:
        reply = await self.post("auth/api-keys", json={"name": "+".join(scopes), "scopes": scopes}, headers=account.jwt)
        assert reply.status == 201, reply.body
        return reply.body["key"]


_LISTENING = re.compile(r"listening on (http://[\d.]+:\d+)")


class SidecarProcess:
    """``agentaudit serve`` in a child process on a free loopback port, for kill -9 and real-client tests."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env = env or {}
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.output: list[str] = []
        self._pump: threading.Thread | None = None

    def _release(self) -> None:
        """Close the previous child's pipe once its output has been read to the end."""
        if self._pump is not None:
            self._pump.join(timeout=10)
            self._pump = None
        if self.proc is not None and self.proc.stdout is not None and not self.proc.stdout.closed:
            self.proc.stdout.close()

    def start(self, timeout: float = 20.0) -> str:
        self._release()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sidecar", "serve", "--port", "0", "--data-dir", str(self.data_dir)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    break
                continue
            self.output.append(line)
            found = _LISTENING.search(line)
            if found:
                self.url = found.group(1)
                self._pump = _drain(self.proc, self.output)
                return self.url
        self.kill()
        raise RuntimeError("the sidecar did not start:\n" + "".join(self.output))

    def kill(self) -> None:
        """SIGKILL: no cleanup runs, as in a crash or power loss of the process."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._release()

    def stop(self) -> int:
        """SIGTERM, the graceful stop."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._release()
        return self.proc.returncode if self.proc else 0


def _drain(proc: subprocess.Popen[str], output: list[str] | None = None) -> threading.Thread:
    """Keep reading the child's output, so a full pipe never blocks it; into ``output`` when given (tests read
    the sidecar's log from it)."""
    def pump() -> None:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                if output is not None:
                    output.append(line)
        except ValueError:  # closed under us
            pass

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


class _Rows:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


class TestDb:
    """A connection to the test's database, SQLite or PostgreSQL, for checking rows and changing them behind
    the sidecar's back: ``with open_db(settings) as conn: conn.execute("… ?", (x,)).fetchone()``. Statements
    use ``?``; the changes are committed when the block ends."""

    __test__ = False

    def __init__(self, settings: Any) -> None:
        url = settings.database_url
        self.postgres = url.startswith(("postgresql://", "postgres://"))
        if self.postgres:
            import psycopg

            self._conn: Any = psycopg.connect(url, connect_timeout=10)
        else:
            import sqlite3

            path = url[len("sqlite:///"):] if url else settings.data_dir / "agentaudit.db"
            self._conn = sqlite3.connect(path, timeout=10)

    def execute(self, statement: str, params: tuple[Any, ...] | list[Any] = ()) -> _Rows:
        if self.postgres:
            cursor = self._conn.execute(statement.replace("?", "%s"), tuple(params))
        else:
            cursor = self._conn.execute(statement, tuple(params))
        return _Rows([tuple(row) for row in cursor.fetchall()] if cursor.description else [])

    def __enter__(self) -> TestDb:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        try:
            if kind is None:
                self._conn.commit()
            else:
                self._conn.rollback()
        finally:
            self._conn.close()


def open_db(settings: Any) -> TestDb:
    return TestDb(settings)


def query_db(settings: Any, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of one statement (written with ``?``) on the test's database, SQLite or PostgreSQL."""
    with open_db(settings) as conn:
        return conn.execute(statement, params).fetchall()
