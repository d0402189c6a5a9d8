"""Read queries over audit logs. Every query is scoped by organisation; rows come back in wire form.

Time filters become sequence ranges: the writer assigns ``created_at`` monotonically
along each organisation's sequence, so a binary search over the ``(org_id, seq)``
index turns "from/to" into "seq between", and every list walks one index in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import orjson
from peewee import Database

from sidecar.clock import to_iso
from sidecar.store.sql import escape_like, placeholders, q

EVENT_COLUMNS = (
    "id, org_id, seq, action, agent_id, trace_id, span_id, parent_span_id, prompt, response, metadata, "
    "started_at, ended_at, created_at, flags, enforcement, violations, hash"
)


def row_to_event(row: tuple[Any, ...]) -> dict[str, Any]:
    """Turn a row of :data:`EVENT_COLUMNS` into the event's wire form."""
    (event_id, org_id, seq, action, agent_id, trace_id, span_id, parent_span_id, prompt, response, metadata,
     started_at, ended_at, created_at, flags, enforcement, violations, digest) = row
    return {
        "id": event_id,
        "organizationId": org_id,
        "action": action,
        "agentId": agent_id,
        "prompt": prompt,
        "response": response,
        "metadata": orjson.loads(metadata) if metadata is not None else None,
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent_span_id,
        "startedAt": to_iso(started_at),
        "endedAt": to_iso(ended_at),
        "createdAt": to_iso(created_at),
        "complianceFlags": orjson.loads(flags) if flags else [],
        "enforcementAction": enforcement,
        "violationDetails": orjson.loads(violations) if violations else None,
        "sequence": seq,
        "hash": digest,
    }


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Filters of ``GET /audit-logs`` (all optional, ANDed). Times are epoch ms, inclusive."""

    agent_id: str | None = None
    action: str | None = None
    trace_id: str | None = None
    enforcement: str | None = None
    flagged: bool | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    text: str | None = None

    @property
    def is_empty(self) -> bool:
        return all(
            value is None
            for value in (self.agent_id, self.action, self.trace_id, self.enforcement, self.flagged,
                          self.start_ms, self.end_ms, self.text)
        )


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    total: int


def chain_bounds(db: Database, org_id: str) -> tuple[int, int]:
    """``(first_seq, last_seq)`` of the organisation's stored events; ``first > last`` when empty."""
    row = db.execute_sql(q(db, "SELECT pruned_seq, last_seq FROM organizations WHERE id = ?"), (org_id,)).fetchone()
    if row is None:
        return 1, 0
    return int(row[0]) + 1, int(row[1])


def _created_at(db: Database, org_id: str, seq: int) -> int | None:
    row = db.execute_sql(
        q(db, "SELECT created_at FROM audit_logs WHERE org_id = ? AND seq = ?"), (org_id, seq)
    ).fetchone()
    return int(row[0]) if row else None


def first_seq_at_or_after(db: Database, org_id: str, ms: int, lo: int, hi: int) -> int:
    """The smallest seq in ``[lo, hi]`` created at or after ``ms`` (``hi + 1`` when none)."""
    while lo <= hi:
        mid = (lo + hi) // 2
        created = _created_at(db, org_id, mid)
        if created is None:  # a hole (should not happen inside the bounds): fall back to a scan below it
            row = db.execute_sql(
                q(db, "SELECT seq, created_at FROM audit_logs WHERE org_id = ? AND seq >= ? ORDER BY seq LIMIT 1"),
                (org_id, mid),
            ).fetchone()
            if row is None:
                hi = mid - 1
                continue
            mid, created = int(row[0]), int(row[1])
        if created >= ms:
            hi = mid - 1
        else:
            lo = mid + 1
    return lo


def seq_range(db: Database, org_id: str, start_ms: int | None, end_ms: int | None) -> tuple[int, int]:
    """The inclusive seq range holding events created in ``[start_ms, end_ms]``."""
    first, last = chain_bounds(db, org_id)
    if first > last:
        return first, last
    lo = first_seq_at_or_after(db, org_id, start_ms, first, last) if start_ms is not None else first
    hi = first_seq_at_or_after(db, org_id, end_ms + 1, first, last) - 1 if end_ms is not None else last
    return lo, hi


