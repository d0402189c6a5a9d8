"""Agent ids seen in events that name no registered agent (by id or by name).

The distinct ids come from a loose index scan of ``audit_logs (org_id, agent_id, seq)``: one index seek per
distinct id rather than a walk over every event, so the cost follows the number of agents, not of events.
Per unregistered id, the event count is an index-only range count and the last event is one seek.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import Database

from sidecar.store.sql import q

MAX_DISTINCT = 5000


@dataclass(frozen=True, slots=True)
class SeenAgent:
    """An agent id found in events."""

    agent_id: str
    event_count: int
    last_seen_at: int
    last_action: str


def distinct_agent_ids(db: Database, org_id: str, *, cap: int = MAX_DISTINCT) -> list[str]:
    """Every distinct non-empty ``agent_id`` of the organisation's events, in index order (at most ``cap``)."""
    ids: list[str] = []
    current: str | None = ""
    first = q(db, "SELECT MIN(agent_id) FROM audit_logs WHERE org_id = ? AND agent_id > ?")
    while len(ids) < cap:
        row = db.execute_sql(first, (org_id, current)).fetchone()
        current = row[0] if row else None
        if current is None:
            break
        ids.append(current)
    return ids


def unregistered_agents(db: Database, org_id: str, *, limit: int) -> list[SeenAgent]:
    """Agent ids in events that match no registered agent's id or name, most recently seen first."""
    registered: set[str] = set()
    for agent_id, name in db.execute_sql(q(db, "SELECT id, name FROM agents WHERE org_id = ?"), (org_id,)):
        registered.update((agent_id, name))
    seen: list[SeenAgent] = []
    count_sql = q(db, "SELECT COUNT(*), MAX(seq) FROM audit_logs WHERE org_id = ? AND agent_id = ?")
    last_sql = q(db, "SELECT created_at, action FROM audit_logs WHERE org_id = ? AND seq = ?")
    for agent_id in distinct_agent_ids(db, org_id):
        if agent_id in registered:
            continue
        count, last_seq = db.execute_sql(count_sql, (org_id, agent_id)).fetchone()
        created_at, action = db.execute_sql(last_sql, (org_id, last_seq)).fetchone()
        seen.append(SeenAgent(agent_id, int(count), int(created_at), str(action)))
    seen.sort(key=lambda s: (-s.last_seen_at, s.agent_id))
    return seen[:limit]
