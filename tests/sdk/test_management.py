"""Queries and management through the SDK's resources against a real sidecar: every resource method."""

from __future__ import annotations

import io
import json

import pytest

import agentaudit
from agentaudit import AgentAuditClient
from tests.helpers import ROOT
from tests.sdk.conftest import Org

REPORTS_ROUTED = "/reports" in (ROOT / "sidecar" / "api" / "routes.py").read_text()


def test_logs_list_filters_pages_cursor_and_iteration(client: AgentAuditClient) -> None:
    client.log_batch([{"action": "tool_use" if i % 3 else "llm_call", "agentId": f"a{i % 2}", "traceId": "t",
                       "prompt": f"note {i}"} for i in range(25)])
    page = client.logs.list(limit=10)
    assert (page.total, page.limit, page.total_pages, len(page)) == (25, 10, 3, 10)
    assert [e.sequence for e in page] == list(range(25, 15, -1))  # newest first
    second = client.logs.list(limit=10, before=page.next_cursor)
    assert [e.sequence for e in second] == list(range(15, 5, -1))
    assert client.logs.list(limit=10, page=3).items[-1].sequence == 1
    assert client.logs.list(action="llm_call").total == 9
    assert client.logs.list(agent_id="a1", action="tool_use").total == 8
    assert [e.prompt for e in client.logs.list(q="note 17")] == ["note 17"]
    assert client.logs.list(flagged=True).total == 0
    assert [e.sequence for e in client.iter_logs(page_size=7)] == list(range(25, 0, -1))
    assert page["pagination"]["total"] == 25  # older code read the envelope


def test_export_to_memory_and_to_a_file(client: AgentAuditClient) -> None:
    client.log_batch([{"action": "a", "prompt": "=cmd()"}, {"action": "b"}])
    jsonl = client.logs.export("jsonl")
    assert [json.loads(line)["action"] for line in jsonl.content.splitlines()] == ["a", "b"]
    sink = io.BytesIO()
    csv = client.logs.export("csv", file=sink, action="a")
    assert csv.content == b"" and csv.content_type and csv.content_type.startswith("text/csv")
    rows = sink.getvalue().decode().splitlines()
    assert len(rows) == 2 and "'=cmd()" in rows[1]
    with pytest.raises(agentaudit.ValidationError):
        client.logs.export("xml")


def test_traces_chain_and_ancestors(client: AgentAuditClient) -> None:
    batch = client.log_batch([
        {"action": "run", "traceId": "tr-1", "spanId": "root"},
        {"action": "plan", "traceId": "tr-1", "spanId": "plan", "parentSpanId": "root"},
        {"action": "tool_use", "traceId": "tr-1", "spanId": "tool", "parentSpanId": "plan"},
        {"action": "other", "traceId": "tr-2"},
    ])
    assert batch is not None
    root, plan, tool = batch.data[:3]
    listed = client.traces.list()
    assert {t.trace_id for t in listed} == {"tr-1", "tr-2"}
    summary = next(t for t in listed if t.trace_id == "tr-1")
    assert (summary.root_action, summary.span_count, summary.flagged_count) == ("run", 3, 0)
    trace = client.traces.get("tr-1")
    assert [s.action for s in trace.spans] == ["run", "plan", "tool_use"]
    assert trace.tree == [{"id": root.id, "children": [{"id": plan.id, "children": [{"id": tool.id, "children": []}]}]}]
    spans = client.logs.trace_spans("tr-1", limit=2)
    assert (spans.total, len(spans)) == (3, 2)
    chain = client.logs.chain(root.id)
    assert chain.root is not None and chain.root.id == root.id
    assert [d.id for d in chain.descendants] == [plan.id, tool.id]
    assert [a.id for a in client.logs.ancestors(tool.id)] == [plan.id, root.id]
    with pytest.raises(agentaudit.NotFoundError):
        client.traces.get("no-such-trace")


def test_agents_crud(client: AgentAuditClient) -> None:
    agent = client.agents.create("support-bot", type="assistant", description="answers tickets",
                                 metadata={"team": "cx"})
    assert agent.id.startswith("agent_") and (agent.name, agent.type, agent.metadata) == (
        "support-bot", "assistant", {"team": "cx"})
    client.log("llm_call", agent_id=agent.id)
    fetched = client.agents.get(agent.id)
    assert fetched.name == "support-bot" and "policies" in fetched.raw
    updated = client.agents.update(agent.id, description="escalates refunds")
    assert updated.description == "escalates refunds"
    listing = client.agents.list(limit=1)
    assert [a.id for a in listing] == [agent.id] and listing.total == 1
    client.agents.delete(agent.id)
    with pytest.raises(agentaudit.NotFoundError):
        client.agents.get(agent.id)
    assert client.logs.list(agent_id=agent.id).total == 1  # its logs stay


