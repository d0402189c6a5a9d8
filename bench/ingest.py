"""Ingest and query benchmark: prints our figures beside ceilings measured in the same run.

    .venv/bin/python bench/ingest.py [--seconds 5] [--rounds 3] [--skip-queries] [--events 1000000]
    .venv/bin/python bench/ingest.py --database-url postgresql://user@host:port/db [--seconds 5]

What it measures (each on a fresh data dir, the sidecar as a real child process, load from wrk; each of our
runs is paired with a ceiling run made just before it, for --rounds rounds, and medians are printed, since the
machine's speed drifts from minute to minute):
  1. ceiling A: a trivial aiohttp handler (parse ~600 B of JSON, answer 201), at concurrency 1, 16, 64;
  2. ours: single-event POST /api/v1/audit-logs at the same concurrencies (events/s, p50, p99), and at 16 once
     more with the writer patched (here, not in the product) to answer without storing, which splits the gap to
     the ceiling between the HTTP side and the commit each answer waits for;
  3. ours: POST /api/v1/audit-logs/batch with 50 events, concurrency 16 (events/s);
  4. ceiling B: raw batched SQLite inserts into our own audit_logs schema (1,000 rows per transaction);
  5. queries on a database of --events events: GET /audit-logs?agentId=…&limit=50 and GET /traces/:id of a
     1,000-span trace (p50/p99 over sequential keep-alive requests).

With --database-url (PostgreSQL) it measures instead ingest into one PostgreSQL database by one sidecar and
by two sidecars sharing it (one wrk per sidecar, at the same time), single events and batches of 50, then
checks that the chain is gapless. It creates a scratch database next to the one the URL names (the URL's
user must be allowed to CREATE DATABASE) and drops it afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PY = sys.executable
EVENT = {
    "action": "llm_call",
    "agentId": "support-bot",
    "traceId": "run-1749300000000",
    "prompt": "Summarise the customer's last three tickets and suggest a reply. Keep it under 120 words and "
              "mention the refund policy where it applies. The customer writes in English.",
    "response": "The customer reported a delayed delivery twice and a damaged item once. Suggested reply: apologise, "
                "offer a replacement for the damaged item and a 10% voucher for the delays.",
    "metadata": {"model": "gpt-4o", "tokens": 340, "latency_ms": 812, "cost": 0.0042, "temperature": 0.2},
}

TRIVIAL_APP = textwrap.dedent('''
    import sys, json
    from aiohttp import web
    async def handler(request):
        body = json.loads(await request.read())
        return web.json_response({"id": "log_1", "action": body.get("action")}, status=201)
    app = web.Application()
    app.router.add_post("/api/v1/audit-logs", handler)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=lambda *a: print("ready", flush=True))
''')

#: Our sidecar with its writer answering ingest at once, storing nothing (a patch made here, in the benchmark; the
#: product has no such mode): what the HTTP stack, authentication, validation and the compliance gate cost
#: without the commit each answer waits for. Other units of work (the account set-up) still run.
NO_STORAGE_APP = textwrap.dedent('''
    import sys
    from sidecar.store import writer
    from sidecar.cli import main
    stored = {"id": "log_0", "organizationId": "org_0", "action": "llm_call", "agentId": "support-bot",
              "prompt": sys.argv.pop(), "response": sys.argv.pop(), "metadata": {"model": "gpt-4o"},
              "traceId": "run-1", "spanId": "log_0", "parentSpanId": None, "startedAt": "2026-01-01T00:00:00.000Z",
              "endedAt": "2026-01-01T00:00:00.000Z", "createdAt": "2026-01-01T00:00:00.000Z", "complianceFlags": [],
              "enforcementAction": "allow", "violationDetails": None, "sequence": 1, "hash": "0" * 64}
    process = writer.Writer._process
    def answer_at_once(self, jobs, attempt=0):
        ingest = [job for job in jobs if isinstance(job, writer._IngestJob)]
        others = [job for job in jobs if not isinstance(job, writer._IngestJob)]
        if others:
            process(self, others, attempt)
        if ingest:
            self._deliver([(job, [stored] * job.size, None) for job in ingest])
    writer.Writer._process = answer_at_once
    sys.argv = ["agentaudit", *sys.argv[1:]]
    sys.exit(main())
''')


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(cmd: list[str], ready: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if ready in line:
            return proc, line
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"{cmd} did not start")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    if proc.stdout:
        proc.stdout.close()


def call(url: str, method: str = "GET", body: object = None, headers: dict[str, str] | None = None) -> object:
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def wrk(url: str, body: bytes, *, connections: int, seconds: float, headers: dict[str, str]) -> dict[str, float]:
    """Run wrk with a POST body; return requests/s, p50 and p99 latency in ms, non-2xx count."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body.decode())}",
                 'wrk.headers["Content-Type"] = "application/json"']
        lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
        script.write("\n".join(lines) + "\n")
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", script.name, url],
                             capture_output=True, text=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(script.name)
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    rps = float(found.group(1))

    def pct(label: str) -> float:
        found = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        if not found:
            return float("nan")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": pct("50"), "p99": pct("99"), "non2xx": float(bad.group(1)) if bad else 0.0}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far, from Linux /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


