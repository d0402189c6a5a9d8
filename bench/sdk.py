"""SDK benchmark: the caller's cost of ``log(..., wait=False)`` and sustained events/s through the buffered client.

    .venv/bin/python bench/sdk.py [--events 30000] [--calls 50000] [--seconds 5] [--rounds 2] [--window 1,8,16]

What it measures (the sidecar as a real child process on a fresh data dir for each throughput run):
  1. caller cost: ``client.log(..., wait=False)`` timed one call at a time (median, p99, mean), with the sidecar up
     and with no sidecar at all (delivery failing in the background must not slow the caller);
  2. reference: batch ingest as ``bench/ingest.py`` measures it, wrk posting batches of 50 at concurrency 16;
  3. ours: ``--events`` events logged with ``wait=False`` as fast as the caller can, timed until the last is stored
     (``client.flush()``), with one sender thread keeping up to ``--window`` batches in flight; reported beside
     the reference from the same round.
Rounds alternate reference and ours; the best of each is compared. The machine is shared: figures are noisy.
A window of 1 keeps delivery in order; a wider one (the default is 16) keeps several batches in flight, which the
sidecar's group commit turns into throughput when it has CPU to spare.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import ingest  # noqa: E402  (bench/ingest.py: sidecar(), wrk(), stop(), free_port(), EVENT)

import agentaudit  # noqa: E402

EVENT = ingest.EVENT


def new_key(url: str) -> str:
    """Register, log in and create an API key on a fresh sidecar."""
    base = f"{url}/api/v1"
    account = {"email": "bench-sdk@example.com", "password": "bench-pass-1"}
    ingest.call(f"{base}/auth/register", "POST", {"name": "Bench", **account})
    token = ingest.call(f"{base}/auth/login", "POST", account)["accessToken"]  # type: ignore[index]
    key = ingest.call(f"{base}/auth/api-keys", "POST", {"name": "bench"}, {"Authorization": f"Bearer {token}"})
    return str(key["key"])  # type: ignore[index]


def caller_cost(client: agentaudit.AgentAuditClient, calls: int) -> dict[str, float]:
    """Per-call wall time of log(..., wait=False), in microseconds."""
    samples = []
    clock = time.perf_counter_ns
    meta = EVENT["metadata"]
    for i in range(calls):
        t0 = clock()
        client.log("llm_call", prompt=EVENT["prompt"], response=EVENT["response"], metadata=meta, wait=False)
        samples.append(clock() - t0)
    samples.sort()
    return {"median": samples[calls // 2] / 1000, "p99": samples[int(calls * 0.99)] / 1000,
            "max": samples[-1] / 1000, "mean": statistics.fmean(samples) / 1000}


def sustained(url: str, key: str, events: int, window: int) -> tuple[float, agentaudit.SenderStats]:
    """Events/s from the first log() until the last event is stored."""
    client = agentaudit.BufferedClient(api_key=key, base_url=f"{url}/api/v1", buffer_size=events + 1,
                                       window=window, agent_id=EVENT["agentId"])
    client.log("warm_up")
    client.flush(30)
    started = time.perf_counter()
    for i in range(events):
        client.log("llm_call", prompt=EVENT["prompt"], response=EVENT["response"], metadata=EVENT["metadata"],
                   trace_id=EVENT["traceId"])
    if not client.flush(600):
        raise RuntimeError("the buffered client did not drain")
    elapsed = time.perf_counter() - started
    stats = client.stats
    client.close()
    return events / elapsed, stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--window", default="1,8,16", help="batches in flight per run, comma-separated")
    args = parser.parse_args()
    windows = [int(w) for w in args.window.split(",")]
    have_wrk = shutil.which("wrk") is not None
    work = Path(tempfile.mkdtemp(prefix="agentaudit-bench-sdk-"))
    print(f"# AgentAudit SDK benchmark ({os.cpu_count()} cores; shared machine: figures are noisy)")
    try:
        proc, url = ingest.sidecar(work / "cost")
        key = new_key(url)
        with agentaudit.AgentAuditClient(api_key=key, base_url=f"{url}/api/v1", buffer_size=args.calls + 1) as up:
            up.log("warm_up", wait=False)
            up.flush(30)
            live = caller_cost(up, args.calls)
            up.flush(120)
        ingest.stop(proc)
        logging.getLogger("agentaudit").setLevel(logging.ERROR)  # its one "cannot reach" warning is expected here
        with agentaudit.AgentAuditClient(api_key=key, base_url=f"http://127.0.0.1:{ingest.free_port()}/api/v1",
                                         buffer_size=10_000, close_timeout=0.5) as dead:
            down = caller_cost(dead, args.calls)
        logging.getLogger("agentaudit").setLevel(logging.NOTSET)
        print(f"\n{'log(wait=False)':<26}{'median µs':>10}{'p99 µs':>9}{'mean µs':>9}{'max µs':>10}   goal: < 20 µs")
        for label, cost in (("sidecar up", live), ("no sidecar (dropping)", down)):
            print(f"{label:<26}{cost['median']:>10.2f}{cost['p99']:>9.2f}{cost['mean']:>9.2f}{cost['max']:>10.0f}")

        best_ref, best_ours = 0.0, {w: 0.0 for w in windows}
        body = json.dumps([EVENT] * 50).encode()
        print(f"\n{'round':<8}{'wrk batch c=16':>16}" + "".join(f"{f'SDK window {w}':>18}" for w in windows))
        for n in range(args.rounds):
            ref = float("nan")
            if have_wrk:
                proc, url = ingest.sidecar(work / f"ref{n}")
                key = new_key(url)
                result = ingest.wrk(f"{url}/api/v1/audit-logs/batch", body, connections=16, seconds=args.seconds,
                                    headers={"X-API-Key": key})
                ingest.stop(proc)
                ref = result["rps"] * 50
                best_ref = max(best_ref, ref)
            row = f"{n + 1:<8}{ref:>16,.0f}"
            for w in windows:
                proc, url = ingest.sidecar(work / f"sdk{n}-{w}")
                key = new_key(url)
                rate, stats = sustained(url, key, args.events, w)
                ingest.stop(proc)
                assert stats.sent == args.events + 1 and stats.dropped == stats.rejected == stats.lost == 0, stats
                best_ours[w] = max(best_ours[w], rate)
                row += f"{rate:>18,.0f}"
            print(row + "   events/s")
        if have_wrk:
            print(f"\n{'best':<8}{best_ref:>16,.0f}" + "".join(f"{best_ours[w]:>18,.0f}" for w in windows))
            print(f"{'ratio':<8}{'':>16}" + "".join(f"{best_ours[w] / best_ref:>18.0%}" for w in windows)
                  + "   goal: >= 80%")
        else:
            print("\n(wrk is not installed: no batch-ingest reference; sudo apt-get install wrk)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
