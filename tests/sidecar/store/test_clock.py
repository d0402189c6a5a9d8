"""Wire times: ISO 8601 text to epoch milliseconds and back, the wire form's memoised fast path included."""

from __future__ import annotations

import random

import pytest

from sidecar import clock


def test_wire_times_round_trip_through_the_memoised_seconds() -> None:
    rng = random.Random(7)
    moments = [1_764_115_200_000 + rng.randrange(0, 5_000) for _ in range(2_000)]  # many share a second
    moments += [rng.randrange(0, 4_000_000_000_000) for _ in range(2_000)]
    for ms in moments:
        text = clock.to_iso(ms)
        assert clock.parse_iso(text) == ms  # the first parse of a second fills the memo
        assert clock.parse_iso(text) == ms  # the second comes from it


@pytest.mark.parametrize("text, expected", [
    ("2026-01-15T10:00:00.123Z", 1_768_471_200_123),
    ("2026-01-15T10:00:00.123+00:00", 1_768_471_200_123),
    ("2026-01-15T11:00:00.123+01:00", 1_768_471_200_123),
    ("2026-01-15T10:00:00.123", 1_768_471_200_123),
    ("2026-01-15", 1_768_435_200_000),
])
def test_other_iso_forms_still_parse(text: str, expected: int) -> None:
    clock.parse_iso("2026-01-15T10:00:00.000Z")  # the second is memoised: the other forms must not use it
    assert clock.parse_iso(text) == expected


@pytest.mark.parametrize("text", [
    "2026-01-15T10:00:00.12aZ", "2026-01-15T10:00:00.\u0661\u0662\u0663Z", "2026-13-15T10:00:00.123Z",
    "2026-01-15T10:00:0x.123Z", "yesterday", "",
])
def test_malformed_times_are_refused_even_when_their_second_is_memoised(text: str) -> None:
    clock.parse_iso("2026-01-15T10:00:00.000Z")
    with pytest.raises(ValueError):
        clock.parse_iso(text)
