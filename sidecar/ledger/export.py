"""A self-contained ledger export (JSON Lines) that a third party can verify without the database.

Layout, one JSON object per line::

    {"format": "agentaudit-ledger-export", "version": 1, "organizationId": "org_…",
     "publicKeys": ["<base64>", …], "startPrevHash": "<hex>", "startSequence": 1}
    {…wire event with sequence and hash…}
    {"checkpoint": {…wire checkpoint…}}
    …

Events come in sequence order. Each checkpoint line comes right after the event whose sequence it signs,
so a one-pass verifier can check it without keeping old hashes; checkpoints below the first event (a
pruned range, and the ``pruned`` checkpoint the remaining events start from) come right after the header,
and checkpoints beyond the last event at the end (a verifier reports those as missing events).

``publicKeys`` in the header says which keys signed the checkpoints, but a file can say anything: a third
party should pass the keys it trusts (obtained from the operator through another channel) to
:func:`verify_export`; without them the export is checked for consistency with its own header only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from .chain import CANONICAL_FIELDS, GENESIS_HASH
from .checkpoint import Checkpoint
from .verify import Break, BreakKind, ChainVerifier, VerifyReport

__all__ = ["EXPORT_FORMAT", "EXPORT_VERSION", "ExportHeader", "export_lines", "verify_export", "write_export"]

EXPORT_FORMAT = "agentaudit-ledger-export"
EXPORT_VERSION = 1

_HASH_RE = re.compile(r"[0-9a-f]{64}")
_HEADER_KEYS = frozenset({"format", "version", "organizationId", "publicKeys", "startPrevHash", "startSequence"})


@dataclass(frozen=True, slots=True)
class ExportHeader:
    """The first line of an export.

    Attributes:
        organization_id: the organisation whose chain is exported.
        public_keys: base64 public keys that signed the exported checkpoints.
        start_prev_hash: the chain hash before ``start_sequence`` (genesis for a whole chain).
        start_sequence: the first sequence the export covers (a pruned checkpoint may move it later).
    """

    organization_id: str
    public_keys: tuple[str, ...] = field(default=())
    start_prev_hash: str = GENESIS_HASH
    start_sequence: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.organization_id, str) or not self.organization_id:
            raise ValueError("export organizationId must be a non-empty string")
        if not isinstance(self.public_keys, tuple) or not all(isinstance(key, str) for key in self.public_keys):
            raise ValueError("export publicKeys must be a list of base64 strings")
        if not isinstance(self.start_prev_hash, str) or not _HASH_RE.fullmatch(self.start_prev_hash):
            raise ValueError("export startPrevHash must be 64 lowercase hex digits")
        if not isinstance(self.start_sequence, int) or isinstance(self.start_sequence, bool) or self.start_sequence < 1:
            raise ValueError("export startSequence must be an integer >= 1")

    def to_wire(self) -> dict[str, Any]:
        """Return the header line's object."""
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "organizationId": self.organization_id,
            "publicKeys": list(self.public_keys),
            "startPrevHash": self.start_prev_hash,
            "startSequence": self.start_sequence,
        }

    @classmethod
    def from_wire(cls, data: object) -> ExportHeader:
        """Parse a header line's object.

        Args:
            data: the parsed first line.

        Returns:
            The header.

        Raises:
            ValueError: not an export header of this format and version, or a field is malformed.
        """
        if not isinstance(data, Mapping) or data.get("format") != EXPORT_FORMAT:
            raise ValueError(f"the first line is not an {EXPORT_FORMAT} header")
        if data.get("version") != EXPORT_VERSION or isinstance(data.get("version"), bool):
            raise ValueError(f"unsupported export version {data.get('version')!r}, expected {EXPORT_VERSION}")
        if set(data) != _HEADER_KEYS:
            raise ValueError(f"the export header has exactly the keys {sorted(_HEADER_KEYS)}")
        public_keys = data["publicKeys"]
        if not isinstance(public_keys, list):
            raise ValueError("export publicKeys must be a list of base64 strings")
        return cls(
            organization_id=data["organizationId"],
            public_keys=tuple(public_keys),
            start_prev_hash=data["startPrevHash"],
            start_sequence=data["startSequence"],
        )


