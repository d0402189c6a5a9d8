"""Fixtures for tests that run the sidecar as a real child process."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import PASSWORD, SidecarProcess
from tests.postgres import PostgresServer


def call(url: str, method: str = "GET", body: object = None, headers: dict[str, str] | None = None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def bootstrap(base: str, email: str = "ops@acme.test") -> tuple[str, str]:
    """Register, log in and create an API key; return (access token, key)."""
    status, _ = call(f"{base}/api/v1/auth/register", "POST", {"name": "Acme", "email": email, "password": PASSWORD})
    assert status == 201
    status, login = call(f"{base}/api/v1/auth/login", "POST", {"email": email, "password": PASSWORD})
    assert status == 200
    token = login["accessToken"]  # type: ignore[index]
    status, key = call(f"{base}/api/v1/auth/api-keys", "POST", {"name": "agent"}, {"Authorization": f"Bearer {token}"})
    assert status == 201
    return token, key["key"]  # type: ignore[index]


@pytest.fixture
def sidecar(tmp_path: Path) -> Iterator[SidecarProcess]:
    process = SidecarProcess(tmp_path / "data")
    process.start()
    yield process
    process.stop()


@pytest.fixture
def database(postgres_server: PostgresServer) -> Iterator[str]:
    """A new, empty PostgreSQL database: the sidecars create the schema themselves."""
    url = postgres_server.create_database("template0")
    yield url
    postgres_server.drop_database(url)
