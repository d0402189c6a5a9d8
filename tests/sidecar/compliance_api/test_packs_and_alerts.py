"""Packs installed for the organisation flag events on ingest and raise alerts that people triage."""

from __future__ import annotations

import pytest

from tests.helpers import Account, ApiClient, open_db

pytestmark = pytest.mark.both_backends

SSN_PROMPT = "Patient intake: SSN 123-45-6789, please file the claim."


async def test_pack_catalogue(api: ApiClient, owner: Account) -> None:
    reply = await api.get("compliance-rules/packs", headers=owner.jwt)
    assert reply.status == 200
    assert {p["id"] for p in reply.body} == {"hipaa", "gdpr", "finance", "secrets"}
    hipaa = next(p for p in reply.body if p["id"] == "hipaa")
    assert hipaa["version"] and hipaa["rules"] and {"key", "name", "ruleType", "condition"} <= set(hipaa["rules"][0])


async def test_install_flags_events_and_raises_alerts(api: ApiClient, owner: Account, settings) -> None:
    installed = await api.post("compliance-rules/packs", json={"packId": "hippo"}, headers=owner.jwt)
    assert installed.status == 201
    assert installed.body and all(r["packId"] == "hipaa" and r["policyId"] is None for r in installed.body)
    again = await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)
    assert (again.status, again.body["error"]) == (409, "pack hipaa is already installed")
    listing = await api.get("compliance-rules/packs/installed", headers=owner.jwt)
    assert [p["packId"] for p in listing.body] == ["hipaa"] and listing.body[0]["ruleCount"] == len(installed.body)

    event = await api.post("audit-logs", json={"action": "llm_call", "prompt": SSN_PROMPT, "agentId": "intake-bot"},
                           headers=owner.api_key)
    assert event.status == 201
    body = event.body
    assert body["enforcementAction"] in ("flag", "block")
    ssn = [v for v in body["violationDetails"] if any(m["detector"] == "ssn" for m in v["matches"])]
    assert ssn, body["violationDetails"]
    match = next(m for m in ssn[0]["matches"] if m["detector"] == "ssn")
    assert SSN_PROMPT[match["start"]:match["end"]] == "123-45-6789" and match["field"] == "prompt"
    assert any(flag.endswith(ssn[0]["name"]) and flag.startswith(ssn[0]["severity"].upper()) for flag in
               body["complianceFlags"])
    assert "123-45-6789" not in str(body["violationDetails"])

    alerts = await api.get("alerts", headers=owner.api_key)
    assert alerts.status == 200 and alerts.body
    alert = alerts.body[0]
    assert (alert["auditLogId"], alert["agentId"], alert["status"], alert["isResolved"]) == (
        body["id"], "intake-bot", "open", False)
    assert alert["message"].startswith(f"{ssn[0]['name']}: ") or any(a["ruleId"] == ssn[0]["ruleId"] for a in alerts.body)

    clean = await api.post("audit-logs", json={"action": "llm_call", "prompt": "Order 4417 ships Tuesday."},
                           headers=owner.api_key)
    assert (clean.body["enforcementAction"], clean.body["complianceFlags"]) == ("allow", [])
    flagged = await api.get("audit-logs", params={"flagged": "true"}, headers=owner.api_key)
    assert [e["id"] for e in flagged.body["data"]] == [body["id"]]

    assert (await api.delete("compliance-rules/packs/hipaa", headers=owner.jwt)).status == 204
    after = await api.post("audit-logs", json={"action": "llm_call", "prompt": SSN_PROMPT}, headers=owner.api_key)
    assert after.body["enforcementAction"] == "allow"
    assert (await api.delete("compliance-rules/packs/hipaa", headers=owner.jwt)).status == 404


async def test_unknown_pack(api: ApiClient, owner: Account) -> None:
    reply = await api.post("compliance-rules/packs", json={"packId": "sox"}, headers=owner.jwt)
    assert reply.status == 404 and reply.body["error"].startswith("pack sox not found (available: ")


