"""Ledger benchmark: verification speed on a large database, and what the hash chain costs ingest.

    .venv/bin/python bench/verify.py [--events 1000000] [--seconds 5] [--rounds 5] [--skip-ingest] [--skip-verify]

1. Verification: builds a data dir of --events events (one organisation, rows written straight to SQLite with
   the writer's chain functions, a checkpoint signed with the data dir's key every 1,000 events; building is
   not timed), then times ``agentaudit verify`` over it, as the CLI runs it (parallel ranges, one process per
   CPU) and in one process (--jobs 1). Goal: at least 200,000 events/s. Also printed: events per CPU-second,
   which stays meaningful when other work shares the machine.
2. Ingest with the chain on and off: the sidecar as a real child process, loaded by wrk, once normally and once
   with AGENTAUDIT_BENCH_NO_CHAIN=1 (a benchmark-only setting: events get no chain hash and no checkpoint is
   signed). Runs alternate on/off for --rounds rounds, each on a fresh data dir; medians are compared.
   Goal: the chain costs at most 10%.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import EVENT, UNLIMITED, account, start, stop, wrk  # noqa: E402  (bench/ingest.py)

from sidecar.services.ledger_keys import trusted_public_keys  # noqa: E402
from sidecar.services.verification import verify_database  # noqa: E402
from tests.sidecar.ledger_integration.chain_db import build_ledger  # noqa: E402

PY = sys.executable


def _own_cpu() -> float:
    """CPU seconds used by this process and its finished children (the verify workers)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bench_verify(work: Path, events: int) -> None:
    data_dir = work / "verify"
    print(f"building a database of {events:,} events (not timed) ...", flush=True)
    started = time.perf_counter()
    build_ledger(data_dir, events=events)
    size = (data_dir / "agentaudit.db").stat().st_size
    print(f"built in {time.perf_counter() - started:.0f} s ({size / 1e6:,.0f} MB)")
    path = data_dir / "agentaudit.db"
    keys = trusted_public_keys(data_dir)
    print(f"\n{'verify':<34}{'events':>12}{'checkpoints':>13}{'seconds':>9}{'events/s':>12}{'per CPU-s':>12}")
    for label, workers in ((f"parallel ({os.cpu_count()} processes)", None), ("one process (--jobs 1)", 1)):
        cpu_before = _own_cpu()
        outcome = verify_database(path, trusted_keys=keys, workers=workers)
        cpu = _own_cpu() - cpu_before
        assert outcome.ok, outcome.first_break
        print(f"{label:<34}{outcome.events:>12,}{outcome.checkpoints:>13,}{outcome.elapsed:>9.2f}"
              f"{outcome.events / outcome.elapsed:>12,.0f}{outcome.events / cpu:>12,.0f}")
    started = time.perf_counter()
    result = subprocess.run([PY, "-m", "sidecar", "verify", "--data-dir", str(data_dir)], cwd=ROOT,
                            capture_output=True, text=True)
    wall = time.perf_counter() - started
    assert result.returncode == 0, result.stdout + result.stderr
    print(f"{'agentaudit verify (wall clock)':<34}{events:>12,}{'':>13}{wall:>9.2f}{events / wall:>12,.0f}")
    print("goal: at least 200,000 events/s ('per CPU-s': events per second of CPU used, which other load on the "
          "machine does not change)")


def _sidecar(data_dir: Path, *, chain: bool) -> tuple[subprocess.Popen[str], str]:
    env = {**UNLIMITED} if chain else {**UNLIMITED, "AGENTAUDIT_BENCH_NO_CHAIN": "1"}
    proc, line = start([PY, "-m", "sidecar", "serve", "--port", "0", "--data-dir", str(data_dir)], "listening on",
                       env=env)
    url = re.search(r"(http://[\d.]+:\d+)", line).group(1)  # type: ignore[union-attr]
    return proc, url


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _count(data_dir: Path) -> int:
    import sqlite3

    with sqlite3.connect(data_dir / "agentaudit.db") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM audit_logs").fetchone()[0])


