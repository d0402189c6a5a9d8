"""Sliding-window request counting for ``rate_limit`` rules.

:class:`RateWindow` keeps, per key (rule id + agent or organisation id), the timestamps of the
most recent ``maxRequests`` events and nothing older. An event violates the rule when
``maxRequests`` earlier events already fall inside the window that ends at the event: the
(maxRequests + 1)-th event within any ``windowMinutes`` span is the first violation. Every
event counts, violating or not (the event is stored either way).

Cost: O(1) amortised per event and O(maxRequests) memory per active key. Keys unused for longer
than their window are evicted lazily, and at most ``max_keys`` keys are kept (least recently
used first out), so memory stays bounded whatever the traffic. In memory only: a restart
forgets the windows. Not thread-safe: the caller serialises access (one per event loop).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timezone


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class RateResult:
    """The outcome of recording one event: ``count`` events (this one included) in the window,
    capped at ``limit + 1``; ``exceeded`` when that is more than ``limit``."""

    count: int
    limit: int
    exceeded: bool


class _Bucket:
    __slots__ = ("stamps", "window")

    def __init__(self, limit: int, window: float) -> None:
        self.stamps: deque[float] = deque(maxlen=max(limit, 1))
        self.window = window


class RateWindow:
    """In-memory sliding windows keyed by any hashable key.

    Args:
        clock: returns the current aware datetime; used when ``hit`` gets no ``now``.
        max_keys: upper bound on the number of keys kept.
    """

    def __init__(self, clock: Callable[[], datetime] = _utc_now, *, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[Hashable, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def hit(
        self, key: Hashable, *, limit: int, window_seconds: float, now: datetime | None = None
    ) -> RateResult:
        """Record one event for ``key`` at ``now`` and say whether it exceeds the limit."""
        ts = (now or self._clock()).timestamp()
        bucket = self._buckets.get(key)
        if bucket is None or bucket.stamps.maxlen != max(limit, 1) or bucket.window != window_seconds:
            bucket = _Bucket(limit, window_seconds)
            self._buckets[key] = bucket
        else:
            self._buckets.move_to_end(key)
        stamps = bucket.stamps
        if stamps and ts < stamps[-1]:
            ts = stamps[-1]  # clocks that step back never reorder the window
        horizon = ts - window_seconds
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        earlier = len(stamps) if limit > 0 else 0
        exceeded = earlier >= limit
        stamps.append(ts)
        self._evict(ts)
        return RateResult(count=min(earlier + 1, limit + 1), limit=limit, exceeded=exceeded)

    def peek(self, key: Hashable, *, window_seconds: float, now: datetime | None = None) -> int:
        """How many recorded events for ``key`` fall in the window ending at ``now`` (capped
        at the key's limit), without recording anything."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0
        horizon = (now or self._clock()).timestamp() - window_seconds
        return sum(1 for stamp in bucket.stamps if stamp > horizon)

    def _evict(self, ts: float) -> None:
        for _ in range(2):  # amortised: at most two stale keys per call
            if not self._buckets:
                return
            oldest_key = next(iter(self._buckets))
            bucket = self._buckets[oldest_key]
            if bucket.stamps and bucket.stamps[-1] > ts - bucket.window and len(self._buckets) <= self._max_keys:
                return
            del self._buckets[oldest_key]
