"""Fixtures for the ledger inside the sidecar: a small checkpoint policy so tests see the signer work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sidecar.settings import Settings
from tests.helpers import ROOT


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", port=0, checkpoint_events=10, checkpoint_seconds=3600.0,
                    database_url=database_url)


def db_args(settings: Settings) -> list[str]:
    """``agentaudit verify`` options naming the test's database: the data dir, and the URL when not SQLite."""
    return ["--data-dir", str(settings.data_dir), *(["--database-url", settings.database_url]
                                                    if settings.database_url else [])]


def agentaudit(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run ``agentaudit ARGS`` as a real child process (from this checkout)."""
    return subprocess.run([sys.executable, "-m", "sidecar", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