#: The benches measure throughput, not the per-key ingest limit (5,000 requests/s by default): the limiter still
#: runs on every request, with a bucket too large to refuse any.
UNLIMITED = {"AGENTAUDIT_RATE_INGEST_PER_SECOND": "1000000000", "AGENTAUDIT_RATE_INGEST_BURST": "1000000000"}


def sidecar(data_dir: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    proc, line = start([PY, "-m", "sidecar", "serve", "--port", "0", "--data-dir", str(data_dir)], "listening on",
                       env={**UNLIMITED, **(env or {})})
    url = re.search(r"(http://[\d.]+:\d+)", line).group(1)  # type: ignore[union-attr]
    return proc, url


def account(url: str) -> tuple[str, str]:
    """Register, log in, create an API key: (key, access token)."""
    call(f"{url}/api/v1/auth/register", "POST", {"name": "Bench", "email": "bench@example.com", "password": "bench-pass-1"})
    login = call(f"{url}/api/v1/auth/login", "POST", {"email": "bench@example.com", "password": "bench-pass-1"})
    token = login["accessToken"]  # type: ignore[index]
    key = call(f"{url}/api/v1/auth/api-keys", "POST", {"name": "bench"}, {"Authorization": f"Bearer {token}"})
    return str(key["key"]), str(token)  # type: ignore[index]


def raw_insert_ceiling(workdir: Path, rows: int = 200_000, per_txn: int = 1000) -> float:
    """Rows/s of sqlite3.executemany into our audit_logs schema (same indexes, WAL, synchronous=FULL)."""
    from sidecar.ids import IdGenerator
    from sidecar.store import migrations
    from sidecar.store.db import open_database
    from sidecar.store.models import database_proxy
    from sidecar.store.writer import LOG_COLUMNS

    path = workdir / "raw.db"
    db = open_database(f"sqlite:///{path}")
    database_proxy.initialize(db)
    with db.connection_context():
        migrations.migrate(db)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=FULL")
    ids = IdGenerator()
    prompt, response = EVENT["prompt"], EVENT["response"]
    meta = json.dumps(EVENT["metadata"])
    sql = f"INSERT INTO audit_logs ({', '.join(LOG_COLUMNS)}) VALUES ({', '.join('?' * len(LOG_COLUMNS))})"
    started = time.perf_counter()
    seq = 0
    for _ in range(rows // per_txn):
        now = int(time.time() * 1000)
        batch = []
        for _ in range(per_txn):
            seq += 1
            batch.append((ids.new("log", now_ms=now), "org_bench", seq, "llm_call", "support-bot", f"run-{seq // 50}",
                          f"span-{seq}", None, prompt, response, meta, now, now, now, None, "allow", False, None,
                          "0" * 64))
        conn.execute("BEGIN")
        conn.executemany(sql, batch)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return rows / elapsed


def build_query_db(data_dir: Path, events: int) -> tuple[str, str]:
    """Fill a data dir with ``events`` events over 200 agents plus one 1,000-span trace. Returns (agent, trace)."""
    from sidecar.ids import IdGenerator
    from sidecar.ledger.chain import GENESIS_HASH
    from sidecar.store import migrations
    from sidecar.store.db import open_database
    from sidecar.store.models import database_proxy
    from sidecar.store.writer import LOG_COLUMNS

    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "agentaudit.db"
    db = open_database(f"sqlite:///{path}")
    database_proxy.initialize(db)
    with db.connection_context():
        migrations.migrate(db)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=OFF")
    now = int(time.time() * 1000) - events
    conn.execute("INSERT INTO organizations (id, name, email, plan, last_seq, last_hash, pruned_seq, pruned_hash, "
                 "created_at, updated_at) VALUES ('org_query', 'Q', 'q@example.com', 'self_hosted', 0, ?, 0, ?, ?, ?)",
                 (GENESIS_HASH, GENESIS_HASH, now, now))
    ids = IdGenerator()
    sql = f"INSERT INTO audit_logs ({', '.join(LOG_COLUMNS)}) VALUES ({', '.join('?' * len(LOG_COLUMNS))})"
    meta = json.dumps(EVENT["metadata"])
    big_trace_every = events // 1000
    seq = 0
    while seq < events:
        batch = []
        conn.execute("BEGIN")
        for _ in range(min(10_000, events - seq)):
            seq += 1
            created = now + seq
            in_big = seq % big_trace_every == 0
            trace = "trace-big" if in_big else f"run-{seq // 40}"
            batch.append((ids.new("log", now_ms=created), "org_query", seq, "llm_call", f"agent-{seq % 200}", trace,
                          f"s{seq}", None, EVENT["prompt"], EVENT["response"], meta, created, created + 5, created,
                          None, "allow", False, None, "0" * 64))
        conn.executemany(sql, batch)
        conn.execute("COMMIT")
    conn.execute("UPDATE organizations SET last_seq = ? WHERE id = 'org_query'", (seq,))
    conn.execute("INSERT INTO traces (org_id, trace_id, root_action, root_started_at, root_parentless, agent_ids, "
                 "span_count, flagged_count, blocked_count, enforcement, started_at, ended_at, last_seq) "
                 "VALUES ('org_query', 'trace-big', 'llm_call', ?, 1, '[]', 1000, 0, 0, 'allow', ?, ?, ?)",
                 (now, now, now + seq, seq))
    conn.execute("ANALYZE")
    conn.close()
    return "agent-17", "trace-big"


def time_gets(url: str, headers: dict[str, str], n: int) -> tuple[float, float]:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    samples = []
    for i in range(n + 5):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}")
        if i >= 5:  # warm-up excluded
            samples.append((time.perf_counter() - t0) * 1000)
    conn.close()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3, help="paired ingest/ceiling rounds (medians are printed)")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--skip-queries", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true", help="only the query figures")
    parser.add_argument("--database-url", help="postgresql://…: measure one and two sidecars on PostgreSQL instead")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench/ingest.py needs wrk: sudo apt-get install wrk (make bench installs it when run as root)")
        return 1
    work = Path(tempfile.mkdtemp(prefix="agentaudit-bench-"))
    body = json.dumps(EVENT).encode()
    print(f"# AgentAudit ingest benchmark ({os.cpu_count()} cores, wrk -t1, {args.seconds:g}s per run, event {len(body)} B)")
    try:
        if args.database_url:
            postgres_figures(work, body, args.seconds, args.database_url)
            return 0
        if not args.skip_ingest:
            ingest_figures(work, body, args.seconds, args.rounds)
        if not args.skip_queries:
            query_figures(work, args.events)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def ingest_figures(work: Path, body: bytes, seconds: float, rounds: int = 3) -> None:
    """Throughput and latency of ingest beside the two ceilings.

    The machine's speed drifts from minute to minute, so each of our runs is paired with a ceiling run made
    right before it (the trivial handler and the sidecar both stay up; raw inserts alternate with batches), for
    ``rounds`` rounds; the figures are the medians, the ratio the median of the pairs' ratios.
    """
    port = free_port()
    trivial, _ = start([PY, "-c", TRIVIAL_APP, str(port)], "ready")
    proc, url = sidecar(work / "ingest")
    key, token = account(url)
    headers = {"X-API-Key": key}
    trivial_url = f"http://127.0.0.1:{port}/api/v1/audit-logs"
    print(f"\n{'single POST':<22}{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'trivial/s':>11}{'ratio':>8}"
          f"   (medians of {rounds} paired rounds)")
    singles: dict[int, dict[str, float]] = {}
    cpu_pairs: list[tuple[float, float]] = []
    for c in (1, 16, 64):
        pairs = []
        for _ in range(rounds):
            before = cpu_seconds(trivial.pid)
            ceiling = wrk(trivial_url, body, connections=c, seconds=seconds, headers={})
            trivial_cpu = (cpu_seconds(trivial.pid) - before) / (ceiling["rps"] * round(seconds)) * 1e6
            before = cpu_seconds(proc.pid)
            ours = wrk(f"{url}/api/v1/audit-logs", body, connections=c, seconds=seconds, headers=headers)
            assert ours["non2xx"] == 0, ours
            if c == 16:
                cpu_pairs.append((trivial_cpu, (cpu_seconds(proc.pid) - before) / (ours["rps"] * round(seconds)) * 1e6))
            pairs.append((ceiling, ours))
        med = {k: statistics.median(ours[k] for _, ours in pairs) for k in ("rps", "p50", "p99")}
        singles[c] = med
        ratio = statistics.median(ours["rps"] / ceiling["rps"] for ceiling, ours in pairs)
        print(f"{'concurrency ' + str(c):<22}{med['rps']:>10,.0f}{med['p50']:>9.2f}{med['p99']:>9.2f}"
              f"{statistics.median(ceiling['rps'] for ceiling, _ in pairs):>11,.0f}{ratio:>8.0%}")
    no_storage_figures(work, trivial_url, body, seconds, rounds)
    stop(trivial)
    batch_body = json.dumps([EVENT] * 50).encode()
    batch_pairs = []
    batch_cpu = []
    for n in range(rounds):
        (work / f"raw-{n}").mkdir()
        raw = raw_insert_ceiling(work / f"raw-{n}")
        before = cpu_seconds(proc.pid)
        batch = wrk(f"{url}/api/v1/audit-logs/batch", batch_body, connections=16, seconds=seconds, headers=headers)
        batch_cpu.append((cpu_seconds(proc.pid) - before) / (batch["rps"] * 50 * round(seconds)) * 1e6)
        assert batch["non2xx"] == 0, batch
        batch_pairs.append((raw, batch))
    for pack in ("hipaa", "gdpr", "finance", "secrets"):
        call(f"{url}/api/v1/compliance-rules/packs", "POST", {"packId": pack}, {"Authorization": f"Bearer {token}"})
    call(f"{url}/api/v1/audit-logs", "POST", EVENT, headers)  # the first event after a change compiles the rules
    packed = wrk(f"{url}/api/v1/audit-logs", body, connections=16, seconds=seconds, headers=headers)
    packed_batch = wrk(f"{url}/api/v1/audit-logs/batch", batch_body, connections=16, seconds=seconds,
                       headers=headers)
    assert packed["non2xx"] == 0 and packed_batch["non2xx"] == 0
    stop(proc)
    batch_rate = statistics.median(batch["rps"] * 50 for _, batch in batch_pairs)
    print(f"\n{'batches of 50 (c=16)':<22}{batch_rate:>10,.0f} events/s  p50 "
          f"{statistics.median(b['p50'] for _, b in batch_pairs):.1f} ms  "
          f"p99 {statistics.median(b['p99'] for _, b in batch_pairs):.1f} ms")
    print(f"{'raw SQLite ceiling':<22}{statistics.median(raw for raw, _ in batch_pairs):>10,.0f} rows/s "
          f"(executemany, 1,000 rows/txn, our schema, FULL sync)")
    print(f"{'batch / raw':<22}{statistics.median(b['rps'] * 50 / raw for raw, b in batch_pairs):>10.0%}"
          "   (each round: " + ", ".join(f"{b['rps'] * 50 / raw:.0%}" for raw, b in batch_pairs) + ")")
    trivial_us = statistics.median(t for t, _ in cpu_pairs)
    ours_us = statistics.median(o for _, o in cpu_pairs)
    print(f"\nserver CPU per event (load on the machine barely changes it): single POST c=16 "
          f"{ours_us:.0f} µs (trivial handler {trivial_us:.0f} µs, ratio {trivial_us / ours_us:.0%}); "
          f"batches of 50 {statistics.median(batch_cpu):.0f} µs")
    print(f"\nwith all four packs installed (hipaa, gdpr, finance, secrets; a clean event):")
    print(f"{'single POST c=16':<22}{packed['rps']:>10,.0f} events/s  p99 {packed['p99']:.2f} ms  "
          f"({packed['rps'] / singles[16]['rps']:.0%} of the same without packs)")
    print(f"{'batches of 50 c=16':<22}{packed_batch['rps'] * 50:>10,.0f} events/s  "
          f"({packed_batch['rps'] * 50 / batch_rate:.0%} of the same without packs)")


