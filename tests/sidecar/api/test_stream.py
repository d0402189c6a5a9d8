"""GET /api/v1/stream: committed events and new alerts arrive as server-sent events, per organisation."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from sidecar.api.app import create_app
from sidecar.settings import Settings
from tests.helpers import PASSWORD, Account, ApiClient

pytestmark = pytest.mark.both_backends


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


async def _frames(response, *, count: int | None = None, timeout: float = 8.0) -> list[tuple[str | None, str, dict]]:
    """``(id, event, data)`` of each event, until ``count`` arrived or the sidecar ended the stream."""
    frames: list[tuple[str | None, str, dict]] = []
    event_id = kind = None

    async def pump() -> None:
        nonlocal event_id, kind
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind:
                frames.append((event_id, kind, json.loads(line[6:])))
                event_id = kind = None
                if count is not None and len(frames) >= count:
                    return

    await asyncio.wait_for(pump(), timeout)
    return frames


async def _ended_by(api: ApiClient, headers: dict[str, str], end, *, ingest: dict[str, str]) -> list[tuple]:
    """Open a stream, see one event delivered, run ``end()`` (which ends the credential), send one more event:
    the stream must say why it ends, deliver nothing more and close."""
    async with api.client.get("/api/v1/stream", headers=headers) as stream:
        assert stream.status == 200
        assert [k for _, k, _ in await _frames(stream, count=1)] == ["ready"]
        await api.post("audit-logs", json={"action": "before"}, headers=ingest)
        [(_, kind, data)] = await _frames(stream, count=1)
        assert (kind, data["action"]) == ("log.created", "before")
        await end()
        await api.post("audit-logs", json={"action": "after"}, headers=ingest)
        return await _frames(stream)  # to the end of the stream: it must close by itself


async def test_revoking_the_key_ends_its_stream(api: ApiClient, owner: Account) -> None:
    reader = await api.post("auth/api-keys", json={"name": "viewer", "scopes": ["logs:read"]}, headers=owner.jwt)

    async def revoke() -> None:
        assert (await api.delete(f"auth/api-keys/{reader.body['id']}", headers=owner.jwt)).status == 204

    rest = await _ended_by(api, {"X-API-Key": reader.body["key"]}, revoke, ingest=owner.api_key)
    assert [(kind, data) for _, kind, data in rest] == [
        ("stream.closed", {"status": 401, "code": "unauthorized", "error": "the API key has been revoked"})]
    assert (await api.get("stream", headers={"X-API-Key": reader.body["key"]})).status == 401


async def test_logout_ends_the_sessions_stream(api: ApiClient, owner: Account) -> None:
    login = await api.post("auth/login", json={"email": owner.email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.body['accessToken']}"}

    async def logout() -> None:
        assert (await api.post("auth/logout", headers=headers)).status == 204

    rest = await _ended_by(api, headers, logout, ingest=owner.api_key)
    assert [(kind, data["error"]) for _, kind, data in rest] == [
        ("stream.closed", "the session has ended; log in again")]


async def test_removing_the_user_ends_their_stream(api: ApiClient, owner: Account) -> None:
    made = await api.post("users", json={"email": "ana@acme.test", "name": "Ana", "password": PASSWORD,
                                         "role": "auditor"}, headers=owner.jwt)
    login = await api.post("auth/login", json={"email": "ana@acme.test", "password": PASSWORD})

    async def remove() -> None:
        assert (await api.delete(f"users/{made.body['id']}", headers=owner.jwt)).status == 204

    rest = await _ended_by(api, {"Authorization": f"Bearer {login.body['accessToken']}"}, remove,
                           ingest=owner.api_key)
    assert [(kind, data["status"]) for _, kind, data in rest] == [("stream.closed", 401)]


async def test_a_password_change_ends_the_other_sessions_streams(api: ApiClient, owner: Account) -> None:
    login = await api.post("auth/login", json={"email": owner.email, "password": PASSWORD})

    async def change() -> None:
        reply = await api.patch("auth/me", json={"password": "new-password-1", "currentPassword": PASSWORD},
                                headers=owner.jwt)
        assert reply.status == 200

    rest = await _ended_by(api, {"Authorization": f"Bearer {login.body['accessToken']}"}, change,
                           ingest=owner.api_key)
    assert [(kind, data["error"]) for _, kind, data in rest] == [
        ("stream.closed", "the session has ended; log in again")]


async def test_the_stream_ends_when_its_access_token_expires(aiohttp_client, tmp_path, database_url) -> None:
    settings = Settings(data_dir=tmp_path / "data", port=0, database_url=database_url, access_token_seconds=2)
    api = ApiClient(await aiohttp_client(create_app(settings)))
    owner = await api.new_account("owner@acme.test", name="Acme")
    started = time.monotonic()
    async with api.client.get("/api/v1/stream", headers=owner.jwt) as stream:
        assert stream.status == 200
        frames = await _frames(stream, timeout=8.0)  # nothing happens: the token's expiry alone ends it
    assert [(kind, data) for _, kind, data in frames] == [
        ("ready", {}), ("stream.closed", {"status": 401, "code": "unauthorized", "error": "the token has expired"})]
    assert time.monotonic() - started < 4.0  # on time, not at the next keep-alive


async def test_event_ids_count_per_organisation(api: ApiClient, owner: Account, other: Account) -> None:
    async with api.client.get("/api/v1/stream", headers=owner.jwt) as mine, \
            api.client.get("/api/v1/stream", headers=other.jwt) as theirs:
        await _frames(mine, count=1)
        await _frames(theirs, count=1)
        for n in range(3):
            await api.post("audit-logs", json={"action": f"acme-{n}"}, headers=owner.api_key)
            for _ in range(2):  # the other organisation is busier
                await api.post("audit-logs", json={"action": "globex"}, headers=other.api_key)
        acme = await _frames(mine, count=3)
        globex = await _frames(theirs, count=6)
    assert [(event_id, data["action"]) for event_id, _, data in acme] == [
        ("1", "acme-0"), ("2", "acme-1"), ("3", "acme-2")]
    assert [event_id for event_id, _, _ in globex] == ["1", "2", "3", "4", "5", "6"]
