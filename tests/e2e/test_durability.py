"""Every event that got a 201 survives a SIGKILL of the sidecar mid-stream, intact and in a gapless chain."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from sidecar.ledger.chain import GENESIS_HASH, canonical_event, link_hash
from tests.e2e.conftest import bootstrap
from tests.helpers import SidecarProcess

CLIENTS = 12


async def _hammer(url: str, key: str, worker: int, acked: list[dict], stop: asyncio.Event) -> None:
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        n = 0
        while not stop.is_set():
            n += 1
            batch = n % 4 == 0
            body: object = ([{"action": "step", "prompt": f"w{worker}-{n}-{i}", "metadata": {"w": worker, "n": n}}
                             for i in range(10)] if batch else
                            {"action": "call", "prompt": f"w{worker}-{n}", "metadata": {"w": worker, "n": n}})
            try:
                async with session.post(f"{url}/api/v1/audit-logs{'/batch' if batch else ''}", json=body,
                                        headers={"X-API-Key": key}) as response:
                    if response.status != 201:
                        continue
                    payload = await response.json()
            except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError):
                return  # the server died under us: whatever was not acknowledged may be lost
            acked.extend(payload["data"] if batch else [payload])


async def _run_until_killed(sidecar: SidecarProcess, key: str) -> list[dict]:
    acked: list[dict] = []
    stop = asyncio.Event()
    workers = [asyncio.create_task(_hammer(sidecar.url, key, w, acked, stop)) for w in range(CLIENTS)]
    while len(acked) < 1500:
        await asyncio.sleep(0.05)
    sidecar.kill()
    stop.set()
    await asyncio.wait_for(asyncio.gather(*workers), timeout=30)
    return acked


def test_acknowledged_events_survive_sigkill(sidecar: SidecarProcess) -> None:
    _, key = bootstrap(sidecar.url)
    acked = asyncio.run(_run_until_killed(sidecar, key))
    assert len(acked) >= 1500
    sidecar.start()  # same data dir

    async def read_back() -> list[dict]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            async with session.get(f"{sidecar.url}/api/v1/audit-logs/export", params={"format": "jsonl"},
                                   headers={"X-API-Key": key}) as response:
                assert response.status == 200
                return [json.loads(line) for line in (await response.text()).splitlines()]

    stored = asyncio.run(read_back())
    by_id = {event["id"]: event for event in stored}
    missing = [event["id"] for event in acked if event["id"] not in by_id]
    assert missing == []
    for event in acked:
        assert by_id[event["id"]] == event  # intact: every field as acknowledged
    assert [event["sequence"] for event in stored] == list(range(1, len(stored) + 1))
    prev = GENESIS_HASH
    for event in stored:
        prev = link_hash(prev, canonical_event(event))
        assert event["hash"] == prev
    # the restarted sidecar continues the same chain
    import urllib.request

    request = urllib.request.Request(f"{sidecar.url}/api/v1/audit-logs", data=b'{"action": "after restart"}',
                                     headers={"X-API-Key": key, "Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        after = json.loads(response.read())
    assert after["sequence"] == len(stored) + 1
    assert after["hash"] == link_hash(prev, canonical_event(after))
