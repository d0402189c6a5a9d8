"""Shared fixtures: a real sidecar app on a loopback port over a real SQLite file, and accounts on it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sidecar.api.app import create_app
from sidecar.settings import Settings
from tests.helpers import Account, ApiClient

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", port=0)


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
