"""The ledger's tables: signed checkpoints, chain heads, the retention purge, and chain reads for verification.

Functions that change data (:func:`insert_checkpoint`, :func:`purge_chunk`, :func:`set_retention`) run on the
writer thread (``Writer.run``); the others on the read pool, or on a read-only connection of their own
(:func:`open_read_only`, used by ``agentaudit verify`` while the sidecar may be running). Signing is the
caller's: functions that need a checkpoint take a ``sign`` callable, so no key ever reaches the store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from peewee import Database

from sidecar.clock import to_iso
from sidecar.ledger.chain import GENESIS_HASH, canonical_columns
from sidecar.ledger.checkpoint import Checkpoint, CheckpointKind
from sidecar.ledger.verify import verify_chain
from sidecar.store.db import is_postgres, is_postgres_url, redact_url
from sidecar.store.logs import EVENT_COLUMNS, first_seq_at_or_after, row_to_event
from sidecar.store.sql import q

#: ``sign(org_id, sequence, hash, kind)`` returns a signed checkpoint.
Signer = Callable[[str, int, str, CheckpointKind], Checkpoint]

CHECKPOINT_COLUMNS = "org_id, seq, hash, signed_at, kind, key_id, signature, public_key"
_INSERT_CHECKPOINT = (
    f"INSERT INTO ledger_checkpoints ({CHECKPOINT_COLUMNS}, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class ChainHead:
    """An organisation's chain as the ``organizations`` row records it.

    Attributes:
        org_id: the organisation.
        last_seq, last_hash: the newest event's sequence and chain hash (0 and genesis when empty).
        pruned_seq, pruned_hash: what retention deleted up to (0 and genesis when nothing).
        retention_days: how long events are kept, or None for ever.
    """

    org_id: str
    last_seq: int
    last_hash: str
    pruned_seq: int
    pruned_hash: str
    retention_days: int | None


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """One purged range: events ``first..last`` (``deleted`` rows) and the pruned checkpoint at ``last``."""

    org_id: str
    first: int
    last: int
    deleted: int
    checkpoint: Checkpoint


class ChainBroken(Exception):
    """The range the purge would delete does not verify; deleting it would destroy the evidence."""


def checkpoint_of(row: tuple[Any, ...]) -> Checkpoint:
    """Turn a row of :data:`CHECKPOINT_COLUMNS` into a checkpoint."""
    org_id, seq, digest, signed_at, kind, key_id, signature, public_key = row
    return Checkpoint(organization_id=org_id, sequence=int(seq), hash=digest, signed_at=signed_at, kind=kind,
                      key_id=key_id, signature=signature, public_key=public_key)


# -- writes (writer thread) -------------------------------------------------------------------------

def insert_checkpoint(db: Database, checkpoint: Checkpoint, *, now: int) -> None:
    """Store a signed checkpoint."""
    db.execute_sql(q(db, _INSERT_CHECKPOINT), (
        checkpoint.organization_id, checkpoint.sequence, checkpoint.hash, checkpoint.signed_at, checkpoint.kind,
        checkpoint.key_id, checkpoint.signature, checkpoint.public_key, now,
    ))


def sign_head(db: Database, org_id: str, sign: Signer, *, now: int, force: bool = False) -> Checkpoint | None:
    """Sign and store a ``head`` checkpoint of the organisation's current head.

    Args:
        db: the database (on the writer thread).
        org_id: the organisation.
        sign: makes the signature.
        now: epoch ms, for the row.
        force: sign even when the newest checkpoint already covers the head (or the chain is empty).

    Returns:
        The new checkpoint, or None when nothing was signed.
    """
    head = chain_head(db, org_id, lock=True)
    if head is None:
        return None
    if not force:
        latest = latest_checkpoint(db, org_id)
        if head.last_seq == 0 or (latest is not None and latest.sequence >= head.last_seq):
            return None
    checkpoint = sign(org_id, head.last_seq, head.last_hash, "head")
    insert_checkpoint(db, checkpoint, now=now)
    return checkpoint


def set_retention(db: Database, org_id: str, days: int | None, *, now: int) -> None:
    """Set how many days the organisation's events are kept (None: for ever)."""
    db.execute_sql(q(db, "UPDATE organizations SET retention_days = ?, updated_at = ? WHERE id = ?"),
                   (days, now, org_id))