def _run(work: Path, name: str, *, chain: bool, seconds: float) -> dict[str, float]:
    """One sidecar, two wrk runs (single events, then batches of 50); events/s and server CPU per event."""
    data_dir = work / name
    proc, url = _sidecar(data_dir, chain=chain)
    result: dict[str, float] = {}
    try:
        headers = {"X-API-Key": account(url)[0]}
        bodies = {"single": (f"{url}/api/v1/audit-logs", json.dumps(EVENT).encode(), 1),
                  "batch": (f"{url}/api/v1/audit-logs/batch", json.dumps([EVENT] * 50).encode(), 50)}
        wrk(bodies["single"][0], bodies["single"][1], connections=16, seconds=1, headers=headers)  # warm-up
        for kind, (target, body, per_request) in bodies.items():
            before_events, before_cpu = _count(data_dir), _cpu_seconds(proc.pid)
            measured = wrk(target, body, connections=16, seconds=seconds, headers=headers)
            assert measured["non2xx"] == 0, measured
            time.sleep(0.3)  # let the last commits land before counting
            events, cpu = _count(data_dir) - before_events, _cpu_seconds(proc.pid) - before_cpu
            result[kind] = measured["rps"] * per_request
            result[f"{kind}_cpu_us"] = cpu / events * 1e6 if events else float("nan")
    finally:
        stop(proc)
    import sqlite3

    with sqlite3.connect(data_dir / "agentaudit.db") as conn:
        result["checkpoints"] = conn.execute("SELECT COUNT(*) FROM ledger_checkpoints").fetchone()[0]
        result["hashed"] = conn.execute("SELECT COUNT(*) FROM audit_logs WHERE hash != ?", ("0" * 64,)).fetchone()[0]
    shutil.rmtree(data_dir, ignore_errors=True)
    return result


def bench_ingest(work: Path, seconds: float, rounds: int) -> None:
    if shutil.which("wrk") is None:
        print("the ingest comparison needs wrk: sudo apt-get install wrk")
        return
    print(f"\ningest, chain on vs off: wrk -t1 -c16, {seconds:g} s per run, {rounds} alternating rounds, "
          "fresh data dir per run", flush=True)
    runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    for index in range(rounds):
        for chain in ((True, False) if index % 2 == 0 else (False, True)):
            result = _run(work, f"ingest-{index}-{'on' if chain else 'off'}", chain=chain, seconds=seconds)
            runs[chain].append(result)
            print(f"  round {index + 1} chain {'on ' if chain else 'off'}: single {result['single']:>7,.0f}/s "
                  f"({result['single_cpu_us']:.0f} us CPU/event)   batch of 50 {result['batch']:>7,.0f} events/s "
                  f"({result['batch_cpu_us']:.0f} us CPU/event)   {result['checkpoints']:,.0f} checkpoints, "
                  f"{result['hashed']:,.0f} events hashed", flush=True)
    print(f"\n{'median':<34}{'chain on':>12}{'chain off':>12}{'on / off':>10}{'paired':>10}")
    for kind, label in (("single", "single POST (events/s)"), ("batch", "batches of 50 (events/s)"),
                        ("single_cpu_us", "single POST (server CPU us/event)"),
                        ("batch_cpu_us", "batches of 50 (server CPU us/event)")):
        on = statistics.median(r[kind] for r in runs[True])
        off = statistics.median(r[kind] for r in runs[False])
        paired = statistics.median(a[kind] / b[kind] for a, b in zip(runs[True], runs[False], strict=True))
        print(f"{label:<34}{on:>12,.1f}{off:>12,.1f}{on / off:>10.1%}{paired:>10.1%}")
    print("goal: chain on within 10% of chain off ('paired': the median of each round's on/off ratio, the two runs of a "
          "round made back to back, so drift in the machine's speed between rounds cancels)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-verify", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="agentaudit-ledger-bench-"))
    print(f"# AgentAudit ledger benchmark ({os.cpu_count()} cores)")
    try:
        if not args.skip_verify:
            bench_verify(work, args.events)
        if not args.skip_ingest:
            bench_ingest(work, args.seconds, args.rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
