"""The single writer: group commit, gapless chains under concurrency, storage failures, migrations."""

from __future__ import annotations

import asyncio
import pytest

from sidecar.api.keys import SERVICES
from sidecar.ledger.chain import GENESIS_HASH, canonical_event, link_hash
from sidecar.store import migrations
from sidecar.store.db import open_database
from sidecar.store.writer import PendingEvent
from tests.helpers import Account, ApiClient, query_db

pytestmark = pytest.mark.both_backends


async def test_concurrent_requests_share_commits_and_chain_has_no_gaps(api: ApiClient, owner: Account, settings) -> None:
    writer = api.client.server.app[SERVICES].writer
    commits_before = writer.commits
    replies = await asyncio.gather(*[
        api.post("audit-logs", json={"action": f"a{i}", "prompt": "x" * (i % 50)}, headers=owner.api_key)
        for i in range(200)
    ])
    assert all(r.status == 201 for r in replies), [r.body for r in replies if r.status != 201][:3]
    assert sorted(r.body["sequence"] for r in replies) == list(range(1, 201))
    assert writer.commits - commits_before < 200  # some requests shared a transaction
    rows = query_db(settings, "SELECT id FROM audit_logs ORDER BY seq")
    events = {r.body["id"]: r.body for r in replies}
    prev = GENESIS_HASH
    for (event_id,) in rows:
        event = events[event_id]
        prev = link_hash(prev, canonical_event({**event, "organizationId": owner.org_id}))
        assert event["hash"] == prev


async def test_a_group_larger_than_one_insert_statement_stores_every_row(api: ApiClient, owner: Account,
                                                                         settings) -> None:
    """One unit of 130 events is inserted in several multi-row statements: every row lands, in order."""
    writer = api.client.server.app[SERVICES].writer
    pending = [PendingEvent(org_id=owner.org_id, action=f"e{i}", metadata={"i": i}, metadata_json='{"i":%d}' % i)
               for i in range(130)]
    stored = await writer.ingest(pending)
    assert [e["sequence"] for e in stored] == list(range(1, 131))
    rows = query_db(settings, "SELECT id, seq, action, metadata FROM audit_logs ORDER BY seq")
    assert [(e["id"], e["sequence"], e["action"], '{"i":%d}' % i) for i, e in enumerate(stored)] == \
        [tuple(row) for row in rows]
    listed = await api.get("audit-logs", params={"limit": 500}, headers=owner.api_key)
    assert listed.body["pagination"]["total"] == 130


@pytest.mark.sqlite_only  # fills the SQLite file with PRAGMA max_page_count
async def test_disk_full_is_503_stores_nothing_and_recovers(api: ApiClient, owner: Account, settings) -> None:
    services = api.client.server.app[SERVICES]
    assert (await api.post("audit-logs", json={"action": "before"}, headers=owner.api_key)).status == 201

    def fill() -> int:
        pages = services.db.execute_sql("PRAGMA page_count").fetchone()[0]
        services.db.execute_sql(f"PRAGMA max_page_count = {pages}")
        return pages

    await services.writer.run(fill)
    reply = await api.post("audit-logs/batch", json=[{"action": "big", "prompt": "x" * 50_000}] * 20,
                           headers=owner.api_key)
    assert reply.status == 503
    assert reply.body["code"] == "unavailable"
    assert reply.body["error"] == "storage is full: the event was not stored; free disk space and retry"
    assert reply.headers["Retry-After"] == "5"
    await services.writer.run(lambda: services.db.execute_sql("PRAGMA max_page_count = 1073741823"))
    after = await api.post("audit-logs", json={"action": "after"}, headers=owner.api_key)
    assert after.status == 201 and after.body["sequence"] == 2  # the failed batch left no gap
    listed = await api.get("audit-logs", headers=owner.api_key)
    assert [e["action"] for e in listed.body["data"]] == ["after", "before"]


@pytest.mark.sqlite_only  # on PostgreSQL the writer reads the heads under a lock in every group
async def test_a_stale_chain_head_fails_one_group_then_is_read_again(api: ApiClient, owner: Account,
                                                                     settings) -> None:
    """Something else appended to the chain behind the writer's back (an older sidecar on the same file):
    the next group fails on the taken sequence number, and the one after it reads the head again."""
    services = api.client.server.app[SERVICES]
    assert (await api.post("audit-logs", json={"action": "first"}, headers=owner.api_key)).status == 201

    def append_elsewhere() -> None:  # on the writer's connection, so nothing else can interleave
        services.db.execute_sql(
            "INSERT INTO audit_logs (id, org_id, seq, action, span_id, started_at, ended_at, created_at, enforcement, "
            "flagged, hash) VALUES ('log_elsewhere', ?, 2, 'elsewhere', 's', 1, 1, 1, 'allow', 0, ?)",
            (owner.org_id, "ab" * 32))
        services.db.execute_sql("UPDATE organizations SET last_seq = 2, last_hash = ? WHERE id = ?",
                                ("ab" * 32, owner.org_id))

    await services.writer.run(append_elsewhere)
    refused = await api.post("audit-logs", json={"action": "refused"}, headers=owner.api_key)
    assert refused.status == 503 and "not stored" in refused.body["error"]
    after = await api.post("audit-logs", json={"action": "after"}, headers=owner.api_key)
    assert after.status == 201 and after.body["sequence"] == 3
    assert query_db(settings, "SELECT seq, action FROM audit_logs ORDER BY seq") == \
        [(1, "first"), (2, "elsewhere"), (3, "after")]