def purge_chunk(db: Database, org_id: str, cutoff_ms: int, *, max_rows: int, sign: Signer,
                now: int) -> PurgeResult | None:
    """Delete the organisation's oldest events created before ``cutoff_ms``, at most ``max_rows`` of them.

    In one transaction: the range is verified against the chain (a range that does not verify is not
    deleted: that would destroy the evidence), a ``pruned`` checkpoint at its last event is signed and
    stored, the retention gate is opened for exactly that range, the events and their violation facts
    are deleted, the gate is closed, trace summaries whose every span is gone are deleted, and
    ``organizations.pruned_seq/pruned_hash`` move to the new cut. Alerts stay (see ``LedgerService``).

    Returns:
        What was purged, or None when nothing is old enough.

    Raises:
        ChainBroken: the range does not verify.
    """
    head = chain_head(db, org_id, lock=True)
    if head is None or head.pruned_seq >= head.last_seq:
        return None
    first = head.pruned_seq + 1
    last = first_seq_at_or_after(db, org_id, cutoff_ms, first, head.last_seq) - 1
    if last < first:
        return None
    last = min(last, first + max_rows - 1)
    events = events_between(db, org_id, first, last)
    report = verify_chain(events, start_prev_hash=head.pruned_hash, start_sequence=first, organization_id=org_id)
    if not report.ok or report.last_sequence != last:
        problem = report.first_break.message if report.first_break else f"the chain ends at {report.last_sequence}"
        raise ChainBroken(f"retention refused to delete events {first}..{last} of {org_id}: {problem}")
    checkpoint = sign(org_id, last, report.last_hash, "pruned")
    db.execute_sql(q(db, "INSERT INTO retention_gate (org_id, up_to_seq) VALUES (?, ?)"), (org_id, last))
    db.execute_sql(
        q(db, "DELETE FROM violations WHERE org_id = ? AND audit_log_id IN "
              "(SELECT id FROM audit_logs WHERE org_id = ? AND seq BETWEEN ? AND ?)"),
        (org_id, org_id, first, last),
    )
    deleted = db.execute_sql(q(db, "DELETE FROM audit_logs WHERE org_id = ? AND seq BETWEEN ? AND ?"),
                             (org_id, first, last)).rowcount
    db.execute_sql(q(db, "DELETE FROM retention_gate WHERE org_id = ?"), (org_id,))
    db.execute_sql(q(db, "DELETE FROM traces WHERE org_id = ? AND last_seq <= ?"), (org_id, last))
    insert_checkpoint(db, checkpoint, now=now)
    db.execute_sql(q(db, "UPDATE organizations SET pruned_seq = ?, pruned_hash = ?, updated_at = ? WHERE id = ?"),
                   (last, report.last_hash, now, org_id))
    return PurgeResult(org_id, first, last, int(deleted), checkpoint)


# -- reads ------------------------------------------------------------------------------------------

_CHAIN_COLUMNS = ("id, seq, action, agent_id, trace_id, span_id, parent_span_id, prompt, response, metadata, "
                  "started_at, ended_at, created_at, flags, enforcement, violations, hash")
_HEAD_SQL = "SELECT id, last_seq, last_hash, pruned_seq, pruned_hash, retention_days FROM organizations"


def _head(row: tuple[Any, ...]) -> ChainHead:
    return ChainHead(row[0], int(row[1]), str(row[2]), int(row[3]), str(row[4]),
                     None if row[5] is None else int(row[5]))


def chain_head(db: Database, org_id: str, *, lock: bool = False) -> ChainHead | None:
    """The organisation's chain head, or None if there is no such organisation.

    ``lock`` (writer thread, PostgreSQL): lock the row for the rest of the transaction, as the writer does
    before appending, so no other sidecar appends, signs or purges this chain meanwhile.
    """
    suffix = " FOR UPDATE" if lock and is_postgres(db) else ""
    row = db.execute_sql(q(db, f"{_HEAD_SQL} WHERE id = ?{suffix}"), (org_id,)).fetchone()
    return _head(row) if row else None


def chain_heads(db: Database) -> list[ChainHead]:
    """Every organisation's chain head."""
    return [_head(row) for row in db.execute_sql(f"{_HEAD_SQL} ORDER BY id").fetchall()]


def latest_checkpoint(db: Database, org_id: str, kind: str | None = None) -> Checkpoint | None:
    """The checkpoint with the highest sequence (the newest of those), optionally of one kind."""
    where, params = ("org_id = ? AND kind = ?", (org_id, kind)) if kind else ("org_id = ?", (org_id,))
    row = db.execute_sql(
        q(db, f"SELECT {CHECKPOINT_COLUMNS} FROM ledger_checkpoints WHERE {where} ORDER BY seq DESC, id DESC LIMIT 1"),
        params,
    ).fetchone()
    return checkpoint_of(row) if row else None