def no_storage_figures(work: Path, trivial_url: str, body: bytes, seconds: float, rounds: int) -> None:
    """Single POSTs at concurrency 16 to our sidecar with storage skipped (:data:`NO_STORAGE_APP`), paired with
    the trivial handler like the rows above: the share of the gap that is the HTTP side, not the commit."""
    proc, line = start([PY, "-c", NO_STORAGE_APP, "serve", "--port", "0", "--data-dir", str(work / "no-storage"),
                        EVENT["response"], EVENT["prompt"]], "listening on", env=UNLIMITED)
    try:
        url = re.search(r"(http://[\d.]+:\d+)", line).group(1)  # type: ignore[union-attr]
        headers = {"X-API-Key": account(url)[0]}
        pairs = []
        for _ in range(rounds):
            ceiling = wrk(trivial_url, body, connections=16, seconds=seconds, headers={})
            ours = wrk(f"{url}/api/v1/audit-logs", body, connections=16, seconds=seconds, headers=headers)
            assert ours["non2xx"] == 0, ours
            pairs.append((ceiling, ours))
    finally:
        stop(proc)
    ratio = statistics.median(ours["rps"] / ceiling["rps"] for ceiling, ours in pairs)
    print(f"{'c=16, nothing stored':<22}{statistics.median(o['rps'] for _, o in pairs):>10,.0f}"
          f"{statistics.median(o['p50'] for _, o in pairs):>9.2f}{statistics.median(o['p99'] for _, o in pairs):>9.2f}"
          f"{statistics.median(c['rps'] for c, _ in pairs):>11,.0f}{ratio:>8.0%}   (the writer answers at once: "
          "HTTP, auth, validation, rules only)")


