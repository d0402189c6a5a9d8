"""The one-sidecar-per-database lock: taken beside the file's real path, refused to a second holder, and given
back however its holder ends (released, collected, or a start that failed half-way)."""

from __future__ import annotations

import asyncio
import gc
import os
from pathlib import Path

import pytest

from sidecar.services.container import Services
from sidecar.services.ledger_keys import key_path
from sidecar.settings import Settings
from sidecar.store.lock import DatabaseInUse, DatabaseLock


def test_a_second_holder_is_refused_by_any_path_to_the_file(tmp_path: Path) -> None:
    database = tmp_path / "data" / "agentaudit.db"
    database.parent.mkdir()
    database.touch()
    (tmp_path / "alias").mkdir()
    (tmp_path / "alias" / "other-name.db").symlink_to(database)
    first = DatabaseLock.acquire(str(database))
    first.describe("http://127.0.0.1:8731")
    for spelling in (str(database), str(tmp_path / "alias" / "other-name.db"),
                     str(tmp_path / "data" / ".." / "data" / "agentaudit.db")):
        with pytest.raises(DatabaseInUse) as refused:
            DatabaseLock.acquire(spelling)
        assert refused.value.holder == f"pid {os.getpid()}, http://127.0.0.1:8731"
    first.release()
    first.release()  # idempotent
    DatabaseLock.acquire(str(tmp_path / "alias" / "other-name.db")).release()


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_lock_nobody_holds_on_to_is_given_back(tmp_path: Path) -> None:  # Python warns of the unclosed file
    database = str(tmp_path / "agentaudit.db")
    DatabaseLock.acquire(database)  # dropped at once, never released
    gc.collect()
    DatabaseLock.acquire(database).release()


def test_a_start_that_fails_half_way_frees_the_database(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", port=0)
    services = Services.build(settings)
    database = services.lock.path if services.lock else None
    assert database is not None and database.name == "agentaudit.db.lock"
    asyncio.run(services.aclose())
    key = key_path(settings.data_dir)
    good = key.read_bytes()
    key.write_bytes(b"not a key")
    with pytest.raises(ValueError):
        Services.build(settings)  # fails after the lock was taken
    key.write_bytes(good)
    again = Services.build(settings)  # not refused by the failed start
    asyncio.run(again.aclose())
