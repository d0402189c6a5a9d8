"""Walk an organisation's hash chain and its signed checkpoints, and report the first break.

Events arrive in sequence order as wire (camelCase) mappings carrying ``sequence`` and ``hash``; they are
streamed, never held. A walk detects:

- a changed field: the recomputed hash differs (``hash_mismatch`` at that event);
- a deleted row: ``sequence_gap`` (expected n, found n+k);
- rows out of order: ``sequence_order`` (a row with an earlier sequence follows a later one; rows swapped
  in place with their sequence and hash kept show up as ``hash_mismatch`` at the earlier one);
- rows deleted at the end: a checkpoint beyond the last event (``checkpoint_beyond_end``), or a checkpoint
  whose hash is not the chain hash at its sequence (``checkpoint_mismatch``);
- a forged checkpoint: bad signature, or a key outside ``trusted_keys`` (``checkpoint_signature``);
- a deleted prefix: when the first event has sequence s greater than ``start_sequence``, the walk starts
  only from a valid ``pruned`` checkpoint at s-1 (retention's "pruned up to s-1 at hash H"), whose hash
  becomes the previous hash of event s; without one the missing prefix is a ``sequence_gap``.

Checkpoints below the first verified event (inside a pruned range) can only have their signature checked.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson

from .chain import CANONICAL_FIELDS, GENESIS_HASH
from .checkpoint import Checkpoint, verify_checkpoint
from .report import Break, BreakKind, VerifyReport

__all__ = ["Break", "BreakKind", "ChainVerifier", "VerifyReport", "verify_chain"]

_HASH_RE = re.compile(r"[0-9a-f]{64}")

#: How many events past a sequence jump the walk reads to tell reordered rows from deleted ones.
_REORDER_LOOKAHEAD = 1000


def verify_chain(
    events: Iterable[Mapping[str, Any]],
    *,
    start_prev_hash: str = GENESIS_HASH,
    start_sequence: int = 1,
    checkpoints: Sequence[Checkpoint] = (),
    trusted_keys: Collection[str] | None = None,
    organization_id: str | None = None,
) -> VerifyReport:
    """Verify one organisation's events, in sequence order, against the chain and its checkpoints.

    Args:
        events: wire events with ``sequence`` and ``hash``, ascending by sequence; consumed lazily.
        start_prev_hash: the chain hash before ``start_sequence`` (genesis for a whole chain; for a
            partial walk, the stored hash of ``start_sequence - 1``, which is then taken on trust).
        start_sequence: the sequence the walk expects first.
        checkpoints: the organisation's checkpoints, in any order.
        trusted_keys: base64 public keys allowed to sign checkpoints; None accepts any valid signature.
        organization_id: the organisation; None takes it from the first event (or checkpoint).

    Returns:
        The report; it stops at the first break but counts what verified before it.

    Raises:
        ValueError: ``start_prev_hash`` or ``start_sequence`` is malformed.
    """
    verifier = ChainVerifier(
        start_prev_hash=start_prev_hash,
        start_sequence=start_sequence,
        trusted_keys=trusted_keys,
        organization_id=organization_id,
    )
    for checkpoint in checkpoints:
        verifier.add_checkpoint(checkpoint)
    verifier.feed(events)
    return verifier.finish()


class ChainVerifier:
    """A streaming walk that takes events and checkpoints as they come (see :func:`verify_chain`).

    Add a checkpoint before the walk passes its sequence (any time for :func:`verify_chain`, which adds
    them all first; an export places each one right after the event it signs). Feed events in one or
    several batches, then call :meth:`finish`.
    """

    def __init__(
        self,
        *,
        start_prev_hash: str = GENESIS_HASH,
        start_sequence: int = 1,
        trusted_keys: Collection[str] | None = None,
        organization_id: str | None = None,
    ) -> None:
        """Set up a walk.

        Args:
            start_prev_hash: the chain hash before ``start_sequence``.
            start_sequence: the sequence the walk expects first (>= 1).
            trusted_keys: base64 public keys allowed to sign checkpoints, or None for any.
            organization_id: the organisation, or None to take it from the first event.

        Raises:
            ValueError: ``start_prev_hash`` is not 64 lowercase hex digits or ``start_sequence`` < 1.
        """
        if not isinstance(start_prev_hash, str) or not _HASH_RE.fullmatch(start_prev_hash):
            raise ValueError("start_prev_hash must be 64 lowercase hex digits")
        if not isinstance(start_sequence, int) or isinstance(start_sequence, bool) or start_sequence < 1:
            raise ValueError("start_sequence must be an integer >= 1")
        self._start_sequence = start_sequence
        self._trusted = None if trusted_keys is None else frozenset(trusted_keys)
        self._org = organization_id
        self._expected = start_sequence  # the next sequence to verify
        self._prev = start_prev_hash  # the chain hash at self._expected - 1
        self._anchor = start_sequence - 1  # the sequence the walk started after
        self._anchor_hash = start_prev_hash  # the chain hash at self._anchor
        self._started = False
        self._pending: list[tuple[int, int, Checkpoint]] = []  # heap by sequence
        self._counter = itertools.count()
        self._events_checked = 0
        self._checkpoints_checked = 0
        self._break: Break | None = None
        self._finished = False

    @property
    def broken(self) -> bool:
        """True once a break was found (the walk ignores further input)."""
        return self._break is not None

    @property
    def last_sequence(self) -> int:
        """The last sequence verified so far (or the start anchor)."""
        return self._expected - 1

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Take a checkpoint to check when the walk reaches its sequence.

        A checkpoint at the sequence just verified is checked at once; one that the walk already passed
        can no longer be checked and is a ``malformed`` break, unless it lies inside the pruned range
        below the walk's start (then only its signature is checked).

        Args:
            checkpoint: a checkpoint of this organisation.
        """
        if self._break is not None:
            return
        if not self._started or checkpoint.sequence > self._expected - 1:
            heapq.heappush(self._pending, (checkpoint.sequence, next(self._counter), checkpoint))
        elif checkpoint.sequence == self._expected - 1:
            self._check_checkpoint(checkpoint, self._prev)
        elif checkpoint.sequence <= self._anchor:
            self._check_checkpoint(checkpoint, self._anchor_hash if checkpoint.sequence == self._anchor else None)
        else:
            self._fail(
                checkpoint.sequence,
                BreakKind.MALFORMED,
                f"checkpoint at sequence {checkpoint.sequence} came after event {self._expected - 1}; "
                "it must come before the walk passes its sequence",
            )

    def report_break(self, sequence: int, kind: BreakKind, message: str) -> None:
        """Record a break found outside the walk (e.g. an unreadable export line); the first one wins.

        Args:
            sequence: where verification fails.
            kind: what failed.
            message: one line for a person.
        """
        self._fail(sequence, kind, message)

    def feed(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Verify more events, continuing from the last one fed.

        Args:
            events: wire events in ascending sequence order; consumed lazily, up to the first break.
        """
        if self._break is not None:
            return
        iterator = iter(events)
        if not self._started:
            first = next(iterator, None)
            if first is None:
                return
            if not self._begin(first, iterator):
                return
            iterator = itertools.chain((first,), iterator)
        self._walk(iterator)

    def feed_canonical(
        self,
        rows: Callable[[int], Iterable[tuple[int, bytes, str]]],
        exact: Callable[[int], Iterator[Mapping[str, Any]]],
    ) -> None:
        """Verify more events from their canonical bytes, built by the caller: the fast path of a walk.

        ``rows(sequence)`` yields ``(sequence, canonical bytes, stored hash)`` in ascending sequence order from
        ``sequence`` on. Bytes that do not hash to the stored hash are not trusted to be canonical:
        that event is re-checked from its wire form, ``next(exact(sequence))``, and only that verdict counts.
        A sequence out of place, and the rows ending (the end of the chain, or a row the caller could not
        render), hand the rest of the walk to :meth:`feed` over ``exact(next expected sequence)``. So the
        report is always the one :meth:`feed` over ``exact`` would give; the rows only make it faster.

        Args:
            rows: ``rows(sequence)`` yields the canonical rows from ``sequence`` on.
            exact: ``exact(sequence)`` yields the wire events from ``sequence`` on, as for :meth:`feed`.
        """
        if self._break is not None:
            return
        if not self._started:  # the start has its own rules (pruned anchors): take the first event exactly
            events = exact(self._expected)
            first = next(events, None)
            if first is None or not self._begin(first, events):
                return
            self._walk(iter((first,)))
            if self._break is not None:
                return
        sha256 = hashlib.sha256
        expected, prev = self._expected, self._prev
        next_checkpoint = self._pending[0][0] if self._pending else -1
        checked = 0
        try:
            for sequence, canonical, stored in rows(expected):
                if sequence != expected:
                    break
                current = sha256(prev.encode() + canonical).hexdigest()
                if current != stored:  # maybe only not canonical as stored: the wire form decides
                    self._events_checked += checked
                    checked = 0
                    self._expected, self._prev = expected, prev
                    self._walk(itertools.islice(exact(expected), 1))
                    moved = self._expected != expected
                    expected, prev = self._expected, self._prev
                    if self._break is not None or not moved:
                        return
                    next_checkpoint = self._pending[0][0] if self._pending else -1
                    continue
                prev = current
                checked += 1
                expected += 1
                if expected - 1 == next_checkpoint:
                    while self._pending and self._pending[0][0] == expected - 1:
                        if not self._check_checkpoint(heapq.heappop(self._pending)[2], current):
                            return
                    next_checkpoint = self._pending[0][0] if self._pending else -1
        finally:
            self._events_checked += checked
            self._expected, self._prev = expected, prev
        self._walk(exact(expected))

    def finish(self) -> VerifyReport:
        """End the walk: checkpoints beyond the last event are a break. Returns the report.

        Returns:
            The final :class:`VerifyReport`.
        """
        if self._break is None and not self._finished:
            self._finished = True
            if not self._started:
                self._begin_empty()
            if self._break is None and self._pending:
                checkpoint = heapq.heappop(self._pending)[2]
                if self._check_checkpoint_signature(checkpoint):
                    last = self._expected - 1
                    self._fail(
                        self._expected,
                        BreakKind.CHECKPOINT_BEYOND_END,
                        f"a checkpoint signs sequence {checkpoint.sequence} but the chain ends at {last}: "
                        f"events {self._expected}..{checkpoint.sequence} are missing",
                    )
        return VerifyReport(
            ok=self._break is None,
            events_checked=self._events_checked,
            checkpoints_checked=self._checkpoints_checked,
            first_break=self._break,
            last_sequence=self._expected - 1,
            last_hash=self._prev,
            organization_id=self._org,
        )

    # -- the start ---------------------------------------------------------------------------------

    def _begin(self, first: Mapping[str, Any], rest: Iterator[Mapping[str, Any]]) -> bool:
        """Anchor the walk on the first event (a pruned checkpoint may stand in for a deleted prefix)."""
        self._started = True
        if self._org is None:
            org = first.get("organizationId")
            self._org = org if isinstance(org, str) else None
        sequence = first.get("sequence")
        if isinstance(sequence, int) and not isinstance(sequence, bool) and sequence > self._expected:
            anchor = self._pruned_anchor(sequence - 1)
            if anchor is not None:
                self._anchor, self._expected, self._prev = anchor.sequence, sequence, anchor.hash
                self._anchor_hash = anchor.hash
            else:  # a pruned checkpoint at s-1 that does not verify is the better diagnosis
                for _, _, checkpoint in sorted(self._pending):
                    if checkpoint.sequence == sequence - 1 and checkpoint.kind == "pruned":
                        self._check_checkpoint_signature(checkpoint)
                        break
        self._settle_checkpoints_below_start()
        if self._break is None and sequence != self._expected:
            self._sequence_break(sequence, rest, first=True)
        return self._break is None

    def _begin_empty(self) -> None:
        """Anchor a walk that saw no event: on the newest valid pruned checkpoint, if any."""
        self._started = True
        if self._org is None and self._pending:
            self._org = min(self._pending)[2].organization_id
        candidates = [cp for _, _, cp in self._pending if cp.kind == "pruned" and cp.sequence >= self._anchor]
        for checkpoint in sorted(candidates, key=lambda cp: cp.sequence, reverse=True):
            if self._is_valid(checkpoint):
                self._anchor, self._expected = checkpoint.sequence, checkpoint.sequence + 1
                self._prev = self._anchor_hash = checkpoint.hash
                break
        self._settle_checkpoints_below_start()

    def _pruned_anchor(self, sequence: int) -> Checkpoint | None:
        """Return a valid pruned checkpoint at ``sequence`` of this organisation, if one was added."""
        for _, _, checkpoint in self._pending:
            if checkpoint.sequence == sequence and checkpoint.kind == "pruned" and self._is_valid(checkpoint):
                return checkpoint
        return None

    def _is_valid(self, checkpoint: Checkpoint) -> bool:
        return (self._org is None or checkpoint.organization_id == self._org) and verify_checkpoint(
            checkpoint, self._trusted
        )

    def _settle_checkpoints_below_start(self) -> None:
        """Check the checkpoints at or below the anchor: signature only, plus the hash at the anchor."""
        while self._break is None and self._pending and self._pending[0][0] <= self._anchor:
            checkpoint = heapq.heappop(self._pending)[2]
            self._check_checkpoint(checkpoint, self._anchor_hash if checkpoint.sequence == self._anchor else None)

    # -- the hot loop ------------------------------------------------------------------------------

    def _walk(self, events: Iterator[Mapping[str, Any]]) -> None:
        """Verify events until the input ends or a break is found."""
        fields = CANONICAL_FIELDS
        dumps = orjson.dumps
        sort_keys = orjson.OPT_SORT_KEYS
        sha256 = hashlib.sha256
        org = self._org
        expected = self._expected
        prev = self._prev
        checked = 0
        next_checkpoint = self._pending[0][0] if self._pending else -1
        try:
            for event in events:
                get = event.get
                if get("sequence") != expected:
                    self._expected, self._prev = expected, prev
                    self._sequence_break(get("sequence"), events, first=False)
                    return
                if get("organizationId") != org:
                    self._fail(
                        expected,
                        BreakKind.ORGANIZATION_MISMATCH,
                        f"event {expected} belongs to organisation {get('organizationId')!r}, not {org!r}",
                    )
                    return
                try:
                    canonical = dumps({name: get(name) for name in fields}, option=sort_keys)
                except orjson.JSONEncodeError as exc:
                    self._fail(expected, BreakKind.MALFORMED, f"event {expected} has a value that is not JSON: {exc}")
                    return
                digest = sha256(prev.encode() + canonical)
                current = digest.hexdigest()
                if current != get("hash"):
                    self._fail(
                        expected,
                        BreakKind.HASH_MISMATCH,
                        f"event {expected} (id {get('id')!r}) does not match its hash: a field was changed, "
                        "or rows were swapped or rewritten",
                    )
                    return
                prev = current
                checked += 1
                if expected == next_checkpoint:
                    while self._pending and self._pending[0][0] == expected:
                        if not self._check_checkpoint(heapq.heappop(self._pending)[2], current):
                            expected += 1
                            return
                    next_checkpoint = self._pending[0][0] if self._pending else -1
                expected += 1
        finally:
            self._events_checked += checked
            self._expected, self._prev = expected, prev

    # -- breaks ------------------------------------------------------------------------------------

    def _sequence_break(self, found: object, rest: Iterator[Mapping[str, Any]], *, first: bool) -> None:
        """Record a break for an event whose sequence is not the expected one."""
        expected = self._expected
        if not isinstance(found, int) or isinstance(found, bool):
            self._fail(expected, BreakKind.MALFORMED, f"event after {expected - 1} has no integer sequence: {found!r}")
        elif found < expected:
            self._fail(
                expected,
                BreakKind.SEQUENCE_ORDER,
                f"expected sequence {expected}, found {found}: rows are out of order or duplicated",
            )
        elif _reappears(expected, found, rest):
            self._fail(
                expected,
                BreakKind.SEQUENCE_ORDER,
                f"expected sequence {expected}, found {found} and {expected} later: rows are out of order",
            )
        else:
            missing = f"event {expected} is" if found == expected + 1 else f"events {expected}..{found - 1} are"
            cover = f"; no valid pruned checkpoint at {found - 1} covers them" if first else ""
            self._fail(
                expected,
                BreakKind.SEQUENCE_GAP,
                f"expected sequence {expected}, found {found}: {missing} missing{cover}",
            )

    def _check_checkpoint(self, checkpoint: Checkpoint, hash_at: str | None) -> bool:
        """Check one checkpoint against the chain hash at its sequence (None: signature only)."""
        if not self._check_checkpoint_signature(checkpoint):
            return False
        if hash_at is not None and checkpoint.hash != hash_at:
            self._fail(
                checkpoint.sequence,
                BreakKind.CHECKPOINT_MISMATCH,
                f"the {checkpoint.kind} checkpoint at sequence {checkpoint.sequence} signs hash "
                f"{checkpoint.hash[:16]}…, but the chain has {hash_at[:16]}… there",
            )
            return False
        self._checkpoints_checked += 1
        return True

    def _check_checkpoint_signature(self, checkpoint: Checkpoint) -> bool:
        """Check a checkpoint's organisation, signature and key; record a break when they fail."""
        if self._org is not None and checkpoint.organization_id != self._org:
            self._fail(
                checkpoint.sequence,
                BreakKind.ORGANIZATION_MISMATCH,
                f"the checkpoint at sequence {checkpoint.sequence} is for organisation "
                f"{checkpoint.organization_id!r}, not {self._org!r}",
            )
            return False
        if not verify_checkpoint(checkpoint, self._trusted):
            self._fail(
                checkpoint.sequence,
                BreakKind.CHECKPOINT_SIGNATURE,
                f"the checkpoint at sequence {checkpoint.sequence} (key {checkpoint.key_id}) has an invalid "
                "signature or an untrusted key: it is forged",
            )
            return False
        return True

    def _fail(self, sequence: int, kind: BreakKind, message: str) -> None:
        if self._break is None:
            self._break = Break(sequence=sequence, kind=kind, message=message)


def _reappears(expected: int, found: int, rest: Iterator[Mapping[str, Any]]) -> bool:
    """Return True if a sequence in [expected, found) shows up within the next few events."""
    for event in itertools.islice(rest, _REORDER_LOOKAHEAD):
        sequence = event.get("sequence")
        if isinstance(sequence, int) and expected <= sequence < found:
            return True
    return False
