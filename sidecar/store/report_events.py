"""Which events a report covers, and the event queries of reports, under that scope.

A report covers a window of time, optionally one agent and optionally one policy. Under a policy the
events are those the policy's rules were evaluated on, as far as the stored data tells: the events of
the agents attached to the policy (named by id, or by name as ingest resolves them) received since
each was attached, and every event with a violation of one of the policy's rules (which includes
agents detached since). Attachment history before the current attachments and the policy's own
conditions (time of day, agent types, metadata) are not kept per event, so an event of an attached
agent counts even when a condition kept the policy off it. Under a policy an event is flagged when it
violated one of the policy's rules, and its outcome is the strongest action among those rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from peewee import Database

from sidecar.store import logs as log_store
from sidecar.store.logs import EVENT_COLUMNS, LogFilter, row_to_event
from sidecar.store.sql import placeholders, q

DAY_MS = 86_400_000
#: Rank of an action, strongest last (``allow`` is a matched rule that lets the event through unmarked).
_RANK = "CASE action WHEN 'block' THEN 3 WHEN 'flag' THEN 2 WHEN 'log' THEN 1 ELSE 0 END"
OUTCOMES = {3: "block", 2: "flag", 1: "log", 0: "allow"}
#: A violation row is written with its event, in the same transaction, but its time is read separately: the
#: violations joined to a window's events are looked up with this margin (the join itself is exact).
_FACT_SLACK_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class Window:
    """What a report covers: a period and an optional agent and policy."""

    org_id: str
    start_ms: int
    end_ms: int
    agent_id: str | None = None
    policy_id: str | None = None


@dataclass(frozen=True, slots=True)
class EventScope:
    """The window's events as SQL over ``audit_logs``: ``SELECT … FROM {source} WHERE org_id = ? AND seq
    BETWEEN ? AND ?{where}`` with ``source_params`` then the org and range then ``where_params``. ``rank`` is
    the event's outcome in this scope (see :data:`OUTCOMES`), NULL when the event is not flagged in it."""

    source: str
    source_params: tuple[Any, ...]
    where: str
    where_params: tuple[Any, ...]
    rank: str

    def params(self, org_id: str, lo: int, hi: int) -> list[Any]:
        return [*self.source_params, org_id, lo, hi, *self.where_params]


def _attached_keys(db: Database, org_id: str, policy_id: str) -> list[tuple[list[str], int]]:
    """Per agent attached to the policy: the agent ids an event may carry to name it, and when it was attached.
    Mirrors ingest (``store.policies.load_state``): an id names its agent; a name names the oldest agent of
    that name, unless it is another agent's id."""
    attached = dict(_rows(db, "SELECT agent_id, created_at FROM policy_agents WHERE org_id = ? AND policy_id = ?",
                          [org_id, policy_id]))
    if not attached:
        return []
    owner: dict[str, str] = {}
    for agent_id, name in _rows(db, "SELECT id, name FROM agents WHERE org_id = ? ORDER BY created_at", [org_id]):
        owner[agent_id] = agent_id
        owner.setdefault(name, agent_id)
    keys: dict[str, list[str]] = {}
    for key, agent_id in owner.items():
        if agent_id in attached:
            keys.setdefault(agent_id, []).append(key)
    return [(keys[agent_id], int(attached[agent_id])) for agent_id in sorted(keys)]


def event_scope(db: Database, w: Window) -> EventScope:
    agent = " AND agent_id = ?" if w.agent_id is not None else ""
    agent_params: tuple[Any, ...] = (w.agent_id,) if w.agent_id is not None else ()
    if w.policy_id is None:
        return EventScope("audit_logs", (), agent, agent_params,
                          f"CASE WHEN flagged THEN ({_RANK.replace('action', 'enforcement', 1)}) END")
    source = (f"audit_logs LEFT JOIN (SELECT audit_log_id, MAX({_RANK}) AS strongest FROM violations "
              "WHERE org_id = ? AND policy_id = ? AND created_at >= ? AND created_at <= ? GROUP BY audit_log_id) pv "
              "ON pv.audit_log_id = audit_logs.id")
    clauses, params = ["pv.strongest IS NOT NULL"], []
    for keys, since in _attached_keys(db, w.org_id, w.policy_id):
        clauses.append(f"(agent_id IN ({placeholders(len(keys))}) AND created_at >= ?)")
        params.extend([*keys, since])
    return EventScope(source, (w.org_id, w.policy_id, w.start_ms - _FACT_SLACK_MS, w.end_ms + _FACT_SLACK_MS),
                      f"{agent} AND ({' OR '.join(clauses)})", (*agent_params, *params), "pv.strongest")


