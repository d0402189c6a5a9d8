"""The outcome of a ledger walk: the report and the first break."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Break", "BreakKind", "VerifyReport"]


class BreakKind(StrEnum):
    """What kind of break a walk found."""

    HASH_MISMATCH = "hash_mismatch"
    SEQUENCE_GAP = "sequence_gap"
    SEQUENCE_ORDER = "sequence_order"
    ORGANIZATION_MISMATCH = "organization_mismatch"
    CHECKPOINT_SIGNATURE = "checkpoint_signature"
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"
    CHECKPOINT_BEYOND_END = "checkpoint_beyond_end"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class Break:
    """The first place where the chain fails to verify.

    Attributes:
        sequence: the sequence number where verification first fails (for a deleted row, the first
            missing sequence; for a checkpoint, the checkpoint's sequence, or for one beyond the end,
            the first missing sequence).
        kind: what failed.
        message: one line for a person.
    """

    sequence: int
    kind: BreakKind
    message: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of a walk.

    Attributes:
        ok: True when nothing broke.
        events_checked: events whose hash verified (those before the break).
        checkpoints_checked: checkpoints whose signature verified and, where the walk reached their
            sequence, whose hash matched.
        first_break: where verification first failed, or None.
        last_sequence: the last sequence verified (the start anchor's if no event verified).
        last_hash: the chain hash at ``last_sequence``.
        organization_id: the organisation walked, when known.
    """

    ok: bool
    events_checked: int
    checkpoints_checked: int
    first_break: Break | None
    last_sequence: int
    last_hash: str
    organization_id: str | None = None