def _where(db: Database, org_id: str, flt: LogFilter, *, before_seq: int | None) -> tuple[str, list[Any]]:
    clauses = ["org_id = ?"]
    params: list[Any] = [org_id]
    if flt.start_ms is not None or flt.end_ms is not None:
        lo, hi = seq_range(db, org_id, flt.start_ms, flt.end_ms)
        clauses.append("seq BETWEEN ? AND ?")
        params.extend((lo, hi))
    if before_seq is not None:
        clauses.append("seq < ?")
        params.append(before_seq)
    if flt.agent_id is not None:
        clauses.append("agent_id = ?")
        params.append(flt.agent_id)
    if flt.action is not None:
        clauses.append("action = ?")
        params.append(flt.action)
    if flt.trace_id is not None:
        clauses.append("trace_id = ?")
        params.append(flt.trace_id)
    if flt.enforcement is not None:
        clauses.append("enforcement = ?")
        params.append(flt.enforcement)
    if flt.flagged is not None:
        clauses.append("flagged" if flt.flagged else "NOT flagged")
    if flt.text:
        like = "ILIKE" if db.param != "?" else "LIKE"
        pattern = f"%{escape_like(flt.text)}%"
        clauses.append(f"(prompt {like} ? ESCAPE '\\' OR response {like} ? ESCAPE '\\')")
        params.extend((pattern, pattern))
    return " AND ".join(clauses), params


def seq_of(db: Database, org_id: str, event_id: str) -> int | None:
    row = db.execute_sql(q(db, "SELECT seq FROM audit_logs WHERE id = ? AND org_id = ?"), (event_id, org_id)).fetchone()
    return int(row[0]) if row else None


def list_logs(
    db: Database, org_id: str, flt: LogFilter, *, limit: int, offset: int, before_id: str | None = None
) -> Page:
    """Newest first. ``before_id`` continues after that event (cursor paging); an unknown id yields nothing."""
    before_seq = None
    if before_id is not None:
        before_seq = seq_of(db, org_id, before_id)
        if before_seq is None:
            return Page([], 0)
    where, params = _where(db, org_id, flt, before_seq=before_seq)
    rows = db.execute_sql(
        q(db, f"SELECT {EVENT_COLUMNS} FROM audit_logs WHERE {where} ORDER BY seq DESC LIMIT ? OFFSET ?"),
        (*params, limit, offset),
    ).fetchall()
    if flt.is_empty:
        first, last = chain_bounds(db, org_id)
        total = max(0, last - first + 1)
    else:
        where_all, params_all = _where(db, org_id, flt, before_seq=None)
        total = int(db.execute_sql(q(db, f"SELECT COUNT(*) FROM audit_logs WHERE {where_all}"), params_all).fetchone()[0])
    return Page([row_to_event(row) for row in rows], total)


def logs_in_seq_range(db: Database, org_id: str, first: int, last: int) -> list[dict[str, Any]]:
    """The organisation's events with sequence ``first..last``, oldest first (one index range)."""
    rows = db.execute_sql(
        q(db, f"SELECT {EVENT_COLUMNS} FROM audit_logs WHERE org_id = ? AND seq >= ? AND seq <= ? ORDER BY seq"),
        (org_id, first, last),
    ).fetchall()
    return [row_to_event(row) for row in rows]


def get_log(db: Database, org_id: str, event_id: str) -> dict[str, Any] | None:
    row = db.execute_sql(
        q(db, f"SELECT {EVENT_COLUMNS} FROM audit_logs WHERE id = ? AND org_id = ?"), (event_id, org_id)
    ).fetchone()
    return row_to_event(row) if row else None


def iter_logs(db: Database, org_id: str, flt: LogFilter, *, chunk: int = 1000) -> Iterator[list[dict[str, Any]]]:
    """Oldest first, in chunks, by keyset paging: memory stays flat however many events match.

    The time filter becomes the keyset's own bounds (``seq > after AND seq <= hi``): with a second lower
    bound (``seq BETWEEN lo AND hi``) SQLite starts every chunk's range scan at ``lo``, which makes a long
    export quadratic.
    """
    after, upper = 0, None
    if flt.start_ms is not None or flt.end_ms is not None:
        lo, upper = seq_range(db, org_id, flt.start_ms, flt.end_ms)
        after = lo - 1
        flt = replace(flt, start_ms=None, end_ms=None)
    where, params = _where(db, org_id, flt, before_seq=None)
    if upper is not None:
        where += " AND seq <= ?"
        params.append(upper)
    statement = q(db, f"SELECT {EVENT_COLUMNS} FROM audit_logs WHERE {where} AND seq > ? ORDER BY seq LIMIT ?")
    while True:
        rows = db.execute_sql(statement, (*params, after, chunk)).fetchall()
        if not rows:
            return
        yield [row_to_event(row) for row in rows]
        after = int(rows[-1][2])
        if len(rows) < chunk:
            return


