"""Policies: CRUD, pack clones, agents, conditions, modes, versions and restore, analytics, dry runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import Account, ApiClient

SSN = "Employee record: SSN 123-45-6789 on file."
NPI = "Referral signed by provider NPI 1234567893 today."
CARD = "Charge card 4111 1111 1111 1111 exp 09/29."


async def _agent(api: ApiClient, owner: Account, name: str = "writer-agent", type: str = "assistant") -> dict:
    reply = await api.post("agents", json={"name": name, "type": type, "metadata": {"team": "hr"}}, headers=owner.jwt)
    assert reply.status == 201
    return reply.body


async def _clone(api: ApiClient, owner: Account, pack: str, mode: str, **extra) -> dict:
    reply = await api.post("policies/clone-pack", json={"packId": pack, "name": f"{pack} {mode}", "mode": mode, **extra},
                           headers=owner.jwt)
    assert reply.status == 201, reply.body
    return reply.body


async def test_agents_crud(api: ApiClient, owner: Account, other: Account) -> None:
    agent = await _agent(api, owner)
    assert agent["id"].startswith("agent_") and agent["organizationId"] == owner.org_id
    assert (agent["name"], agent["type"], agent["metadata"]) == ("writer-agent", "assistant", {"team": "hr"})
    listed = await api.get("agents", headers=owner.api_key)
    assert [a["id"] for a in listed.body] == [agent["id"]] and listed.headers["X-Total-Count"] == "1"
    changed = await api.patch(f"agents/{agent['id']}", json={"description": "writes emails"}, headers=owner.jwt)
    assert changed.body["description"] == "writes emails"
    await api.post("audit-logs", json={"action": "a", "agentId": agent["id"]}, headers=owner.api_key)
    await api.post("audit-logs", json={"action": "b", "agentId": "writer-agent"}, headers=owner.api_key)
    detail = await api.get(f"agents/{agent['id']}", headers=owner.jwt)
    assert detail.body["activity"]["eventCount"] == 2 and detail.body["policies"] == []
    assert (await api.get(f"agents/{agent['id']}", headers=other.jwt)).status == 404
    assert (await api.post("agents", json={"name": ""}, headers=owner.jwt)).status == 400
    assert (await api.delete(f"agents/{agent['id']}", headers=owner.jwt)).status == 204
    assert (await api.get(f"agents/{agent['id']}", headers=owner.jwt)).status == 404
    logs = await api.get("audit-logs", params={"agentId": agent["id"]}, headers=owner.api_key)
    assert logs.body["pagination"]["total"] == 1  # its logs stay


async def test_block_policy_attached_to_agent(api: ApiClient, owner: Account) -> None:
    agent = await _agent(api, owner)
    policy = await _clone(api, owner, "hipaa", "block")
    assert policy["sourcePackId"] == "hipaa" and policy["rules"] and policy["version"] == 1
    attach = await api.post(f"policies/{policy['id']}/agents", json={"agentId": agent["id"]}, headers=owner.jwt)
    assert attach.status == 200 and attach.body["agentId"] == agent["id"]
    again = await api.post(f"policies/{policy['id']}/agents", json={"agentId": agent["id"]}, headers=owner.jwt)
    assert again.status == 200  # idempotent
    blocked = await api.post("audit-logs", json={"action": "llm_call", "prompt": SSN, "agentId": agent["id"]},
                             headers=owner.api_key)
    assert blocked.body["enforcementAction"] == "block"
    by_name = await api.post("audit-logs", json={"action": "llm_call", "prompt": SSN, "agentId": "writer-agent"},
                             headers=owner.api_key)
    assert by_name.body["enforcementAction"] == "block"
    unattached = await api.post("audit-logs", json={"action": "llm_call", "prompt": SSN, "agentId": "someone-else"},
                                headers=owner.api_key)
    assert unattached.body["enforcementAction"] == "allow"
    detach = await api.delete(f"policies/{policy['id']}/agents", json={"agentId": agent["id"]}, headers=owner.jwt)
    assert detach.body == {"detached": True}
    after = await api.post("audit-logs", json={"action": "llm_call", "prompt": SSN, "agentId": agent["id"]},
                           headers=owner.api_key)
    assert after.body["enforcementAction"] == "allow"


async def test_two_policies_with_different_modes_on_one_event(api: ApiClient, owner: Account) -> None:
    agent = await _agent(api, owner)
    hipaa = await _clone(api, owner, "hipaa", "flag")
    finance = await _clone(api, owner, "finance", "block", priority=10)
    for policy in (hipaa, finance):
        await api.post(f"policies/{policy['id']}/agents", json={"agentId": agent["id"]}, headers=owner.jwt)
    reply = await api.post("audit-logs", json={"action": "llm_call", "prompt": f"{SSN} {CARD}", "agentId": agent["id"]},
                           headers=owner.api_key)
    details = reply.body["violationDetails"]
    by_policy = {v["policyId"]: v["action"] for v in details}
    assert by_policy[hipaa["id"]] == "flag" and by_policy[finance["id"]] == "block"
    assert reply.body["enforcementAction"] == "block"
    assert details[0]["policyId"] == finance["id"]  # higher priority first
    flag_only = await api.post("audit-logs", json={"action": "llm_call", "prompt": NPI, "agentId": agent["id"]},
                               headers=owner.api_key)
    assert flag_only.body["enforcementAction"] == "flag"
    assert {v["policyId"] for v in flag_only.body["violationDetails"]} == {hipaa["id"]}
    inactive = await api.patch(f"policies/{hipaa['id']}", json={"isActive": False}, headers=owner.jwt)
    assert inactive.body["isActive"] is False
    off = await api.post("audit-logs", json={"action": "llm_call", "prompt": NPI, "agentId": agent["id"]},
                         headers=owner.api_key)
    assert off.body["enforcementAction"] == "allow"


async def test_conditions_time_window_and_agent_type(api: ApiClient, owner: Account) -> None:
    agent = await _agent(api, owner, type="assistant")
    now = datetime.now(UTC)
    tokyo = now.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    inside = {"start": (tokyo - timedelta(hours=1)).strftime("%H:%M"), "end": (tokyo + timedelta(hours=1)).strftime("%H:%M"),
              "timezone": "Asia/Tokyo"}
    outside = {"start": (tokyo + timedelta(hours=2)).strftime("%H:%M"), "end": (tokyo + timedelta(hours=3)).strftime("%H:%M"),
               "timezone": "Asia/Tokyo"}
    policy = await _clone(api, owner, "hipaa", "block", conditions={"timeOfDay": inside, "agentTypes": ["assistant"]})
    await api.post(f"policies/{policy['id']}/agents", json={"agentId": agent["id"]}, headers=owner.jwt)
    event = {"action": "llm_call", "prompt": SSN, "agentId": agent["id"]}
    assert (await api.post("audit-logs", json=event, headers=owner.api_key)).body["enforcementAction"] == "block"
    await api.patch(f"policies/{policy['id']}", json={"conditions": {"timeOfDay": outside}}, headers=owner.jwt)
    assert (await api.post("audit-logs", json=event, headers=owner.api_key)).body["enforcementAction"] == "allow"
    await api.patch(f"policies/{policy['id']}", json={"conditions": {"agentTypes": ["batch-job"]}}, headers=owner.jwt)
    assert (await api.post("audit-logs", json=event, headers=owner.api_key)).body["enforcementAction"] == "allow"
    bad = await api.patch(f"policies/{policy['id']}", json={"conditions": {"timeOfDay": {"start": "25:00", "end": "01:00"}}},
                          headers=owner.jwt)
    assert bad.status == 400 and bad.body["details"] == [{"field": "conditions.timeOfDay.start",
                                                          "message": "must be HH:MM (24-hour)"}]
    days = await api.post("policies", json={"name": "Weekdays", "conditions": {"daysOfWeek": [9]}}, headers=owner.jwt)
    assert days.status == 400 and [d["field"] for d in days.body["details"]] == ["conditions.daysOfWeek"]


async def test_versions_diffable_and_restorable(api: ApiClient, owner: Account) -> None:
    created = await api.post("policies", headers=owner.jwt, json={
        "name": "Secrets in prompts", "mode": "flag",
        "rules": [{"name": "Internal codename", "ruleType": "keyword_match", "condition": {"keywords": ["bluebird"]},
                   "severity": "warning"}],
    })
    assert created.status == 201 and created.body["version"] == 1
    pid = created.body["id"]
    rule_id = created.body["rules"][0]["id"]
    await api.patch(f"policies/{pid}", json={"mode": "block"}, headers=owner.jwt)
    added = await api.post(f"policies/{pid}/rules", headers=owner.jwt, json={
        "name": "Ticket ids", "ruleType": "regex_match", "condition": {"pattern": "TCK-[0-9]{6}"}, "severity": "info"})
    assert added.status == 201 and added.body["policyId"] == pid
    edited = await api.patch(f"policies/{pid}/rules/{rule_id}", json={"condition": {"keywords": ["bluebird", "osprey"]}},
                             headers=owner.jwt)
    assert edited.body["condition"]["keywords"] == ["bluebird", "osprey"]
    versions = await api.get(f"policies/{pid}/versions", headers=owner.jwt)
    assert [v["versionNumber"] for v in versions.body] == [4, 3, 2, 1]
    v1 = await api.get(f"policies/{pid}/versions/{versions.body[-1]['id']}", headers=owner.jwt)
    assert v1.body["mode"] == "flag" and [r["name"] for r in v1.body["rules"]] == ["Internal codename"]
    v4 = await api.get(f"policies/{pid}/versions/{versions.body[0]['id']}", headers=owner.jwt)
    assert v4.body["mode"] == "block" and [r["name"] for r in v4.body["rules"]] == ["Internal codename", "Ticket ids"]
    restored = await api.post(f"policies/{pid}/versions/{versions.body[-1]['id']}/restore", headers=owner.jwt)
    assert restored.status == 200
    assert (restored.body["versionNumber"], restored.body["restoredFromId"]) == (5, versions.body[-1]["id"])
    policy = await api.get(f"policies/{pid}", headers=owner.jwt)
    assert policy.body["version"] == 5 and policy.body["mode"] == "flag"
    assert [(r["name"], r["condition"]["keywords"]) for r in policy.body["rules"]] == [("Internal codename", ["bluebird"])]
    named = await api.post(f"policies/{pid}/versions", json={"name": "audited Q3"}, headers=owner.jwt)
    assert named.status == 201 and named.body["name"] == "audited Q3" and named.body["versionNumber"] == 6
    activity = await api.get("activity", params={"targetType": "policy", "targetId": pid}, headers=owner.jwt)
    assert {"policy.create", "policy.update", "policy.restore", "policy.version"} <= {a["action"] for a in activity.body}


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"name": "r", "ruleType": "regex_match", "condition": {"pattern": "(a+)+\\1"}}, "condition.pattern"),
        ({"name": "r", "ruleType": "pii_detect", "condition": {"patterns": ["ssn", "horoscope"]}}, "condition.patterns"),
        ({"name": "r", "ruleType": "keyword_match", "condition": {"keywords": "secret"}}, "condition.keywords"),
        ({"name": "r", "ruleType": "rate_limit", "condition": {"maxRequests": 0, "windowMinutes": 1}}, "condition.maxRequests"),
        ({"name": "r", "ruleType": "teleport", "condition": {}}, "ruleType"),
        ({"name": "r", "ruleType": "metadata_match", "condition": {"key": "x", "operator": "near", "value": 1}},
         "condition.operator"),
    ],
)
async def test_a_rule_that_cannot_run_is_a_400_when_saved(api: ApiClient, owner: Account, rule, field) -> None:
    reply = await api.post("compliance-rules", json=rule, headers=owner.jwt)
    assert reply.status == 400
    assert reply.body["details"][0]["field"] == field, reply.body
    listed = await api.get("compliance-rules", headers=owner.jwt)
    assert listed.body == []


async def test_org_rule_crud_and_redaction(api: ApiClient, owner: Account, settings) -> None:
    rule = await api.post("compliance-rules", headers=owner.jwt, json={
        "name": "Mask SSNs", "ruleType": "pii_detect", "condition": {"patterns": ["ssn"]}, "severity": "critical",
        "actionOverride": "flag", "redaction": "mask"})
    assert rule.status == 201 and rule.body["policyId"] is None
    event = await api.post("audit-logs", json={"action": "x", "prompt": SSN}, headers=owner.api_key)
    assert "123-45-6789" not in event.body["prompt"]
    match = event.body["violationDetails"][0]["matches"][0]
    assert (match["field"], SSN[match["start"]:match["end"]]) == ("prompt", "123-45-6789")
    assert event.body["complianceFlags"] == ["CRITICAL_pii_detect_Mask SSNs"]
    raw = (settings.data_dir / "agentaudit.db").read_bytes() + (settings.data_dir / "agentaudit.db-wal").read_bytes()
    assert b"123-45-6789" not in raw
    got = await api.get(f"compliance-rules/{rule.body['id']}", headers=owner.api_key)
    assert got.body == rule.body
    off = await api.patch(f"compliance-rules/{rule.body['id']}", json={"isActive": False}, headers=owner.jwt)
    assert off.body["isActive"] is False
    clean = await api.post("audit-logs", json={"action": "x", "prompt": SSN}, headers=owner.api_key)
    assert clean.body["prompt"] == SSN and clean.body["enforcementAction"] == "allow"
    assert (await api.delete(f"compliance-rules/{rule.body['id']}", headers=owner.jwt)).status == 204
    assert (await api.get(f"compliance-rules/{rule.body['id']}", headers=owner.jwt)).status == 404


async def test_evaluate_is_a_dry_run(api: ApiClient, owner: Account, settings) -> None:
    await api.post("compliance-rules/packs", json={"packId": "finance"}, headers=owner.jwt)
    reply = await api.post("compliance/evaluate", json={"prompt": CARD}, headers=owner.api_key)
    assert reply.status == 200 and reply.body["enforcementAction"] != "allow"
    assert any(m["detector"] == "credit_card" for v in reply.body["violationDetails"] for m in v["matches"])
    test_rule = await api.post("compliance/evaluate", headers=owner.jwt, json={
        "prompt": "ship to project osprey", "rule": {"ruleType": "keyword_match", "condition": {"keywords": ["osprey"]},
                                                     "severity": "warning"}})
    assert test_rule.body["complianceFlags"] == ["WARNING_keyword_match_test rule"]
    bad = await api.post("compliance/evaluate", headers=owner.jwt, json={
        "prompt": "x", "rule": {"ruleType": "regex_match", "condition": {"pattern": "(?<=a)b"}}})
    assert bad.status == 400 and bad.body["details"][0]["field"] == "rule.condition.pattern"
    logs = await api.get("audit-logs", headers=owner.api_key)
    assert logs.body["pagination"]["total"] == 0
    assert (await api.get("alerts", headers=owner.jwt)).body == []


async def test_policy_analytics(api: ApiClient, owner: Account) -> None:
    agent = await _agent(api, owner)
    policy = await _clone(api, owner, "hipaa", "block")
    await api.post(f"policies/{policy['id']}/agents", json={"agentId": agent["id"]}, headers=owner.jwt)
    for text in (SSN, SSN, "nothing to see"):
        await api.post("audit-logs", json={"action": "llm_call", "prompt": text, "agentId": agent["id"]},
                       headers=owner.api_key)
    reply = await api.get(f"policies/{policy['id']}/analytics", headers=owner.jwt)
    body = reply.body
    assert (body["policyId"], body["policyName"], body["mode"]) == (policy["id"], "hipaa block", "block")
    assert body["totalAudits"] == 3 and body["blockCount"] == body["totalViolations"] >= 2
    assert body["agentBreakdown"][0]["agentId"] == agent["id"] and body["agentBreakdown"][0]["events"] == 2
    assert sum(day["violations"] for day in body["dailyTrend"]) == body["totalViolations"]
    everything = await api.get("policies/analytics", params={"severity": "critical"}, headers=owner.jwt)
    assert everything.body["policyId"] is None and everything.body["totalViolations"] >= 2
    bad = await api.get(f"policies/{policy['id']}/analytics", params={"ruleType": "nope"}, headers=owner.jwt)
    assert bad.status == 400


async def test_other_org_cannot_see_or_touch(api: ApiClient, owner: Account, other: Account) -> None:
    agent = await _agent(api, owner)
    policy = await _clone(api, owner, "gdpr", "flag")
    rule_id = policy["rules"][0]["id"]
    for method, path, body in (
        ("get", f"policies/{policy['id']}", None), ("patch", f"policies/{policy['id']}", {"name": "x"}),
        ("delete", f"policies/{policy['id']}", None), ("get", f"policies/{policy['id']}/versions", None),
        ("post", f"policies/{policy['id']}/agents", {"agentId": agent["id"]}),
        ("get", f"compliance-rules/{rule_id}", None), ("patch", f"compliance-rules/{rule_id}", {"name": "x"}),
        ("get", f"agents/{agent['id']}", None), ("get", f"policies/{policy['id']}/analytics", None),
    ):
        kwargs = {"json": body} if body is not None else {}
        reply = await api.request(method.upper(), path, headers=other.jwt, **kwargs)
        assert reply.status == 404, (method, path, reply.body)
    theirs = await _agent(api, other, name="globex-bot")
    cross = await api.post(f"policies/{policy['id']}/agents", json={"agentId": theirs["id"]}, headers=owner.jwt)
    assert cross.status == 404
    assert (await api.get("policies", headers=other.jwt)).body == []
    seen = (await api.get("activity", headers=other.jwt)).body
    assert [(a["action"], a["actorName"]) for a in seen] == [("agent.create", "owner@globex.test"),
                                                             ("key.create", "owner@globex.test")]


async def test_org_rule_with_a_policy_id_is_refused_not_made_org_wide(api: ApiClient, owner: Account) -> None:
    policy = await api.post("policies", json={"name": "one team", "mode": "block"}, headers=owner.jwt)
    assert policy.status == 201, policy.body
    rule = {"name": "No secrets", "ruleType": "keyword_match", "condition": {"keywords": ["topsecret"]},
            "actionOverride": "block", "policyId": policy.body["id"]}
    reply = await api.post("compliance-rules", json=rule, headers=owner.jwt)
    assert (reply.status, reply.body["code"]) == (400, "validation_error")
    [detail] = reply.body["details"]
    assert detail["field"] == "policyId" and "POST /policies/{policyId}/rules" in detail["message"]
    assert (await api.get("compliance-rules", headers=owner.jwt)).body == []
    event = await api.post("audit-logs", json={"action": "x", "prompt": "topsecret", "agentId": "any"},
                           headers=owner.api_key)
    assert event.body["enforcementAction"] == "allow"
    # null means absent: an organisation-wide rule, as documented
    made = await api.post("compliance-rules", json={**rule, "policyId": None}, headers=owner.jwt)
    assert made.status == 201 and made.body["policyId"] is None


async def test_a_policy_rule_may_echo_its_policy_id_but_not_another(api: ApiClient, owner: Account) -> None:
    pid = (await api.post("policies", json={"name": "team", "mode": "block"}, headers=owner.jwt)).body["id"]
    other = (await api.post("policies", json={"name": "elsewhere", "mode": "flag"}, headers=owner.jwt)).body["id"]
    rule = {"name": "No secrets", "ruleType": "keyword_match", "condition": {"keywords": ["topsecret"]}}
    same = await api.post(f"policies/{pid}/rules", json={**rule, "policyId": pid}, headers=owner.jwt)
    assert same.status == 201, same.body
    assert (same.body["policyId"], same.body["name"]) == (pid, "No secrets")
    echoed = await api.post(f"policies/{pid}/rules", json={**same.body, "name": "Copy", "policyId": None},
                            headers=owner.jwt)
    assert echoed.status == 201 and echoed.body["policyId"] == pid and echoed.body["id"] != same.body["id"]
    wrong = await api.post(f"policies/{pid}/rules", json={**rule, "name": "Stray", "policyId": other},
                           headers=owner.jwt)
    assert (wrong.status, wrong.body["code"]) == (400, "validation_error")
    [detail] = wrong.body["details"]
    assert detail["field"] == "policyId" and detail["message"].startswith(f"names another policy than the path ({pid!r})")
    names = {p["id"]: sorted(r["name"] for r in (await api.get(f"policies/{p['id']}", headers=owner.jwt)).body["rules"])
             for p in (await api.get("policies", headers=owner.jwt)).body}
    assert names == {pid: ["Copy", "No secrets"], other: []}
