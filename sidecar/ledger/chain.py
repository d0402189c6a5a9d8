"""The per-organisation hash chain: canonical event bytes and the link hash.

``hash(n) = SHA-256(hash(n-1) || canonical(event n))`` where ``hash(0)`` is
:data:`GENESIS_HASH`. The canonical form is compact JSON with sorted keys and
no ASCII escaping (UTF-8), over exactly the fields in :data:`CANONICAL_FIELDS`,
so a verifier with only an exported event can recompute it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

GENESIS_HASH = "0" * 64

#: The wire names of the fields that a person would call "the event", verdict included.
CANONICAL_FIELDS: tuple[str, ...] = (
    "id",
    "organizationId",
    "sequence",
    "action",
    "agentId",
    "prompt",
    "response",
    "metadata",
    "traceId",
    "spanId",
    "parentSpanId",
    "startedAt",
    "endedAt",
    "createdAt",
    "complianceFlags",
    "enforcementAction",
    "violationDetails",
)

_FIELD_SET = frozenset(CANONICAL_FIELDS)
_FIELD_COUNT = len(CANONICAL_FIELDS)


def canonical_event(event: Mapping[str, Any]) -> bytes:
    """Return the canonical bytes of an event given in its wire (camelCase) form.

    Missing fields count as ``null``; extra fields are ignored.
    """
    if isinstance(event, dict) and len(event) == _FIELD_COUNT and event.keys() == _FIELD_SET:  # no copy needed
        return orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
    body = {name: event.get(name) for name in CANONICAL_FIELDS}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def canonical_columns(
    event_id: str, organization_id: str, sequence: int, action: str, agent_id: str | None, prompt: str | None,
    response: str | None, metadata_json: str | bytes | None, trace_id: str | None, span_id: str | None,
    parent_span_id: str | None, started_at: str, ended_at: str, created_at: str, flags: Any,
    enforcement: str, violations_json: str | bytes | None,
) -> bytes:
    """Return the canonical bytes of an event given as its columns, the hot paths' way to them.

    ``metadata_json`` and ``violations_json`` are JSON text in canonical form (compact, keys sorted, as
    ``orjson.dumps(value, option=OPT_SORT_KEYS)`` writes it) or None for ``null``; they are spliced in
    as they are, not parsed. ``flags`` is the list of flag names (or its JSON text as a
    :class:`orjson.Fragment`). For such input the bytes equal :func:`canonical_event` of the wire event;
    the writer hashes these, and the verifier re-checks any row whose bytes miss from its wire form.
    """
    fragment = orjson.Fragment
    return orjson.dumps({  # keys in canonical (sorted) order; a test holds this to canonical_event
        "action": action,
        "agentId": agent_id,
        "complianceFlags": flags,
        "createdAt": created_at,
        "endedAt": ended_at,
        "enforcementAction": enforcement,
        "id": event_id,
        "metadata": fragment(metadata_json) if metadata_json is not None else None,
        "organizationId": organization_id,
        "parentSpanId": parent_span_id,
        "prompt": prompt,
        "response": response,
        "sequence": sequence,
        "spanId": span_id,
        "startedAt": started_at,
        "traceId": trace_id,
        "violationDetails": fragment(violations_json) if violations_json is not None else None,
    })


def link_hash(prev_hash: str, canonical: bytes) -> str:
    """Return the hex SHA-256 of ``prev_hash`` (hex text) followed by ``canonical``."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()
