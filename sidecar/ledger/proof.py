"""Event proofs: everything needed to check one event against a later signed checkpoint, offline.

A proof (``GET /audit-logs/:id/proof``) is a JSON object::

    {"format": "agentaudit-event-proof", "version": 1,
     "event": {...wire event with sequence and hash...},
     "prevHash": "<hash of the event before it>",
     "following": [{"sequence": n+1, "hash": "...", "canonical": "<base64 canonical bytes>"}, ...],
     "checkpoint": {...wire checkpoint at sequence k >= n...}}

The verifier recomputes ``hash(n) = link_hash(prevHash, canonical(event))``, then for each following
event ``hash(j) = link_hash(hash(j-1), canonical_j)`` up to ``k``, and requires the result to equal the
checkpoint's signed hash. Every element is bound: the event and ``prevHash`` through ``hash(n)``, each
following entry through the next link (its ``sequence`` and ``hash`` are also compared), and the
checkpoint through its signature.

Why the following events travel as canonical bytes and not as ``sha256(canonical)`` digests: the chain
is ``SHA-256(prev_hex || canonical)`` (:mod:`.chain`), and SHA-256 of a concatenation cannot be computed
from the digest of one of its parts. A digest-only proof would need a second link function, e.g.
``SHA-256(prev_hex || SHA-256(canonical))``, which is not the hash the writer stored or the checkpoint
signed, so it could never meet the checkpoint; changing the chain to that form would change the meaning
of every stored hash. Carrying the canonical bytes keeps one link function, so the proof is checked with
exactly the arithmetic that checks the whole chain. The price is that a proof discloses the content of
the events between the proven one and the checkpoint (of the same organisation); the checkpoint policy
(``every_events``) bounds how many, and a proof against the checkpoint at the event itself has none.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import orjson

from . import keys
from .chain import CANONICAL_FIELDS, canonical_event, link_hash
from .checkpoint import Checkpoint, verify_checkpoint

__all__ = ["PROOF_FORMAT", "PROOF_VERSION", "build_proof", "proof_problem", "verify_event_proof", "verify_proof"]

PROOF_FORMAT = "agentaudit-event-proof"
PROOF_VERSION = 1

_HASH_RE = re.compile(r"[0-9a-f]{64}")
_PROOF_KEYS = frozenset({"format", "version", "event", "prevHash", "following", "checkpoint"})
_FOLLOWING_KEYS = frozenset({"sequence", "hash", "canonical"})


def build_proof(
    event: Mapping[str, Any],
    prev_hash: str,
    later_events: Sequence[Mapping[str, Any]],
    checkpoint: Checkpoint,
) -> dict[str, Any]:
    """Build the proof that ``event`` is in the chain the checkpoint signs.

    Args:
        event: the wire event, with ``organizationId``, ``sequence`` and ``hash``.
        prev_hash: the stored hash of the event before it (genesis for sequence 1).
        later_events: the wire events after it, up to and including the checkpoint's sequence.
        checkpoint: a checkpoint of the same organisation at or after the event's sequence.

    Returns:
        The proof as a JSON-ready dict (see the module docstring).

    Raises:
        ValueError: the inputs do not chain from ``prev_hash`` to the checkpoint's hash, so the proof
            would not verify.
    """
    sequence = event.get("sequence")
    if not isinstance(sequence, int) or isinstance(sequence, bool) or not 1 <= sequence <= checkpoint.sequence:
        raise ValueError(f"event sequence {sequence!r} is not covered by the checkpoint at {checkpoint.sequence}")
    if event.get("organizationId") != checkpoint.organization_id:
        raise ValueError("the event and the checkpoint belong to different organisations")
    current = link_hash(prev_hash, canonical_event(event))
    if current != event.get("hash"):
        raise ValueError(f"event {sequence} does not chain from the given previous hash")
    if len(later_events) != checkpoint.sequence - sequence:
        raise ValueError(
            f"need the {checkpoint.sequence - sequence} events after {sequence} up to the checkpoint, "
            f"got {len(later_events)}"
        )
    following = []
    for offset, later in enumerate(later_events, start=1):
        if later.get("sequence") != sequence + offset:
            raise ValueError(f"expected event {sequence + offset}, got {later.get('sequence')!r}")
        canonical = canonical_event(later)
        current = link_hash(current, canonical)
        if current != later.get("hash"):
            raise ValueError(f"event {sequence + offset} does not chain from the event before it")
        following.append({"sequence": sequence + offset, "hash": current, "canonical": keys.encode_b64(canonical)})
    if current != checkpoint.hash:
        raise ValueError(f"the chain does not reach the checkpoint's hash at sequence {checkpoint.sequence}")
    return {
        "format": PROOF_FORMAT,
        "version": PROOF_VERSION,
        "event": {**{name: event.get(name) for name in CANONICAL_FIELDS}, "hash": event["hash"]},
        "prevHash": prev_hash,
        "following": following,
        "checkpoint": checkpoint.to_wire(),
    }


def verify_proof(proof: Mapping[str, Any], trusted_keys: Collection[str] | None = None) -> bool:
    """Return True when the proof ties its event to a validly signed checkpoint.

    Args:
        proof: a proof from :func:`build_proof` (e.g. parsed from the API's JSON).
        trusted_keys: base64 public keys allowed to sign checkpoints, or None to accept any valid key
            (which proves consistency only: anyone can sign with a key of their own).

    Returns:
        True when every element verifies; False when anything is missing, malformed or altered.
    """
    return proof_problem(proof, trusted_keys) is None


def verify_event_proof(
    event: Mapping[str, Any], proof: Mapping[str, Any], trusted_keys: Collection[str] | None = None
) -> bool:
    """Return True when the proof verifies and is about ``event``.

    ``event`` is the copy the caller holds (e.g. from ``GET /audit-logs/:id``): its ``hash`` and every
    canonical field it carries must equal the proof's; fields it lacks (the API's event view has no
    ``organizationId``) are taken from the proof.

    Args:
        event: the caller's wire event, with ``hash``.
        proof: the proof for it.
        trusted_keys: as for :func:`verify_proof`.

    Returns:
        True when the proof verifies and matches the event.
    """
    proven = proof.get("event") if isinstance(proof, Mapping) else None
    if not isinstance(proven, Mapping) or not isinstance(event, Mapping) or event.get("hash") != proven.get("hash"):
        return False
    try:
        if any(name in event and _json(event[name]) != _json(proven.get(name)) for name in CANONICAL_FIELDS):
            return False
    except orjson.JSONEncodeError:
        return False
    return verify_proof(proof, trusted_keys)


def proof_problem(proof: Mapping[str, Any], trusted_keys: Collection[str] | None = None) -> str | None:
    """Check a proof and say what is wrong with it.

    Args:
        proof: the proof to check.
        trusted_keys: as for :func:`verify_proof`.

    Returns:
        None when the proof verifies, otherwise a one-line reason.
    """
    if not isinstance(proof, Mapping) or set(proof) != _PROOF_KEYS:
        return f"a proof has exactly the keys {sorted(_PROOF_KEYS)}"
    if proof["format"] != PROOF_FORMAT or proof["version"] != PROOF_VERSION or isinstance(proof["version"], bool):
        return f"not a {PROOF_FORMAT} version {PROOF_VERSION}"
    try:
        checkpoint = Checkpoint.from_wire(proof["checkpoint"])
    except ValueError as exc:
        return f"malformed checkpoint: {exc}"
    if not verify_checkpoint(checkpoint, trusted_keys):
        return "the checkpoint's signature is invalid or its key is not trusted"
    event, prev_hash, following = proof["event"], proof["prevHash"], proof["following"]
    if not isinstance(event, Mapping) or not isinstance(prev_hash, str) or not _HASH_RE.fullmatch(prev_hash):
        return "the event must be an object and prevHash 64 lowercase hex digits"
    sequence = event.get("sequence")
    if not isinstance(sequence, int) or isinstance(sequence, bool) or not 1 <= sequence <= checkpoint.sequence:
        return f"event sequence {sequence!r} is not covered by the checkpoint at {checkpoint.sequence}"
    if event.get("organizationId") != checkpoint.organization_id:
        return "the event and the checkpoint belong to different organisations"
    try:
        current = link_hash(prev_hash, canonical_event(event))
    except orjson.JSONEncodeError:
        return f"event {sequence} has a value that is not JSON"
    if current != event.get("hash"):
        return f"event {sequence} does not match its hash"
    if not isinstance(following, list) or len(following) != checkpoint.sequence - sequence:
        return f"following must list the {checkpoint.sequence - sequence} events up to the checkpoint"
    for expected, item in enumerate(following, start=sequence + 1):
        problem = _following_problem(item, expected, checkpoint.organization_id)
        if problem is not None:
            return problem
        current = link_hash(current, keys.decode_b64(item["canonical"]))
        if current != item["hash"]:
            return f"following event {expected} does not chain from the event before it"
    if current != checkpoint.hash:
        return f"the chain does not reach the checkpoint's hash at sequence {checkpoint.sequence}"
    return None


def _following_problem(item: object, expected: int, organization_id: str) -> str | None:
    """Return what is wrong with one ``following`` entry, or None."""
    if not isinstance(item, Mapping) or set(item) != _FOLLOWING_KEYS:
        return f"following entry {expected} must have exactly the keys {sorted(_FOLLOWING_KEYS)}"
    if item["sequence"] != expected or isinstance(item["sequence"], bool):
        return f"following entry {expected} has sequence {item['sequence']!r}"
    try:
        canonical = keys.decode_b64(item["canonical"])
        body = orjson.loads(canonical)
    except (ValueError, orjson.JSONDecodeError):
        return f"following entry {expected} is not base64 of canonical JSON"
    if not isinstance(body, dict) or canonical_event(body) != canonical:
        return f"following entry {expected} is not a canonical event"
    if body.get("sequence") != expected or body.get("organizationId") != organization_id:
        return f"following entry {expected} is not event {expected} of {organization_id}"
    return None


def _json(value: object) -> bytes:
    """Serialise a value exactly (so 1, 1.0 and True differ), with sorted keys."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
