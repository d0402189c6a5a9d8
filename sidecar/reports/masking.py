"""Masking sensitive values in events before they are written into a report.

The compliance engine records where each violation matched (``field``, ``start``, ``end``,
``detector``), never the value. A report masks exactly those spans: ``[MASKED:ssn]``. When the
stored text was already redacted at ingest (it contains ``[REDACTED:`` or ``[HASH:`` tokens),
the recorded offsets (which refer to the original text) no longer line up, so a field holding
matches is withheld whole rather than masked at the wrong place.
"""

from __future__ import annotations

from typing import Any

from sidecar.compliance import metadata as meta

_REDACTION_TOKENS = ("[REDACTED:", "[HASH:")


def _mask_text(value: str, spans: list[tuple[int, int, str]]) -> str:
    if any(token in value for token in _REDACTION_TOKENS):
        return f"[WITHHELD: {len(spans)} sensitive value{'s' if len(spans) != 1 else ''}; redacted at ingest]"
    ordered = sorted((max(0, s), min(len(value), e), d) for s, e, d in spans if e > s)
    merged: list[list[Any]] = []
    for start, end, detector in ordered:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, detector])
    pieces, cursor = [], 0
    for start, end, detector in merged:
        if start >= len(value):
            continue
        pieces.append(value[cursor:start])
        pieces.append(f"[MASKED:{detector}]")
        cursor = end
    pieces.append(value[cursor:])
    return "".join(pieces)


def spans_by_field(violations: list[dict[str, Any]] | None) -> dict[str, list[tuple[int, int, str]]]:
    """``{field: [(start, end, detector)]}`` from an event's ``violationDetails``."""
    found: dict[str, list[tuple[int, int, str]]] = {}
    for violation in violations or ():
        for match in violation.get("matches") or ():
            field, start, end = match.get("field"), match.get("start"), match.get("end")
            if isinstance(field, str) and isinstance(start, int) and isinstance(end, int):
                found.setdefault(field, []).append((start, end, str(match.get("detector") or "value")))
    return found


def mask_event(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of a wire-form event with every matched span of prompt, response and metadata masked."""
    spans = spans_by_field(event.get("violationDetails"))
    if not spans:
        return event
    masked = dict(event)
    replacements: dict[meta.Path, str] = {}
    for field, items in spans.items():
        if field in ("prompt", "response"):
            value = event.get(field)
            if isinstance(value, str):
                masked[field] = _mask_text(value, items)
        elif field.startswith("metadata."):
            try:
                path = meta.parse_path(field[len("metadata."):])
            except meta.PathError:
                masked["metadata"] = {"withheld": "metadata holds sensitive values"}
                replacements.clear()
                break
            value = meta.get_path(event.get("metadata"), path)
            if isinstance(value, str):
                replacements[path] = _mask_text(value, items)
    if replacements and isinstance(masked.get("metadata"), (dict, list)):
        masked["metadata"] = meta.replace_strings(event["metadata"], replacements)
    return masked
