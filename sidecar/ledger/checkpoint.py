"""Signed checkpoints: an Ed25519 signature over ``(organisation, sequence, hash, time, kind)``.

A checkpoint says "the organisation's chain had hash H at sequence N when I signed at T". A ``head``
checkpoint is taken while the chain grows (:class:`CheckpointPolicy`) and on shutdown; a ``pruned``
checkpoint is taken by retention and says "events up to N were deleted on purpose; event N+1 follows
hash H", so what remains still verifies.

The signed bytes (:func:`checkpoint_message`) are a domain-separation tag, then compact JSON with sorted
keys over exactly the five signed fields. JSON quoting makes the encoding unambiguous (no field can
spill into another), and the tag keeps a checkpoint signature from being valid for anything else the
key might ever sign.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import keys

__all__ = [
    "CHECKPOINT_DOMAIN",
    "CHECKPOINT_KINDS",
    "Checkpoint",
    "CheckpointKind",
    "CheckpointPolicy",
    "checkpoint_message",
    "format_timestamp",
    "parse_timestamp",
    "sign_checkpoint",
    "verify_checkpoint",
]

CheckpointKind = Literal["head", "pruned"]

#: The kinds a checkpoint may have.
CHECKPOINT_KINDS: frozenset[str] = frozenset({"head", "pruned"})

#: Prefix of every signed checkpoint message; bump the version if the message ever changes.
CHECKPOINT_DOMAIN = b"agentaudit-checkpoint-v1\n"

_HASH_RE = re.compile(r"[0-9a-f]{64}")
_KEY_ID_RE = re.compile(r"[0-9a-f]{16}")
_TIMESTAMP_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_WIRE_KEYS = ("organizationId", "sequence", "hash", "signedAt", "kind", "keyId", "signature", "publicKey")


def _check_signed_fields(
    organization_id: object, sequence: object, hash: object, signed_at: object, kind: object
) -> None:
    """Raise ValueError unless the five signed fields are well formed."""
    if not isinstance(organization_id, str) or not organization_id:
        raise ValueError("checkpoint organizationId must be a non-empty string")
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0:
        raise ValueError("checkpoint sequence must be an integer >= 0")
    if not isinstance(hash, str) or not _HASH_RE.fullmatch(hash):
        raise ValueError("checkpoint hash must be 64 lowercase hex digits")
    if not isinstance(signed_at, str) or not _TIMESTAMP_RE.fullmatch(signed_at):
        raise ValueError("checkpoint signedAt must look like 2026-01-15T10:00:00.000Z")
    if not isinstance(kind, str) or kind not in CHECKPOINT_KINDS:
        raise ValueError(f"checkpoint kind must be one of {sorted(CHECKPOINT_KINDS)}, not {kind!r}")


def checkpoint_message(organization_id: str, sequence: int, hash: str, signed_at: str, kind: CheckpointKind) -> bytes:
    """Return the exact bytes a checkpoint signature covers.

    Args:
        organization_id: the organisation whose chain is signed.
        sequence: the sequence number of the last event covered (0 for an empty chain).
        hash: the chain hash at ``sequence`` (64 lowercase hex digits).
        signed_at: when it was signed, ``2026-01-15T10:00:00.000Z``.
        kind: ``"head"`` or ``"pruned"``.

    Returns:
        the bytes ``agentaudit-checkpoint-v1`` and a newline, followed by compact sorted-key JSON of
        ``{hash, kind, organizationId, sequence, signedAt}``.

    Raises:
        ValueError: a field is malformed.
    """
    _check_signed_fields(organization_id, sequence, hash, signed_at, kind)
    body = {
        "organizationId": organization_id,
        "sequence": sequence,
        "hash": hash,
        "signedAt": signed_at,
        "kind": kind,
    }
    return CHECKPOINT_DOMAIN + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement of an organisation's chain hash at a sequence number.

    Attributes:
        organization_id: the organisation whose chain is signed.
        sequence: the last event covered (for ``pruned``: the last event deleted).
        hash: the chain hash at ``sequence``.
        signed_at: ISO 8601 UTC time of signing, with milliseconds and ``Z``.
        kind: ``"head"`` (taken while the chain grows) or ``"pruned"`` (taken by retention).
        key_id: :func:`keys.key_id` of ``public_key``.
        signature: base64 Ed25519 signature of :func:`checkpoint_message`.
        public_key: base64 of the raw public key that made the signature.
    """

    organization_id: str
    sequence: int
    hash: str
    signed_at: str
    kind: CheckpointKind
    key_id: str
    signature: str
    public_key: str

    def __post_init__(self) -> None:
        _check_signed_fields(self.organization_id, self.sequence, self.hash, self.signed_at, self.kind)
        if not isinstance(self.key_id, str) or not _KEY_ID_RE.fullmatch(self.key_id):
            raise ValueError("checkpoint keyId must be 16 lowercase hex digits")
        if not isinstance(self.signature, str) or not isinstance(self.public_key, str):
            raise ValueError("checkpoint signature and publicKey must be base64 strings")

    def message(self) -> bytes:
        """Return the bytes this checkpoint's signature covers (see :func:`checkpoint_message`)."""
        return checkpoint_message(self.organization_id, self.sequence, self.hash, self.signed_at, self.kind)

    def to_wire(self) -> dict[str, Any]:
        """Return the API's camelCase form.

        Returns:
            ``{organizationId, sequence, hash, signedAt, kind, keyId, signature, publicKey}``.
        """
        return {
            "organizationId": self.organization_id,
            "sequence": self.sequence,
            "hash": self.hash,
            "signedAt": self.signed_at,
            "kind": self.kind,
            "keyId": self.key_id,
            "signature": self.signature,
            "publicKey": self.public_key,
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Checkpoint:
        """Parse the camelCase form written by :meth:`to_wire`. This checks the shape, not the signature.

        Args:
            data: a mapping with exactly the keys of :meth:`to_wire`.

        Returns:
            The checkpoint.

        Raises:
            ValueError: not a mapping, a key is missing or unknown, or a field is malformed.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a checkpoint must be a JSON object, not {type(data).__name__}")
        missing = [key for key in _WIRE_KEYS if key not in data]
        extra = sorted(str(key) for key in data if key not in _WIRE_KEYS)
        if missing or extra:
            raise ValueError(f"checkpoint keys: missing {missing}, unknown {extra}")
        return cls(
            organization_id=data["organizationId"],
            sequence=data["sequence"],
            hash=data["hash"],
            signed_at=data["signedAt"],
            kind=data["kind"],
            key_id=data["keyId"],
            signature=data["signature"],
            public_key=data["publicKey"],
        )


def sign_checkpoint(
    private_key: Ed25519PrivateKey,
    *,
    organization_id: str,
    sequence: int,
    hash: str,
    signed_at: str,
    kind: CheckpointKind = "head",
) -> Checkpoint:
    """Sign the chain state ``(organization_id, sequence, hash)`` at ``signed_at``.

    Args:
        private_key: the sidecar's ledger signing key.
        organization_id: the organisation whose chain is signed.
        sequence: the last event covered (0 and :data:`chain.GENESIS_HASH` for an empty chain).
        hash: the chain hash at ``sequence``.
        signed_at: ISO 8601 UTC with milliseconds and ``Z`` (see :func:`format_timestamp`).
        kind: ``"head"``, or ``"pruned"`` when retention deleted events up to ``sequence``.

    Returns:
        The signed checkpoint, carrying its public key and key id.

    Raises:
        ValueError: a field is malformed.
    """
    message = checkpoint_message(organization_id, sequence, hash, signed_at, kind)
    public_key = keys.public_key_b64(private_key)
    signature = private_key.sign(message)
    return Checkpoint(
        organization_id=organization_id,
        sequence=sequence,
        hash=hash,
        signed_at=signed_at,
        kind=kind,
        key_id=keys.key_id(public_key),
        signature=keys.encode_b64(signature),
        public_key=public_key,
    )


def verify_checkpoint(checkpoint: Checkpoint, trusted_public_keys: Collection[str] | None = None) -> bool:
    """Check a checkpoint's signature and, when trusted keys are given, who signed it.

    With ``trusted_public_keys=None`` this only proves the checkpoint is self-consistent: anyone with a
    key of their own can make such a checkpoint. Give the trusted keys (from the sidecar's key file, or
    from a channel the verifier trusts) to catch a forgery signed with another key.

    Args:
        checkpoint: the checkpoint to check.
        trusted_public_keys: base64 public keys that may sign checkpoints, or None to accept any key.

    Returns:
        True when the key id matches the public key, the signature is valid, and the key is trusted.
    """
    try:
        public_key = keys.public_key_from_b64(checkpoint.public_key)
        if keys.key_id(checkpoint.public_key) != checkpoint.key_id:
            return False
        if trusted_public_keys is not None and not _is_trusted(checkpoint.public_key, trusted_public_keys):
            return False
        signature = keys.decode_b64(checkpoint.signature)
        public_key.verify(signature, checkpoint.message())
    except (ValueError, InvalidSignature):
        return False
    return True


def _is_trusted(public_key: str, trusted_public_keys: Collection[str]) -> bool:
    """Return True when ``public_key`` (canonical base64) is among the trusted keys, compared as raw bytes."""
    raw = keys.decode_b64(public_key)
    for trusted in trusted_public_keys:
        try:
            if keys.decode_b64(trusted) == raw:
                return True
        except ValueError:
            continue
    return False


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """When the sidecar signs a ``head`` checkpoint: every ``every_seconds`` or ``every_events``.

    Attributes:
        every_seconds: sign when this long has passed since the last checkpoint and events arrived.
        every_events: sign when this many events arrived since the last checkpoint. This also bounds
            the size of an event proof, which carries the events up to the next checkpoint.
    """

    every_seconds: float = 60.0
    every_events: int = 1000

    def __post_init__(self) -> None:
        if not self.every_seconds > 0:
            raise ValueError(f"every_seconds must be > 0, not {self.every_seconds!r}")
        if not isinstance(self.every_events, int) or isinstance(self.every_events, bool) or self.every_events < 1:
            raise ValueError(f"every_events must be an integer >= 1, not {self.every_events!r}")

    def due(self, now: datetime, events_since: int, last_signed_at: datetime | None) -> bool:
        """Return whether a new head checkpoint should be signed now.

        Nothing is due while no event arrived since the last checkpoint (shutdown signs regardless).

        Args:
            now: the current time (timezone-aware).
            events_since: events appended since the last checkpoint.
            last_signed_at: when the last checkpoint was signed, or None if there is none.

        Returns:
            True when events arrived and either there is no checkpoint yet, ``every_events`` were
            reached, or ``every_seconds`` have passed.
        """
        if events_since <= 0:
            return False
        if last_signed_at is None or events_since >= self.every_events:
            return True
        return now - last_signed_at >= timedelta(seconds=self.every_seconds)


def format_timestamp(moment: datetime) -> str:
    """Format a time as the API does: ISO 8601 UTC with milliseconds and ``Z``.

    Args:
        moment: a timezone-aware datetime (naive means UTC).

    Returns:
        e.g. ``"2026-01-15T10:00:00.123Z"`` (truncated to the millisecond).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime:
    """Parse a timestamp written by :func:`format_timestamp`.

    Args:
        text: ``YYYY-MM-DDTHH:MM:SS.mmmZ``.

    Returns:
        A timezone-aware UTC datetime.

    Raises:
        ValueError: not in that exact format.
    """
    if not isinstance(text, str) or not _TIMESTAMP_RE.fullmatch(text):
        raise ValueError(f"not a timestamp like 2026-01-15T10:00:00.000Z: {text!r}")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
