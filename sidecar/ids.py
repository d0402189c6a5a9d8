"""Prefixed, time-sortable identifiers (``log_01J…``): 48-bit milliseconds + 80 random bits, Crockford base32.

Within one process, ids made in the same millisecond increase monotonically, so
sorting ids sorts by creation order and recent-first queries walk an index in order.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_RANDOM_MAX = (1 << _RANDOM_BITS) - 1

PREFIXES = frozenset(
    {"log", "agent", "pol", "polv", "rule", "alert", "key", "report", "sched", "org", "user", "sess", "dlv", "act", "evt", "cp"}
)


_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # 10 bits -> 2 characters


def _encode(value: int, length: int) -> str:
    """Crockford base32 of ``value`` in exactly ``length`` characters (``length`` even)."""
    pairs = _PAIRS
    out = [pairs[(value >> shift) & 1023] for shift in range(5 * (length - 2), -1, -10)]
    return "".join(out)


def _encode_random(value: int) -> str:
    """16 Crockford characters for an 80-bit value: :func:`_encode` unrolled (this runs once per stored event)."""
    p = _PAIRS
    return (p[value >> 70] + p[(value >> 60) & 1023] + p[(value >> 50) & 1023] + p[(value >> 40) & 1023]
            + p[(value >> 30) & 1023] + p[(value >> 20) & 1023] + p[(value >> 10) & 1023] + p[value & 1023])


class IdGenerator:
    """Thread-safe monotonic ULID-style generator."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_rand = 0
        self._time_part = (-1, "")

    def new(self, prefix: str, *, now_ms: int | None = None) -> str:
        """Return ``<prefix>_<26 chars>``; later calls never sort before earlier ones."""
        ms = int(time.time() * 1000) if now_ms is None else now_ms
        with self._lock:
            if ms <= self._last_ms:
                ms = self._last_ms
                rand = self._last_rand + 1
                if rand > _RANDOM_MAX:  # 2**80 ids in one millisecond: borrow the next one
                    ms, rand = ms + 1, int.from_bytes(os.urandom(10), "big") >> 1
            else:
                rand = int.from_bytes(os.urandom(10), "big") >> 1  # leave headroom for increments
            self._last_ms, self._last_rand = ms, rand
        return f"{prefix}_{self._time_text(ms)}{_encode_random(rand)}"

    def new_many(self, prefix: str, count: int, *, now_ms: int | None = None) -> list[str]:
        """Return ``count`` ids at once, in increasing order, as ``count`` calls of :meth:`new` would.

        They share one millisecond and consecutive random parts, so each costs about a quarter of
        :meth:`new` (the writer names every event of a group commit this way).
        """
        if count <= 0:
            return []
        ms = int(time.time() * 1000) if now_ms is None else now_ms
        with self._lock:
            if ms <= self._last_ms:
                ms = self._last_ms
                first = self._last_rand + 1
            else:
                first = int.from_bytes(os.urandom(10), "big") >> 1
            if first + count - 1 > _RANDOM_MAX:  # the millisecond's ids run out: borrow the next one
                ms, first = ms + 1, int.from_bytes(os.urandom(10), "big") >> 1
            self._last_ms, self._last_rand = ms, first + count - 1
        head = f"{prefix}_{self._time_text(ms)}"
        pairs = _PAIRS
        ids = []
        stem, high = "", -1
        for rand in range(first, first + count):  # only the last two characters change until a carry
            if rand >> 10 != high:
                high = rand >> 10
                stem = head + _encode_random(rand)[:14]
            ids.append(stem + pairs[rand & 1023])
        return ids

    def _time_text(self, ms: int) -> str:
        cached = self._time_part
        if cached[0] != ms:
            cached = self._time_part = (ms, _encode(ms, 10))
        return cached[1]


_default = IdGenerator()


def new_id(prefix: str) -> str:
    """A new id from the process-wide generator."""
    return _default.new(prefix)


def looks_like(value: str, prefix: str) -> bool:
    """Cheap shape check before a lookup: right prefix and length."""
    return len(value) == len(prefix) + 27 and value.startswith(prefix + "_")
