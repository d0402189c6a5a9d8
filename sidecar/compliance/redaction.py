"""Replacing matched values before an event is stored.

``mask`` writes ``[REDACTED:<detector>]``; ``hash`` writes ``[HASH:<16 hex>]``, the first 16
hex digits of HMAC-SHA256(key, value), so equal values can be correlated across events without
being readable. Without a key, ``hash`` falls back to ``mask`` (an unkeyed hash of an SSN is
trivially reversible). Overlapping spans merge; when one of them asks for ``mask`` the merged
span is masked, and it keeps the label of the span that starts first.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Redaction:
    """A span of one field's original text to replace."""

    start: int
    end: int
    label: str
    mode: str  # "mask" or "hash"


def _token(value: str, label: str, mode: str, key: bytes | None) -> str:
    if mode == "hash" and key is not None:
        digest = hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        return f"[HASH:{digest[:16]}]"
    return f"[REDACTED:{label}]"


def merge(redactions: list[Redaction]) -> list[Redaction]:
    """Sort and merge overlapping redactions."""
    ordered = sorted(redactions, key=lambda r: (r.start, -r.end))
    merged: list[Redaction] = []
    for item in ordered:
        if merged and item.start < merged[-1].end:
            last = merged[-1]
            mode = "mask" if "mask" in (last.mode, item.mode) else "hash"
            merged[-1] = Redaction(last.start, max(last.end, item.end), last.label, mode)
        else:
            merged.append(item)
    return merged


def apply(text: str, redactions: list[Redaction], key: bytes | None) -> str:
    """``text`` with every (merged) redaction replaced. Offsets refer to ``text``."""
    if not redactions:
        return text
    pieces: list[str] = []
    cursor = 0
    for item in merge(redactions):
        pieces.append(text[cursor : item.start])
        pieces.append(_token(text[item.start : item.end], item.label, item.mode, key))
        cursor = item.end
    pieces.append(text[cursor:])
    return "".join(pieces)
