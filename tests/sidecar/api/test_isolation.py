"""One organisation can read nothing of another's, by id or by filter, on any read endpoint."""

from __future__ import annotations

import pytest

from tests.helpers import Account, ApiClient

pytestmark = pytest.mark.both_backends


async def test_other_org_sees_nothing(api: ApiClient, owner: Account, other: Account) -> None:
    batch = [{"action": "secret", "traceId": "shared-trace", "agentId": "shared-agent", "spanId": f"s{i}",
              **({"parentSpanId": "s0"} if i else {}), "prompt": "acme secret"} for i in range(3)]
    stored = (await api.post("audit-logs/batch", json=batch, headers=owner.api_key)).body["data"]
    event_id = stored[1]["id"]
    for headers in (other.api_key, other.jwt):
        for path in (f"audit-logs/{event_id}", f"audit-logs/{event_id}/chain", f"audit-logs/{event_id}/ancestors",
                     "traces/shared-trace", "audit-logs/trace/shared-trace"):
            reply = await api.get(path, headers=headers)
            assert reply.status == 404, (path, reply.body)
            assert "acme" not in str(reply.body)
        for params in ({}, {"traceId": "shared-trace"}, {"agentId": "shared-agent"}, {"q": "acme"},
                       {"before": event_id}):
            reply = await api.get("audit-logs", params=params, headers=headers)
            assert reply.status == 200 and reply.body["data"] == [] and reply.body["pagination"]["total"] == 0
        traces = await api.get("traces", headers=headers)
        assert traces.body["data"] == []
        export = await api.get("audit-logs/export", params={"format": "jsonl"}, headers=headers)
        assert export.body == b""
    # the same trace id in the other organisation is a separate trace
    mine = await api.post("audit-logs", json={"action": "globex", "traceId": "shared-trace"}, headers=other.api_key)
    assert mine.body["sequence"] == 1
    theirs = await api.get("traces/shared-trace", headers=other.api_key)
    assert [s["action"] for s in theirs.body["spans"]] == ["globex"]
    ours = await api.get("traces/shared-trace", headers=owner.api_key)
    assert [s["action"] for s in ours.body["spans"]] == ["secret"] * 3


async def test_other_org_cannot_touch_users_or_keys(api: ApiClient, owner: Account, other: Account) -> None:
    users = (await api.get("users", headers=owner.jwt)).body
    owner_id = users[0]["id"]
    assert (await api.patch(f"users/{owner_id}", json={"name": "x"}, headers=other.jwt)).status == 404
    assert (await api.delete(f"users/{owner_id}", headers=other.jwt)).status == 404
    assert (await api.delete(f"auth/api-keys/{owner.key_id}", headers=other.jwt)).status == 404
    assert (await api.post("audit-logs", json={"action": "still works"}, headers=owner.api_key)).status == 201
    listed = await api.get("auth/api-keys", headers=other.jwt)
    assert [k["id"] for k in listed.body] == [other.key_id]
    assert [u["email"] for u in (await api.get("users", headers=other.jwt)).body] == [other.email]