def _rows(db: Database, statement: str, params: list[Any] | tuple[Any, ...]) -> list[tuple[Any, ...]]:
    return db.execute_sql(q(db, statement), params).fetchall()


def _scoped(w: Window) -> bool:
    return w.agent_id is not None or w.policy_id is not None


# -- totals and buckets ----------------------------------------------------------------------------

def event_totals(db: Database, w: Window) -> dict[str, int]:
    """``{events, flagged, block, flag, log, agents}`` for the window (indexes only, except the flagged rows,
    when the whole organisation is covered)."""
    lo, hi = log_store.seq_range(db, w.org_id, w.start_ms, w.end_ms)
    if not _scoped(w):
        events = max(0, hi - lo + 1)
        base = [w.org_id, lo, hi]
        by_action = {a: int(n) for a, n in _rows(
            db, "SELECT enforcement, COUNT(*) FROM audit_logs WHERE org_id = ? AND seq BETWEEN ? AND ? AND flagged "
                "GROUP BY enforcement", base)}
        agents = int(_rows(db, "SELECT COUNT(DISTINCT agent_id) FROM audit_logs WHERE org_id = ? AND seq BETWEEN ? "
                               "AND ?", base)[0][0])
        flagged = sum(by_action.values())
    else:
        s = event_scope(db, w)
        where = f"org_id = ? AND seq BETWEEN ? AND ?{s.where}"
        by_rank = {r: int(n) for r, n in _rows(db, f"SELECT {s.rank}, COUNT(*) FROM {s.source} WHERE {where} "
                                                   "GROUP BY 1", s.params(w.org_id, lo, hi))}
        agents = int(_rows(db, f"SELECT COUNT(DISTINCT agent_id) FROM {s.source} WHERE {where}",
                           s.params(w.org_id, lo, hi))[0][0])
        events = sum(by_rank.values())
        flagged = sum(n for r, n in by_rank.items() if r is not None)
        by_action = {OUTCOMES[int(r)]: n for r, n in by_rank.items() if r is not None}
    return {"events": events, "flagged": flagged, "block": by_action.get("block", 0),
            "flag": by_action.get("flag", 0), "log": by_action.get("log", 0), "agents": agents}