def first_head_checkpoint_at_or_after(db: Database, org_id: str, seq: int) -> Checkpoint | None:
    """The earliest ``head`` checkpoint at or after ``seq`` (the one a proof of event ``seq`` ends at)."""
    row = db.execute_sql(
        q(db, f"SELECT {CHECKPOINT_COLUMNS} FROM ledger_checkpoints WHERE org_id = ? AND kind = 'head' AND seq >= ? "
              "ORDER BY seq, id LIMIT 1"),
        (org_id, seq),
    ).fetchone()
    return checkpoint_of(row) if row else None


def list_checkpoints(db: Database, org_id: str, *, kind: str | None, limit: int,
                     offset: int) -> tuple[list[Checkpoint], int]:
    """Newest first (by sequence, then by when stored)."""
    where, params = ("org_id = ? AND kind = ?", (org_id, kind)) if kind else ("org_id = ?", (org_id,))
    rows = db.execute_sql(
        q(db, f"SELECT {CHECKPOINT_COLUMNS} FROM ledger_checkpoints WHERE {where} ORDER BY seq DESC, id DESC "
              "LIMIT ? OFFSET ?"),
        (*params, limit, offset),
    ).fetchall()
    total = db.execute_sql(q(db, f"SELECT COUNT(*) FROM ledger_checkpoints WHERE {where}"), params).fetchone()[0]
    return [checkpoint_of(row) for row in rows], int(total)


def all_checkpoints(db: Database, org_id: str) -> list[Checkpoint]:
    """Every checkpoint of the organisation, by sequence."""
    rows = db.execute_sql(
        q(db, f"SELECT {CHECKPOINT_COLUMNS} FROM ledger_checkpoints WHERE org_id = ? ORDER BY seq, id"), (org_id,)
    ).fetchall()
    return [checkpoint_of(row) for row in rows]


def hash_before(db: Database, head: ChainHead, seq: int) -> str | None:
    """The chain hash at ``seq - 1``: genesis, the pruned cut's, or the stored one (None if that row is gone)."""
    if seq - 1 == 0:
        return GENESIS_HASH
    if seq - 1 == head.pruned_seq:
        return head.pruned_hash
    row = db.execute_sql(q(db, "SELECT hash FROM audit_logs WHERE org_id = ? AND seq = ?"),
                         (head.org_id, seq - 1)).fetchone()
    return str(row[0]) if row else None


def events_between(db: Database, org_id: str, first: int, last: int) -> list[dict[str, Any]]:
    """The organisation's events with ``first <= seq <= last``, in wire form, by sequence."""
    rows = db.execute_sql(
        q(db, f"SELECT {EVENT_COLUMNS} FROM audit_logs WHERE org_id = ? AND seq BETWEEN ? AND ? ORDER BY seq"),
        (org_id, first, last),
    ).fetchall()
    return [row_to_event(row) for row in rows]


def iter_events(db: Database, org_id: str, *, after: int = 0, chunk: int = 2000) -> Iterator[list[dict[str, Any]]]:
    """The organisation's events after sequence ``after``, oldest first, in chunks (keyset paging)."""
    statement = q(db, f"SELECT {EVENT_COLUMNS} FROM audit_logs WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?")
    while True:
        rows = db.execute_sql(statement, (org_id, after, chunk)).fetchall()
        if not rows:
            return
        yield [row_to_event(row) for row in rows]
        after = int(rows[-1][2])
        if len(rows) < chunk:
            return


# -- a read-only connection of its own (agentaudit verify / export-ledger) --------------------------

def open_read_only(source: Path | str) -> Any:
    """Open the database read-only: a SQLite file (works whether or not the sidecar is running: WAL) or a
    ``postgresql://`` URL (a connection of its own, see :class:`PgReadConnection`).

    Raises:
        FileNotFoundError: there is no database at ``source``.
    """
    if is_postgres_url(str(source)):
        return PgReadConnection(str(source))
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"no database at {path}")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                           check_same_thread=False)
    conn.execute("PRAGMA query_only = 1")
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA cache_size = -65536")
    return conn


