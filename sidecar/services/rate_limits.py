"""Request rate limits: a token bucket per caller and kind of call, in memory (one sidecar process).

With several sidecars on one PostgreSQL database, :class:`SharedRateLimiter` keeps the bucket in the
database instead, so the limit holds for the caller across all of them. To keep a round trip off most
requests, each sidecar takes a small lease of tokens at a time (a twentieth of a second's worth) and spends
it locally for at most a second; the sidecars together can exceed the limit by at most one lease each.

Kinds: ``ingest`` (writing audit events), ``read`` (every other authenticated call) and ``auth`` (the
public account routes, per client address). Each has its own ``(rate per second, burst)``; a rate of 0
switches that kind off. Over the limit: :class:`~sidecar.errors.RateLimited` with the whole seconds until
a token is back (``Retry-After``). Login throttling after failed passwords is separate (``throttle.py``).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping

from sidecar.clock import now_ms
from sidecar.errors import RateLimited
from sidecar.store import rate_buckets
from sidecar.store.db import ReadPool

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

    async def acquire(self, kind: str, caller: str) -> None:
        """:meth:`check`, for callers that may wait (the middleware); see :class:`SharedRateLimiter`."""
        self.check(kind, caller)

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


_LEASE_SECONDS = 1.0


class SharedRateLimiter(RateLimiter):
    """Token buckets in the database, shared by every sidecar on it (PostgreSQL), spent through small leases.

    Args:
        limits: ``{kind: (rate per second, burst)}``.
        reads: the read pool whose connections run the take (one autocommitted statement).
        clock: monotonic seconds, for lease expiry (injectable for tests).
        wall_ms: epoch milliseconds, for the shared bucket's refill (injectable for tests).
    """

    def __init__(self, limits: Mapping[str, tuple[int, int]], reads: ReadPool, db: object, *,
                 clock: Callable[[], float] = time.monotonic, wall_ms: Callable[[], int] = now_ms) -> None:
        super().__init__(limits, clock)
        self._reads = reads
        self._db = db
        self._wall_ms = wall_ms
        self._leases: dict[tuple[str, str], list[float]] = {}  # key -> [tokens held, expires at]
        self._taking: dict[tuple[str, str], asyncio.Lock] = {}

    def _spend(self, key: tuple[str, str]) -> bool:
        lease = self._leases.get(key)
        if lease is not None and lease[0] >= 1.0 and self._clock() < lease[1]:
            lease[0] -= 1.0
            return True
        return False

    async def acquire(self, kind: str, caller: str) -> None:
        limit = self._limits.get(kind)
        if limit is None:
            return
        key = (kind, caller)
        if self._spend(key):
            return
        lock = self._taking.get(key)
        if lock is None:
            if len(self._taking) >= 50_000:
                self._taking.clear()
                self._leases.clear()
            lock = self._taking[key] = asyncio.Lock()
        async with lock:  # one take per caller at a time: concurrent requests share the lease it brings
            if self._spend(key):
                return
            rate, burst = limit
            want = max(1, int(min(burst, rate) / 20))
            granted, left = await self._reads.run(rate_buckets.take, self._db, kind, caller, rate=rate, burst=burst,
                                                  want=want, now_ms=self._wall_ms())
            if granted >= 1:
                self._leases[key] = [float(granted - 1), self._clock() + _LEASE_SECONDS]
                return
        wait = max(1, math.ceil((1.0 - left) / rate))
        raise RateLimited(f"too many {kind} requests for this credential (limit {rate:g}/s, burst {burst:g}); "
                          f"retry in {wait} s", wait)
