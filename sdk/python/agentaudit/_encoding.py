"""Request bodies as JSON bytes: values JSON has no type for converted, and events' NUL characters replaced."""

from __future__ import annotations

import json
import re
from typing import Any

from agentaudit._events import json_value, unencodable


def encode(body: Any) -> bytes:
    """``body`` as JSON text: values JSON has no type for as ``_events.json_value`` says (a datetime: ISO 8601).

    Raises:
        ValidationError: a value JSON cannot hold (NaN, an infinity, a key that is not text, a cycle), naming its
            field (``metadata.score``, ``[3].metadata.score`` in a batch).
    """
    try:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                          default=json_value).encode("utf-8")
    except (ValueError, TypeError, RecursionError) as exc:
        raise unencodable(body, exc) from None


_NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")  # an escaped U+0000: after an even run of backslashes


def encode_events(body: Any) -> bytes:
    """:func:`encode` for events: a U+0000 (NUL) in any text of them (action, prompt, response, ids, metadata keys
    and values) becomes U+FFFD, as the sidecar's OpenTelemetry ingest does (PostgreSQL cannot store NUL, so the
    REST API refuses it). JSON always escapes NUL as ``\\u0000``, so one search of the bytes finds it."""
    data = encode(body)
    if b"\\u0000" in data:
        data = _NUL.sub(rb"\1\\ufffd", data)
    return data
