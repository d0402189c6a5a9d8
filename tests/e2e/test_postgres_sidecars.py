"""Several sidecar processes on one PostgreSQL database: one migration, one gapless chain, each alert sent once.

Both processes share the data dir (its secrets: the JWT key, the ledger signing key, the notification key),
as sidecars behind one load balancer do; they share nothing else but the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


from tests.e2e.conftest import bootstrap, call
from tests.helpers import ROOT, SidecarProcess

SSN = "Patient SSN 123-45-6789 in the intake form."
BATCHES_PER_WORKER = 12
BATCH = 20
WORKERS_PER_SIDECAR = 3


class _Hooks:
    """What the webhook receiver got: every signed event id, in arrival order."""

    def __init__(self) -> None:
        self.secret = b""
        self.ids: list[str] = []
        self.bad = 0
        self.lock = threading.Lock()


def _receiver(hooks: _Hooks) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            parts = dict(p.split("=", 1) for p in self.headers["X-AgentAudit-Signature"].split(","))
            good = hmac.compare_digest(hmac.new(hooks.secret, f"{parts['t']}.".encode() + body,
                                                hashlib.sha256).hexdigest(), parts["v1"])
            with hooks.lock:
                if good:
                    hooks.ids.append(json.loads(body)["id"])
                else:
                    hooks.bad += 1
            self.send_response(204 if good else 401)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _wait(predicate, timeout: float = 60.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def _start_together(sidecars: list[SidecarProcess]) -> list[str]:
    with ThreadPoolExecutor(len(sidecars)) as pool:
        return list(pool.map(lambda s: s.start(timeout=60), sidecars))


def _psql(url: str, statement: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as conn:
        return list(conn.execute(statement).fetchall())



def test_two_sidecars_ingest_into_one_organisation(tmp_path: Path, database: str) -> None:
    hooks = _Hooks()
    receiver = _receiver(hooks)
    env = {"AGENTAUDIT_DATABASE_URL": database, "AGENTAUDIT_CHECKPOINT_EVENTS": "100",
           "AGENTAUDIT_NOTIFY_RETRY_BASE_MS": "100"}
    sidecars = [SidecarProcess(tmp_path / "data", env=env) for _ in range(2)]
    try:
        bases = _start_together(sidecars)
        created = ["created a new database" in "".join(s.output) for s in sidecars]
        assert created.count(True) == 1, "exactly one process creates the schema; the other waits for it"
        versions = _psql(database, "SELECT version, COUNT(*) FROM schema_version GROUP BY version ORDER BY version")
        assert versions and all(count == 1 for _, count in versions)

        token, key = bootstrap(bases[0])
        jwt = {"Authorization": f"Bearer {token}"}
        assert call(f"{bases[0]}/api/v1/compliance-rules/packs", "POST", {"packId": "hipaa"}, jwt)[0] == 201
        status, settings = call(f"{bases[1]}/api/v1/notifications/settings", "PATCH", {
            "webhookUrl": f"http://127.0.0.1:{receiver.server_port}/hook", "notifyWebhook": True,
            "allowPrivateWebhookTargets": True, "notifyMinSeverity": "info"}, jwt)  # the other sidecar: same JWT key
        assert status == 200, settings
        hooks.secret = settings["webhookSecret"].encode()  # type: ignore[index]

        def ingest(base: str, worker: int) -> list[int]:
            sequences = []
            for batch in range(BATCHES_PER_WORKER):
                events = [{"action": "llm_call", "agentId": f"w{worker}",
                           "prompt": SSN if (batch * BATCH + i) % 10 == 0 else f"event {worker}.{batch}.{i}"}
                          for i in range(BATCH)]
                status, body = call(f"{base}/api/v1/audit-logs/batch", "POST", events, {"X-API-Key": key})
                assert status == 201, body
                sequences += [event["sequence"] for event in body["data"]]  # type: ignore[index]
            return sequences

        jobs = [(base, n) for n in range(WORKERS_PER_SIDECAR) for base in bases]
        with ThreadPoolExecutor(len(jobs)) as pool:
            acknowledged = [seq for seqs in pool.map(lambda job: ingest(*job), jobs) for seq in seqs]
        total = len(jobs) * BATCHES_PER_WORKER * BATCH
        assert sorted(acknowledged) == list(range(1, total + 1)), "gapless, no sequence given twice"

        [(count, low, high)] = _psql(database, "SELECT COUNT(*), MIN(seq), MAX(seq) FROM audit_logs")
        assert (count, low, high) == (total, 1, total)
        [(last_seq,)] = _psql(database, "SELECT last_seq FROM organizations")
        assert last_seq == total

        alerts = [row[0] for row in _psql(database, "SELECT id FROM alerts")]
        assert len(alerts) >= total // 10
        outbox = _psql(database, "SELECT COUNT(*) FROM outbox_events WHERE type = 'alert.created'")[0][0]
        assert outbox == len(alerts)
        _wait(lambda: len(hooks.ids) >= len(alerts))
        time.sleep(1.0)  # room for a second delivery, which must not come
        assert len(hooks.ids) == len(set(hooks.ids)) == len(alerts), "every alert's webhook arrives exactly once"
        assert hooks.bad == 0
        statuses = _psql(database, "SELECT status, COUNT(*) FROM deliveries GROUP BY status")
        assert statuses == [("delivered", len(alerts))]
    finally:
        for sidecar in sidecars:
            sidecar.stop()
        receiver.shutdown()
        receiver.server_close()

    verify = subprocess.run([sys.executable, "-m", "sidecar", "verify", "--data-dir", str(tmp_path / "data"),
                             "--database-url", database], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "RESULT: intact" in verify.stdout
    assert f"checked {total:,} events" in verify.stdout


def _agentaudit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "sidecar", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_migrate_runs_once_when_two_start_together(database: str) -> None:
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: _agentaudit("migrate", "--database-url", database), range(2)))
    assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
    outputs = sorted(run.stdout for run in runs)
    assert "up to date" in outputs[1] and "schema version 0 -> " in outputs[0], outputs
    versions = _psql(database, "SELECT version FROM schema_version ORDER BY version")
    again = _agentaudit("migrate", "--database-url", database)
    assert again.returncode == 0 and "up to date" in again.stdout
    assert _psql(database, "SELECT version FROM schema_version ORDER BY version") == versions
    triggers = {row[0] for row in _psql(database, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
    assert {"audit_logs_no_update", "audit_logs_no_delete"} <= triggers


def test_copy_a_workstation_to_postgresql_then_serve_from_it(tmp_path: Path, database: str) -> None:
    import sqlite3

    data = tmp_path / "data"
    sidecar = SidecarProcess(data, env={"AGENTAUDIT_CHECKPOINT_EVENTS": "40"})
    base = sidecar.start()
    try:
        token, key = bootstrap(base)
        jwt = {"Authorization": f"Bearer {token}"}
        call(f"{base}/api/v1/compliance-rules/packs", "POST", {"packId": "hipaa"}, jwt)
        for batch in range(6):
            events = [{"action": "tool_call", "agentId": f"a{batch}", "traceId": f"t{batch}",
                       "prompt": SSN if i % 7 == 0 else f"step {i}"} for i in range(25)]
            assert call(f"{base}/api/v1/audit-logs/batch", "POST", events, {"X-API-Key": key})[0] == 201
    finally:
        sidecar.stop()
    tables = ("organizations", "users", "api_keys", "audit_logs", "traces", "alerts", "violations", "policies",
              "rules", "ledger_checkpoints", "usage_counts", "activity")
    conn = sqlite3.connect(data / "agentaudit.db")
    try:
        before = {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in tables}
    finally:
        conn.close()
    assert before["audit_logs"] == 150 and before["ledger_checkpoints"] >= 3 and before["alerts"] > 0

    copied = _agentaudit("copy", "--from", f"sqlite:///{data / 'agentaudit.db'}", "--to", database,
                         "--data-dir", str(data))
    assert copied.returncode == 0, copied.stdout + copied.stderr
    assert "RESULT: copied, intact" in copied.stdout
    after = {table: _psql(database, f"SELECT COUNT(*) FROM {table}")[0][0] for table in tables}
    assert after == before

    verify = _agentaudit("verify", "--data-dir", str(data), "--database-url", database)
    assert verify.returncode == 0 and "RESULT: intact" in verify.stdout, verify.stdout + verify.stderr
    assert "checked 150 events" in verify.stdout

    again = _agentaudit("copy", "--from", f"sqlite:///{data / 'agentaudit.db'}", "--to", database,
                        "--data-dir", str(data))
    assert again.returncode == 2 and "already holds data" in again.stderr

    served = SidecarProcess(data, env={"AGENTAUDIT_DATABASE_URL": database})
    base = served.start()
    try:
        status, reply = call(f"{base}/api/v1/audit-logs", "POST", {"action": "after_the_move"}, {"X-API-Key": key})
        assert status == 201 and reply["sequence"] == 151  # type: ignore[index]
    finally:
        served.stop()
    verify = _agentaudit("verify", "--data-dir", str(data), "--database-url", database)
    assert verify.returncode == 0 and "checked 151 events" in verify.stdout, verify.stdout + verify.stderr


def test_failed_logins_count_across_sidecars(tmp_path: Path, database: str) -> None:
    """A guesser spread over several sidecars gets no more tries than one sidecar gives."""
    env = {"AGENTAUDIT_DATABASE_URL": database}
    sidecars = [SidecarProcess(tmp_path / "data", env=env) for _ in range(2)]
    try:
        a, b = _start_together(sidecars)
        bootstrap(a)
        status, account = call(f"{a}/api/v1/auth/register", "POST",
                               {"name": "Target", "email": "target@acme.test", "password": "right-password-1"})
        assert status == 201, account
        wrong = {"email": "target@acme.test", "password": "wrong-password"}
        for attempt in range(5):  # the free failures, alternating sidecars
            status, reply = call(f"{(a, b)[attempt % 2]}/api/v1/auth/login", "POST", wrong)
            assert status == 401, reply
        for base in (a, b):
            status, reply = call(f"{base}/api/v1/auth/login", "POST", wrong)
            assert (status, reply["code"]) == (429, "rate_limited"), reply  # type: ignore[index]
            assert reply["retryAfter"] >= 1  # type: ignore[index]
        status, reply = call(f"{b}/api/v1/auth/login", "POST",  # even the right password waits its turn
                             {"email": "target@acme.test", "password": "right-password-1"})
        assert status == 429, reply
    finally:
        for sidecar in sidecars:
            sidecar.stop()