def test_rules_crud_and_packs(client: AgentAuditClient) -> None:
    rule = client.rules.create("no secrets", "keyword_match", {"keywords": ["hunter2"]}, severity="critical",
                               action_override="block")
    assert (rule.rule_type, rule.severity, rule.action_override, rule.is_active) == (
        "keyword_match", "critical", "block", True)
    assert client.rules.get(rule.id).condition["keywords"] == ["hunter2"]
    assert client.rules.update(rule.id, is_active=False).is_active is False
    assert [r.id for r in client.rules.list(rule_type="keyword_match")] == [rule.id]
    with pytest.raises(agentaudit.ValidationError):
        client.rules.create("bad", "regex_match", {"pattern": "(a"})
    client.rules.delete(rule.id)
    with pytest.raises(agentaudit.NotFoundError):
        client.rules.get(rule.id)

    packs = client.packs.list()
    assert {"hipaa", "gdpr", "finance", "secrets"} <= {p.id for p in packs}
    assert all(p.rules for p in packs)
    installed = client.packs.install("secrets")
    assert installed and all(r.pack_id == "secrets" for r in installed)
    with pytest.raises(agentaudit.ConflictError):
        client.packs.install("secrets")
    assert [p["packId"] for p in client.packs.installed()] == ["secrets"]
    current = client.packs.upgrade("secrets")  # installed just now: already the shipped version
    assert (current["packId"], current["added"], current["updated"], current["removed"]) == ("secrets", 0, 0, 0)
    assert current["fromVersion"] == current["toVersion"] == client.packs.installed()[0]["latestVersion"]
    with pytest.raises(agentaudit.NotFoundError):
        client.packs.upgrade("gdpr")
    blocked = client.log("tool_use", prompt="key AKIAIOSFODNN7EXAMPLE")
    assert blocked is not None and blocked.compliance_flags
    client.packs.uninstall("secrets")
    assert client.packs.installed() == []


def test_policies_rules_agents_versions_and_analytics(client: AgentAuditClient) -> None:
    agent = client.agents.create("intake")
    policy = client.policies.create("PII", description="no ids", mode="flag", priority=5)
    assert (policy.mode, policy.priority, policy.version, policy.rules) == ("flag", 5, 1, [])
    rule = client.policies.add_rule(policy.id, "ssn", "pii_detect", {"patterns": ["ssn"]}, severity="critical")
    assert rule.policy_id == policy.id
    assert client.policies.update_rule(policy.id, rule.id, severity="warning").severity == "warning"
    attached = client.policies.attach_agent(policy.id, agent.id)
    assert (attached["agentId"], attached["policyId"]) == (agent.id, policy.id)
    flagged = client.log("llm_call", prompt="SSN 123-45-6789", agent_id=agent.id)
    assert flagged is not None and flagged.enforcement_action == "flag"
    full = client.policies.get(policy.id)
    assert [r.id for r in full.rules] == [rule.id] and [a["id"] for a in full.agents] == [agent.id]
    assert client.policies.update(policy.id, mode="block").mode == "block"
    assert [p.id for p in client.policies.list()] == [policy.id]

    versions = client.policies.versions(policy.id)
    assert len(versions) >= 3 and versions.total == len(versions)
    snapshot = client.policies.create_version(policy.id, name="before cleanup")
    assert snapshot.name == "before cleanup" and [r.name for r in snapshot.rules] == ["ssn"]
    client.policies.delete_rule(policy.id, rule.id)
    assert client.policies.get(policy.id).rules == []
    restored = client.policies.restore_version(policy.id, snapshot.id)
    assert restored.restored_from_id == snapshot.id
    assert [r.name for r in client.policies.get(policy.id).rules] == ["ssn"]
    assert client.policies.get_version(policy.id, snapshot.id).version_number == snapshot.version_number

    analytics = client.policies.analytics(policy.id)
    assert (analytics.policy_id, analytics.total_violations, analytics.flag_count) == (policy.id, 1, 1)
    overall = client.policies.all_analytics(agent_id=agent.id)
    assert isinstance(overall, dict) and overall
    assert client.policies.detach_agent(policy.id, agent.id) == {"detached": True}
    cloned = client.policies.clone_pack("gdpr", "GDPR copy", mode="log")
    assert (cloned.source_pack_id, cloned.mode) == ("gdpr", "log") and cloned.rules
    client.policies.delete(cloned.id)
    with pytest.raises(agentaudit.NotFoundError):
        client.policies.get(cloned.id)


