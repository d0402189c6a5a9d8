"""Identifiers: Crockford base32, time-sortable, monotonic within a millisecond, unique across threads."""

from __future__ import annotations

import random
import threading

from sidecar import ids


def decode(text: str) -> int:
    value = 0
    for char in text:
        value = value * 32 + ids._ALPHABET.index(char)
    return value


def test_an_id_is_its_time_and_its_random_part() -> None:
    generator = ids.IdGenerator()
    made = generator.new("log", now_ms=1_764_115_200_123)
    prefix, body = made.split("_")
    assert prefix == "log" and len(body) == 26 and ids.looks_like(made, "log")
    assert decode(body[:10]) == 1_764_115_200_123
    for value in (0, 1, (1 << 80) - 1, random.getrandbits(80), random.getrandbits(80)):
        assert decode(ids._encode_random(value)) == value


def test_ids_sort_in_the_order_they_were_made_even_within_a_millisecond() -> None:
    generator = ids.IdGenerator()
    made = [generator.new("log", now_ms=1000 + n // 500) for n in range(2000)]
    made.append(generator.new("log", now_ms=999))  # a clock that went back still sorts last
    assert made == sorted(made) and len(set(made)) == len(made)


def test_threads_never_get_the_same_id() -> None:
    generator = ids.IdGenerator()
    out: list[list[str]] = [[] for _ in range(4)]

    def make(bucket: list[str]) -> None:
        bucket.extend(generator.new("evt", now_ms=5) for _ in range(5000))

    threads = [threading.Thread(target=make, args=(bucket,)) for bucket in out]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    every = [made for bucket in out for made in bucket]
    assert len(set(every)) == 20_000