def export_lines(
    header: ExportHeader, events: Iterable[Mapping[str, Any]], checkpoints: Iterable[Checkpoint]
) -> Iterator[bytes]:
    """Yield the lines of an export, each ending in a newline; events are consumed lazily.

    Args:
        header: the header.
        events: the organisation's wire events in ascending sequence order.
        checkpoints: the organisation's checkpoints, in any order (they are few; they are sorted here).

    Yields:
        The header line, then event lines with each checkpoint line placed after the event it signs.
    """
    pending = sorted(checkpoints, key=lambda cp: (cp.sequence, cp.kind != "pruned", cp.signed_at))
    index = 0
    yield orjson.dumps(header.to_wire()) + b"\n"
    for event in events:
        sequence = event.get("sequence")
        if isinstance(sequence, int):
            while index < len(pending) and pending[index].sequence < sequence:
                yield _checkpoint_line(pending[index])
                index += 1
        body = {name: event.get(name) for name in CANONICAL_FIELDS}
        body["hash"] = event.get("hash")
        yield orjson.dumps(body) + b"\n"
        if isinstance(sequence, int):
            while index < len(pending) and pending[index].sequence == sequence:
                yield _checkpoint_line(pending[index])
                index += 1
    for checkpoint in pending[index:]:
        yield _checkpoint_line(checkpoint)


def write_export(
    lines_sink: Callable[[bytes], object],
    header: ExportHeader,
    events: Iterable[Mapping[str, Any]],
    checkpoints: Iterable[Checkpoint],
) -> int:
    """Write an export line by line to a sink (e.g. a binary file's ``write``).

    Args:
        lines_sink: called once per line with bytes ending in a newline.
        header: the header.
        events: the organisation's wire events in ascending sequence order; consumed lazily.
        checkpoints: the organisation's checkpoints.

    Returns:
        The number of lines written.
    """
    count = 0
    for line in export_lines(header, events, checkpoints):
        lines_sink(line)
        count += 1
    return count


def verify_export(lines: Iterable[bytes | str], trusted_keys: Collection[str] | None = None) -> VerifyReport:
    """Verify an export in one pass, holding no more than one line at a time.

    Args:
        lines: the export's lines (e.g. a file opened in binary mode); blank lines are skipped.
        trusted_keys: base64 public keys the verifier trusts; None trusts the header's ``publicKeys``.

    Returns:
        The report, with a ``malformed`` break (sequence 0 for the header) if the file is not an export.
    """
    iterator = iter(lines)
    header_line = next((line for line in iterator if line.strip()), None)
    try:
        header = ExportHeader.from_wire(orjson.loads(header_line) if header_line is not None else None)
    except (ValueError, orjson.JSONDecodeError) as exc:
        return VerifyReport(False, 0, 0, Break(0, BreakKind.MALFORMED, f"line 1: {exc}"), 0, GENESIS_HASH)
    verifier = ChainVerifier(
        start_prev_hash=header.start_prev_hash,
        start_sequence=header.start_sequence,
        trusted_keys=header.public_keys if trusted_keys is None else trusted_keys,
        organization_id=header.organization_id,
    )
    reader = _ExportReader(iterator)
    while not verifier.broken:
        verifier.feed(reader.events())
        if reader.problem is not None:
            verifier.report_break(verifier.last_sequence + 1, BreakKind.MALFORMED, reader.problem)
        elif reader.checkpoint is not None:
            verifier.add_checkpoint(reader.checkpoint)
            reader.checkpoint = None
        else:
            break
    return verifier.finish()


class _ExportReader:
    """Splits export lines into runs of events, stopping at each checkpoint line or bad line."""

    def __init__(self, lines: Iterator[bytes | str]) -> None:
        self._lines = lines
        self._line_number = 1
        self.checkpoint: Checkpoint | None = None
        self.problem: str | None = None

    def events(self) -> Iterator[Mapping[str, Any]]:
        """Yield events up to the next checkpoint line (left in ``checkpoint``) or bad line (``problem``)."""
        loads = orjson.loads
        for line in self._lines:
            self._line_number += 1
            try:
                item = loads(line)
            except orjson.JSONDecodeError:
                if not line.strip():
                    continue
                self.problem = f"line {self._line_number} is not JSON"
                return
            if type(item) is not dict:
                self.problem = f"line {self._line_number} is not a JSON object"
                return
            if "checkpoint" in item:
                try:
                    if len(item) != 1:
                        raise ValueError("a checkpoint line has only the key 'checkpoint'")
                    self.checkpoint = Checkpoint.from_wire(item["checkpoint"])
                except ValueError as exc:
                    self.problem = f"line {self._line_number}: {exc}"
                return
            yield item


def _checkpoint_line(checkpoint: Checkpoint) -> bytes:
    return orjson.dumps({"checkpoint": checkpoint.to_wire()}) + b"\n"
