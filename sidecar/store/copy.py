"""Copy every table from one database to another (``agentaudit copy``): a workstation's SQLite file to the
team's PostgreSQL, for instance.

The source is read in one snapshot and left unchanged; it must be at the newest schema (start the sidecar
on it once to migrate it). The target is migrated, must hold no data yet, and receives every row in one
transaction, so a failed copy leaves it empty. Rows are read and written in chunks, never all at once.
Values keep their meaning across backends: booleans stored by SQLite as 0/1 become booleans, and
PostgreSQL's id sequences continue after the copied ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from peewee import BigAutoField, BooleanField, Database

from sidecar.store import migrations, models
from sidecar.store.db import is_postgres
from sidecar.store.sql import placeholders, q

CHUNK = 5_000


class CopyError(Exception):
    """The copy cannot run (the source is not at the newest schema, the target holds data)."""


@dataclass
class CopyResult:
    """Rows copied per table (source count == target count for each, checked after the copy)."""

    tables: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _tables() -> list[type[models.BaseModel]]:
    return [model for model in models.ALL_MODELS if model is not models.SchemaVersion]


def _count(db: Database, table: str) -> int:
    return int(db.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def copy_database(source: Database, target: Database, *,
                  progress: Callable[[str, int], None] | None = None) -> CopyResult:
    """Copy every row of every table from ``source`` to ``target`` (both unconnected Peewee databases).

    Raises:
        CopyError: the source is not at the newest schema, or the target already holds data.
    """
    result = CopyResult()
    with source.connection_context(), target.connection_context():
        version = migrations.current_version(source)
        if version != migrations.LATEST:
            raise CopyError(f"the source is at schema version {version}, not {migrations.LATEST}: start the "
                            "sidecar on it once (it migrates), then copy")
        models.database_proxy.initialize(target)
        migrations.migrate(target)
        busy = [model._meta.table_name for model in _tables() if _count(target, model._meta.table_name)]
        if busy:
            raise CopyError(f"the target already holds data (in {', '.join(busy)}); copy into an empty database")
        with source.atomic(), target.atomic():  # one snapshot of the source; all or nothing in the target
            for model in _tables():
                table = model._meta.table_name
                result.tables[table] = _copy_table(source, target, model)
                if progress is not None:
                    progress(table, result.tables[table])
            if is_postgres(target):
                for model in _tables():
                    pk = model._meta.primary_key
                    if isinstance(pk, BigAutoField):
                        target.execute_sql(
                            f"SELECT setval(pg_get_serial_sequence('{model._meta.table_name}', '{pk.column_name}'), "
                            f"COALESCE((SELECT MAX({pk.column_name}) FROM {model._meta.table_name}), 0) + 1, false)")
        for table, copied in result.tables.items():
            if _count(target, table) != copied or _count(source, table) != copied:
                raise CopyError(f"table {table}: the row counts differ after the copy")
    return result


def _copy_table(source: Database, target: Database, model: type[models.BaseModel]) -> int:
    fields = model._meta.sorted_fields
    columns = [f.column_name for f in fields]
    booleans = [i for i, f in enumerate(fields) if isinstance(f, BooleanField)]
    table = model._meta.table_name
    insert = q(target, f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders(len(columns))})")
    cursor = source.execute_sql(f"SELECT {', '.join(columns)} FROM {table}")
    out = target.cursor()
    copied = 0
    while True:
        rows = cursor.fetchmany(CHUNK)
        if not rows:
            return copied
        if booleans:
            rows = [tuple(bool(v) if i in booleans and v is not None else v for i, v in enumerate(row))
                    for row in rows]
        out.executemany(insert, rows)
        copied += len(rows)
