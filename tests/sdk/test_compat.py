"""Code written against the older client (``AgentAudit``, ``query_logs``, ``get_alerts``, ...) runs on ours."""

from __future__ import annotations

import agentaudit
from tests.sdk.conftest import Org


def test_the_older_clients_calls_work_unchanged(org: Org) -> None:
    audit = agentaudit.AgentAudit(api_key=org.admin_key, base_url=org.base, agent_id="writer-agent-1", max_retries=0)
    assert audit.health_check() == {"status": "ok", "version": "0.1.0", "database": "up"}
    logged = audit.log(action="llm_call", prompt="Summarise", response="Q1 revenue was $2.4M...",
                       metadata={"model": "gpt-4o", "tokens": 340}, trace_id="run-1749300000000")
    assert isinstance(logged, agentaudit.AuditLog) and logged.agent_id == "writer-agent-1"
    batch = audit.log_batch([{"action": "tool_use", "metadata": {"tool": "search"}}, {"action": "llm_end"}])
    assert [e.action for e in batch] == ["tool_use", "llm_end"]  # type: ignore[union-attr]
    page = audit.query_logs(agent_id="writer-agent-1", limit=10)
    assert page["pagination"]["total"] == 3 and len(page["data"]) == 3

    agent = audit.register_agent("intake-agent", agent_type="assistant")
    policy = audit.clone_pack(name="HIPAA", pack_id="hipaa", mode="block")
    assigned = audit.assign_policy(policy.id, agent["id"])
    assert assigned["agentId"] == agent["id"]
    blocked = audit.guardrail(action="prompt_submitted", prompt="Patient SSN is 123-45-6789.", agent_id=agent["id"])
    assert (blocked.allowed, blocked.action, blocked.severity) == (False, "block", "critical")
    open_alerts = audit.get_alerts(is_resolved=False)
    assert open_alerts and {a["auditLogId"] for a in open_alerts} == {blocked.audit_log_id}
    resolved = audit.resolve_alert(open_alerts[0]["id"])
    assert (resolved["status"], resolved["isResolved"]) == ("resolved", True)
    assert [p.id for p in audit.list_policies()] == [policy.id]
    assert audit.get_policy(policy.id).mode == "block"
    version = audit.create_policy_version(policy.id, name="snapshot")
    assert version.id in [v.id for v in audit.list_policy_versions(policy.id)]
    assert audit.get_policy_version(policy.id, version.id).name == "snapshot"
    assert audit.restore_policy_version(policy.id, version.id).restored_from_id == version.id
    assert audit.get_policy_analytics(policy.id).block_count == 1
    assert isinstance(audit.get_all_policy_analytics(), dict)
    assert audit.remove_policy(policy.id, agent["id"]) == {"detached": True}
    created = audit.create_policy("Empty", mode="log", priority=1)
    assert (created.name, created.mode) == ("Empty", "log")
    try:
        agentaudit.AgentAudit(api_key="aa_live_wrong", base_url=org.base, max_retries=0).log(action="x")
    except agentaudit.AuthenticationError:
        pass
    else:
        raise AssertionError("a wrong key was accepted")
    assert agentaudit.AgentAuditAsync is agentaudit.AsyncAgentAuditClient
    assert issubclass(agentaudit.TimeoutError, agentaudit.AgentAuditError)
    audit.close()