def bucket_ms(start_ms: int, end_ms: int, max_buckets: int = 62) -> int:
    """A bucket width (a whole number of days) giving at most ``max_buckets`` bars over the window."""
    days = max(1, -(-(end_ms - start_ms) // DAY_MS))
    return DAY_MS * max(1, -(-days // max_buckets))


def bucket_origin(start_ms: int) -> int:
    """Buckets start at UTC midnight, so each bar is a calendar day (or a run of them)."""
    return start_ms - start_ms % DAY_MS


def bucket_count(w: Window, width: int) -> int:
    """Bars from the first day's midnight to the window's end; an end exactly at midnight (an inclusive
    ``to`` of 00:00:00) opens no bar of its own: what happens at that instant counts in the last bar."""
    return max(1, -(-(w.end_ms - bucket_origin(w.start_ms)) // width))


def events_per_bucket(db: Database, w: Window, width: int) -> list[int]:
    """Events per bucket of ``width`` ms from UTC midnight of the window's first day: by sequence-range
    search when unscoped (two index probes per bucket), else one grouped scan of the scope's events."""
    origin, count = bucket_origin(w.start_ms), bucket_count(w, width)
    if not _scoped(w):
        first, last = log_store.chain_bounds(db, w.org_id)
        if first > last:
            return [0] * count
        edges = [log_store.first_seq_at_or_after(db, w.org_id, max(w.start_ms, origin + i * width), first, last)
                 for i in range(count)]
        edges.append(log_store.first_seq_at_or_after(db, w.org_id, w.end_ms + 1, first, last))
        return [max(0, edges[i + 1] - edges[i]) for i in range(count)]
    lo, hi = log_store.seq_range(db, w.org_id, w.start_ms, w.end_ms)
    s = event_scope(db, w)
    out = [0] * count
    for bucket, n in _rows(db, f"SELECT (created_at - ?) / ?, COUNT(*) FROM {s.source} WHERE org_id = ? "
                               f"AND seq BETWEEN ? AND ?{s.where} GROUP BY 1",
                           [origin, width, *s.params(w.org_id, lo, hi)]):
        if int(bucket) >= 0:
            out[min(int(bucket), count - 1)] += int(n)
    return out


# -- rows ------------------------------------------------------------------------------------------

def iter_events(db: Database, w: Window, *, chunk: int = 1000) -> Iterator[list[dict[str, Any]]]:
    """The window's events in scope, oldest first, in chunks."""
    if w.policy_id is None:
        return log_store.iter_logs(db, w.org_id, LogFilter(agent_id=w.agent_id, start_ms=w.start_ms, end_ms=w.end_ms),
                                   chunk=chunk)
    return _iter_scoped(db, w, chunk)


def _iter_scoped(db: Database, w: Window, chunk: int) -> Iterator[list[dict[str, Any]]]:
    lo, hi = log_store.seq_range(db, w.org_id, w.start_ms, w.end_ms)
    s = event_scope(db, w)
    statement = (f"SELECT {EVENT_COLUMNS} FROM {s.source} WHERE org_id = ? AND seq > ? AND seq <= ?{s.where} "
                 "ORDER BY seq LIMIT ?")
    after = lo - 1
    while True:
        rows = _rows(db, statement, [*s.params(w.org_id, after, hi), chunk])
        if not rows:
            return
        yield [row_to_event(row) for row in rows]
        after = int(rows[-1][2])
        if len(rows) < chunk:
            return


def first_and_last(db: Database, w: Window) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """``{sequence, hash, createdAt}`` of the window's first and last events (of the whole chain, unscoped)."""
    lo, hi = log_store.seq_range(db, w.org_id, w.start_ms, w.end_ms)
    if lo > hi:
        return None, None
    found = []
    for seq in (lo, hi):
        row = db.execute_sql(q(db, "SELECT seq, hash, created_at FROM audit_logs WHERE org_id = ? AND seq = ?"),
                             (w.org_id, seq)).fetchone()
        found.append({"sequence": int(row[0]), "hash": row[1], "createdAt": int(row[2])} if row else None)
    return found[0], found[1]


def scoped_flagged_traces(db: Database, w: Window, *, limit: int = 10) -> list[tuple[str, int, int, int]]:
    """``(trace id, flagged spans, blocked spans, strongest outcome rank)`` of the traces with the most spans
    flagged in scope, counting only the window's events in scope."""
    lo, hi = log_store.seq_range(db, w.org_id, w.start_ms, w.end_ms)
    s = event_scope(db, w)
    rows = _rows(db, f"SELECT trace_id, COUNT(*), SUM(CASE WHEN {s.rank} = 3 THEN 1 ELSE 0 END), MAX({s.rank}) "
                     f"FROM {s.source} WHERE org_id = ? AND seq BETWEEN ? AND ?{s.where} AND {s.rank} IS NOT NULL "
                     "AND trace_id IS NOT NULL GROUP BY trace_id ORDER BY 2 DESC, 3 DESC, MAX(seq) DESC LIMIT ?",
                 [*s.params(w.org_id, lo, hi), limit])
    return [(r[0], int(r[1]), int(r[2] or 0), int(r[3])) for r in rows]
