"""Plain-value builders for ledger tests: wire events chained with sidecar.ledger.chain, signed checkpoints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sidecar.ledger.chain import GENESIS_HASH, canonical_event, link_hash
from sidecar.ledger.checkpoint import Checkpoint, CheckpointKind, sign_checkpoint
from sidecar.ledger.keys import public_key_b64

ORG = "org_acme"
SIGNED_AT = "2026-01-15T10:00:00.000Z"


def wire_event(sequence: int, org: str = ORG, **fields: Any) -> dict[str, Any]:
    """Return a realistic wire event without its hash."""
    event: dict[str, Any] = {
        "id": f"log_{org}_{sequence:06d}",
        "organizationId": org,
        "sequence": sequence,
        "action": "llm_call",
        "agentId": "agent_support",
        "prompt": f"Summarise ticket #{sequence}: the customer wants a refund for order {1000 + sequence}.",
        "response": "Refund approved under policy 4.2.",
        "metadata": {"model": "gpt-4o", "tokens": 120 + sequence, "cost": 0.0012, "tags": ["support", "refund"]},
        "traceId": f"tr_{sequence // 3}",
        "spanId": f"sp_{sequence}",
        "parentSpanId": None,
        "startedAt": "2026-01-15T10:00:00.000Z",
        "endedAt": "2026-01-15T10:00:00.812Z",
        "createdAt": "2026-01-15T10:00:00.900Z",
        "complianceFlags": ["WARNING_keyword_Refund mention"] if sequence % 2 else [],
        "enforcementAction": "flag" if sequence % 2 else "allow",
        "violationDetails": None,
    }
    event.update(fields)
    return event


def chain_events(events: Sequence[dict[str, Any]], prev_hash: str = GENESIS_HASH) -> list[dict[str, Any]]:
    """Return copies of ``events`` with ``hash`` set as the writer sets it."""
    chained = []
    for event in events:
        prev_hash = link_hash(prev_hash, canonical_event(event))
        chained.append({**event, "hash": prev_hash})
    return chained


def build_chain(count: int, org: str = ORG, start: int = 1, prev_hash: str = GENESIS_HASH) -> list[dict[str, Any]]:
    """Return ``count`` chained wire events with sequences ``start..start+count-1``."""
    return chain_events([wire_event(start + i, org) for i in range(count)], prev_hash)


def sign_at(
    key: Ed25519PrivateKey,
    events: Sequence[dict[str, Any]],
    sequence: int,
    kind: CheckpointKind = "head",
    org: str = ORG,
) -> Checkpoint:
    """Sign a checkpoint at the event with ``sequence`` in ``events``."""
    (event,) = [event for event in events if event["sequence"] == sequence]
    return sign_checkpoint(
        key, organization_id=org, sequence=sequence, hash=event["hash"], signed_at=SIGNED_AT, kind=kind
    )


@dataclass(frozen=True)
class Keys:
    """The sidecar's signing key and an attacker's key."""

    ours: Ed25519PrivateKey
    other: Ed25519PrivateKey

    @property
    def trusted(self) -> frozenset[str]:
        return frozenset({public_key_b64(self.ours)})
