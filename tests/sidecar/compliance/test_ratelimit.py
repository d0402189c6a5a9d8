"""The sliding window: exact counts at the edges, per-key isolation, bounded memory."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sidecar.compliance.ratelimit import RateWindow

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_window_slides() -> None:
    window = RateWindow()
    hits = [window.hit("k", limit=3, window_seconds=60, now=at(s)).exceeded for s in (0, 10, 20, 30)]
    assert hits == [False, False, False, True]
    # At 60 s the event from 0 s has left the window (it covers (t-60, t]).
    assert window.hit("k", limit=3, window_seconds=60, now=at(60)).exceeded is True  # 10, 20, 30 remain
    assert window.hit("k", limit=3, window_seconds=60, now=at(85)).exceeded is False  # only 30 and 60 remain
    assert window.hit("k", limit=3, window_seconds=60, now=at(200)).exceeded is False


def test_exact_boundary() -> None:
    window = RateWindow()
    assert not window.hit("k", limit=1, window_seconds=60, now=at(0)).exceeded
    assert window.hit("k", limit=1, window_seconds=60, now=at(59.999)).exceeded
    fresh = RateWindow()
    fresh.hit("k", limit=1, window_seconds=60, now=at(0))
    assert not fresh.hit("k", limit=1, window_seconds=60, now=at(60)).exceeded


def test_keys_are_independent_and_count_is_reported() -> None:
    window = RateWindow()
    results = [window.hit(("rule", "agent", "a"), limit=2, window_seconds=60, now=at(i)) for i in range(3)]
    assert [r.count for r in results] == [1, 2, 3]
    assert not window.hit(("rule", "agent", "b"), limit=2, window_seconds=60, now=at(3)).exceeded
    assert window.peek(("rule", "agent", "a"), window_seconds=60, now=at(3)) == 2


def test_clock_is_injectable_and_backwards_steps_are_safe() -> None:
    now = [at(100)]
    window = RateWindow(clock=lambda: now[0])
    assert not window.hit("k", limit=2, window_seconds=10).exceeded
    now[0] = at(50)  # the clock stepped back
    assert not window.hit("k", limit=2, window_seconds=10).exceeded
    assert window.hit("k", limit=2, window_seconds=10).exceeded


def test_memory_is_bounded_by_limit_and_keys() -> None:
    window = RateWindow(max_keys=100)
    for i in range(10_000):
        window.hit("hot", limit=5, window_seconds=3600, now=at(i * 0.01))
    assert window.peek("hot", window_seconds=3600, now=at(100)) == 5
    for i in range(1000):
        window.hit(f"agent-{i}", limit=5, window_seconds=60, now=at(i))
    assert len(window) <= 101