def test_alerts_list_get_triage_bulk_and_counts(client: AgentAuditClient) -> None:
    agent = client.agents.create("intake")
    policy = client.policies.clone_pack("hipaa", "HIPAA", mode="flag")
    client.policies.attach_agent(policy.id, agent.id)
    events = [client.log("llm_call", prompt=f"Patient SSN is 123-45-67{i:02d}", agent_id=agent.id) for i in range(3)]
    assert all(e is not None and e.enforcement_action in ("flag", "block") for e in events)
    alerts = client.alerts.list()
    assert alerts and alerts.total == len(alerts)
    assert all(isinstance(a, agentaudit.Alert) and a.status == "open" for a in alerts)
    first = alerts[0]
    assert client.alerts.get(first.id).audit_log_id == first.audit_log_id
    acked = client.alerts.update(first.id, status="acknowledged", note="looking")
    assert (acked.status, acked.note, acked.is_resolved) == ("acknowledged", "looking", False)
    resolved = client.alerts.resolve(first.id, note="fixed")
    assert (resolved.status, resolved.is_resolved, resolved.note) == ("resolved", True, "fixed")
    counts = client.alerts.counts()
    assert counts["openTotal"] == len(alerts) - 1
    rest = [a.id for a in client.alerts.list(is_resolved=False)]
    bulk = client.alerts.resolve_many(ids=rest[:1], status="false_positive")
    assert (bulk["updated"], bulk["status"]) == (1, "false_positive")
    by_filter = client.alerts.resolve_many(filter={"isResolved": False})
    assert by_filter["updated"] == len(rest) - 1
    assert client.alerts.counts()["openTotal"] == 0
    assert [a.id for a in client.alerts.list(status=["false_positive"])] == rest[:1]
    with pytest.raises(agentaudit.ValidationError):
        client.alerts.list(severity="apocalyptic")


@pytest.mark.skipif(not REPORTS_ROUTED, reason="the sidecar has no /reports routes yet")
def test_reports_build_download_schedule_and_delete(client: AgentAuditClient) -> None:  # pragma: no cover
    client.log("llm_call", prompt="hello")
    report = client.reports.create("audit_log_export", format="json", from_="2020-01-01T00:00:00.000Z",
                                   to="2100-01-01T00:00:00.000Z", name="all")
    assert report.status in ("pending", "running", "ready")
    done = client.wait_for_report(report.id, timeout=60)
    assert done.status == "ready" and done.sha256
    file = client.reports.download(report.id)
    assert file.content and file.filename
    assert report.id in [r.id for r in client.reports.list()]
    schedule = client.reports.create_schedule("alert_summary", format="csv", cron="0 6 * * *", timezone="UTC")
    assert schedule.id in [s.id for s in client.reports.schedules()]
    client.reports.delete_schedule(schedule.id)
    client.reports.delete(report.id)
    with pytest.raises(agentaudit.NotFoundError):
        client.reports.get(report.id)


def test_a_trace_report_masked_and_unmasked(client: AgentAuditClient) -> None:
    stored = client.log("llm_call", prompt="hello", trace_id="report-run")
    assert stored is not None
    reports = {show: client.reports.create("trace", format="json", trace_id="report-run", show_sensitive=show)
               for show in (None, True)}
    for show, report in reports.items():
        assert client.wait_for_report(report.id, timeout=60).status == "ready"
        file = client.reports.download(report.id)
        built = json.loads(file.content)
        assert (built["report"]["type"], built["report"]["scope"], built["report"]["sensitiveValues"]) == (
            "trace", {"Trace": "report-run"}, "shown" if show else "masked")
        assert [s["id"] for s in built["spans"]] == [stored.id]
        assert (file.filename or "").endswith("-unmasked.json" if show else "report-run.json")


async def test_the_async_client_builds_a_trace_report(org: Org) -> None:
    async with agentaudit.AsyncAgentAuditClient(api_key=org.admin_key, base_url=org.base) as client:
        await client.log("llm_call", trace_id="async-report-run")
        report = await client.reports.create("trace", format="json", trace_id="async-report-run", show_sensitive=True)
        assert (await client.wait_for_report(report.id, timeout=60)).status == "ready"
        built = json.loads((await client.reports.download(report.id)).content)
    assert (built["report"]["scope"], built["report"]["sensitiveValues"]) == ({"Trace": "async-report-run"}, "shown")


def test_trace_spans_page_by_after_and_before_cursors(client: AgentAuditClient) -> None:
    ids = [client.log(f"step_{i}", trace_id="cursor-run").id for i in range(5)]  # type: ignore[union-attr]
    page = client.logs.trace_spans("cursor-run", limit=2)
    seen = [s.id for s in page.items]
    while page.next_cursor and len(seen) < 5:
        page = client.logs.trace_spans("cursor-run", limit=2, after=page.next_cursor)
        seen += [s.id for s in page.items]
    assert seen == ids
    assert [s.id for s in client.logs.trace_spans("cursor-run", limit=2, before=ids[3]).items] == ids[1:3]
    with pytest.raises(agentaudit.ValidationError) as both:
        client.logs.trace_spans("cursor-run", after=ids[0], before=ids[3])
    assert [d["field"] for d in both.value.details] == ["before"]
