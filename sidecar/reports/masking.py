"""Masking sensitive values in events before they are written into a report.

The compliance engine records where each violation matched (``field``, ``start``, ``end``,
``detector``), never the value; offsets refer to the text as the agent sent it. A report masks
exactly those spans: ``[MASKED:ssn]``. When a rule redacted the value at ingest, the stored text
holds a ``[REDACTED:…]`` or ``[HASH:…]`` token there instead, which is kept (it is already safe),
and the offsets of later spans are shifted by the token's length. If the stored text does not line
up with the recorded spans, the whole field is withheld rather than risk showing a value.
"""

from __future__ import annotations

import re
from typing import Any

from sidecar.compliance import metadata as meta

_TOKEN = re.compile(r"\[(?:REDACTED:[^\]\s]{1,64}|HASH:[0-9a-f]{16})\]")


def _merged(spans: list[tuple[int, int, str]]) -> list[list[Any]]:
    merged: list[list[Any]] = []
    for start, end, detector in sorted(((max(0, s), e, d) for s, e, d in spans if e > s), key=lambda x: (x[0], -x[1])):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, detector])
    return merged


def _withheld(count: int) -> str:
    return f"[WITHHELD: {count} sensitive value{'s' if count != 1 else ''}]"


def _mask_text(value: str, spans: list[tuple[int, int, str]]) -> str:
    merged = _merged(spans)
    pieces: list[str] = []
    cursor = shift = 0
    for start, end, detector in merged:
        at = start + shift
        if at < cursor or at > len(value):
            return _withheld(len(merged))
        token = _TOKEN.match(value, at)
        if token is not None:  # redacted at ingest: keep the token
            pieces.append(value[cursor:token.end()])
            cursor = token.end()
            shift += (token.end() - at) - (end - start)
            continue
        if end + shift > len(value):
            return _withheld(len(merged))
        pieces.append(value[cursor:at])
        pieces.append(f"[MASKED:{detector}]")
        cursor = end + shift
    pieces.append(value[cursor:])
    return "".join(pieces)


#: Rule types whose matches are not personal, financial or secret values but the evidence itself (an
#: injection phrase, a tone): shown as recorded, since masking them would hide what the rule caught.
EVIDENCE_RULE_TYPES = frozenset({"prompt_injection", "sentiment_analysis"})


def spans_by_field(violations: list[dict[str, Any]] | None) -> dict[str, list[tuple[int, int, str]]]:
    """``{field: [(start, end, detector)]}`` from an event's ``violationDetails``, leaving out the matches of
    rules that catch evidence rather than sensitive values (:data:`EVIDENCE_RULE_TYPES`)."""
    found: dict[str, list[tuple[int, int, str]]] = {}
    for violation in violations or ():
        if violation.get("ruleType") in EVIDENCE_RULE_TYPES:
            continue
        for match in violation.get("matches") or ():
            field, start, end = match.get("field"), match.get("start"), match.get("end")
            if isinstance(field, str) and isinstance(start, int) and isinstance(end, int):
                found.setdefault(field, []).append((start, end, str(match.get("detector") or "value")))
    return found


def mask_event(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of a wire-form event with every matched span of prompt, response and metadata masked.

    Integers in the metadata are matched as their decimal text, so a masked one becomes that text
    masked, a string (``{"card": 4111111111111111}`` -> ``{"card": "[MASKED:credit_card]"}``).
    """
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
            value = meta.leaf_text(meta.get_path(event.get("metadata"), path))
            if value is not None:
                replacements[path] = _mask_text(value, items)
    if replacements and isinstance(masked.get("metadata"), (dict, list)):
        masked["metadata"] = meta.replace_strings(event["metadata"], replacements)
    return masked
