"""Verification speed of the ledger on N events (default 1,000,000): prints events/s.

Run: .venv/bin/python tests/sidecar/ledger/bench_verify.py [--events N] [--export]

Events are built in memory first (not timed), shaped like real ingest: ~300-character prompt and
response, four metadata keys, a compliance verdict on one event in three, a checkpoint every 1,000.
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

from sidecar.ledger.chain import GENESIS_HASH, canonical_event, link_hash
from sidecar.ledger.checkpoint import sign_checkpoint
from sidecar.ledger.export import ExportHeader, export_lines, verify_export
from sidecar.ledger.keys import generate_private_key, public_key_b64
from sidecar.ledger.verify import verify_chain

ORG = "org_bench"
PROMPT = "Customer {n} asks: please summarise the refund policy for order {n} and draft a polite reply. " * 3
RESPONSE = "Under policy 4.2 a refund is possible within 30 days of delivery; here is a draft reply for you. " * 3


def build(count: int) -> list[dict[str, Any]]:
    events = []
    prev = GENESIS_HASH
    for n in range(1, count + 1):
        flagged = n % 3 == 0
        event: dict[str, Any] = {
            "id": f"log_{n:016x}",
            "organizationId": ORG,
            "sequence": n,
            "action": "llm_call",
            "agentId": "agent_support_bot",
            "prompt": PROMPT.format(n=n),
            "response": RESPONSE,
            "metadata": {"model": "gpt-4o-mini", "tokens": 350 + n % 100, "latency_ms": 812, "cost": 0.00042},
            "traceId": f"tr_{n // 5:012x}",
            "spanId": f"log_{n:016x}",
            "parentSpanId": None if n % 5 == 0 else f"log_{n - 1:016x}",
            "startedAt": "2026-01-15T10:00:00.000Z",
            "endedAt": "2026-01-15T10:00:00.812Z",
            "createdAt": "2026-01-15T10:00:00.900Z",
            "complianceFlags": ["WARNING_keyword_Refund mention"] if flagged else [],
            "enforcementAction": "flag" if flagged else "allow",
            "violationDetails": [
                {
                    "ruleId": "rule_1",
                    "policyId": "pol_1",
                    "name": "Refund mention",
                    "ruleType": "keyword",
                    "severity": "warning",
                    "action": "flag",
                    "matches": [{"field": "prompt", "start": 40, "end": 46, "detector": "keyword"}],
                }
            ]
            if flagged
            else None,
        }
        prev = link_hash(prev, canonical_event(event))
        event["hash"] = prev
        events.append(event)
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--export", action="store_true", help="also time verify_export over JSON Lines")
    args = parser.parse_args()

    started = time.perf_counter()
    events = build(args.events)
    key = generate_private_key()
    checkpoints = [
        sign_checkpoint(
            key, organization_id=ORG, sequence=n, hash=events[n - 1]["hash"], signed_at="2026-01-15T10:00:00.000Z"
        )
        for n in range(1000, args.events + 1, 1000)
    ]
    trusted = {public_key_b64(key)}
    canonical_bytes = len(canonical_event(events[0]))
    elapsed = time.perf_counter() - started
    print(f"built {len(events):,} events (~{canonical_bytes} canonical bytes each) in {elapsed:.1f}s")

    gc.collect()
    for _ in range(3):
        started = time.perf_counter()
        report = verify_chain(events, checkpoints=checkpoints, trusted_keys=trusted)
        elapsed = time.perf_counter() - started
        assert report.ok and report.events_checked == len(events), report
        print(
            f"verify_chain: {report.events_checked:,} events, {report.checkpoints_checked:,} checkpoints "
            f"in {elapsed:.2f}s = {report.events_checked / elapsed:,.0f} events/s"
        )

    if args.export:
        lines = list(export_lines(ExportHeader(organization_id=ORG, public_keys=tuple(trusted)), events, checkpoints))
        del events
        gc.collect()
        started = time.perf_counter()
        report = verify_export(lines, trusted_keys=trusted)
        elapsed = time.perf_counter() - started
        assert report.ok, report
        print(f"verify_export (parsing JSON Lines too): {report.events_checked / elapsed:,.0f} events/s")


if __name__ == "__main__":
    main()
