"""Shared fixtures: a real sidecar app on a loopback port over a real SQLite file, and accounts on it.

Tests marked ``both_backends`` (a module's ``pytestmark``) run twice: over SQLite and over a real
PostgreSQL server that this session starts (see :mod:`tests.postgres`). The ``database_url`` fixture is
the URL to use ("" for the SQLite file in the data dir); every ``settings`` fixture passes it on.
Tests that exercise something only SQLite has (PRAGMAs, the file itself) are marked ``sqlite_only``.
``AGENTAUDIT_TEST_BACKEND=postgresql`` runs every other test over PostgreSQL instead of SQLite.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from sidecar.api.app import create_app
from sidecar.settings import Settings
from tests.helpers import Account, ApiClient
from tests.postgres import INSTALL_HINT, TEMPLATE, PostgresServer, find_bindir

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marked = metafunc.definition.get_closest_marker
    if "backend" in metafunc.fixturenames and marked("both_backends") and not marked("sqlite_only"):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` unless the test is marked ``both_backends`` (then each in turn)."""
    if hasattr(request, "param"):
        return str(request.param)
    if request.node.get_closest_marker("sqlite_only"):
        return "sqlite"
    return os.environ.get("AGENTAUDIT_TEST_BACKEND", "sqlite")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session, with a migrated template database; removed at the end."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(INSTALL_HINT)
    server = PostgresServer(bindir)
    try:
        server.start()
        server.admin(f'CREATE DATABASE "{TEMPLATE}" TEMPLATE template0')
        from sidecar.store import migrations
        from sidecar.store.db import open_database
        from sidecar.store.models import database_proxy

        db = open_database(server.url(TEMPLATE))
        database_proxy.initialize(db)
        with db.connection_context():
            migrations.migrate(db)
        db.close()
        yield server
    finally:
        server.stop()


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """The database of this test: "" (the SQLite file in the data dir) or a fresh PostgreSQL database,
    dropped after the test."""
    if backend == "sqlite":
        yield ""
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database(TEMPLATE)
    yield url
    server.drop_database(url)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", port=0, database_url=database_url)


@pytest.fixture
async def api(aiohttp_client, settings: Settings) -> AsyncIterator[ApiClient]:
    """A sidecar app served on 127.0.0.1 by aiohttp's test server, with a JSON-aware client."""
    client = await aiohttp_client(create_app(settings))
    yield ApiClient(client)


@pytest.fixture
async def owner(api: ApiClient) -> Account:
    """A registered organisation with its owner logged in and an API key (default scopes)."""
    return await api.new_account("owner@acme.test", name="Acme")


@pytest.fixture
async def other(api: ApiClient) -> Account:
    """A second, unrelated organisation."""
    return await api.new_account("owner@globex.test", name="Globex")
