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


def test_ids_made_in_a_batch_are_the_ids_single_calls_would_make() -> None:
    """new_many continues the random part across carries of its low characters, interleaves with new(),
    and borrows the next millisecond when the random part runs out."""
    single, batch = ids.IdGenerator(), ids.IdGenerator()
    for generator in (single, batch):
        generator._last_ms, generator._last_rand = 7000, (1 << 40) - 3000  # low bits near a carry
    expected = [single.new("log", now_ms=7000) for _ in range(5000)]
    made = batch.new_many("log", 2000, now_ms=7000) + [batch.new("log", now_ms=7000)]
    made += batch.new_many("log", 2999, now_ms=6999)  # a clock that went back keeps the millisecond
    assert made == expected
    assert [decode(i.split("_")[1][10:]) for i in made] == list(range((1 << 40) - 2999, (1 << 40) + 2001))
    assert batch.new_many("log", 0) == []

    full = ids.IdGenerator()
    full._last_ms, full._last_rand = 9000, ids._RANDOM_MAX - 1
    later = full.new_many("log", 3, now_ms=9000)
    assert [decode(i.split("_")[1][:10]) for i in later] == [9001] * 3 and later == sorted(later)