def trace_spans(db: Database, org_id: str, trace_id: str, *, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """All spans of a trace, oldest first (one range scan of the (org, trace, started_at) index)."""
    statement = f"SELECT {EVENT_COLUMNS} FROM audit_logs WHERE org_id = ? AND trace_id = ? ORDER BY started_at, seq"
    params: tuple[Any, ...] = (org_id, trace_id)
    if limit is not None:
        statement += " LIMIT ? OFFSET ?"
        params = (*params, limit, offset)
    return [row_to_event(row) for row in db.execute_sql(q(db, statement), params).fetchall()]


def count_trace_spans(db: Database, org_id: str, trace_id: str) -> int:
    row = db.execute_sql(
        q(db, "SELECT COUNT(*) FROM audit_logs WHERE org_id = ? AND trace_id = ?"), (org_id, trace_id)
    ).fetchone()
    return int(row[0])


def untraced_by_span(db: Database, org_id: str, ref: str) -> dict[str, Any] | None:
    """The trace-less event whose id or spanId is ``ref``."""
    row = db.execute_sql(
        q(db, f"SELECT {EVENT_COLUMNS} FROM audit_logs WHERE org_id = ? AND trace_id IS NULL AND (span_id = ? OR id = ?) "
              "ORDER BY seq LIMIT 1"),
        (org_id, ref, ref),
    ).fetchone()
    return row_to_event(row) if row else None


def untraced_children(db: Database, org_id: str, refs: list[str]) -> list[dict[str, Any]]:
    """Trace-less events whose parentSpanId is one of ``refs``."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(refs), 500):
        chunk = refs[start:start + 500]
        rows = db.execute_sql(
            q(db, f"SELECT {EVENT_COLUMNS} FROM audit_logs WHERE org_id = ? AND trace_id IS NULL "
                  f"AND parent_span_id IN ({placeholders(len(chunk))}) ORDER BY seq"),
            (org_id, *chunk),
        ).fetchall()
        found.extend(row_to_event(row) for row in rows)
    return found


def trace_spans_after(db: Database, org_id: str, trace_id: str, after_id: str, *, limit: int) -> list[dict[str, Any]] | None:
    """The spans of a trace that come after the span ``after_id`` in the trace's order (started_at, seq).

    Keyset paging: each page is one range of the (org, trace, started_at) index however deep into the trace
    it is, where ``OFFSET`` walks (and reads) every span before the page. None when ``after_id`` is not a
    span of this trace.
    """
    row = db.execute_sql(
        q(db, "SELECT started_at, seq FROM audit_logs WHERE id = ? AND org_id = ? AND trace_id = ?"),
        (after_id, org_id, trace_id),
    ).fetchone()
    if row is None:
        return None
    started, seq = row
    statement = (f"SELECT {EVENT_COLUMNS} FROM audit_logs WHERE org_id = ? AND trace_id = ? AND started_at >= ? "
                 "AND (started_at > ? OR seq > ?) ORDER BY started_at, seq LIMIT ?")
    rows = db.execute_sql(q(db, statement), (org_id, trace_id, started, started, seq, limit)).fetchall()
    return [row_to_event(found) for found in rows]


def trace_spans_before(db: Database, org_id: str, trace_id: str, before_id: str, *,
                       limit: int) -> list[dict[str, Any]] | None:
    """The ``limit`` spans of a trace just before the span ``before_id`` in the trace's order (started_at, seq),
    oldest first: the page that precedes it, read as one index range walked backwards. None when ``before_id``
    is not a span of this trace."""
    row = db.execute_sql(
        q(db, "SELECT started_at, seq FROM audit_logs WHERE id = ? AND org_id = ? AND trace_id = ?"),
        (before_id, org_id, trace_id),
    ).fetchone()
    if row is None:
        return None
    started, seq = row
    statement = (f"SELECT {EVENT_COLUMNS} FROM audit_logs WHERE org_id = ? AND trace_id = ? AND started_at <= ? "
                 "AND (started_at < ? OR seq < ?) ORDER BY started_at DESC, seq DESC LIMIT ?")
    rows = db.execute_sql(q(db, statement), (org_id, trace_id, started, started, seq, limit)).fetchall()
    return [row_to_event(found) for found in reversed(rows)]
