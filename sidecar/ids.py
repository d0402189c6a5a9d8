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
        cached = self._time_part
        if cached[0] != ms:
            cached = self._time_part = (ms, _encode(ms, 10))
        return f"{prefix}_{cached[1]}{_encode_random(rand)}"


_default = IdGenerator()


def new_id(prefix: str) -> str:
    """A new id from the process-wide generator."""
    return _default.new(prefix)


def looks_like(value: str, prefix: str) -> bool:
    """Cheap shape check before a lookup: right prefix and length."""
    return len(value) == len(prefix) + 27 and value.startswith(prefix + "_")