async def test_a_failing_unit_does_not_fail_its_neighbours(api: ApiClient, owner: Account) -> None:
    writer = api.client.server.app[SERVICES].writer

    def boom() -> None:
        raise ValueError("bug in a unit of work")

    results = await asyncio.gather(
        writer.run(boom),
        api.post("audit-logs", json={"action": "fine"}, headers=owner.api_key),
        return_exceptions=True,
    )
    assert isinstance(results[0], ValueError)
    assert results[1].status == 201


def test_new_database_is_created_at_the_latest_version(tmp_path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    from sidecar.store.models import database_proxy

    database_proxy.initialize(db)
    with db.connection_context():
        assert migrations.migrate(db) == (0, migrations.LATEST)
        assert migrations.current_version(db) == migrations.LATEST
        assert migrations.migrate(db) == (migrations.LATEST, migrations.LATEST)  # idempotent
        journal = db.execute_sql("PRAGMA journal_mode").fetchone()[0]
    assert journal == "wal"


def test_an_older_database_runs_each_newer_migration_once(tmp_path, monkeypatch) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'old.db'}")
    from sidecar.store.models import database_proxy

    database_proxy.initialize(db)
    with db.connection_context():
        migrations.migrate(db)
        db.execute_sql("INSERT INTO organizations (id, name, email, plan, last_seq, last_hash, pruned_seq, pruned_hash, "
                       "created_at, updated_at) VALUES ('org_x', 'Old', 'o@x', 'self_hosted', 0, '0', 0, '0', 1, 1)")
    applied = []

    def v_next(database) -> None:
        applied.append(True)
        database.execute_sql("ALTER TABLE organizations ADD COLUMN note TEXT DEFAULT 'migrated'")

    latest = migrations.LATEST + 1
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, (latest, v_next)))
    monkeypatch.setattr(migrations, "LATEST", latest)
    with db.connection_context():
        assert migrations.migrate(db) == (latest - 1, latest)
        assert migrations.migrate(db) == (latest, latest)
        note = db.execute_sql("SELECT note FROM organizations WHERE id = 'org_x'").fetchone()[0]
    assert applied == [True] and note == "migrated"


def test_a_newer_database_is_refused(tmp_path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'new.db'}")
    from sidecar.store.models import database_proxy

    database_proxy.initialize(db)
    with db.connection_context():
        migrations.migrate(db)
        db.execute_sql("INSERT INTO schema_version (version, applied_at) VALUES (999, 0)")
        with pytest.raises(RuntimeError, match="newer than this AgentAudit understands"):
            migrations.migrate(db)


def test_a_version_1_database_upgrades_and_keeps_its_data(tmp_path) -> None:
    """A database as AgentAudit 0.1.0 wrote it (schema version 1) gains the newer tables and columns."""
    import sqlite3
    from pathlib import Path

    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as conn:
        conn.executescript((Path(__file__).parents[2] / "data" / "schema_v1.sql").read_text())
        conn.execute("INSERT INTO organizations (id, name, email, plan, retention_days, last_seq, last_hash, pruned_seq, "
                     "pruned_hash, created_at, updated_at) VALUES ('org_old', 'Old', 'o@x', 'self_hosted', NULL, 7, "
                     "'ab', 0, '00', 1, 1)")
    db = open_database(f"sqlite:///{path}")
    from sidecar.store.models import database_proxy

    database_proxy.initialize(db)
    with db.connection_context():
        assert migrations.migrate(db) == (1, migrations.LATEST)
        assert migrations.applied(db) == {version for version, _ in migrations.MIGRATIONS}
        row = db.execute_sql("SELECT last_seq, last_hash, compliance_version FROM organizations").fetchone()
        assert tuple(row) == (7, "ab", 0)
        assert db.table_exists("alerts") and db.table_exists("policies")


def test_insert_chunks_cover_every_row_within_the_parameter_limit() -> None:
    from sidecar.store.writer import _MAX_PARAMS, LOG_COLUMNS, chunk_sizes

    seen = set()
    for rows in range(1, 3000):
        sizes = chunk_sizes(rows)
        assert sum(sizes) == rows and all(0 < size * len(LOG_COLUMNS) <= _MAX_PARAMS for size in sizes)
        seen.update(sizes)
    assert len(seen) <= 70  # few distinct statements: each is prepared once and stays cached
    assert chunk_sizes(15) == [15] and chunk_sizes(400) == [256, 128, 16]
