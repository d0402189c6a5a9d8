"""Build a data dir holding a large, valid ledger fast: rows written straight to SQLite with the writer's
own chain functions and column order, and real checkpoints signed with the data dir's own ledger key.

Used by the 100,000-event verification test and by ``bench/verify.py`` (a sidecar ingesting through HTTP
would take minutes for that many events).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson

from sidecar.clock import to_iso, utc_now
from sidecar.ids import IdGenerator
from sidecar.ledger.chain import GENESIS_HASH, canonical_event, link_hash
from sidecar.ledger.checkpoint import format_timestamp, sign_checkpoint
from sidecar.services.ledger_keys import load_or_create_signing_key
from sidecar.store import migrations
from sidecar.store.db import open_database
from sidecar.store.models import database_proxy
from sidecar.store.writer import LOG_COLUMNS

PROMPT = "Customer {n} asks: please summarise the refund policy for order {n} and draft a polite reply. " * 3
RESPONSE = "Under policy 4.2 a refund is possible within 30 days of delivery; here is a draft reply for you. " * 3
FLAG = "WARNING_keyword_Refund mention"
VIOLATION = {"ruleId": "rule_1", "policyId": "pol_1", "name": "Refund mention", "ruleType": "keyword_match",
             "severity": "warning", "action": "flag",
             "matches": [{"field": "prompt", "start": 40, "end": 46, "detector": "keyword"}]}
_INSERT = f"INSERT INTO audit_logs ({', '.join(LOG_COLUMNS)}) VALUES ({', '.join('?' * len(LOG_COLUMNS))})"
_CHECKPOINT = ("INSERT INTO ledger_checkpoints (org_id, seq, hash, signed_at, kind, key_id, signature, public_key, "
               "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def create_database(data_dir: Path) -> Path:
    """A migrated, empty database in ``data_dir`` (as the sidecar would create it). Returns its path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "agentaudit.db"
    db = open_database(f"sqlite:///{path}")
    database_proxy.initialize(db)
    with db.connection_context():
        migrations.migrate(db)
    return path


def build_ledger(data_dir: Path, *, org_id: str = "org_bench", events: int, checkpoint_every: int = 1000,
                 start_ms: int = 1_767_000_000_000) -> None:
    """Append ``events`` events to a new organisation's chain, with a checkpoint every ``checkpoint_every``."""
    path = create_database(data_dir) if not (data_dir / "agentaudit.db").exists() else data_dir / "agentaudit.db"
    key = load_or_create_signing_key(data_dir, now=utc_now())
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("INSERT INTO organizations (id, name, email, plan, last_seq, last_hash, pruned_seq, pruned_hash, "
                 "created_at, updated_at) VALUES (?, 'Bench', 'bench@example.com', 'self_hosted', 0, ?, 0, ?, ?, ?)",
                 (org_id, GENESIS_HASH, GENESIS_HASH, start_ms, start_ms))
    ids = IdGenerator()
    prev = GENESIS_HASH
    seq = 0
    signed_at = format_timestamp(utc_now())
    while seq < events:
        rows, checkpoints = [], []
        for _ in range(min(10_000, events - seq)):
            seq += 1
            created = start_ms + seq * 10
            event_id = ids.new("log", now_ms=created)
            flagged = seq % 3 == 0
            metadata = {"model": "gpt-4o-mini", "tokens": 350 + seq % 100, "latency_ms": 812, "cost": 0.00042}
            flags = [FLAG] if flagged else []
            violations = [VIOLATION] if flagged else None
            wire = {
                "id": event_id, "organizationId": org_id, "action": "llm_call", "agentId": "support-bot",
                "prompt": PROMPT.format(n=seq), "response": RESPONSE, "metadata": metadata,
                "traceId": f"run-{seq // 5}", "spanId": event_id, "parentSpanId": None,
                "startedAt": to_iso(created - 800), "endedAt": to_iso(created), "createdAt": to_iso(created),
                "complianceFlags": flags, "enforcementAction": "flag" if flagged else "allow",
                "violationDetails": violations, "sequence": seq,
            }
            prev = link_hash(prev, canonical_event(wire))
            rows.append((
                event_id, org_id, seq, "llm_call", "support-bot", wire["traceId"], event_id, None, wire["prompt"],
                RESPONSE, orjson.dumps(metadata, option=orjson.OPT_SORT_KEYS).decode(), created - 800, created,
                created, orjson.dumps(flags).decode() if flags else None, wire["enforcementAction"], flagged,
                orjson.dumps(violations, option=orjson.OPT_SORT_KEYS).decode() if violations else None, prev,
            ))
            if seq % checkpoint_every == 0 or seq == events:
                cp = sign_checkpoint(key, organization_id=org_id, sequence=seq, hash=prev, signed_at=signed_at)
                checkpoints.append((org_id, seq, prev, cp.signed_at, cp.kind, cp.key_id, cp.signature, cp.public_key,
                                    created))
        conn.execute("BEGIN")
        conn.executemany(_INSERT, rows)
        conn.executemany(_CHECKPOINT, checkpoints)
        conn.execute("UPDATE organizations SET last_seq = ?, last_hash = ? WHERE id = ?", (seq, prev, org_id))
        conn.execute("COMMIT")
    conn.close()
