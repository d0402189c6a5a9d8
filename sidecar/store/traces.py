"""Read queries over the trace summary table (one row per trace, kept by the writer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from peewee import Database

from sidecar.clock import to_iso
from sidecar.store.sql import escape_like, q

_COLUMNS = ("trace_id, root_action, agent_ids, span_count, flagged_count, blocked_count, enforcement, "
            "started_at, ended_at, last_seq")


def _row_to_trace(row: tuple[Any, ...]) -> dict[str, Any]:
    trace_id, root_action, agent_ids, spans, flagged, blocked, enforcement, started, ended, _ = row
    return {
        "traceId": trace_id,
        "rootAction": root_action,
        "agentIds": orjson.loads(agent_ids),
        "spanCount": int(spans),
        "flaggedCount": int(flagged),
        "blockedCount": int(blocked),
        "enforcementAction": enforcement,
        "startedAt": to_iso(started),
        "endedAt": to_iso(ended),
        "durationMs": int(ended) - int(started),
    }


@dataclass(frozen=True, slots=True)
class TraceFilter:
    agent_id: str | None = None
    action: str | None = None
    enforcement: str | None = None
    flagged: bool | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    trace_id: str | None = None
    text: str | None = None  # in any span's prompt or response


def _where(db: Database, org_id: str, flt: TraceFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if flt.trace_id is not None:
        clauses.append("trace_id = ?")
        params.append(flt.trace_id)
    if flt.agent_id is not None:
        needle = orjson.dumps(flt.agent_id).decode()
        clauses.append("agent_ids LIKE ? ESCAPE '\\'")
        params.append(f"%{escape_like(needle)}%")
    if flt.action is not None:
        clauses.append("root_action = ?")
        params.append(flt.action)
    if flt.enforcement is not None:
        clauses.append("enforcement = ?")
        params.append(flt.enforcement)
    if flt.flagged is not None:
        clauses.append("flagged_count > 0" if flt.flagged else "flagged_count = 0")
    if flt.start_ms is not None:
        clauses.append("ended_at >= ?")
        params.append(flt.start_ms)
    if flt.end_ms is not None:
        clauses.append("started_at <= ?")
        params.append(flt.end_ms)
    if flt.text:
        like = "ILIKE" if db.param != "?" else "LIKE"
        pattern = f"%{escape_like(flt.text)}%"
        clauses.append(f"trace_id IN (SELECT trace_id FROM audit_logs WHERE org_id = ? AND trace_id IS NOT NULL AND "
                       f"(prompt {like} ? ESCAPE '\\' OR response {like} ? ESCAPE '\\'))")
        params.extend((org_id, pattern, pattern))
    return "".join(f" AND {c}" for c in clauses), params


#: A trace list's cursor is a position (``~`` and the last row's newest sequence number), not a trace: a trace
#: that gets a new span moves to the top, and a cursor naming it would start the next page over.
CURSOR_PREFIX = "~"


def list_traces(db: Database, org_id: str, flt: TraceFilter, *, limit: int, offset: int,
                before: str | None = None) -> tuple[list[dict[str, Any]], int, str | None]:
    """Most recently active first: ``(rows, total, the next page's cursor or None)``. ``before`` continues a
    listing: a cursor (``~<position>``), or a trace id (the traces after it as they stand now; an unknown one
    yields nothing)."""
    where, params = _where(db, org_id, flt)
    cursor, cursor_params = "", []
    if before is not None:
        position = before[len(CURSOR_PREFIX):] if before.startswith(CURSOR_PREFIX) else ""
        if position.isascii() and position.isdigit():
            last_seq = int(position)
        else:
            row = db.execute_sql(q(db, "SELECT last_seq FROM traces WHERE org_id = ? AND trace_id = ?"),
                                 (org_id, before)).fetchone()
            if row is None:
                return [], 0, None
            last_seq = int(row[0])
        cursor, cursor_params = " AND last_seq < ?", [last_seq]
    rows = db.execute_sql(
        q(db, f"SELECT {_COLUMNS} FROM traces WHERE org_id = ?{where}{cursor} ORDER BY last_seq DESC LIMIT ? OFFSET ?"),
        (org_id, *params, *cursor_params, limit, offset),
    ).fetchall()
    total = db.execute_sql(q(db, f"SELECT COUNT(*) FROM traces WHERE org_id = ?{where}"), (org_id, *params)).fetchone()[0]
    following = f"{CURSOR_PREFIX}{rows[-1][-1]}" if rows and len(rows) == limit else None
    return [_row_to_trace(row) for row in rows], int(total), following


def get_trace(db: Database, org_id: str, trace_id: str) -> dict[str, Any] | None:
    row = db.execute_sql(
        q(db, f"SELECT {_COLUMNS} FROM traces WHERE org_id = ? AND trace_id = ?"), (org_id, trace_id)
    ).fetchone()
    return _row_to_trace(row) if row else None