class PgReadConnection:
    """The slice of ``sqlite3.Connection`` that :class:`ChainReader` uses, over psycopg 3.

    ``BEGIN`` opens a read-only REPEATABLE READ transaction (one snapshot, as SQLite's read transaction
    gives); inside it every query streams through a server-side cursor, so a long chain is never held in
    memory. Statements keep SQLite's ``?`` placeholders.

    Raises:
        FileNotFoundError: the server cannot be reached or refuses the connection (no such database).
    """

    def __init__(self, url: str) -> None:
        import psycopg

        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=10, application_name="agentaudit-verify")
        except psycopg.OperationalError as exc:
            raise FileNotFoundError(f"cannot open {redact_url(url)}: {str(exc).strip().splitlines()[-1]}") from None
        self._in_transaction = False
        self._cursors = 0

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> Any:
        if statement == "BEGIN":
            self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            self._in_transaction = True
            return None
        if statement == "COMMIT":
            self._conn.execute("COMMIT")
            self._in_transaction = False
            return None
        if self._in_transaction:
            self._cursors += 1
            cursor = self._conn.cursor(name=f"chain_{self._cursors}")
            cursor.itersize = 5000
        else:
            cursor = self._conn.cursor()
        cursor.execute(statement.replace("?", "%s"), params)
        return cursor

    def close(self) -> None:
        self._conn.close()


class ChainReader:
    """Reads heads, checkpoints and events from one read-only connection, in one snapshot.

    Use as a context manager: the read transaction it opens keeps every read consistent (a purge or
    ingest running meanwhile is invisible to it).
    """

    def __init__(self, conn: sqlite3.Connection | PgReadConnection) -> None:
        self._conn = conn

    def __enter__(self) -> ChainReader:
        self._conn.execute("BEGIN")
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.execute("COMMIT")

    def heads(self, org_id: str | None = None) -> list[ChainHead]:
        if org_id is None:
            rows = self._conn.execute(f"{_HEAD_SQL} ORDER BY id").fetchall()
        else:
            rows = self._conn.execute(f"{_HEAD_SQL} WHERE id = ?", (org_id,)).fetchall()
        return [_head(row) for row in rows]

    def checkpoints(self, org_id: str) -> list[tuple[int, Checkpoint | None, str]]:
        """``(row id, checkpoint or None if malformed, problem)`` for each stored checkpoint, by sequence."""
        found: list[tuple[int, Checkpoint | None, str]] = []
        for row in self._conn.execute(
            f"SELECT id, {CHECKPOINT_COLUMNS} FROM ledger_checkpoints WHERE org_id = ? ORDER BY seq, id", (org_id,)
        ):
            try:
                found.append((int(row[0]), checkpoint_of(row[1:]), ""))
            except (ValueError, TypeError) as exc:
                found.append((int(row[0]), None, f"checkpoint row {row[0]} is malformed: {exc}"))
        return found

    def stored_hash(self, org_id: str, seq: int) -> str | None:
        row = self._conn.execute("SELECT hash FROM audit_logs WHERE org_id = ? AND seq = ?", (org_id, seq)).fetchone()
        return str(row[0]) if row else None

    def events(self, org_id: str, first: int, last: int | None = None) -> Iterator[dict[str, Any]]:
        """The organisation's events with ``first <= seq (<= last)``, in wire form, in sequence order: one
        cursor over the ``(org_id, seq)`` index, each row turned into exactly the fields the chain covers (the
        exact path of ``agentaudit verify``; :meth:`canonical_rows` is its fast path)."""
        sql = f"SELECT {_CHAIN_COLUMNS} FROM audit_logs WHERE org_id = ? AND seq >= ?"
        params: tuple[Any, ...] = (org_id, first)
        if last is not None:
            sql += " AND seq <= ?"
            params = (*params, last)
        cursor = self._conn.execute(sql + " ORDER BY seq", params)
        loads = orjson.loads
        iso = _IsoCache()
        for row in cursor:
            (event_id, seq, action, agent_id, trace_id, span_id, parent_span_id, prompt, response, metadata,
             started_at, ended_at, created_at, flags, enforcement, violations, digest) = row
            try:
                yield {
                    "id": event_id,
                    "organizationId": org_id,
                    "sequence": seq,
                    "action": action,
                    "agentId": agent_id,
                    "prompt": prompt,
                    "response": response,
                    "metadata": loads(metadata) if metadata is not None else None,
                    "traceId": trace_id,
                    "spanId": span_id,
                    "parentSpanId": parent_span_id,
                    "startedAt": iso(started_at),
                    "endedAt": iso(ended_at),
                    "createdAt": iso(created_at),
                    "complianceFlags": loads(flags) if flags else [],
                    "enforcementAction": enforcement,
                    "violationDetails": loads(violations) if violations else None,
                    "hash": digest,
                }
            except (orjson.JSONDecodeError, TypeError, ValueError, OverflowError):
                yield _raw_event(org_id, row)

    def canonical_rows(self, org_id: str, first: int, last: int | None = None) -> Iterator[tuple[int, bytes, str]]:
        """``(sequence, canonical bytes, stored hash)`` for the organisation's events from ``first`` on, in
        sequence order: the fast way to the chain check (``agentaudit verify``'s hot loop).

        The columns go through :func:`~sidecar.ledger.chain.canonical_columns`, the JSON ones as stored (no
        parsing), since this sidecar stores them in canonical form, as the writer hashed them. For every row this sidecar wrote, the bytes equal
        :func:`~sidecar.ledger.chain.canonical_event` of :meth:`events`' wire form. A row where they do not
        (written by hand or by an older writer) fails the hash check, and the verifier re-checks it from
        :meth:`events`: this is only ever a faster way to the same verdict.
        """
        sql = f"SELECT {_CHAIN_COLUMNS} FROM audit_logs WHERE org_id = ? AND seq >= ?"
        params: tuple[Any, ...] = (org_id, first)
        if last is not None:
            sql += " AND seq <= ?"
            params = (*params, last)
        fragment = orjson.Fragment
        iso = _MillisIso()
        empty: list[str] = []
        for (event_id, seq, action, agent_id, trace_id, span_id, parent_span_id, prompt, response, metadata,
             started_at, ended_at, created_at, flags, enforcement, violations, digest) in self._conn.execute(
                 sql + " ORDER BY seq", params):
            try:
                canonical = canonical_columns(
                    event_id, org_id, seq, action, agent_id, prompt, response, metadata, trace_id, span_id,
                    parent_span_id, iso(started_at), iso(ended_at), iso(created_at),
                    fragment(flags) if flags else empty, enforcement, violations or None)
            except (TypeError, ValueError, OverflowError):  # a column someone rewrote: re-checked exactly
                canonical = b""
            yield seq, canonical, digest


