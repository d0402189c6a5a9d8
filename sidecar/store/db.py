"""Opening the database, and the read pool that keeps SQLite off the event loop.

SQLite runs in WAL mode: readers never block the writer and the writer never
blocks readers. All writes go through :mod:`sidecar.store.writer` (one thread);
reads run on a small thread pool whose connections are ``query_only``.

PostgreSQL (``postgresql://…``, through psycopg 3) is for several sidecars behind
one database: each process still has one writer thread, and what must be decided
once across processes (a chain head, a migration, a claimed delivery) is decided
under a PostgreSQL lock (:func:`advisory_xact_lock`, ``FOR UPDATE [SKIP LOCKED]``).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlparse

import hashlib

from peewee import Database, DatabaseProxy, InterfaceError, OperationalError, PostgresqlDatabase, SqliteDatabase
from playhouse.shortcuts import ReconnectMixin

from sidecar.errors import ConfigError, Unavailable

P = ParamSpec("P")
T = TypeVar("T")

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 10000,
    "cache_size": -32000,  # 32 MiB per connection
    "temp_store": "memory",
    "foreign_keys": 0,
}


def open_database(url: str, *, synchronous: str = "FULL") -> Database:
    """Return an unconnected Peewee database for ``url`` (``sqlite:///path`` or ``postgresql://…``).

    Raises:
        ConfigError: the URL's scheme is not supported.
    """
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else parsed.path
        if not path:
            raise ConfigError(f"setting AGENTAUDIT_DATABASE_URL has no path: {url!r}")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pragmas = dict(SQLITE_PRAGMAS, synchronous=synchronous)
        return SqliteDatabase(path, pragmas=pragmas, check_same_thread=False, autoconnect=True,
                              cached_statements=256)  # room for the writer's multi-row INSERTs
    if parsed.scheme in ("postgres", "postgresql"):
        if not parsed.hostname and "host=" not in parsed.query:
            raise ConfigError(f"setting AGENTAUDIT_DATABASE_URL names no host: {url!r}")
        if not parsed.path.strip("/"):
            raise ConfigError(f"setting AGENTAUDIT_DATABASE_URL names no database: {url!r}")
        conninfo = "postgresql://" + url.split("://", 1)[1]
        return ReconnectingPostgresDatabase(conninfo, prefer_psycopg3=True, autoconnect=True, connect_timeout=10,
                                            application_name="agentaudit")
    raise ConfigError(f"setting AGENTAUDIT_DATABASE_URL has an unsupported scheme: {parsed.scheme!r}")


#: Messages of psycopg 3 errors that mean the server dropped the connection (a restart, a failover, a proxy's
#: idle timeout): the statement never ran, and a new connection can run it.
DISCONNECT_ERRORS = ("terminating connection", "server closed the connection", "the connection is closed",
                     "consuming input failed", "connection already closed", "connection is lost")


class ReconnectingPostgresDatabase(ReconnectMixin, PostgresqlDatabase):  # type: ignore[misc]
    """PostgreSQL whose statements outside a transaction reconnect once when the server dropped the connection.
    Inside a transaction nothing is retried here: the writer decides (see :mod:`sidecar.store.writer`)."""

    reconnect_errors = tuple((error, message) for error in (OperationalError, InterfaceError)
                             for message in DISCONNECT_ERRORS)


def is_disconnect(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it arose from) says the database server dropped the connection."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        text = str(seen).lower()
        if any(message in text for message in DISCONNECT_ERRORS):
            return True
        seen = seen.__context__ or seen.__cause__
    return False


def _unwrap(db: Database | DatabaseProxy) -> object:
    return db.obj if isinstance(db, DatabaseProxy) else db


def is_sqlite(db: Database) -> bool:
    return isinstance(_unwrap(db), SqliteDatabase)


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def redact_url(url: str) -> str:
    """The URL without its password, for messages."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    return url.replace(f":{parsed.password}@", ":***@", 1)


def is_postgres(db: Database | DatabaseProxy) -> bool:
    return isinstance(_unwrap(db), PostgresqlDatabase)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_*lock`` from a name (an organisation id, a job)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def advisory_xact_lock(db: Database, name: str) -> None:
    """Wait for PostgreSQL's transaction-scoped advisory lock on ``name`` (released at commit or rollback).

    On SQLite this does nothing: one process holds the only write transaction anyway.
    """
    if is_postgres(db):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (lock_key(name),))


def try_session_lock(db: Database, name: str) -> bool:
    """Take PostgreSQL's session advisory lock on ``name`` on this thread's connection if it is free
    (held until :func:`session_unlock` or until the connection ends, e.g. the process dies); True on SQLite."""
    if not is_postgres(db):
        return True
    return bool(db.execute_sql("SELECT pg_try_advisory_lock(%s)", (lock_key(name),)).fetchone()[0])


def session_unlock(db: Database, name: str) -> None:
    if is_postgres(db):
        db.execute_sql("SELECT pg_advisory_unlock(%s)", (lock_key(name),))


def try_advisory_xact_lock(db: Database, name: str) -> bool:
    """Take the transaction-scoped advisory lock on ``name`` if it is free; True on SQLite."""
    if not is_postgres(db):
        return True
    return bool(db.execute_sql("SELECT pg_try_advisory_xact_lock(%s)", (lock_key(name),)).fetchone()[0])


def sqlite_path(db: Database) -> str | None:
    return db.database if is_sqlite(db) else None


def secure_file(path: Path) -> None:
    """Make a database or secret file readable by its owner only."""
    if path.exists():
        os.chmod(path, 0o600)


class ReadPool:
    """Runs read-only units of work on a few threads, each with its own ``query_only`` connection."""

    def __init__(self, db: Database, threads: int = 3) -> None:
        self._db = db
        self._threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="db-read", initializer=self._connect)
        self._closed = False

    def _connect(self) -> None:
        self._db.connect(reuse_if_open=True)
        if is_sqlite(self._db):
            self._db.execute_sql("PRAGMA query_only = 1")

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` on a read thread and return its result.

        A read whose connection the server dropped (PostgreSQL) runs once more on a new one; a database that
        still fails answers :class:`~sidecar.errors.Unavailable` (503), not an internal error.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: self._read(fn, *args, **kwargs))

    def _read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            if not is_disconnect(exc):
                raise Unavailable("storage error: could not read; retry") from exc
        try:
            self._db.close()
        except (OperationalError, InterfaceError):
            pass
        try:
            return fn(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            raise Unavailable("storage error: could not read; retry") from exc

    def run_sync(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on a read thread from synchronous code (streams, CLI)."""
        return self._pool.submit(fn).result()

    def close(self) -> None:
        """Close every thread's connection, then the pool. Idempotent."""
        if self._closed:
            return
        self._closed = True
        barrier = threading.Barrier(self._threads)

        def close_mine() -> None:
            try:
                barrier.wait(timeout=5)
            except threading.BrokenBarrierError:
                pass
            if not self._db.is_closed():
                self._db.close()

        futures = [self._pool.submit(close_mine) for _ in range(self._threads)]
        for future in futures:
            future.result(timeout=10)
        self._pool.shutdown(wait=True)