def _scratch_database(url: str) -> tuple[str, str]:
    """Create a scratch database on the server ``url`` names: ``(its URL, its name)``."""
    import psycopg

    name = f"agentaudit_bench_{os.getpid()}"
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}", name


def _drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wrk_together(urls: list[str], body: bytes, *, connections: int, seconds: float,
                  headers: dict[str, str]) -> list[dict[str, float]]:
    """One wrk per URL, all at the same time."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(lambda u: wrk(u, body, connections=connections, seconds=seconds, headers=headers),
                             urls))


def postgres_figures(work: Path, body: bytes, seconds: float, url: str) -> None:
    """Ingest into one PostgreSQL database by one sidecar, then by two at once; then check the chain."""
    import psycopg

    database, name = _scratch_database(url)
    batch_body = json.dumps([EVENT] * 50).encode()
    procs: list[subprocess.Popen[str]] = []
    try:
        env = {"AGENTAUDIT_DATABASE_URL": database}
        proc, first = sidecar(work / "pg", env)
        procs.append(proc)
        key, _ = account(first)
        headers = {"X-API-Key": key}
        print(f"\nPostgreSQL {database.rsplit('@', 1)[-1]}: ingest (events/s, wrk -t1 per sidecar)")
        print(f"{'':<34}{'1 sidecar':>12}{'2 sidecars':>12}{'ratio':>8}")
        one_single = wrk(f"{first}/api/v1/audit-logs", body, connections=16, seconds=seconds, headers=headers)
        one_batch = wrk(f"{first}/api/v1/audit-logs/batch", batch_body, connections=16, seconds=seconds,
                        headers=headers)
        proc, second = sidecar(work / "pg", env)  # the same data dir: the same secrets, as behind a load balancer
        procs.append(proc)
        two_single = _wrk_together([f"{first}/api/v1/audit-logs", f"{second}/api/v1/audit-logs"], body,
                                   connections=8, seconds=seconds, headers=headers)
        two_batch = _wrk_together([f"{first}/api/v1/audit-logs/batch", f"{second}/api/v1/audit-logs/batch"],
                                  batch_body, connections=8, seconds=seconds, headers=headers)
        for run in (one_single, one_batch, *two_single, *two_batch):
            assert run["non2xx"] == 0, run
        rows = (
            ("single POST (c=16 in all)", one_single["rps"], sum(r["rps"] for r in two_single)),
            ("batches of 50 (c=16 in all)", one_batch["rps"] * 50, sum(r["rps"] for r in two_batch) * 50),
        )
        for label, one, two in rows:
            print(f"{label:<34}{one:>12,.0f}{two:>12,.0f}{two / one:>8.0%}")
        p99 = max(r["p99"] for r in two_single)
        print(f"{'single POST p99, 2 sidecars':<34}{p99:>12.2f} ms")
    finally:
        for proc in procs:
            stop(proc)
    with psycopg.connect(database, connect_timeout=10) as conn:
        count, last = conn.execute("SELECT COUNT(*), MAX(seq) FROM audit_logs").fetchone()
    print(f"chain: {count:,} events, sequences 1..{last:,}: {'gapless' if count == last else 'GAPS'}")
    _drop_database(url, name)


def query_figures(work: Path, events: int) -> None:
    """Latency of the two queries the issue names, on a database of ``events`` events."""
    print(f"\nbuilding a database of {events:,} events ...", flush=True)
    t0 = time.perf_counter()
    agent, trace = build_query_db(work / "query", events)
    print(f"built in {time.perf_counter() - t0:.0f} s")
    proc, url = sidecar(work / "query")
    # the bench database belongs to an organisation without users: give it one, then a key
    conn = sqlite3.connect(work / "query" / "agentaudit.db")
    key, _ = account(url)
    org = conn.execute("SELECT org_id FROM users WHERE email = 'bench@example.com'").fetchone()[0]
    conn.execute("UPDATE users SET org_id = 'org_query' WHERE org_id = ?", (org,))
    conn.execute("UPDATE api_keys SET org_id = 'org_query' WHERE org_id = ?", (org,))
    conn.commit()
    conn.close()
    stop(proc)
    proc, url = sidecar(work / "query")
    headers = {"X-API-Key": key}
    p50, p99 = time_gets(f"{url}/api/v1/audit-logs?agentId={agent}&limit=50", headers, 200)
    print(f"\n{'GET /audit-logs?agentId=…&limit=50':<40} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  (goal p50 < 10 ms)")
    p50, p99 = time_gets(f"{url}/api/v1/traces/{trace}", headers, 50)
    print(f"{'GET /traces/:id (1,000 spans)':<40} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  (goal p50 < 30 ms)")
    stop(proc)


if __name__ == "__main__":
    sys.exit(main())
