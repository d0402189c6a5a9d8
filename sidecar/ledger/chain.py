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


def link_hash(prev_hash: str, canonical: bytes) -> str:
    """Return the hex SHA-256 of ``prev_hash`` (hex text) followed by ``canonical``."""
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical)
    return digest.hexdigest()