async def test_alert_triage(api: ApiClient, owner: Account) -> None:
    await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)
    for i in range(3):
        await api.post("audit-logs", json={"action": "llm_call", "prompt": SSN_PROMPT, "agentId": f"bot-{i}"},
                       headers=owner.api_key)
    alerts = (await api.get("alerts", headers=owner.jwt)).body
    assert len(alerts) >= 3
    first = alerts[0]["id"]
    ack = await api.patch(f"alerts/{first}", json={"status": "acknowledged", "note": "looking"}, headers=owner.jwt)
    assert (ack.status, ack.body["status"], ack.body["note"], ack.body["isResolved"]) == (200, "acknowledged", "looking",
                                                                                          False)
    resolved = await api.patch(f"alerts/{first}/resolve", headers=owner.jwt)
    assert (resolved.body["status"], resolved.body["isResolved"], resolved.body["note"]) == ("resolved", True, "looking")
    assert resolved.body["resolvedBy"] and resolved.body["resolvedAt"]
    reopened = await api.patch(f"alerts/{first}", json={"status": "open"}, headers=owner.jwt)
    assert (reopened.body["resolvedAt"], reopened.body["resolvedBy"]) == (None, None)
    fp = await api.patch(f"alerts/{alerts[1]['id']}", json={"status": "false_positive", "note": "test data"},
                         headers=owner.jwt)
    assert fp.body["isResolved"] is True
    bad = await api.patch(f"alerts/{first}", json={"status": "closed"}, headers=owner.jwt)
    assert bad.status == 400 and bad.body["details"][0]["field"] == "status"
    assert (await api.patch("alerts/alert_nope", json={"status": "open"}, headers=owner.jwt)).status == 404

    open_only = await api.get("alerts", params={"isResolved": "false"}, headers=owner.jwt)
    assert all(not a["isResolved"] for a in open_only.body)
    by_agent = await api.get("alerts", params={"agentId": "bot-2"}, headers=owner.jwt)
    assert {a["agentId"] for a in by_agent.body} == {"bot-2"}
    bulk = await api.post("alerts/resolve", json={"ids": [a["id"] for a in open_only.body], "note": "batch"},
                          headers=owner.jwt)
    assert bulk.status == 200 and bulk.body["updated"] == len(open_only.body)
    assert (await api.get("alerts", params={"isResolved": "false"}, headers=owner.jwt)).body == []
    counts = await api.get("alerts/counts", headers=owner.jwt)
    assert counts.body["openTotal"] == 0
    by_filter = await api.post("alerts/resolve", json={"filter": {"agentId": "bot-0"}, "status": "open"},
                               headers=owner.jwt)
    assert by_filter.body["updated"] >= 1
    assert (await api.post("alerts/resolve", json={}, headers=owner.jwt)).status == 400

    activity = await api.get("activity", params={"targetType": "alert"}, headers=owner.jwt)
    actions = [a["action"] for a in activity.body]
    assert {"alert.acknowledged", "alert.resolved", "alert.open", "alert.false_positive", "alert.bulk_resolved"} <= set(actions)
    assert activity.body[0]["actorName"] == owner.email


async def test_auditor_and_key_scopes_for_triage(api: ApiClient, owner: Account) -> None:
    await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)
    await api.post("audit-logs", json={"action": "x", "prompt": SSN_PROMPT}, headers=owner.api_key)
    alert_id = (await api.get("alerts", headers=owner.jwt)).body[0]["id"]
    reply = await api.patch(f"alerts/{alert_id}/resolve", headers=owner.api_key)
    assert (reply.status, reply.body["error"]) == (403, "this API key lacks the 'admin' scope")
    admin_key = await api.key_with(owner, ["admin"])
    assert (await api.patch(f"alerts/{alert_id}/resolve", headers={"X-API-Key": admin_key})).status == 200
    reply = await api.post("compliance-rules/packs", json={"packId": "gdpr"}, headers=owner.api_key)
    assert reply.status == 403


async def test_alerts_and_violations_commit_with_the_event(api: ApiClient, owner: Account, settings) -> None:
    await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)
    event = await api.post("audit-logs", json={"action": "x", "prompt": SSN_PROMPT}, headers=owner.api_key)
    with open_db(settings) as conn:
        alerts = conn.execute("SELECT audit_log_id FROM alerts").fetchall()
        facts = conn.execute("SELECT audit_log_id, pack_id FROM violations").fetchall()
    assert alerts and {a[0] for a in alerts} == {event.body["id"]}
    assert facts and {f[1] for f in facts} == {"hipaa"}
