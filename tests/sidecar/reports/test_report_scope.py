"""Reports scoped to a policy or an agent: every figure is the scope's, in every format, as the API counts it."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.helpers import ApiClient
from tests.sidecar.reports.conftest import CARD, SSN, Seeded, build, pdf_text

pytestmark = pytest.mark.both_backends

_RANK = {"allow": 0, "log": 1, "flag": 2, "block": 3}


def _sections(raw: bytes) -> dict[str, list[dict[str, str]]]:
    """A sectioned CSV as ``{section: [row dicts]}`` (title row, header row, data rows; empty row between)."""
    out: dict[str, list[dict[str, str]]] = {}
    title, header = None, None
    for row in csv.reader(io.StringIO(raw.decode())):
        if not row:
            title = header = None
        elif title is None:
            title = row[0]
            out[title] = []
        elif header is None:
            header = row
        else:
            out[title].append(dict(zip(header, row)))
    return out


async def _more_events(api: ApiClient, data: Seeded) -> dict[str, Any]:
    """Beside the seed: an agent with events before, while and after it is attached to the policy, and a
    trace that mixes a claims-bot span (SSN) with a billing-bot span (card, blocked by the policy)."""
    owner, policy_id = data.account, data.policy["id"]
    ops = await api.post("agents", json={"name": "ops-bot"}, headers=owner.jwt)
    assert ops.status == 201

    async def send(agent: str, prompt: str, **extra: Any) -> dict[str, Any]:
        stored = await api.post("audit-logs", json={"action": "llm_call", "agentId": agent, "prompt": prompt, **extra},
                                headers=owner.api_key)
        assert stored.status == 201, stored.body
        return stored.body

    before = await send("ops-bot", f"Card {CARD} before the policy")
    assert before["complianceFlags"] == []  # no organisation-wide finance rule
    assert (await api.post(f"policies/{policy_id}/agents", json={"agentId": ops.body["id"]},
                           headers=owner.jwt)).status == 200
    during = await send(ops.body["id"], f"Card {CARD} under the policy")
    assert during["enforcementAction"] == "block"
    detach = await api.delete(f"policies/{policy_id}/agents", json={"agentId": ops.body["id"]}, headers=owner.jwt)
    assert detach.status == 200
    after = await send("ops-bot", f"Card {CARD} after the policy")
    assert after["complianceFlags"] == []
    mixed = await api.post("audit-logs/batch", json=[
        {"action": "intake", "agentId": "claims-bot", "traceId": "mixed-1", "spanId": "a", "prompt": f"SSN {SSN}"},
        {"action": "charge", "agentId": "billing-bot", "traceId": "mixed-1", "spanId": "b", "parentSpanId": "a",
         "prompt": f"Charge card {CARD}"}], headers=owner.api_key)
    assert mixed.status == 201 and [e["enforcementAction"] for e in mixed.body["data"]] == ["block", "block"]
    return {"before": before, "during": during, "after": after}


async def test_a_policy_report_counts_only_the_policys_events_in_every_format(api: ApiClient,
                                                                             seeded: Seeded) -> None:
    owner, policy_id = seeded.account, seeded.policy["id"]
    extra = await _more_events(api, seeded)
    window = {"from": seeded.start, "to": seeded.end}
    logs = await api.get("audit-logs", params={**window, "limit": "500"}, headers=owner.jwt)
    everything = logs.body["data"]
    assert len(everything) == len(seeded.events) + 5

    def policy_outcome(event: dict[str, Any]) -> str | None:
        actions = [v["action"] for v in event["violationDetails"] or [] if v["policyId"] == policy_id]
        return max(actions, key=_RANK.__getitem__) if actions else None

    # in scope: the attached agent's events (billing-bot, attached before the seed sent them) and every event
    # that violated the policy's rules (ops-bot's while it was attached); not ops-bot's before or after
    in_scope = [e for e in everything if e["agentId"] == "billing-bot" or policy_outcome(e) is not None]
    flagged = [e for e in in_scope if policy_outcome(e) is not None]
    blocked = [e for e in flagged if policy_outcome(e) == "block"]
    assert {e["id"] for e in in_scope} >= {extra["during"]["id"]}
    assert not {extra["before"]["id"], extra["after"]["id"]} & {e["id"] for e in in_scope}
    assert (len(in_scope), len(flagged), len(blocked)) == (5, 4, 4)
    org_flagged = [e for e in everything if e["complianceFlags"]]
    assert len(org_flagged) > len(flagged)  # the organisation-wide figures differ: scoping is visible

    analytics = await api.get(f"policies/{policy_id}/analytics", params={"startDate": seeded.start,
                                                                          "endDate": seeded.end}, headers=owner.jwt)
    alerts = await api.get("alerts", params={"policyId": policy_id, "limit": "500"}, headers=owner.jwt)
    assert analytics.status == 200 and alerts.status == 200
    assert analytics.body["violatingEvents"] == len(flagged)

    report, download = await build(api, seeded, "compliance_summary", "json", policyId=policy_id)
    body = download.body
    kpis = body["kpis"]
    assert (kpis["eventsAudited"], kpis["flaggedEvents"], kpis["eventsBlocked"], kpis["eventsOutcomeFlag"]) == (
        len(in_scope), len(flagged), len(blocked), 0)
    assert (kpis["violations"], kpis["alertsRaised"], kpis["agentsActive"]) == (
        analytics.body["totalViolations"], len(alerts.body), 2)
    assert body["report"]["scope"]["Policies"] == f"Card handling ({policy_id})"
    assert body["report"]["scope"]["Events"].startswith("the events this policy's rules applied to")
    summary = body["summary"][0]
    assert (f"{len(in_scope)} events from 2 agents came under policy Card handling. {len(flagged)} (80.0%) were "
            f"flagged (violated a rule of the policy); by the policy's outcome, {len(blocked)} were blocked by its "
            "rules, 0 flagged and let through and 0 logged only.") in summary
    assert sum(body["eventTrend"]["series"]["Events"]) == len(in_scope)
    assert [(t["traceId"], t["flaggedCount"], t["blockedCount"], t["enforcementAction"])
            for t in body["topFlaggedTraces"]] == [("mixed-1", 1, 1, "block")]  # claim-7 is claims-bot's only
    assert any(p.startswith("Scope: every figure counts only the policy's events") for p in body["method"])

    _, download = await build(api, seeded, "compliance_summary", "csv", policyId=policy_id)
    sections = _sections(download.body)
    csv_kpis = {row["key"]: row["value"] for row in sections["kpis"]}
    assert (csv_kpis["eventsAudited"], csv_kpis["flaggedEvents"], csv_kpis["eventsBlocked"]) == (
        str(len(in_scope)), str(len(flagged)), str(len(blocked)))
    assert any(summary in row.values() for row in sections["summary"])

    _, download = await build(api, seeded, "compliance_summary", "pdf", policyId=policy_id)
    flat = " ".join(pdf_text(download.body).split())
    assert f"{len(in_scope)} Events under the policy" in flat
    assert f"{len(flagged)} Flagged events (a rule of the policy matched)" in flat
    assert f"{len(blocked)} Blocked by the policy's rules" in flat
    assert f"{len(in_scope)} events from 2 agents came under policy Card handling" in flat
    assert "Scope: every figure counts only the policy's events" in flat

    _, download = await build(api, seeded, "audit_log_export", "json", policyId=policy_id)
    assert [e["id"] for e in download.body["events"]] == [e["id"] for e in reversed(in_scope)]  # oldest first
    assert (download.body["summary"]["events"], download.body["summary"]["flagged"],
            download.body["summary"]["blocked"]) == (len(in_scope), len(flagged), len(blocked))
    _, download = await build(api, seeded, "audit_log_export", "csv", policyId=policy_id)
    rows = list(csv.DictReader(io.StringIO(download.body.decode())))
    assert [r["id"] for r in rows] == [e["id"] for e in reversed(in_scope)]

    _, download = await build(api, seeded, "agent_activity", "json", policyId=policy_id)
    by_agent = {a["agentId"]: (a["events"], a["flagged"], a["blocked"]) for a in download.body["agents"]}
    assert by_agent == {"billing-bot": (4, 3, 3), extra["during"]["agentId"]: (1, 1, 1)}
    assert download.body["kpis"]["events"] == len(in_scope)
    _, download = await build(api, seeded, "agent_activity", "pdf", policyId=policy_id)
    flat = " ".join(pdf_text(download.body).split())
    assert f"{len(flagged)} Flagged events (a rule of the policy matched)" in flat


async def test_an_agent_report_counts_only_the_agents_spans_of_a_shared_trace(api: ApiClient,
                                                                             seeded: Seeded) -> None:
    await _more_events(api, seeded)
    _, download = await build(api, seeded, "compliance_summary", "json", agentId="claims-bot")
    traces = {t["traceId"]: t for t in download.body["topFlaggedTraces"]}
    mixed = traces["mixed-1"]
    # two spans, both blocked: claims-bot's (SSN, hipaa) counts here, billing-bot's (card, policy) does not
    assert (mixed["flaggedCount"], mixed["blockedCount"], mixed["spanCount"]) == (1, 1, 2)
    assert set(mixed["agentIds"]) == {"claims-bot", "billing-bot"}
    logs = await api.get("audit-logs", params={"from": seeded.start, "to": seeded.end, "agentId": "claims-bot",
                                               "flagged": "true", "limit": "500"}, headers=seeded.account.jwt)
    assert download.body["kpis"]["flaggedEvents"] == len(logs.body["data"])
    assert sum(t["flaggedCount"] for t in download.body["topFlaggedTraces"]) == len(
        [e for e in logs.body["data"] if e["traceId"] in traces])

    _, download = await build(api, seeded, "compliance_summary", "json", agentId="billing-bot")
    traces = {t["traceId"]: t for t in download.body["topFlaggedTraces"]}
    assert set(traces) == {"mixed-1"} and (traces["mixed-1"]["flaggedCount"], traces["mixed-1"]["blockedCount"]) == (
        1, 1)
