"""The single writer: one thread that owns every write, with group commit.

Requests hand the writer a unit of work and await a future. The writer takes
everything queued (up to ``max_group`` events), runs it in ONE transaction
(ingested events, their hash-chain links, trace summaries and any plain units
of work, each in a savepoint), commits, and only then resolves the futures. So
many concurrent requests share one fsync, an answer is never sent before its
data is durable, and the event loop never waits on SQLite.

If a group's transaction fails, each unit is retried alone, so one bad unit
cannot fail its neighbours; storage errors (disk full, read-only file) reach
the callers as :class:`~sidecar.errors.Unavailable`.

On PostgreSQL several sidecar processes write to one database, each with its own
writer. There the writer caches no chain head: each group transaction first locks
the rows of the organisations it appends to (``SELECT … FOR UPDATE``, in id order
so two writers never deadlock on them) and reads their heads under that lock, so
sequences stay gapless and each hash links to the committed one before it. A group
that loses a deadlock or a serialisation race is retried.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import os
import queue
import sqlite3
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import orjson
from peewee import Database, DatabaseError, InterfaceError

from sidecar import log
from sidecar.clock import now_ms, to_iso
from sidecar.errors import AgentAuditError, Unavailable
from sidecar.ids import IdGenerator
from sidecar.ledger.chain import GENESIS_HASH, canonical_columns, link_hash
from sidecar.store.commit_feed import CHANNEL, NOTIFY_SQL, notice
from sidecar.store.db import is_disconnect, is_postgres
from sidecar.store.sql import placeholders, q
from sidecar.store.usage import UsageMeter

P = ParamSpec("P")
T = TypeVar("T")

_ACTION_RANK = {"allow": 0, "log": 1, "flag": 2, "block": 3}

LOG_COLUMNS = (
    "id", "org_id", "seq", "action", "agent_id", "trace_id", "span_id", "parent_span_id", "prompt", "response",
    "metadata", "started_at", "ended_at", "created_at", "flags", "enforcement", "flagged", "violations", "hash",
)
_INSERT_LOG = f"INSERT INTO audit_logs ({', '.join(LOG_COLUMNS)}) VALUES "
_LOG_ROW = f"({placeholders(len(LOG_COLUMNS))})"
#: Multi-row INSERTs: a group's rows go in a few statements rather than one step per row, since the sqlite3
#: module releases and retakes the GIL around every statement and each hand-off stalls the event loop thread.
#: Up to :data:`_SMALL_ROWS` rows a statement holds exactly the rows left; bigger groups take the largest of
#: :data:`_BIG_ROWS` that fits first, so few distinct statements exist (each is prepared once and cached).
#: SQLite before 3.32 allows 999 parameters per statement, later ones 32,766; PostgreSQL 65,535.
_MAX_PARAMS = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
_SMALL_ROWS = min(64, _MAX_PARAMS // len(LOG_COLUMNS))
_BIG_ROWS = tuple(size for size in (1024, 512, 256, 128) if size * len(LOG_COLUMNS) <= _MAX_PARAMS)


def chunk_sizes(rows: int) -> list[int]:
    """How many rows each INSERT of a group of ``rows`` takes, in order."""
    sizes = []
    while rows > _SMALL_ROWS:
        size = next((big for big in _BIG_ROWS if big <= rows), _SMALL_ROWS)
        sizes.append(size)
        rows -= size
    if rows:
        sizes.append(rows)
    return sizes


TRACE_COLUMNS = (
    "org_id", "trace_id", "root_action", "root_started_at", "root_parentless", "agent_ids", "span_count",
    "flagged_count", "blocked_count", "enforcement", "started_at", "ended_at", "last_seq",
)
_UPSERT_TRACE = (
    f"INSERT INTO traces ({', '.join(TRACE_COLUMNS)}) VALUES ({placeholders(len(TRACE_COLUMNS))}) "
    "ON CONFLICT (org_id, trace_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in TRACE_COLUMNS[2:])
)


@dataclass(slots=True)
class PendingEvent:
    """A validated, evaluated event waiting for its id, sequence, time and hash.

    ``metadata`` is the parsed object (for the hash); ``metadata_json`` its stored text.
    ``after_insert`` lets later stages (alerts, outbox) add rows in the same transaction:
    each is a callable ``(cursor, stored_event) -> None`` run after the event is inserted; it may
    leave what it wrote in ``produced`` for the caller to announce once the commit succeeded.
    """

    org_id: str
    action: str
    agent_id: str | None = None
    prompt: str | None = None
    response: str | None = None
    metadata: Any = None
    metadata_json: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    parent_span_id: str | None = None
    started_at: int | None = None
    ended_at: int | None = None
    flags: list[str] = field(default_factory=list)
    enforcement: str = "allow"
    violations: list[dict[str, Any]] | None = None
    after_insert: list[Callable[[Any, dict[str, Any]], None]] = field(default_factory=list)
    produced: dict[str, Any] = field(default_factory=dict)


class _Job:
    __slots__ = ("loop", "future")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[Any] = loop.create_future()

    @property
    def size(self) -> int:
        return 1


class _IngestJob(_Job):
    __slots__ = ("events",)

    def __init__(self, loop: asyncio.AbstractEventLoop, events: Sequence[PendingEvent]) -> None:
        super().__init__(loop)
        self.events = events

    @property
    def size(self) -> int:
        return len(self.events)


class _FnJob(_Job):
    __slots__ = ("fn",)

    def __init__(self, loop: asyncio.AbstractEventLoop, fn: Callable[[], Any]) -> None:
        super().__init__(loop)
        self.fn = fn


_STOP = object()

#: How many trace summaries the writer keeps (SQLite): spans of these traces need no SELECT.
_TRACES_KEPT = 4096

#: How often a unit that lost a PostgreSQL deadlock or serialisation race is tried again.
_RACE_RETRIES = 5
_LOCK_HEADS = ("SELECT id, last_seq, last_hash FROM organizations WHERE id = ANY(%s) ORDER BY id FOR UPDATE")

#: Exceptions that mean the database refused or failed a write.
STORAGE_ERRORS: tuple[type[BaseException], ...] = (DatabaseError, InterfaceError, sqlite3.Error, OSError)


def _chain_text(exc: BaseException) -> str:
    """The messages of an exception and its context: SQLite may roll back on its own after SQLITE_FULL,
    and then the failed rollback hides the real cause one level down."""
    parts = []
    seen: BaseException | None = exc
    while seen is not None and len(parts) < 5:
        parts.append(str(seen).lower())
        seen = seen.__context__
    return " | ".join(parts)


def _storage_cause(db: Database) -> str:
    """Ask the file system holding a SQLite database why a write failed: SQLite reports a disk that turned
    read-only under it (the kernel's answer to a failing disk) only as a "disk I/O error". Runs on failures only."""
    if is_postgres(db) or not isinstance(getattr(db, "database", None), str):
        return ""
    directory = Path(db.database).resolve().parent
    try:
        if os.statvfs(directory).f_flag & os.ST_RDONLY:
            return "read-only"
        handle, name = tempfile.mkstemp(dir=directory, prefix=".write-check-")
        os.close(handle)
        os.unlink(name)
    except OSError as exc:
        if exc.errno == errno.EROFS:
            return "read-only"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return "full"
    return ""


def _storage_error(exc: BaseException, cause: str = "", *, event: bool = True) -> AgentAuditError:
    """The 503 a failed write answers with (``event``: the unit was an ingest; else some other change)."""
    text = f"{cause} | {_chain_text(exc)}" if cause else _chain_text(exc)
    lost = "the event was not stored" if event else "the change was not saved"
    if "full" in text:
        return Unavailable(f"storage is full: {lost}; free disk space and retry")
    if "readonly" in text or "read-only" in text or "read only" in text:
        return Unavailable(f"storage is read-only: {lost}")
    if "locked" in text or "busy" in text:
        return Unavailable(f"storage is busy: {lost}; retry")
    return Unavailable(f"storage error: {lost}; retry")


class Writer:
    """The writer thread. Start with :meth:`start`, stop with :meth:`close` (drains the queue first).

    Args:
        db: the database; the writer opens its own connection on its thread.
        max_group: the most events one transaction takes.
        clock: epoch-milliseconds source (injectable for tests).
        chain: benchmark only; False stores events without a chain hash (see ``Settings.hash_chain``).
        meter: counts stored events per organisation and month and refuses jobs over quota (optional).
    """

    def __init__(
        self,
        db: Database,
        *,
        max_group: int = 2000,
        clock: Callable[[], int] = now_ms,
        ids: IdGenerator | None = None,
        chain: bool = True,
        meter: UsageMeter | None = None,
    ) -> None:
        self._db = db
        self._chain = chain
        self._max_group = max_group
        self._clock = clock
        self._ids = ids or IdGenerator()
        self.meter = meter
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()  # lists of jobs, then _STOP
        self._turns: dict[asyncio.AbstractEventLoop, list[_Job]] = {}  # jobs of this loop turn, not yet queued
        self._thread = threading.Thread(target=self._run, name="db-writer", daemon=True)
        self._heads: dict[str, tuple[int, str]] = {}
        #: SQLite only: the committed summary row of recently written traces, so a span of a known trace needs no
        #: SELECT (the writer is the only one writing them; any other unit of work clears it, see _apply)
        self._traces: OrderedDict[tuple[str, str], tuple[Any, ...]] = OrderedDict()
        self._pending_traces: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._shared = is_postgres(db)  # other processes append too: read heads under a lock, cache none
        self._listeners: list[Callable[[list[dict[str, Any]]], None]] = []
        #: on PostgreSQL, who this writer is in the commit notices other sidecars hear (see commit_feed)
        self.origin = os.urandom(8).hex()
        self._started = False
        self._closed = False
        self._last_created = 0
        self.commits = 0
        self.events_written = 0

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    def close(self, timeout: float = 30.0) -> None:
        """Finish everything queued, then stop the thread. Idempotent."""
        if self._closed or not self._started:
            self._closed = True
            return
        self._closed = True
        for loop in list(self._turns):  # jobs of a turn not yet handed over go before the stop
            self._hand_over(loop)
        self._queue.put(_STOP)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.store.error("the writer did not stop within %.0f s", timeout)

    def add_listener(self, listener: Callable[[list[dict[str, Any]]], None]) -> None:
        """Call ``listener(stored_events)`` on the event loop after each commit that stored events."""
        self._listeners.append(listener)

    def forget_head(self, org_id: str) -> None:
        """Drop the cached chain head of an organisation (after retention rewrote it). Writer thread only."""
        self._heads.pop(org_id, None)

    # -- submitting ------------------------------------------------------------------------------

    async def ingest(self, events: Sequence[PendingEvent]) -> list[dict[str, Any]]:
        """Store events durably; return them in wire form (with id, sequence, hash) after the commit."""
        job = _IngestJob(asyncio.get_running_loop(), events)
        self._submit(job)
        return await job.future  # type: ignore[no-any-return]

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` on the writer thread inside the group transaction (in its own savepoint)."""
        job = _FnJob(asyncio.get_running_loop(), lambda: fn(*args, **kwargs))
        self._submit(job)
        return await job.future  # type: ignore[no-any-return]

    def _submit(self, job: _Job) -> None:
        """Queue a job for the writer at the end of this turn of its event loop, together with the other jobs
        the turn made: the writer wakes once per turn, after the loop has read every request that was ready,
        instead of once per request in the middle of them (each wake-up takes the GIL from the loop)."""
        if self._closed:
            raise Unavailable("the sidecar is shutting down")
        turn = self._turns.get(job.loop)
        if turn is None:
            job.loop.call_soon(self._hand_over, job.loop)
            turn = self._turns[job.loop] = []
        turn.append(job)

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        jobs = self._turns.pop(loop, None)
        if jobs:
            self._queue.put(jobs)

    # -- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        self._db.connect(reuse_if_open=True)
        try:
            stopping = False
            while not stopping:
                first = self._queue.get()
                if first is _STOP:
                    break
                jobs: list[_Job] = list(first)
                size = sum(job.size for job in jobs)
                while size < self._max_group:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is _STOP:
                        stopping = True
                        break
                    jobs.extend(nxt)
                    size += sum(job.size for job in nxt)
                self._process(jobs)
        finally:
            try:
                if self._db.__class__.__name__.startswith("Sqlite"):
                    self._db.execute_sql("PRAGMA optimize")
            except STORAGE_ERRORS as exc:  # only a missed optimisation: say so without a trace
                log.store.warning("PRAGMA optimize failed at shutdown: %s", exc)
            self._db.close()

    def _process(self, jobs: list[_Job], attempt: int = 0) -> None:
        heads: dict[str, tuple[int, str]] = {}
        applied = False  # the group's statements ran: a failure after this came from the commit
        try:
            with self._db.atomic():
                outcomes, stored = self._apply(jobs, heads)
                applied = True
        except STORAGE_ERRORS as exc:
            if self.meter is not None:
                self.meter.rollback()
            self._forget()
            if self._shared and attempt < _RACE_RETRIES and _is_race(exc):
                log.store.info("a group lost a race with another writer (%s); retrying", exc)
                self._process(jobs, attempt + 1)
                return
            if self._shared and is_disconnect(exc):  # the server dropped the connection (restart, failover)
                if applied and stored and self._stored(stored[0]["id"]):
                    log.store.warning("the connection dropped after the commit reached the server; it stands")
                    self._committed(outcomes, stored, heads)
                    return
                if not applied and attempt < _RACE_RETRIES:
                    log.store.warning("the database connection dropped (%s); retrying on a new one", exc)
                    self._reconnect()
                    self._process(jobs, attempt + 1)
                    return
                self._reconnect()  # whatever the callers are told, the next group gets a live connection
            if len(jobs) > 1:
                log.store.warning("a group of %d units failed (%s); retrying each alone", len(jobs), exc)
                for job in jobs:
                    self._process([job])
                return
            cause = _storage_cause(self._db)
            log.store.error("write failed%s: %s", f" (the database's file system is {cause})" if cause else "",
                            _chain_text(exc))
            self._deliver([(jobs[0], None, _storage_error(exc, cause, event=isinstance(jobs[0], _IngestJob)))])
            return
        except Exception as exc:  # a bug in a unit of work: fail its callers, keep the writer alive
            log.store.exception("unexpected error in the writer")
            if self.meter is not None:
                self.meter.rollback()
            self._forget()
            if len(jobs) > 1:
                for job in jobs:
                    self._process([job])
                return
            self._deliver([(jobs[0], None, exc)])
            return
        self._committed(outcomes, stored, heads)

    def _committed(self, outcomes: list[tuple[_Job, Any, BaseException | None]], stored: list[dict[str, Any]],
                   heads: dict[str, tuple[int, str]]) -> None:
        if not self._shared:
            self._heads.update(heads)
            traces = self._traces
            for key, row in self._pending_traces.items():
                traces[key] = row
                traces.move_to_end(key)
            while len(traces) > _TRACES_KEPT:
                traces.popitem(last=False)
        self._pending_traces = {}
        if self.meter is not None:
            self.meter.commit()
        self.commits += 1
        self.events_written += len(stored)
        self._deliver(outcomes, stored)

    def _forget(self) -> None:
        """Drop what the writer remembers of the database (chain heads, trace summaries) after a failed group:
        the next group reads them again, so a failure caused by a stale memory does not repeat for ever."""
        self._heads.clear()
        self._traces.clear()
        self._pending_traces = {}

    def _reconnect(self) -> None:
        """Replace this thread's connection, which the server dropped."""
        try:
            self._db.close()
        except STORAGE_ERRORS:
            pass
        try:
            self._db.connect(reuse_if_open=True)
        except STORAGE_ERRORS as exc:  # the server is still away: the next group tries again
            log.store.warning("could not reconnect to the database yet (%s)", exc)

    def _stored(self, event_id: str) -> bool:
        """Whether an event is in the database (after a commit whose answer was lost); False when unsure."""
        try:
            row = self._db.execute_sql(q(self._db, "SELECT 1 FROM audit_logs WHERE id = ?"), (event_id,)).fetchone()
        except STORAGE_ERRORS:
            return False
        return row is not None

    def _apply(
        self, jobs: list[_Job], heads: dict[str, tuple[int, str]]
    ) -> tuple[list[tuple[_Job, Any, BaseException | None]], list[dict[str, Any]]]:
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        ingest_jobs: list[_IngestJob] = []
        self._pending_traces = {}
        if any(not isinstance(job, _IngestJob) for job in jobs):
            self._traces.clear()  # other units may change trace rows (the retention purge deletes some)
        for job in jobs:
            if isinstance(job, _IngestJob):
                ingest_jobs.append(job)
                continue
            assert isinstance(job, _FnJob)
            try:
                with self._db.atomic():  # a savepoint inside the group transaction
                    outcomes.append((job, job.fn(), None))
            except AgentAuditError as exc:
                outcomes.append((job, None, exc))
            except STORAGE_ERRORS as exc:
                if _is_storage_failure(exc) or (self._shared and (_is_race(exc) or is_disconnect(exc))):
                    raise
                outcomes.append((job, None, exc))
        stored: list[dict[str, Any]] = []
        if ingest_jobs:
            cursor = self._db.cursor()
            if self._shared:
                self._lock_heads(cursor, ingest_jobs, heads)
            meter = self.meter
            now = self._clock()
            admitted: list[_IngestJob] = []
            for job in ingest_jobs:
                if meter is not None:
                    refused = meter.admit(cursor, job.events, now)
                    if refused is not None:  # over quota: nothing of this job is stored
                        outcomes.append((job, None, refused))
                        continue
                admitted.append(job)
            if admitted:  # one set of statements for the whole group, however many jobs it holds
                wires = self._store_events(cursor, [event for job in admitted for event in job.events], heads)
                start = 0
                for job in admitted:
                    outcomes.append((job, wires[start:start + len(job.events)], None))
                    start += len(job.events)
                stored.extend(wires)
                if self._shared:  # tell the other sidecars on this database, on commit
                    cursor.execute(NOTIFY_SQL, (CHANNEL, notice(self.origin, _ranges(wires))))
            if meter is not None:
                meter.flush(cursor, now)
        return outcomes, stored

    def _lock_heads(self, cursor: Any, jobs: list[_IngestJob], heads: dict[str, tuple[int, str]]) -> None:
        """Lock the chain heads this group appends to, in id order, and read them (PostgreSQL)."""
        org_ids = sorted({event.org_id for job in jobs for event in job.events})
        cursor.execute(_LOCK_HEADS, (org_ids,))
        for org_id, seq, digest in cursor.fetchall():
            heads[org_id] = (int(seq), str(digest))

    def _head(self, cursor: Any, org_id: str, heads: dict[str, tuple[int, str]]) -> tuple[int, str]:
        head = heads.get(org_id) or self._heads.get(org_id)
        if head is None:
            cursor.execute(q(self._db, "SELECT last_seq, last_hash FROM organizations WHERE id = ?"), (org_id,))
            row = cursor.fetchone()
            head = (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)
        return head

    def _store_events(
        self, cursor: Any, events: Sequence[PendingEvent], heads: dict[str, tuple[int, str]]
    ) -> list[dict[str, Any]]:
        rows: list[tuple[Any, ...]] = []
        wires: list[dict[str, Any]] = []
        pending: list[tuple[PendingEvent, dict[str, Any]]] = []
        created = self._last_created = max(self._last_created, self._clock())  # one time for the whole group
        created_iso = to_iso(created)
        chain = self._chain
        dumps, sort_keys = orjson.dumps, orjson.OPT_SORT_KEYS
        for ev, event_id in zip(events, self._ids.new_many("log", len(events), now_ms=created), strict=True):
            seq, prev = self._head(cursor, ev.org_id, heads)
            seq += 1
            started = ev.started_at if ev.started_at is not None else created
            ended = ev.ended_at if ev.ended_at is not None else max(created, started)
            started_iso = created_iso if started == created else to_iso(started)
            ended_iso = created_iso if ended == created else started_iso if ended == started else to_iso(ended)
            span_id = ev.span_id or event_id
            metadata_json = ev.metadata_json
            if metadata_json is None and ev.metadata is not None:
                metadata_json = ev.metadata_json = dumps(ev.metadata, option=sort_keys).decode()
            violations = ev.violations or None  # no details and empty details are the same: null
            violations_json = dumps(violations, option=sort_keys).decode() if violations else None
            wire = {
                "id": event_id,
                "organizationId": ev.org_id,
                "action": ev.action,
                "agentId": ev.agent_id,
                "prompt": ev.prompt,
                "response": ev.response,
                "metadata": ev.metadata,
                "traceId": ev.trace_id,
                "spanId": span_id,
                "parentSpanId": ev.parent_span_id,
                "startedAt": started_iso,
                "endedAt": ended_iso,
                "createdAt": created_iso,
                "complianceFlags": ev.flags,
                "enforcementAction": ev.enforcement,
                "violationDetails": violations,
                "sequence": seq,
            }
            if chain:  # the columns' canonical bytes: metadata and details spliced in as stored, not re-encoded
                digest = link_hash(prev, canonical_columns(
                    event_id, ev.org_id, seq, ev.action, ev.agent_id, ev.prompt, ev.response, metadata_json,
                    ev.trace_id, span_id, ev.parent_span_id, started_iso, ended_iso, created_iso, ev.flags,
                    ev.enforcement, violations_json))
            else:
                digest = GENESIS_HASH
            wire["hash"] = digest
            heads[ev.org_id] = (seq, digest)
            rows.append((
                event_id, ev.org_id, seq, ev.action, ev.agent_id, ev.trace_id, span_id, ev.parent_span_id,
                ev.prompt, ev.response, metadata_json, started, ended, created,
                dumps(ev.flags).decode() if ev.flags else None, ev.enforcement, bool(ev.flags), violations_json,
                digest,
            ))
            wires.append(wire)
            if ev.after_insert:
                pending.append((ev, wire))
        self._insert_many(cursor, rows)
        for ev, wire in pending:
            for hook in ev.after_insert:
                hook(cursor, wire)
        self._update_heads(cursor, heads)
        self._update_traces(cursor, rows)
        return wires

    def _insert_many(self, cursor: Any, rows: list[tuple[Any, ...]]) -> None:
        start = 0
        for size in chunk_sizes(len(rows)):
            chunk = rows[start:start + size]
            start += size
            cursor.execute(_multi_insert(self._db.param, size), [value for row in chunk for value in row])

    def _update_heads(self, cursor: Any, heads: dict[str, tuple[int, str]]) -> None:
        now = self._clock()
        cursor.executemany(
            q(self._db, "UPDATE organizations SET last_seq = ?, last_hash = ?, updated_at = ? WHERE id = ?"),
            [(seq, digest, now, org_id) for org_id, (seq, digest) in heads.items()],
        )

    def _update_traces(self, cursor: Any, rows: list[tuple[Any, ...]]) -> None:
        spans_of: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        for row in rows:
            if row[5] is not None:
                spans_of.setdefault((row[1], row[5]), []).append(row)
        touched = {key: _summary(spans) for key, spans in spans_of.items()}
        if not touched:
            return
        by_org: dict[str, list[str]] = {}
        cached = self._traces if not self._shared else {}
        for key in touched:
            known = cached.get(key)
            if known is not None:
                _merge_existing(touched[key], known)
            else:
                by_org.setdefault(key[0], []).append(key[1])
        for org_id, trace_ids in by_org.items():
            for start in range(0, len(trace_ids), 500):
                chunk = trace_ids[start:start + 500]
                cursor.execute(
                    q(self._db, f"SELECT trace_id, root_action, root_started_at, root_parentless, agent_ids, span_count, "
                                f"flagged_count, blocked_count, enforcement, started_at, ended_at, last_seq "
                                f"FROM traces WHERE org_id = ? AND trace_id IN ({placeholders(len(chunk))})"),
                    (org_id, *chunk),
                )
                for old in cursor.fetchall():
                    _merge_existing(touched[(org_id, old[0])], old)
        upserts = [
            (org_id, trace_id, a["root_action"], a["root_started_at"], a["root_parentless"],
             orjson.dumps(a["agents"]).decode(), a["spans"], a["flagged"], a["blocked"], a["worst"],
             a["started_at"], a["ended_at"], a["last_seq"])
            for (org_id, trace_id), a in touched.items()
        ]
        cursor.executemany(q(self._db, _UPSERT_TRACE), upserts)
        if not self._shared:  # the rows as a SELECT would read them back, kept once the group commits
            self._pending_traces.update(((row[0], row[1]), row[1:]) for row in upserts)

    # -- results ---------------------------------------------------------------------------------

    def _deliver(
        self, outcomes: list[tuple[_Job, Any, BaseException | None]], stored: list[dict[str, Any]] | None = None
    ) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Job, Any, BaseException | None]]] = {}
        for outcome in outcomes:
            by_loop.setdefault(outcome[0].loop, []).append(outcome)
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, items, stored if stored else None, self._listeners)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass


@functools.lru_cache(maxsize=2 * (_SMALL_ROWS + len(_BIG_ROWS)))
def _multi_insert(param: str, count: int) -> str:
    statement = _INSERT_LOG + ", ".join([_LOG_ROW] * count)
    return statement if param == "?" else statement.replace("?", param)


def _resolve(
    items: list[tuple[_Job, Any, BaseException | None]],
    stored: list[dict[str, Any]] | None,
    listeners: list[Callable[[list[dict[str, Any]]], None]],
) -> None:
    for job, result, error in items:
        if job.future.done():
            continue
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)
    if stored:
        for listener in listeners:
            try:
                listener(stored)
            except Exception:
                log.store.exception("a commit listener failed")


def _ranges(wires: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """The first and last sequence stored per organisation."""
    ranges: dict[str, tuple[int, int]] = {}
    for wire in wires:
        org, seq = wire["organizationId"], wire["sequence"]
        low, high = ranges.get(org, (seq, seq))
        ranges[org] = (min(low, seq), max(high, seq))
    return ranges


def _is_race(exc: BaseException) -> bool:
    """PostgreSQL aborted the transaction to resolve a conflict with another one: trying again succeeds."""
    text = _chain_text(exc)
    return "deadlock detected" in text or "could not serialize" in text


def _is_storage_failure(exc: BaseException) -> bool:
    text = _chain_text(exc)
    return any(word in text for word in ("full", "readonly", "read-only", "disk i/o", "locked", "busy"))


def _summary(spans: list[tuple[Any, ...]]) -> dict[str, Any]:
    """The summary of one trace's new spans (audit-log rows in ``LOG_COLUMNS`` order, by sequence): the same
    fields as a ``traces`` row, folded one pass per field (this runs for every stored event)."""
    rank = _ACTION_RANK.get
    agents = list(dict.fromkeys(row[4] for row in spans if row[4] is not None))[:50]
    root = max(spans, key=lambda row: (row[7] is None, -row[11]))  # parentless first, then the earliest
    return {
        "root_action": root[3], "root_started_at": root[11], "root_parentless": root[7] is None,
        "agents": agents, "spans": len(spans),
        "flagged": sum(1 for row in spans if row[16]),
        "blocked": sum(1 for row in spans if row[15] == "block"),
        "worst": max((row[15] for row in spans), key=lambda action: rank(action, 0)),
        "started_at": min(row[11] for row in spans), "ended_at": max(row[12] for row in spans),
        "last_seq": max(row[2] for row in spans),
    }


def _merge_existing(agg: dict[str, Any], old: tuple[Any, ...]) -> None:
    (_, root_action, root_started, root_parentless, agent_ids, spans, flagged, blocked, worst,
     started, ended, last_seq) = old
    agg["spans"] += int(spans)
    agg["flagged"] += int(flagged)
    agg["blocked"] += int(blocked)
    if _ACTION_RANK.get(worst, 0) > _ACTION_RANK.get(agg["worst"], 0):
        agg["worst"] = worst
    merged = list(orjson.loads(agent_ids))
    for agent in agg["agents"]:
        if agent not in merged and len(merged) < 50:
            merged.append(agent)
    agg["agents"] = merged
    agg["started_at"] = min(agg["started_at"], int(started))
    agg["ended_at"] = max(agg["ended_at"], int(ended))
    agg["last_seq"] = max(agg["last_seq"], int(last_seq))
    if root_action is not None:
        old_key = (bool(root_parentless), -int(root_started))
        if agg["root_action"] is None or old_key >= (agg["root_parentless"], -agg["root_started_at"]):
            agg["root_action"], agg["root_started_at"], agg["root_parentless"] = (
                root_action, int(root_started), bool(root_parentless))
