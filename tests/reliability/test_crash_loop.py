"""SIGKILL the sidecar again and again at random moments of concurrent ingest, report builds and webhook delivery.

After every restart: every acknowledged event is stored intact in a gapless chain, ``agentaudit verify``
passes, no report build is stuck, and the receiver has had every alert's notification at least once.
A notification can arrive twice (a kill between the receiver's answer and the commit that records it);
each copy carries the same ``X-AgentAudit-Delivery`` id, so the receiver can drop it, and the test checks
exactly that property. ``make test-long`` runs many more iterations.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aiohttp
import pytest

from sidecar.ledger.chain import GENESIS_HASH, canonical_event, link_hash
from tests.e2e.conftest import bootstrap, call
from tests.helpers import ROOT, SidecarProcess
from tests.reliability.conftest import scale

ITERATIONS = scale(2, 25)
SSN = "Patient SSN 123-45-6789 on the intake form."


class Receiver:
    """A real webhook endpoint on loopback that checks signatures and remembers every delivery it answered."""

    def __init__(self) -> None:
        self.secret = b""
        self.lock = threading.Lock()
        self.receipts: list[tuple[str, str, str]] = []  # (delivery id, notification id, alert id)
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                parts = dict(p.split("=", 1) for p in self.headers["X-AgentAudit-Signature"].split(","))
                expected = hmac.new(receiver.secret, f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, parts["v1"]):
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                time.sleep(0.02)  # a receiver that takes a moment widens the window a kill can land in
                payload = json.loads(body)
                with receiver.lock:
                    receiver.receipts.append((self.headers["X-AgentAudit-Delivery"], payload["id"],
                                              (payload.get("alert") or {}).get("id", "")))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Workload:
    """Concurrent ingest (single events and batches, some raising alerts) and report requests."""

    def __init__(self, url: str, key: str, jwt: dict[str, str], iteration: int) -> None:
        self.url, self.key, self.jwt, self.iteration = url, key, jwt, iteration
        self.events: list[dict] = []
        self.reports: list[str] = []

    async def ingest(self, session: aiohttp.ClientSession, worker: int, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            tag = f"i{self.iteration}-w{worker}-{n}"
            prompt = f"{tag} {SSN}" if n % 5 == 1 else f"{tag} routine step"
            batch = n % 4 == 0
            body: object = ([{"action": "step", "prompt": f"{prompt} #{i}", "metadata": {"tag": tag}} for i in range(5)]
                            if batch else {"action": "call", "prompt": prompt, "metadata": {"tag": tag}})
            try:
                async with session.post(f"{self.url}/api/v1/audit-logs{'/batch' if batch else ''}", json=body,
                                        headers={"X-API-Key": self.key}) as response:
                    if response.status != 201:
                        continue
                    payload = await response.json()
            except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError):
                return  # killed: what was not acknowledged may be lost
            self.events.extend(payload["data"] if batch else [payload])

    async def request_reports(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        kinds = [("audit_log_export", "json"), ("compliance_summary", "pdf"), ("alert_summary", "csv")]
        n = 0
        while not stop.is_set():
            kind, fmt = kinds[n % len(kinds)]
            n += 1
            try:
                async with session.post(f"{self.url}/api/v1/reports", json={"type": kind, "format": fmt},
                                        headers=self.jwt) as response:
                    if response.status == 202:
                        self.reports.append((await response.json())["id"])
            except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError):
                return
            await asyncio.sleep(0.15)

    async def run_until_killed(self, sidecar: SidecarProcess, after: float) -> None:
        stop = asyncio.Event()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            tasks = [asyncio.create_task(self.ingest(session, w, stop)) for w in range(6)]
            tasks.append(asyncio.create_task(self.request_reports(session, stop)))
            await asyncio.sleep(after)
            sidecar.kill()
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)


def _wait(predicate, what: str, timeout: float = 60.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _stored_events(url: str, key: str) -> list[dict]:
    request = f"{url}/api/v1/audit-logs/export?format=jsonl"
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(request, headers={"X-API-Key": key}), timeout=60) as response:
        return [json.loads(line) for line in response.read().decode().splitlines()]


def _all(url: str, path: str, jwt: dict[str, str]) -> list[dict]:
    items: list[dict] = []
    page = 1
    while True:
        status, body = call(f"{url}/api/v1/{path}{'&' if '?' in path else '?'}limit=500&page={page}", headers=jwt)
        assert status == 200, body
        items.extend(body)  # type: ignore[arg-type]
        if len(body) < 500:  # type: ignore[arg-type]
            return items
        page += 1


def _verify(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sidecar", "verify", "--data-dir", str(data_dir)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.timeout(scale(110, 1800))
def test_repeated_sigkills_lose_nothing_acknowledged(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    receiver = Receiver()
    data_dir = tmp_path / "data"
    sidecar = SidecarProcess(data_dir, env={"AGENTAUDIT_NOTIFY_RETRY_BASE_MS": "100",
                                            "AGENTAUDIT_CHECKPOINT_SECONDS": "0.5"})
    url = sidecar.start()
    try:
        token, key = bootstrap(url, "crash@acme.test")
        jwt = {"Authorization": f"Bearer {token}"}
        assert call(f"{url}/api/v1/compliance-rules/packs", "POST", {"packId": "hipaa"}, jwt)[0] == 201
        status, settings = call(f"{url}/api/v1/notifications/settings", "PATCH", {
            "webhookUrl": receiver.url, "notifyWebhook": True, "allowPrivateWebhookTargets": True,
            "notifyMinSeverity": "info"}, jwt)
        assert status == 200, settings
        receiver.secret = settings["webhookSecret"].encode()  # type: ignore[index]
        acknowledged: dict[str, dict] = {}
        reports: list[str] = []
        for iteration in range(ITERATIONS):
            workload = Workload(url, key, jwt, iteration)
            asyncio.run(workload.run_until_killed(sidecar, after=rng.uniform(0.4, 2.0)))
            acknowledged.update((event["id"], event) for event in workload.events)
            reports.extend(workload.reports)
            url = sidecar.start()
            context = f"iteration {iteration} (seed {seed})"

            stored = _stored_events(url, key)
            by_id = {event["id"]: event for event in stored}
            missing = [event_id for event_id in acknowledged if event_id not in by_id]
            assert missing == [], context
            assert all(by_id[event_id] == event for event_id, event in acknowledged.items()), context
            assert [event["sequence"] for event in stored] == list(range(1, len(stored) + 1)), context
            prev = GENESIS_HASH
            for event in stored:
                prev = link_hash(prev, canonical_event(event))
                assert event["hash"] == prev, context

            verified = _verify(data_dir)
            assert verified.returncode == 0, (context, verified.stdout, verified.stderr)

            def settled() -> bool:
                listed = {r["id"]: r["status"] for r in _all(url, "reports", jwt)}
                return all(listed.get(report_id) in ("ready", "failed") for report_id in reports)

            _wait(settled, f"every report to finish, {context}")
            listed = {r["id"]: r for r in _all(url, "reports", jwt)}
            failed = {i: listed[i]["error"] for i in reports if listed[i]["status"] != "ready"}
            assert failed == {}, context

            alerts = {a["id"] for a in _all(url, "alerts", jwt)}
            assert alerts, context

            def delivered() -> bool:
                with receiver.lock:
                    return alerts <= {alert_id for _, _, alert_id in receiver.receipts}

            _wait(delivered, f"a webhook for every alert, {context}")
        _wait(lambda: all(d["status"] == "delivered" for d in _all(url, "notifications/deliveries", jwt)),
              "the delivery log to settle")
        with receiver.lock:
            receipts = list(receiver.receipts)
        assert receiver.bad_signatures == 0
        # duplicates are detectable: one delivery id always carries the same notification and alert
        by_delivery: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for delivery_id, notification_id, alert_id in receipts:
            by_delivery[delivery_id].add((notification_id, alert_id))
        assert all(len(contents) == 1 for contents in by_delivery.values())
        # and no notification was made twice: a receiver that drops repeated delivery ids acts once per alert
        deliveries_per_alert = Counter(alert_id for contents in by_delivery.values() for _, alert_id in contents
                                       if alert_id)
        assert [alert_id for alert_id, count in deliveries_per_alert.items() if count != 1] == []
        assert {alert_id for _, _, alert_id in receipts if alert_id} == {a["id"] for a in _all(url, "alerts", jwt)}
        duplicates = len(receipts) - len(by_delivery)
        print(f"crash loop: {ITERATIONS} kills, {len(acknowledged)} events acknowledged and found, "
              f"{len(reports)} reports built, {len(by_delivery)} notifications, {duplicates} redelivered (seed {seed})")
    finally:
        sidecar.stop()
        receiver.close()
