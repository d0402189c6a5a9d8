"""GET /api/v1/stream: committed events and new alerts arrive as server-sent events, per organisation."""

from __future__ import annotations

import asyncio
import json

from tests.helpers import Account, ApiClient


async def _read_events(response, count: int, timeout: float = 5.0) -> list[tuple[str, dict]]:
    events: list[tuple[str, dict]] = []
    kind = None
    async def pump() -> None:
        nonlocal kind
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind:
                events.append((kind, json.loads(line[6:])))
                kind = None
                if len(events) >= count:
                    return
    await asyncio.wait_for(pump(), timeout)
    return events


async def test_stream_sends_logs_and_alerts_of_ones_own_organisation(api: ApiClient, owner: Account,
                                                                      other: Account) -> None:
    await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)
    async with api.client.get("/api/v1/stream", headers=owner.jwt) as mine, \
            api.client.get("/api/v1/stream", headers=other.api_key) as theirs:
        assert mine.status == 200 and mine.headers["Content-Type"] == "text/event-stream"
        assert await _read_events(mine, 1) == [("ready", {})]
        assert await _read_events(theirs, 1) == [("ready", {})]
        stored = await api.post("audit-logs", headers=owner.api_key,
                                json={"action": "llm_call", "prompt": "SSN 123-45-6789", "agentId": "a1"})
        events = await _read_events(mine, 2)
        assert [kind for kind, _ in events] == ["log.created", "alert.created"]
        log_event = events[0][1]
        assert (log_event["id"], log_event["enforcementAction"], log_event["agentId"]) == (
            stored.body["id"], stored.body["enforcementAction"], "a1")
        assert "prompt" not in log_event
        alert = next(data for kind, data in events if kind == "alert.created")
        assert alert["auditLogId"] == stored.body["id"] and alert["status"] == "open"
        await api.post("audit-logs", json={"action": "globex-only"}, headers=other.api_key)
        [(kind, data)] = await _read_events(theirs, 1)
        assert (kind, data["action"]) == ("log.created", "globex-only")


async def test_stream_needs_credentials(api: ApiClient) -> None:
    reply = await api.get("stream")
    assert reply.status == 401
