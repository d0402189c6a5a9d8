"""``GET /unregistered-agents``: agent ids seen in events that name no registered agent (by id or by name)."""

from __future__ import annotations

import sqlite3

from sidecar.api.keys import SERVICES
from sidecar.store import agent_ids
from tests.helpers import Account, ApiClient


async def _log(api: ApiClient, owner: Account, agent_id: str | None, action: str = "llm_call") -> None:
    body = {"action": action, **({"agentId": agent_id} if agent_id is not None else {})}
    reply = await api.post("audit-logs", json=body, headers=owner.api_key)
    assert reply.status == 201, reply.body


async def test_lists_only_ids_that_name_no_registered_agent(api: ApiClient, owner: Account, other: Account) -> None:
    agent = await api.post("agents", json={"name": "support-bot"}, headers=owner.jwt)
    assert agent.status == 201
    await _log(api, owner, agent.body["id"])       # registered, by id
    await _log(api, owner, "support-bot")          # registered, by name
    await _log(api, owner, None)                   # no agent at all
    for _ in range(3):
        await _log(api, owner, "scraper-7", "tool_use")
    await _log(api, owner, "triage-v2", "decision")
    await _log(api, other, "globex-bot")           # another organisation's

    reply = await api.get("unregistered-agents", headers=owner.jwt)
    assert reply.status == 200
    assert [(row["agentId"], row["eventCount"], row["lastAction"]) for row in reply.body] == [
        ("triage-v2", 1, "decision"), ("scraper-7", 3, "tool_use")]
    assert reply.headers["X-Total-Count"] == "2"
    assert reply.body[0]["lastSeenAt"].endswith("Z") and reply.body[0]["lastSeenAt"] >= reply.body[1]["lastSeenAt"]
    assert [row["agentId"] for row in (await api.get("unregistered-agents", headers=other.jwt)).body] == ["globex-bot"]

    registered = await api.post("agents", json={"name": "scraper-7"}, headers=owner.jwt)
    assert registered.status == 201
    after = await api.get("unregistered-agents", params={"limit": "1"}, headers=owner.api_key)
    assert [row["agentId"] for row in after.body] == ["triage-v2"]


async def test_needs_a_credential_and_a_sane_limit(api: ApiClient, owner: Account) -> None:
    assert (await api.get("unregistered-agents")).status == 401
    bad = await api.get("unregistered-agents", params={"limit": "0"}, headers=owner.jwt)
    assert bad.status == 400 and bad.body["status"] == 400 and bad.body["details"][0]["field"] == "limit"


async def test_distinct_ids_come_from_an_index_seek_per_agent(api: ApiClient, owner: Account, settings) -> None:
    for n in range(60):
        await _log(api, owner, f"bot-{n % 3}")
    db = api.client.server.app[SERVICES].db
    assert agent_ids.distinct_agent_ids(db, owner.org_id) == ["bot-0", "bot-1", "bot-2"]
    with sqlite3.connect(settings.data_dir / "agentaudit.db") as conn:
        plan = " ".join(row[3] for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT MIN(agent_id) FROM audit_logs WHERE org_id = ? AND agent_id > ?",
            (owner.org_id, "bot-0")))
    assert "COVERING INDEX" in plan and "SCAN" not in plan, plan
