"""Migration 6 on a database from before billing: new tables, alerts may name no event, data kept, idempotent."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from sidecar.store import migrations
from sidecar.store.db import open_database
from sidecar.store.models import database_proxy


def _as_schema_5(path: Path) -> None:
    """Make a fresh database look like one written before migration 6 (alerts.audit_log_id NOT NULL)."""
    db = open_database(f"sqlite:///{path}")
    database_proxy.initialize(db)
    with db.connection_context():
        migrations.migrate(db)
    db.close()
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        (ddl,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'alerts'").fetchone()
        conn.execute("DROP TABLE alerts")
        conn.execute(ddl.replace('"audit_log_id" VARCHAR(40)', '"audit_log_id" VARCHAR(40) NOT NULL'))
        conn.execute('CREATE INDEX "alerts_org_id_audit_log_id" ON "alerts" ("org_id", "audit_log_id")')
        conn.execute("INSERT INTO alerts (id, org_id, severity, severity_rank, status, message, audit_log_id, "
                     "created_at, updated_at) VALUES ('alert_1', 'org_1', 'warning', 1, 'open', 'kept', 'log_1', 1, 1)")
        for table in ("usage_counts", "billing_accounts", "stripe_events"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DELETE FROM schema_version WHERE version = 6")


def test_migration_6_adds_billing_and_relaxes_alerts(tmp_path: Path) -> None:
    path = tmp_path / "v5.db"
    _as_schema_5(path)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert [r[3] for r in conn.execute("PRAGMA table_info(alerts)") if r[1] == "audit_log_id"] == [1]
    db = open_database(f"sqlite:///{path}")
    database_proxy.initialize(db)
    with db.connection_context():
        assert migrations.migrate(db)[1] == migrations.LATEST
        assert 6 in migrations.applied(db)
        migrations._v6_billing(db)  # idempotent: running it again changes nothing
    db.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert [r[3] for r in conn.execute("PRAGMA table_info(alerts)") if r[1] == "audit_log_id"] == [0]
        assert conn.execute("SELECT id, message, audit_log_id FROM alerts").fetchall() == [("alert_1", "kept", "log_1")]
        indexes = {r[1] for r in conn.execute("PRAGMA index_list(alerts)")}
        assert "alerts_org_id_audit_log_id" in indexes
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"usage_counts", "billing_accounts", "stripe_events"} <= tables
        conn.execute("INSERT INTO alerts (id, org_id, severity, severity_rank, status, message, audit_log_id, "
                     "created_at, updated_at) VALUES ('alert_2', 'org_1', 'critical', 2, 'open', 'billing', NULL, 2, 2)")
