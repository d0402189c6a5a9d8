"""The sidecar outlives its PostgreSQL connections: when the server drops them (a restart, a failover, a proxy's
idle timeout), the next requests reconnect; nothing acknowledged is lost and the chain stays whole."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path


from tests.e2e.conftest import bootstrap, call
from tests.helpers import ROOT, SidecarProcess



def _drop_connections(url: str) -> int:
    """Terminate every server process serving the database but ours, as a server restart does."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchall()
    return len(rows)


def test_dropped_connections_are_replaced(tmp_path: Path, database: str) -> None:
    sidecar = SidecarProcess(tmp_path / "data", env={"AGENTAUDIT_DATABASE_URL": database})
    base = sidecar.start(timeout=60)
    try:
        token, key = bootstrap(base)
        headers = {"X-API-Key": key}
        acknowledged = []
        for round_ in range(3):
            for n in range(5):
                status, event = call(f"{base}/api/v1/audit-logs", "POST",
                                     {"action": "llm_call", "prompt": f"round {round_} event {n}"}, headers)
                assert status == 201, event
                acknowledged.append(event["id"])  # type: ignore[index]
            status, page = call(f"{base}/api/v1/audit-logs?limit=500", headers=headers)
            assert status == 200, page
            assert {e["id"] for e in page["data"]} == set(acknowledged)  # type: ignore[index]
            status, me = call(f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
            assert status == 200, me
            assert _drop_connections(database) >= 1
        status, batch = call(f"{base}/api/v1/audit-logs/batch", "POST",
                             [{"action": "tool_use", "prompt": f"after {i}"} for i in range(3)], headers)
        assert status == 201, batch
        status, page = call(f"{base}/api/v1/audit-logs?limit=500", headers=headers)
        assert status == 200 and page["pagination"]["total"] == len(acknowledged) + 3, page  # type: ignore[index]
    finally:
        sidecar.stop()
    output = "".join(sidecar.output)
    assert "Traceback" not in output, output
    verify = subprocess.run([sys.executable, "-m", "sidecar", "verify", "--data-dir", str(tmp_path / "data"),
                             "--database-url", database], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_connections_dropped_under_load_lose_nothing_acknowledged(tmp_path: Path, database: str) -> None:
    """Drops in the middle of transactions fail those requests (503, the client retries) and nothing else."""
    sidecar = SidecarProcess(tmp_path / "data", env={"AGENTAUDIT_DATABASE_URL": database})
    base = sidecar.start(timeout=60)
    acknowledged: list[dict] = []
    refused: list[tuple[int, object]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(worker: int, key: str) -> None:
        n = 0
        while not stop.is_set():
            status, body = call(f"{base}/api/v1/audit-logs/batch", "POST",
                                [{"action": "llm_call", "agentId": f"w{worker}", "prompt": f"{worker}.{n}.{i}"}
                                 for i in range(5)], {"X-API-Key": key})
            with lock:
                (acknowledged.extend(body["data"]) if status == 201 else refused.append((status, body)))  # type: ignore[index]
            n += 1

    try:
        _, key = bootstrap(base)
        threads = [threading.Thread(target=client, args=(w, key)) for w in range(4)]
        for thread in threads:
            thread.start()
        for _ in range(5):
            time.sleep(0.3)
            _drop_connections(database)
        time.sleep(0.3)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        print(f"dropped connections under load: {len(acknowledged)} events acknowledged, {len(refused)} batches refused")
        assert all(status == 503 and "not stored" in body["error"] for status, body in refused), (  # type: ignore[index]
            refused, "".join(sidecar.output)[-6000:])
        status, event = call(f"{base}/api/v1/audit-logs", "POST", {"action": "after"}, {"X-API-Key": key})
        assert status == 201, event
        acknowledged.append(event)  # type: ignore[arg-type]
        status, page = call(f"{base}/api/v1/audit-logs?limit=500", headers={"X-API-Key": key})
        total = page["pagination"]["total"]  # type: ignore[index]
        assert total == len(acknowledged), (total, len(acknowledged), len(refused))
        assert sorted(e["sequence"] for e in acknowledged) == list(range(1, total + 1))
    finally:
        stop.set()
        sidecar.stop()
    output = "".join(sidecar.output)
    assert "Traceback" not in output, output
    verify = subprocess.run([sys.executable, "-m", "sidecar", "verify", "--data-dir", str(tmp_path / "data"),
                             "--database-url", database], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
