"""POST /audit-logs and /audit-logs/batch: what is stored, what is refused, and that refusals store nothing."""

from __future__ import annotations

import io

import pytest

from tests.helpers import Account, ApiClient, query_db

pytestmark = pytest.mark.both_backends

EVENT = {
    "action": "llm_call",
    "prompt": "Summarise the latest sales report",
    "response": "Q1 revenue was $2.4M...",
    "metadata": {"model": "gpt-4o", "tokens": 340},
}
WIRE_FIELDS = {"id", "action", "agentId", "prompt", "response", "metadata", "traceId", "spanId", "parentSpanId",
               "startedAt", "endedAt", "createdAt", "complianceFlags", "enforcementAction", "violationDetails",
               "sequence", "hash"}


def stored_count(settings) -> int:
    return query_db(settings, "SELECT COUNT(*) FROM audit_logs")[0][0]


async def test_single_event_is_stored_and_returned(api: ApiClient, owner: Account, settings) -> None:
    reply = await api.post("audit-logs", json={**EVENT, "traceId": "run-1", "checkType": "realtime", "extra": 1},
                           headers=owner.api_key)
    assert reply.status == 201
    body = reply.body
    assert WIRE_FIELDS <= set(body)
    assert body["id"].startswith("log_") and len(body["id"]) == 30
    assert (body["action"], body["prompt"], body["metadata"]) == ("llm_call", EVENT["prompt"], EVENT["metadata"])
    assert (body["complianceFlags"], body["enforcementAction"], body["violationDetails"]) == ([], "allow", None)
    assert body["spanId"] == body["id"] and body["parentSpanId"] is None and body["agentId"] is None
    assert body["startedAt"] == body["endedAt"] == body["createdAt"]
    assert body["createdAt"].endswith("Z") and len(body["createdAt"]) == 24
    assert body["sequence"] == 1 and len(body["hash"]) == 64
    assert "extra" not in body and "checkType" not in body
    fetched = await api.get(f"audit-logs/{body['id']}", headers=owner.api_key)
    assert fetched.status == 200 and fetched.body == body
    assert reply.headers["X-Request-Id"]
    assert stored_count(settings) == 1


async def test_optional_fields_null_and_client_times(api: ApiClient, owner: Account) -> None:
    reply = await api.post("audit-logs", headers=owner.api_key, json={
        "action": "tool_use", "agentId": None, "prompt": None, "metadata": None, "traceId": "t", "spanId": "s-1",
        "parentSpanId": "s-0", "startedAt": "2026-01-15T10:00:00Z", "endedAt": "2026-01-15T10:00:01.250+00:00",
    })
    assert reply.status == 201, reply.body
    body = reply.body
    assert (body["spanId"], body["parentSpanId"], body["agentId"], body["metadata"]) == ("s-1", "s-0", None, None)
    assert (body["startedAt"], body["endedAt"]) == ("2026-01-15T10:00:00.000Z", "2026-01-15T10:00:01.250Z")


async def test_sequences_and_hashes_chain_per_organisation(api: ApiClient, owner: Account, other: Account) -> None:
    first = (await api.post("audit-logs", json=EVENT, headers=owner.api_key)).body
    second = (await api.post("audit-logs", json=EVENT, headers=owner.api_key)).body
    foreign = (await api.post("audit-logs", json=EVENT, headers=other.api_key)).body
    assert (first["sequence"], second["sequence"], foreign["sequence"]) == (1, 2, 1)
    assert first["hash"] != second["hash"]
    from sidecar.ledger.chain import GENESIS_HASH, canonical_event, link_hash

    assert link_hash(GENESIS_HASH, canonical_event({**first, "organizationId": owner.org_id})) == first["hash"]
    assert link_hash(first["hash"], canonical_event({**second, "organizationId": owner.org_id})) == second["hash"]


