"""The public ``agentaudit-client`` package (PyPI, import ``agentaudit``) works against our sidecar unchanged."""

from __future__ import annotations

import agentaudit

from tests.e2e.conftest import bootstrap, call
from tests.helpers import SidecarProcess


def test_log_log_batch_and_health_check(sidecar: SidecarProcess) -> None:
    _, key = bootstrap(sidecar.url)
    client = agentaudit.AgentAudit(api_key=key, base_url=f"{sidecar.url}/api/v1", agent_id="writer-agent-1",
                                   max_retries=0)
    assert client.health_check() == {"status": "ok", "version": "0.1.0", "database": "up"}
    logged = client.log(action="llm_call", prompt="Summarise the latest sales report",
                        response="Q1 revenue was $2.4M...", metadata={"model": "gpt-4o", "tokens": 340},
                        trace_id="run-1749300000000")
    assert isinstance(logged, agentaudit.AuditLog)
    assert logged.id.startswith("log_") and logged.agent_id == "writer-agent-1"
    assert (logged.action, logged.compliance_flags, logged.metadata) == ("llm_call", [], {"model": "gpt-4o", "tokens": 340})
    batch = client.log_batch([
        {"action": "llm_start", "traceId": "run-1749300000000", "prompt": "Analyse Q1 data"},
        {"action": "tool_use", "traceId": "run-1749300000000", "parentSpanId": logged.id,
         "metadata": {"tool": "code_interpreter"}},
        {"action": "llm_end", "traceId": "run-1749300000000", "response": "Q1 revenue grew 18% YoY"},
    ])
    assert [entry.action for entry in batch] == ["llm_start", "tool_use", "llm_end"]
    assert all(entry.agent_id == "writer-agent-1" for entry in batch)
    result = client.guardrail(action="prompt_submitted", prompt="hello there")
    assert (result.allowed, result.action, result.violations) == (True, "allow", [])
    page = client.query_logs(agent_id="writer-agent-1", limit=10)
    assert page["pagination"]["total"] == 5
    status, body = call(f"{sidecar.url}/api/v1/audit-logs?traceId=run-1749300000000", headers={"X-API-Key": key})
    assert status == 200
    assert [e["action"] for e in body["data"]] == ["llm_end", "tool_use", "llm_start", "llm_call"]  # type: ignore[index]


def test_bad_key_raises_the_clients_authentication_error(sidecar: SidecarProcess) -> None:
    client = agentaudit.AgentAudit(api_key="aa_live_wrong", base_url=f"{sidecar.url}/api/v1", max_retries=0)
    try:
        client.log(action="llm_call")
    except agentaudit.AuthenticationError:
        pass
    else:
        raise AssertionError("a wrong key was accepted")
