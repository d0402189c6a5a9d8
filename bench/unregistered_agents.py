"""``GET /unregistered-agents`` cost: agent ids seen in events that name no registered agent.

Fills an SQLite file (our schema) with N events spread over 200 agent ids, 150 of them registered, then
times ``sidecar.store.agent_ids.unregistered_agents`` (a loose index scan: one seek per distinct id, then a
count per unregistered id) against the plain ``GROUP BY agent_id`` it replaces. Prints medians of 7 runs.
Run from the repo root: ``.venv/bin/python bench/unregistered_agents.py [events]`` (default 1,000,000).
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sidecar.ids import IdGenerator  # noqa: E402
from sidecar.ledger.chain import GENESIS_HASH  # noqa: E402
from sidecar.store import agent_ids, migrations  # noqa: E402
from sidecar.store.db import open_database  # noqa: E402
from sidecar.store.models import database_proxy  # noqa: E402
from sidecar.store.writer import LOG_COLUMNS  # noqa: E402

AGENTS, REGISTERED, ORG = 200, 150, "org_bench"


def fill(path: Path, events: int) -> None:
    db = open_database(f"sqlite:///{path}")
    database_proxy.initialize(db)
    with db.connection_context():
        migrations.migrate(db)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=OFF")
    now = int(time.time() * 1000) - events
    conn.execute("INSERT INTO organizations (id, name, email, plan, last_seq, last_hash, pruned_seq, pruned_hash, "
                 "created_at, updated_at) VALUES (?, 'B', 'b@example.com', 'self_hosted', 0, ?, 0, ?, ?, ?)",
                 (ORG, GENESIS_HASH, GENESIS_HASH, now, now))
    conn.execute("BEGIN")
    for n in range(REGISTERED):
        conn.execute("INSERT INTO agents (id, org_id, name, type, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                     (f"agent_{n:04d}", ORG, f"agent-{n}", "custom", now, now))
    conn.execute("COMMIT")
    ids = IdGenerator()
    sql = f"INSERT INTO audit_logs ({', '.join(LOG_COLUMNS)}) VALUES ({', '.join('?' * len(LOG_COLUMNS))})"
    seq = 0
    while seq < events:
        batch = []
        for _ in range(min(10_000, events - seq)):
            seq += 1
            created = now + seq
            batch.append((ids.new("log", now_ms=created), ORG, seq, "llm_call", f"agent-{seq % AGENTS}", None,
                          f"span-{seq}", None, "hello", "world", None, created, created, created, None, "allow",
                          False, None, "0" * 64))
        conn.execute("BEGIN")
        conn.executemany(sql, batch)
        conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def median_ms(run: object, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "agentaudit.db"
        started = time.perf_counter()
        fill(path, events)
        print(f"filled {events:,} events over {AGENTS} agent ids ({REGISTERED} registered) "
              f"in {time.perf_counter() - started:.1f} s")
        db = open_database(f"sqlite:///{path}")
        database_proxy.initialize(db)
        with db.connection_context():
            seen = agent_ids.unregistered_agents(db, ORG, limit=100)
            assert len(seen) == AGENTS - REGISTERED and sum(s.event_count for s in seen) > 0
            loose = median_ms(lambda: agent_ids.unregistered_agents(db, ORG, limit=100))
            distinct = median_ms(lambda: agent_ids.distinct_agent_ids(db, ORG))
            grouped = median_ms(lambda: db.execute_sql(
                "SELECT agent_id, COUNT(*), MAX(seq) FROM audit_logs WHERE org_id = ? GROUP BY agent_id",
                (ORG,)).fetchall())
        print(f"distinct agent ids (loose index scan):          {distinct:8.2f} ms")
        print(f"unregistered agents (scan + per-id counts):      {loose:8.2f} ms")
        print(f"plain GROUP BY agent_id over every event:        {grouped:8.2f} ms")


if __name__ == "__main__":
    main()
