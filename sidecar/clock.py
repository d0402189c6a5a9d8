"""Time on the wire: ISO 8601 UTC with milliseconds and ``Z``; in the store: integer epoch milliseconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_ms() -> int:
    return int(time.time() * 1000)


def utc_now() -> datetime:
    return datetime.now(UTC)


_SECONDS: dict[int, str] = {}
_SECONDS_KEPT = 4096
_MILLIS = tuple(f".{millis:03d}Z" for millis in range(1000))  # the tail of every formatted time


def to_iso(ms: int | None) -> str | None:
    """Format epoch milliseconds as ``2026-01-15T10:00:00.000Z``.

    Formatted seconds are memoised in a small dict (cleared when it grows past a few thousand; a lookup
    and a store are each atomic, so threads at worst format a second twice): on the ingest path consecutive
    calls share a second, and a page of spans, whose start, end and receipt times fall in a few seconds,
    formats each second once instead of at every alternation between them.
    """
    if ms is None:
        return None
    seconds, millis = divmod(ms, 1000)
    text = _SECONDS.get(seconds)
    if text is None:
        if len(_SECONDS) >= _SECONDS_KEPT:
            _SECONDS.clear()
        moment = time.gmtime(seconds)  # %Y does not pad years before 1000 ("1-02-16"): pad it here
        text = _SECONDS[seconds] = f"{moment.tm_year:04d}" + time.strftime("-%m-%dT%H:%M:%S", moment)
    return text + _MILLIS[millis]


_PARSED: dict[str, int] = {}  # "2026-01-15T10:00:00" -> its epoch milliseconds, for the wire form's fast path


def parse_iso(text: str) -> int:
    """Parse an ISO 8601 timestamp (``Z`` or an offset; naive means UTC) to epoch milliseconds.

    A bare date (``2026-01-15``) means its midnight UTC. The wire form (``2026-01-15T10:00:00.123Z``, what
    the SDKs send) is parsed once per second: the seconds are memoised like :func:`to_iso`'s.

    Raises:
        ValueError: not a timestamp.
    """
    if not isinstance(text, str) or not 8 <= len(text) <= 40:
        raise ValueError("not an ISO 8601 timestamp")
    millis = text[20:23]
    wire = len(text) == 24 and text[19] == "." and text[23] == "Z" and millis.isascii() and millis.isdigit()
    if wire and (seconds := _PARSED.get(text[:19])) is not None:
        return seconds + int(millis)
    parsed = datetime.fromisoformat(text.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    ms = (parsed - _EPOCH) // timedelta(milliseconds=1)
    if wire:
        if len(_PARSED) >= _SECONDS_KEPT:
            _PARSED.clear()
        _PARSED[text[:19]] = ms - int(millis)
    return ms


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def datetime_to_ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // timedelta(milliseconds=1)