class _MillisIso:
    """``to_iso`` memoised by the millisecond (an event's times, and a group's events, share them)."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[int, str] = {}

    def __call__(self, ms: int) -> str:
        text = self._cache.get(ms)
        if text is None:
            if type(ms) is not int:
                raise TypeError("a time that is not epoch milliseconds")
            if len(self._cache) > 4096:
                self._cache.clear()
            text = self._cache[ms] = to_iso(ms)  # type: ignore[assignment]
        return text


class _IsoCache:
    """``to_iso`` with the formatted seconds of the last few hundred seconds kept (a walk's events come in
    time order, but an event's start, end and creation times often fall in different seconds)."""

    __slots__ = ("_seconds",)

    def __init__(self) -> None:
        self._seconds: dict[int, str] = {}

    def __call__(self, ms: int) -> str:
        seconds, millis = divmod(ms, 1000)
        prefix = self._seconds.get(seconds)
        if prefix is None:
            if len(self._seconds) > 512:
                self._seconds.clear()
            prefix = self._seconds[seconds] = to_iso(seconds * 1000)[:-5]  # type: ignore[index]
        return f"{prefix}.{millis:03d}Z"


def _raw_event(org_id: str, row: tuple[Any, ...]) -> dict[str, Any]:
    """A row whose columns no longer parse (someone wrote to the file): its raw values, which cannot match
    the chain hash, so the walk reports the row instead of crashing on it."""
    (event_id, seq, action, agent_id, trace_id, span_id, parent_span_id, prompt, response, metadata,
     started_at, ended_at, created_at, flags, enforcement, violations, digest) = row
    return {
        "id": event_id, "organizationId": org_id, "sequence": seq, "action": action, "agentId": agent_id,
        "prompt": prompt, "response": response, "metadata": _text(metadata), "traceId": trace_id,
        "spanId": span_id, "parentSpanId": parent_span_id, "startedAt": _text(started_at),
        "endedAt": _text(ended_at), "createdAt": _text(created_at), "complianceFlags": _text(flags),
        "enforcementAction": enforcement, "violationDetails": _text(violations), "hash": digest,
    }


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return f"<unparsable> {value}"
