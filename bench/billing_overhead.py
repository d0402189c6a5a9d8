"""What billing costs on the ingest path, measured in one process so machine noise hits both sides alike.

    .venv/bin/python bench/billing_overhead.py [--rounds 5] [--events 6000]

1. The writer with and without its usage meter (quota check per job + one UPSERT per organisation per
   group commit): single-event jobs from 64 concurrent submitters, rounds interleaved A/B/A/B.
   Wall-clock rates on a shared machine are noisy, so it also reports the meter's own CPU share of the
   writer's work: time inside admit/flush/commit over time inside ``Writer._process``.
2. The rate limiter's token bucket: nanoseconds per check.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sidecar.services import plans  # noqa: E402
from sidecar.services.rate_limits import RateLimiter  # noqa: E402
from sidecar.store import migrations  # noqa: E402
from sidecar.store.db import open_database  # noqa: E402
from sidecar.store.models import Organization, database_proxy  # noqa: E402
from sidecar.store.usage import UsageMeter  # noqa: E402
from sidecar.store.writer import PendingEvent, Writer  # noqa: E402


async def _round(writer: Writer, org_id: str, events: int, concurrency: int = 64) -> float:
    per_worker = events // concurrency

    async def worker(n: int) -> None:
        for i in range(per_worker):
            await writer.ingest([PendingEvent(org_id=org_id, action="llm_call", prompt=f"prompt {n}-{i}" * 8,
                                              metadata={"model": "gpt-4o"}, metadata_json='{"model":"gpt-4o"}')])

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return per_worker * concurrency / (time.perf_counter() - started)


class _TimedMeter(UsageMeter):
    spent = 0.0

    def admit(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return super().admit(*args, **kwargs)
        finally:
            _TimedMeter.spent += time.perf_counter() - started

    def flush(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return super().flush(*args, **kwargs)
        finally:
            _TimedMeter.spent += time.perf_counter() - started

    def commit(self) -> None:
        started = time.perf_counter()
        super().commit()
        _TimedMeter.spent += time.perf_counter() - started


class _TimedWriter(Writer):
    spent = 0.0

    def _process(self, jobs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            super()._process(jobs)
        finally:
            _TimedWriter.spent += time.perf_counter() - started


async def writer_ab(rounds: int, events: int) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{tmp}/bench.db", synchronous="FULL")
        database_proxy.initialize(db)
        with db.connection_context():
            migrations.migrate(db)
            Organization.create(id="org_bench", name="Bench", email="b@x", plan="pro", created_at=0, updated_at=0)
        meter = _TimedMeter(db, lambda plan: plans.effective(plan, billing_enabled=True).monthly_events * 1000)
        writer = _TimedWriter(db, max_group=2000)
        writer.start()
        without, with_meter = [], []
        shares: list[tuple[float, int]] = []
        try:
            await _round(writer, "org_bench", 2000)  # warm up
            for _ in range(rounds):
                writer.meter = None
                without.append(await _round(writer, "org_bench", events))
                writer.meter = meter
                _TimedWriter.spent = 0.0
                groups = writer.commits
                with_meter.append(await _round(writer, "org_bench", events))
                shares.append((_TimedMeter.spent / _TimedWriter.spent, (writer.commits - groups)))
                _TimedMeter.spent = 0.0
        finally:
            writer.close()
        global SHARES
        SHARES = shares
        return without, with_meter


SHARES: list[tuple[float, int]] = []


def limiter_ns(checks: int = 200_000) -> float:
    limiter = RateLimiter({"ingest": (10**9, 10**9)})
    started = time.perf_counter_ns()
    for _ in range(checks):
        limiter.check("ingest", "key_1")
    return (time.perf_counter_ns() - started) / checks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=6400)
    args = parser.parse_args()
    without, with_meter = asyncio.run(writer_ab(args.rounds, args.events))
    print("writer, single-event jobs, 64 submitters, synchronous=FULL (events/s per round)")
    print("  without usage meter: " + ", ".join(f"{v:,.0f}" for v in without) + f"  median {statistics.median(without):,.0f}")
    print("  with usage meter:    " + ", ".join(f"{v:,.0f}" for v in with_meter) + f"  median {statistics.median(with_meter):,.0f}")
    print(f"  ratio of medians:    {statistics.median(with_meter) / statistics.median(without):.1%}")
    share = statistics.median(s for s, _ in SHARES)
    commits = statistics.median(c for _, c in SHARES)
    print(f"  meter's share of the writer's time (with meter): median {share:.2%} "
          f"({args.events / commits:.0f} events per group commit on median)")
    print(f"rate limiter: {limiter_ns():.0f} ns per check")


if __name__ == "__main__":
    main()
