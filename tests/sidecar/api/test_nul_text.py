"""A NUL character (U+0000) in any text field is a 400 naming the field, over SQLite and PostgreSQL alike
(PostgreSQL cannot store it in text; it used to be a 500), and nothing is stored."""

from __future__ import annotations

import pytest

from tests.helpers import Account, ApiClient, query_db

pytestmark = pytest.mark.both_backends

NUL = "a\u0000b"


@pytest.mark.parametrize(("event", "field"), [
    ({"action": NUL}, "action"),
    ({"action": "x", "prompt": NUL}, "prompt"),
    ({"action": "x", "response": NUL}, "response"),
    ({"action": "x", "traceId": NUL}, "traceId"),
    ({"action": "x", "agentId": NUL}, "agentId"),
    ({"action": "x", "spanId": NUL}, "spanId"),
    ({"action": "x", "metadata": {"k": NUL}}, "metadata"),
    ({"action": "x", "metadata": {NUL: 1}}, "metadata"),
    ({"action": "x", "metadata": {"deep": [{"k": ["ok", NUL]}]}}, "metadata"),
])
async def test_nul_in_an_event_is_a_400_naming_the_field(api: ApiClient, owner: Account, settings, event: dict,
                                                        field: str) -> None:
    reply = await api.post("audit-logs", json=event, headers=owner.api_key)
    assert reply.status == 400, reply.body
    assert reply.body["details"] == [{"field": field, "message": "must not contain NUL characters (\\u0000)"}]
    batch = await api.post("audit-logs/batch", json=[{"action": "fine"}, event], headers=owner.api_key)
    assert batch.status == 400 and batch.body["details"][0]["field"] == f"[1].{field}"
    assert query_db(settings, "SELECT COUNT(*) FROM audit_logs")[0][0] == 0


async def test_nul_elsewhere_is_a_400_too(api: ApiClient, owner: Account) -> None:
    agent = await api.post("agents", json={"name": NUL}, headers=owner.jwt)
    assert (agent.status, agent.body["details"][0]["field"]) == (400, "name")
    meta = await api.post("agents", json={"name": "bot", "metadata": {"k": NUL}}, headers=owner.jwt)
    assert (meta.status, meta.body["details"][0]["field"]) == (400, "metadata")
    rule = await api.post("compliance-rules", json={"name": "kw", "ruleType": "keyword_match", "severity": "warning",
                                                    "condition": {"keywords": [NUL]}}, headers=owner.jwt)
    assert (rule.status, rule.body["details"][0]["field"]) == (400, "condition")
    query = await api.get("audit-logs", params={"action": NUL}, headers=owner.api_key)
    assert (query.status, query.body["details"]) == (400, [{"field": "action", "message":
                                                           "must not contain NUL characters (\\u0000)"}])
    path = await api.get("audit-logs/log_%00", headers=owner.api_key)
    assert path.status in (400, 404) and path.body["status"] == path.status
