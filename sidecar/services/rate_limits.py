"""Request rate limits: a token bucket per caller and kind of call, in memory (one sidecar process).

Kinds: ``ingest`` (writing audit events), ``read`` (every other authenticated call) and ``auth`` (the
public account routes, per client address). Each has its own ``(rate per second, burst)``; a rate of 0
switches that kind off. Over the limit: :class:`~sidecar.errors.RateLimited` with the whole seconds until
a token is back (``Retry-After``). Login throttling after failed passwords is separate (``throttle.py``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

from sidecar.errors import RateLimited

_MAX_BUCKETS = 50_000


class RateLimiter:
    """Token buckets keyed by ``(kind, caller)``; cheap enough for the ingest path (a dict lookup and arithmetic).

    Args:
        limits: ``{kind: (rate per second, burst)}``.
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(self, limits: Mapping[str, tuple[int, int]], clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = {kind: (float(rate), float(max(burst, 1))) for kind, (rate, burst) in limits.items() if rate > 0}
        self._clock = clock
        self._buckets: dict[tuple[str, str], list[float]] = {}

    def enabled(self, kind: str) -> bool:
        return kind in self._limits

    def check(self, kind: str, caller: str) -> None:
        """Take one token from the caller's bucket for ``kind``.

        Raises:
            RateLimited: the bucket is empty; ``retry_after`` says when a token is back.
        """
        limit = self._limits.get(kind)
        if limit is None:
            return
        rate, burst = limit
        now = self._clock()
        key = (kind, caller)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _MAX_BUCKETS:
                self._prune(now)
            self._buckets[key] = [burst - 1.0, now]
            return
        tokens = min(burst, bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return
        bucket[0] = tokens
        wait = math.ceil((1.0 - tokens) / rate)
        raise RateLimited(f"too many {kind} requests for this credential (limit {rate:g}/s, burst {burst:g}); "
                          f"retry in {wait} s", wait)

    def _prune(self, now: float) -> None:
        """Drop the buckets that have refilled (they hold nothing a fresh bucket wouldn't)."""
        for key, (tokens, at) in list(self._buckets.items()):
            rate, burst = self._limits.get(key[0], (1.0, 1.0))
            if tokens + (now - at) * rate >= burst:
                del self._buckets[key]
        if len(self._buckets) >= _MAX_BUCKETS:
            self._buckets.clear()