async def test_batch_stores_all_in_order(api: ApiClient, owner: Account) -> None:
    entries = [{"action": f"step_{i}", "traceId": "run-b", "spanId": f"s{i}",
                **({"parentSpanId": f"s{i - 1}"} if i else {})} for i in range(50)]
    reply = await api.post("audit-logs/batch", json=entries, headers=owner.api_key)
    assert reply.status == 201
    assert (reply.body["processed"], reply.body["errors"]) == (50, 0)
    assert [e["action"] for e in reply.body["data"]] == [f"step_{i}" for i in range(50)]
    assert [e["sequence"] for e in reply.body["data"]] == list(range(1, 51))
    listed = await api.get("audit-logs", params={"traceId": "run-b", "limit": 100}, headers=owner.api_key)
    assert listed.body["pagination"]["total"] == 50


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "action", "is required"),
        ({"action": ""}, "action", "must not be empty"),
        ({"action": "   "}, "action", "must not be empty"),
        ({"action": "x" * 201}, "action", "must be at most 200 characters (got 201)"),
        ({"action": 5}, "action", "must be a string, got number"),
        ({"action": "a", "prompt": ["x"]}, "prompt", "must be a string, got array"),
        ({"action": "a", "prompt": "x" * 100_001}, "prompt", "must be at most 100,000 characters (got 100,001)"),
        ({"action": "a", "metadata": "model=gpt"}, "metadata", "must be a JSON object, got string"),
        ({"action": "a", "agentId": 7}, "agentId", "must be a string, got number"),
        ({"action": "a", "traceId": "t" * 201}, "traceId", "must be at most 200 characters (got 201)"),
        ({"action": "a", "startedAt": "yesterday"}, "startedAt",
         "must be an ISO 8601 timestamp such as 2026-01-15T10:00:00.000Z"),
        ({"action": "a", "startedAt": "2026-01-02T00:00:00Z", "endedAt": "2026-01-01T00:00:00Z"}, "endedAt",
         "must not be before startedAt"),
        ([{"action": "a"}], "body", "must be a JSON object, got array"),
    ],
)
async def test_bad_event_is_a_400_naming_the_field_and_stores_nothing(
    api: ApiClient, owner: Account, settings, body, field: str, message: str
) -> None:
    reply = await api.post("audit-logs", json=body, headers=owner.api_key)
    assert reply.status == 400
    assert reply.body["status"] == 400 and reply.body["code"] == "validation_error"
    assert {"field": field, "message": message} in reply.body["details"]
    assert reply.body["requestId"] == reply.headers["X-Request-Id"]
    assert stored_count(settings) == 0


async def test_deep_metadata_is_refused(api: ApiClient, owner: Account, settings) -> None:
    deep: dict = {}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    reply = await api.post("audit-logs", json={"action": "a", "metadata": deep}, headers=owner.api_key)
    assert reply.status == 400
    assert reply.body["details"] == [{"field": "metadata", "message": "is nested more than 32 levels deep"}]
    assert stored_count(settings) == 0


async def test_non_json_and_empty_bodies(api: ApiClient, owner: Account, settings) -> None:
    reply = await api.post("audit-logs", data=b"{not json", headers={**owner.api_key, "Content-Type": "application/json"})
    assert reply.status == 400 and reply.body["error"].startswith("the request body is not valid JSON")
    reply = await api.post("audit-logs", data=b"", headers={**owner.api_key, "Content-Type": "application/json"})
    assert reply.status == 400 and reply.body["error"] == "the request body is empty; send JSON"
    assert stored_count(settings) == 0


async def test_oversized_body_is_413(api: ApiClient, owner: Account, settings) -> None:
    big = io.BytesIO(b'{"action": "a", "prompt": "' + b"x" * (1024 * 1024) + b'"}')
    reply = await api.post("audit-logs", data=big,
                           headers={**owner.api_key, "Content-Type": "application/json"})
    assert reply.status == 413
    assert reply.body == {"error": "request body too large", "status": 413, "code": "payload_too_large",
                          "requestId": reply.headers["X-Request-Id"]}
    assert stored_count(settings) == 0


async def test_batch_of_51_is_refused(api: ApiClient, owner: Account, settings) -> None:
    reply = await api.post("audit-logs/batch", json=[{"action": "a"}] * 51, headers=owner.api_key)
    assert reply.status == 400
    assert reply.body["error"] == "a batch holds 1 to 50 events, got 51"
    assert stored_count(settings) == 0


async def test_empty_batch_and_non_array(api: ApiClient, owner: Account) -> None:
    assert (await api.post("audit-logs/batch", json=[], headers=owner.api_key)).status == 400
    reply = await api.post("audit-logs/batch", json={"action": "a"}, headers=owner.api_key)
    assert reply.status == 400 and reply.body["error"] == "the batch must be a JSON array of events, got object"


async def test_batch_with_one_bad_entry_stores_none(api: ApiClient, owner: Account, settings) -> None:
    entries = [{"action": "ok"}, {"action": "ok"}, {"action": "ok", "metadata": []}, {"action": "ok"}]
    reply = await api.post("audit-logs/batch", json=entries, headers=owner.api_key)
    assert reply.status == 400
    assert reply.body["error"] == "entry 2 is invalid: [2].metadata: must be a JSON object, got array"
    assert reply.body["details"] == [{"field": "[2].metadata", "message": "must be a JSON object, got array"}]
    assert stored_count(settings) == 0


async def test_ingest_needs_credentials_and_scope(api: ApiClient, owner: Account, settings) -> None:
    reply = await api.post("audit-logs", json=EVENT)
    assert reply.status == 401 and reply.body["code"] == "unauthorized"
    reply = await api.post("audit-logs", json=EVENT, headers={"X-API-Key": "aa_live_nope"})
    assert (reply.status, reply.body["error"]) == (401, "invalid or revoked API key")
    reader = await api.key_with(owner, ["logs:read"])
    reply = await api.post("audit-logs", json=EVENT, headers={"X-API-Key": reader})
    assert (reply.status, reply.body["error"]) == (403, "this API key lacks the 'logs:write' scope")
    reply = await api.post("audit-logs", json=EVENT, headers={"Authorization": f"Bearer {owner.key}"})
    assert reply.status == 201  # OTLP exporters send keys as Bearer
    assert stored_count(settings) == 1
