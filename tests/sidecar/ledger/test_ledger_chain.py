"""chain.py: the canonical form and link hash are pinned, so a change of meaning fails here first."""

from __future__ import annotations

import hashlib
from types import MappingProxyType
from typing import Any

import orjson

from sidecar.ledger.chain import CANONICAL_FIELDS, GENESIS_HASH, canonical_columns, canonical_event, link_hash
from tests.sidecar.ledger.builders import build_chain, wire_event

GOLDEN_EVENT: dict[str, Any] = {
    "id": "log_1",
    "organizationId": "org_acme",
    "sequence": 1,
    "action": "llm_call",
    "agentId": "agent_1",
    "prompt": 'Héllo "world"\n',
    "response": None,
    "metadata": {"b": 1, "a": [1.5, True, None]},
    "traceId": None,
    "spanId": "log_1",
    "parentSpanId": None,
    "startedAt": "2026-01-15T10:00:00.000Z",
    "endedAt": "2026-01-15T10:00:00.812Z",
    "createdAt": "2026-01-15T10:00:00.900Z",
    "complianceFlags": ["CRITICAL_pii_detect_SSN Detection"],
    "enforcementAction": "block",
    "violationDetails": None,
}
GOLDEN_CANONICAL = (
    b'{"action":"llm_call","agentId":"agent_1","complianceFlags":["CRITICAL_pii_detect_SSN Detection"],'
    b'"createdAt":"2026-01-15T10:00:00.900Z","endedAt":"2026-01-15T10:00:00.812Z","enforcementAction":"block",'
    b'"id":"log_1","metadata":{"a":[1.5,true,null],"b":1},"organizationId":"org_acme","parentSpanId":null,'
    b'"prompt":"H\xc3\xa9llo \\"world\\"\\n","response":null,"sequence":1,"spanId":"log_1",'
    b'"startedAt":"2026-01-15T10:00:00.000Z","traceId":null,"violationDetails":null}'
)
GOLDEN_HASH = "fc299769a0e2649222c0ad4221fd058df8d9718eca8805ca18f4407f2e43c641"


def test_canonical_form_and_link_hash_are_pinned() -> None:
    assert canonical_event(GOLDEN_EVENT) == GOLDEN_CANONICAL
    assert link_hash(GENESIS_HASH, GOLDEN_CANONICAL) == GOLDEN_HASH
    assert hashlib.sha256(GENESIS_HASH.encode() + GOLDEN_CANONICAL).hexdigest() == GOLDEN_HASH


def test_extra_fields_are_ignored_and_missing_ones_are_null() -> None:
    with_extras = {**GOLDEN_EVENT, "hash": GOLDEN_HASH, "agentName": "Support bot"}
    without_nulls = {k: v for k, v in GOLDEN_EVENT.items() if v is not None}

    assert canonical_event(with_extras) == GOLDEN_CANONICAL
    assert canonical_event(without_nulls) == GOLDEN_CANONICAL


def test_any_mapping_gives_the_same_bytes_as_a_dict() -> None:
    assert canonical_event(MappingProxyType(GOLDEN_EVENT)) == GOLDEN_CANONICAL
    assert canonical_event(MappingProxyType({**GOLDEN_EVENT, "hash": "x"})) == GOLDEN_CANONICAL


def test_key_order_does_not_matter() -> None:
    reversed_event = dict(reversed(list(GOLDEN_EVENT.items())))

    assert canonical_event(reversed_event) == GOLDEN_CANONICAL


def test_the_canonical_fields_are_the_wire_event() -> None:
    assert set(CANONICAL_FIELDS) == set(wire_event(1))
    assert len(CANONICAL_FIELDS) == len(set(CANONICAL_FIELDS)) == 17


def test_each_hash_links_to_the_one_before() -> None:
    events = build_chain(3)

    assert events[0]["hash"] == link_hash(GENESIS_HASH, canonical_event(events[0]))
    assert events[2]["hash"] == link_hash(events[1]["hash"], canonical_event(events[2]))
    assert len({event["hash"] for event in events}) == 3



def _columns_of(event: dict[str, Any]) -> bytes:
    """canonical_columns over an event's columns, JSON ones in their stored (sorted, compact) text."""
    def stored(value: Any) -> str | None:
        return None if value is None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()

    return canonical_columns(
        event["id"], event["organizationId"], event["sequence"], event["action"], event["agentId"],
        event["prompt"], event["response"], stored(event["metadata"]), event["traceId"], event["spanId"],
        event["parentSpanId"], event["startedAt"], event["endedAt"], event["createdAt"], event["complianceFlags"],
        event["enforcementAction"], stored(event["violationDetails"]))


def test_canonical_columns_gives_the_canonical_bytes() -> None:
    """The writer and the verifier build the bytes from columns: they must equal canonical_event's."""
    assert _columns_of(GOLDEN_EVENT) == GOLDEN_CANONICAL
    nested = {
        **GOLDEN_EVENT,
        "traceId": "t-1", "parentSpanId": "s-0", "response": "ok \u2028 \U0001f600",
        "metadata": {"z": {"y": 1, "x": [{"b": 2, "a": 1}]}, "a": "\u00e9", "m": 1e-7},
        "violationDetails": [{"severity": "critical", "matches": [{"type": "SSN", "end": 9, "start": 0}]}],
    }
    assert _columns_of(nested) == canonical_event(nested)
    assert link_hash(GENESIS_HASH, _columns_of(GOLDEN_EVENT)) == GOLDEN_HASH
