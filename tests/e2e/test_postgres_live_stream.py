"""Live streams across sidecars on one PostgreSQL database: a viewer on one sees what agents send to another,
each event once, in order, with its alerts; nothing is read for organisations no one watches."""

from __future__ import annotations

import json
import queue
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


from tests.e2e.conftest import bootstrap, call
from tests.helpers import SidecarProcess



def _drop_listeners(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        dropped = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE application_name = 'agentaudit-listener' AND datname = %s",
                               (url.rsplit("/", 1)[1],)).fetchall()
    assert len(dropped) == 2


class Stream:
    """``GET /api/v1/stream`` read on a thread: (event name, data) pairs on a queue."""

    def __init__(self, base: str, token: str) -> None:
        request = urllib.request.Request(f"{base}/api/v1/stream", headers={"Authorization": f"Bearer {token}"})
        self.response = urllib.request.urlopen(request, timeout=30)
        self.events: queue.Queue[tuple[str, dict]] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        name = None
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: ") and name:
                    self.events.put((name, json.loads(line[6:])))
                    name = None
        except (OSError, ValueError, AttributeError):  # closed by the test
            pass

    def take(self, count: int, timeout: float = 15.0) -> list[tuple[str, dict]]:
        deadline = time.monotonic() + timeout
        taken = []
        while len(taken) < count:
            taken.append(self.events.get(timeout=max(0.01, deadline - time.monotonic())))
        return taken

    def quiet(self, seconds: float) -> list[tuple[str, dict]]:
        time.sleep(seconds)
        extra = []
        while not self.events.empty():
            extra.append(self.events.get_nowait())
        return extra

    def close(self) -> None:
        self.response.close()


def test_a_viewer_on_one_sidecar_sees_events_sent_to_another(tmp_path: Path, database: str) -> None:
    env = {"AGENTAUDIT_DATABASE_URL": database}
    sidecars = [SidecarProcess(tmp_path / "data", env=env) for _ in range(2)]
    streams: list[Stream] = []
    try:
        with ThreadPoolExecutor(2) as pool:
            a, b = pool.map(lambda s: s.start(timeout=60), sidecars)
        token, key = bootstrap(a)
        assert call(f"{a}/api/v1/compliance-rules/packs", "POST", {"packId": "hipaa"},
                    {"Authorization": f"Bearer {token}"})[0] == 201
        on_b = Stream(b, token)
        streams.append(on_b)
        assert on_b.take(1) == [("ready", {})]
        time.sleep(0.5)  # b's listener is up well before this (it starts with the app)

        status, batch = call(f"{a}/api/v1/audit-logs/batch", "POST",
                             [{"action": "llm_call", "agentId": "intake", "prompt": f"visit {n}"} for n in range(3)]
                             + [{"action": "llm_call", "agentId": "intake", "prompt": "SSN 123-45-6789"}],
                             {"X-API-Key": key})
        assert status == 201, batch
        stored = batch["data"]  # type: ignore[index]
        events = on_b.take(5)
        logs = [data for name, data in events if name == "log.created"]
        alerts = [data for name, data in events if name == "alert.created"]
        assert [e["id"] for e in logs] == [e["id"] for e in stored]  # each once, in sequence order
        assert [e["sequence"] for e in logs] == [e["sequence"] for e in stored]
        assert [a["auditLogId"] for a in alerts] == [stored[3]["id"]]
        assert "prompt" not in logs[0]

        status, single = call(f"{b}/api/v1/audit-logs", "POST", {"action": "tool_use"}, {"X-API-Key": key})
        assert status == 201
        [(name, data)] = on_b.take(1)  # its own event, from its own writer: once, not echoed
        assert (name, data["id"]) == ("log.created", single["id"])  # type: ignore[index]
        assert on_b.quiet(1.0) == []

        # the server drops b's listening connection: b listens again, and its viewers hear they may have missed some
        _drop_listeners(database)
        [(name, _)] = on_b.take(1)
        assert name == "stream.overflow"
        status, later = call(f"{a}/api/v1/audit-logs", "POST", {"action": "after"}, {"X-API-Key": key})
        assert status == 201
        [(name, data)] = on_b.take(1)
        assert (name, data["id"]) == ("log.created", later["id"])  # type: ignore[index]
    finally:
        for sidecar in sidecars:  # first: a stopping sidecar ends its streams, so reading threads return
            sidecar.stop()
        for stream in streams:
            stream.close()
    for sidecar in sidecars:
        output = "".join(sidecar.output)
        assert "Traceback" not in output, output
