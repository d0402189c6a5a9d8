"""Schema version 3 brings checkpoints, the retention gate and the append-only triggers to older databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sidecar.store import migrations
from sidecar.store.db import open_database
from sidecar.store.models import database_proxy

SCHEMA_V1 = Path(__file__).resolve().parents[2] / "data" / "schema_v1.sql"


def test_a_version_1_database_is_upgraded_and_its_logs_become_append_only(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA_V1.read_text())
        conn.execute("INSERT INTO organizations VALUES ('org_1', 'Old', 'o@x', 'self_hosted', NULL, 1, ?, 0, ?, 1, 1)",
                     ("a" * 64, "0" * 64))
        conn.execute("INSERT INTO audit_logs VALUES ('log_1', 'org_1', 1, 'a', NULL, NULL, 'log_1', NULL, 'p', NULL, "
                     "NULL, 1, 1, 1, NULL, 'allow', 0, NULL, ?)", ("a" * 64,))
    db = open_database(f"sqlite:///{path}")
    database_proxy.initialize(db)
    with db.connection_context():
        assert migrations.migrate(db) == (1, migrations.LATEST)
        assert migrations.LATEST >= 3
        tables = {row[0] for row in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
        triggers = {row[0] for row in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {"ledger_checkpoints", "retention_gate"} <= tables
    assert triggers == {"audit_logs_no_update", "audit_logs_no_delete"}
    with sqlite3.connect(path) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="a stored event cannot be changed"):
            conn.execute("UPDATE audit_logs SET prompt = 'q'")
        with pytest.raises(sqlite3.IntegrityError, match="only the retention purge deletes events"):
            conn.execute("DELETE FROM audit_logs")
        conn.execute("INSERT INTO retention_gate VALUES ('org_1', 1)")  # what the purge does, in its transaction
        assert conn.execute("DELETE FROM audit_logs WHERE org_id = 'org_1' AND seq <= 1").rowcount == 1
        conn.rollback()
        assert conn.execute("SELECT COUNT(*) FROM audit_logs").fetchone()[0] == 1


def test_a_new_database_has_the_triggers_too(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'new.db'}")
    database_proxy.initialize(db)
    with db.connection_context():
        migrations.migrate(db)
        triggers = {row[0] for row in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert triggers == {"audit_logs_no_update", "audit_logs_no_delete"}
