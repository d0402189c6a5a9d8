"""Versioned schema migrations.

A new database is created directly at the newest schema (the models) and
stamped with every known version. An older database runs each migration it has
not applied yet, in order, each in its own transaction, so an upgrade that
fails half-way leaves the database at the last good step. Migrations are
tracked one by one (not only the highest number), so ones added on branches
that merge in any order still all run. A migration is a plain, idempotent
function of the database; add one by appending to :data:`MIGRATIONS` and
changing the models to match.

On PostgreSQL, :func:`migrate` holds a session advisory lock for its whole run,
so sidecars that start together migrate once: the others wait, then find every
version applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from peewee import Database, PostgresqlDatabase, SqliteDatabase

from sidecar import log
from sidecar.clock import now_ms
from sidecar.store import models

Migration = Callable[[Database], None]


def _create_partial_indexes(db: Database) -> None:
    """Create the partial indexes whose tables exist (each migration calls this after adding tables)."""
    for statement in models.PARTIAL_INDEXES:
        table = statement.split(" ON ", 1)[1].split(" ", 1)[0]
        if db.table_exists(table):
            db.execute_sql(statement)


def _create_ledger_triggers(db: Database) -> None:
    if isinstance(db, SqliteDatabase):
        for statement in models.LEDGER_TRIGGERS:
            db.execute_sql(statement)
    elif isinstance(db, PostgresqlDatabase):
        for statement in models.PG_LEDGER_TRIGGERS:
            db.execute_sql(statement)


def _v1_initial(db: Database) -> None:
    """Organisations, users, keys, sessions, audit logs and the trace summary."""
    db.create_tables(
        [models.Organization, models.User, models.ApiKey, models.Session, models.AuditLog, models.Trace],
        safe=True,
    )
    _create_partial_indexes(db)


def _v2_compliance(db: Database) -> None:
    """Agents, policies, rules, versions, packs, alerts, violations, activity; the compliance version counter."""
    from playhouse.migrate import SchemaMigrator, migrate

    columns = {column.name for column in db.get_columns("organizations")}
    if "compliance_version" not in columns:
        migrator = SchemaMigrator.from_database(db)
        migrate(migrator.add_column("organizations", "compliance_version", models.Organization.compliance_version))
    db.create_tables(list(models.COMPLIANCE_MODELS), safe=True)


def _v3_ledger(db: Database) -> None:
    """Signed checkpoints, the retention gate, and the triggers that make audit logs append-only."""
    db.create_tables(list(models.LEDGER_MODELS), safe=True)
    _create_ledger_triggers(db)


def _v5_notifications(db: Database) -> None:
    """Notification settings, the transactional outbox and its deliveries."""
    db.create_tables(list(models.NOTIFY_MODELS), safe=True)
    _create_partial_indexes(db)


def _v4_reports(db: Database) -> None:
    """Report builds and report schedules (only these tables: independent of other migrations)."""
    db.create_tables(list(models.REPORT_MODELS), safe=True)


def _v6_billing(db: Database) -> None:
    """Monthly usage, Stripe accounts and processed Stripe events; alerts may name no event (billing alerts)."""
    db.create_tables(list(models.BILLING_MODELS), safe=True)
    nullable = {column.name: column.null for column in db.get_columns("alerts")}
    if not nullable.get("audit_log_id", True):
        from playhouse.migrate import SchemaMigrator, migrate

        migrate(SchemaMigrator.from_database(db).drop_not_null("alerts", "audit_log_id"))
    _create_partial_indexes(db)


def _v12_rate_buckets(db: Database) -> None:
    """Token buckets shared by several sidecars (PostgreSQL)."""
    db.create_tables([models.RateBucket], safe=True)


def _v13_login_failures(db: Database) -> None:
    """Failed logins counted by every sidecar on one database (PostgreSQL)."""
    db.create_tables([models.LoginFailure], safe=True)


#: (version, migration) in order.
MIGRATIONS: tuple[tuple[int, Migration], ...] = (
    (1, _v1_initial), (2, _v2_compliance), (3, _v3_ledger), (4, _v4_reports), (5, _v5_notifications),
    (6, _v6_billing),
    (12, _v12_rate_buckets),  # numbered after its issue: versions need not be consecutive
    (13, _v13_login_failures),
)
LATEST = max(version for version, _ in MIGRATIONS)


def applied(db: Database) -> set[int]:
    if not db.table_exists("schema_version"):
        return set()
    return {int(row[0]) for row in db.execute_sql("SELECT version FROM schema_version").fetchall()}


def current_version(db: Database) -> int:
    """The database's schema version: 0 when it has no schema yet."""
    return max(applied(db), default=0)


#: The advisory lock key that serialises migrations across processes (PostgreSQL).
MIGRATE_LOCK = 0x41474155_4D494752  # "AGAU" "MIGR"


@contextmanager
def _migration_lock(db: Database) -> Iterator[None]:
    """Hold PostgreSQL's session advisory lock for migrations (waits for another process's run to end)."""
    if not isinstance(db, PostgresqlDatabase):
        yield
        return
    db.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK,))
    try:
        yield
    finally:
        db.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATE_LOCK,))


def migrate(db: Database) -> tuple[int, int]:
    """Bring the schema to :data:`LATEST`. Returns ``(from_version, to_version)``.

    Raises:
        RuntimeError: the database was written by a newer AgentAudit.
    """
    with _migration_lock(db):
        return _migrate(db)


def _migrate(db: Database) -> tuple[int, int]:
    with db.atomic():
        db.create_tables([models.SchemaVersion], safe=True)
    before = current_version(db)
    if before > LATEST:
        raise RuntimeError(
            f"the database has schema version {before}, newer than this AgentAudit understands ({LATEST}); upgrade AgentAudit"
        )
    if before == 0:
        with db.atomic():
            db.create_tables(list(models.ALL_MODELS), safe=True)
            _create_partial_indexes(db)
            _create_ledger_triggers(db)
            for version, _ in MIGRATIONS:
                models.SchemaVersion.insert(version=version, applied_at=now_ms()).execute()
        log.store.info("created a new database at schema version %d", LATEST)
        return 0, LATEST
    done = applied(db)
    for version, migration in MIGRATIONS:
        if version in done:
            continue
        with db.atomic():
            migration(db)
            models.SchemaVersion.insert(version=version, applied_at=now_ms()).execute()
        log.store.info("migrated the database to schema version %d", version)
    return before, LATEST
