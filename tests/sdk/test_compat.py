"""Code written against the older client (``AgentAudit``, ``query_logs``, ``get_alerts``, ...) runs on ours."""

from __future__ import annotations

import asyncio
import importlib
import json
from typing import Any

import pytest

import agentaudit
from agentaudit._config import legacy_retries
from tests.sdk.conftest import Org, ScriptedServer


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
    assert issubclass(agentaudit.AgentAuditAsync, agentaudit.AsyncAgentAuditClient)
    assert issubclass(agentaudit.TimeoutError, agentaudit.AgentAuditError)
    audit.close()


def test_the_older_constructor_takes_its_six_arguments_by_position(scripted: ScriptedServer) -> None:
    scripted.script = [(503, {}, {"error": "busy", "status": 503})] * 2 + [(200, {}, {"status": "ok"})]
    audit = agentaudit.AgentAudit("aa_live_k", scripted.url, "writer-agent-1", 5.0, 2, 0.4)
    assert audit.health_check()["status"] == "ok"  # a read, answered on the third attempt
    assert (audit.config.timeout, audit.config.max_retries, audit.retry_backoff) == (5.0, 2, 0.4)
    gaps = [later.at - earlier.at for earlier, later in zip(scripted.seen, scripted.seen[1:])]
    assert len(gaps) == 2 and min(gaps) >= 0.2  # a backoff base of 0.4 s pauses at least 0.2 s
    scripted.script = [(503, {"Retry-After": "0"}, {"error": "busy", "status": 503})]  # as the sidecar answers
    assert audit.log("llm_call").agent_id == "writer-agent-1"  # a write is sent again after a 503 with Retry-After
    audit.close()
    assert legacy_retries(None, None, {}) == (3, 1.0)  # the older client's defaults
    assert legacy_retries(None, None, {"AGENTAUDIT_MAX_RETRIES": "5", "AGENTAUDIT_RETRY_BACKOFF": "0.5"}) == (5, 0.5)
    assert legacy_retries(1, 0.0, {"AGENTAUDIT_RETRY_BACKOFF": "9"}) == (1, 0.0)
    with pytest.raises(agentaudit.ConfigError, match="AGENTAUDIT_RETRY_BACKOFF"):
        legacy_retries(None, None, {"AGENTAUDIT_RETRY_BACKOFF": "soon"})
    with pytest.raises(agentaudit.ConfigError, match="retry_backoff"):
        agentaudit.AgentAudit("aa_live_k", scripted.url, None, 5.0, 0, -1.0)


def test_the_alias_log_batch_is_a_list_with_the_batch_result_fields(org: Org) -> None:
    audit = agentaudit.AgentAudit(org.admin_key, org.base, "writer-agent-1", 10.0, 0)
    batch = audit.log_batch([{"action": "tool_use"}, {"action": "llm_end"}])
    assert (batch.processed, batch.errors, [e.action for e in batch.data]) == (2, 0, ["tool_use", "llm_end"])
    assert batch == batch.data and len(batch) == 2 and batch[1:] == [batch.data[1]]  # and still the older list
    assert batch.data[0].id == audit.logs.get(batch[0].id).id  # the stored events


def test_the_older_methods_return_plain_json_where_the_older_client_did(org: Org) -> None:
    audit = agentaudit.AgentAudit(org.admin_key, org.base, "writer-agent-1", 10.0, 0)
    clean = audit.guardrail("prompt_submitted", prompt="hello there")
    assert (clean.allowed, clean.action, clean.violations, clean.severity) == (True, "allow", [], "warning")
    batch = audit.log_batch([{"action": "tool_use"}, {"action": "llm_end"}])
    assert isinstance(batch, list) and [batch[0].action, batch[1].action] == ["tool_use", "llm_end"]
    agent = audit.register_agent("intake-agent", agent_type="assistant")
    policy = audit.clone_pack(name="HIPAA", pack_id="hipaa", mode="block")
    assigned = audit.assign_policy(policy.id, agent["id"])
    assert (assigned.agent_id, assigned.policy_id, assigned["agentId"]) == (agent["id"], policy.id, agent["id"])
    audit.guardrail("prompt_submitted", prompt="Patient SSN is 123-45-6789.", agent_id=agent["id"])
    alerts = audit.get_alerts(is_resolved=False)
    page = audit.query_logs(agent_id="writer-agent-1", limit=10)
    resolved = audit.resolve_alert(alerts[0]["id"])
    assert [type(v) for v in (agent, alerts, alerts[0], page, resolved)] == [dict, list, dict, dict, dict]
    decoded = json.loads(json.dumps({"agent": agent, "alerts": alerts, "page": page, "resolved": resolved}))
    assert (decoded["agent"]["name"], decoded["agent"]["type"]) == ("intake-agent", "assistant")
    assert [a["id"] for a in decoded["alerts"]] == [alerts[0]["id"]] and decoded["resolved"]["isResolved"] is True
    assert decoded["page"]["pagination"]["total"] == 3 and len(page.get("data")) == 3
    audit.close()
    with org.client() as current:  # the current client's names keep their typed results
        assert isinstance(current.register_agent("typed"), agentaudit.Agent)
        assert current.guardrail("prompt_submitted", prompt="hello there").severity is None


def test_the_older_methods_raise_every_refusal_but_401_and_429_as_a_validation_error(org: Org) -> None:
    audit = agentaudit.AgentAudit(org.admin_key, org.base, None, 10.0, 0)
    with pytest.raises(agentaudit.ValidationError) as missing:
        audit.get_policy("pol_missing")
    assert isinstance(missing.value, agentaudit.NotFoundError) and missing.value.status == 404
    assert type(missing.value).__name__ == "NotFoundError" and missing.value.code == "not_found"
    reader = agentaudit.AgentAudit(org.key, org.base, None, 10.0, 0)  # logs:write + logs:read, no admin
    with pytest.raises(agentaudit.ValidationError) as denied:
        reader.create_policy("Nope")
    assert isinstance(denied.value, agentaudit.PermissionDeniedError) and denied.value.status == 403
    with pytest.raises(agentaudit.AuthenticationError) as refused:
        agentaudit.AgentAudit("aa_live_wrong", org.base, None, 10.0, 0).log("x")
    assert not isinstance(refused.value, agentaudit.ValidationError)
    for client in (audit, reader):
        client.close()
    with org.client() as current, pytest.raises(agentaudit.NotFoundError) as unchanged:
        current.get_policy("pol_missing")
    assert not isinstance(unchanged.value, agentaudit.ValidationError)


def test_the_older_async_client_takes_the_older_arguments_and_gives_the_older_results(org: Org) -> None:
    async def run() -> tuple[Any, ...]:
        audit = agentaudit.AgentAuditAsync(org.admin_key, org.base, "async-agent", 10.0, 0, 0.0)
        verdict = await audit.guardrail(action="prompt_submitted", prompt="hello there")
        batch = await audit.log_batch(entries=[{"action": "tool_use"}])
        agent = await audit.register_agent("async-intake")
        with pytest.raises(agentaudit.ValidationError) as missing:
            await audit.get_policy("pol_missing")
        await audit.aclose()
        return verdict, batch, agent, missing.value

    verdict, batch, agent, missing = asyncio.run(run())
    assert (verdict.allowed, verdict.severity) == (True, "warning")
    assert isinstance(batch, list) and batch[0].agent_id == "async-agent" and batch.processed == 1
    assert type(agent) is dict and agent["name"] == "async-intake"
    assert isinstance(missing, agentaudit.NotFoundError)


def test_the_older_callback_helper_and_integration_names_import(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTAUDIT_BASE_URL", org.base)  # the helper takes only a key and an agent id
    callback = agentaudit.AgentAuditCallback(org.key, agent_id="callback-agent")
    logged = callback.on_action("tool_use", metadata={"tool": "search"})
    assert (logged.action, logged.agent_id, logged.metadata) == ("tool_use", "callback-agent", {"tool": "search"})
    callback.client.close()
    assert agentaudit.ComplianceRule is agentaudit.Rule
    pytest.importorskip("langchain_core")
    pytest.importorskip("openai")
    older_langchain = importlib.import_module("agentaudit.langchain")  # import agentaudit.langchain
    older_openai = importlib.import_module("agentaudit.openai")

    assert agentaudit.AgentAuditCallbackHandler is older_langchain.AgentAuditCallbackHandler
    assert agentaudit.AgentAuditAsyncCallbackHandler is older_langchain.AgentAuditAsyncCallbackHandler
    assert agentaudit.ComplianceViolation is older_langchain.ComplianceViolation
    assert agentaudit.ComplianceViolationOpenAI is older_openai.ComplianceViolation
    assert agentaudit.AgentAuditOpenAI is older_openai.AgentAuditOpenAI
    with pytest.raises(AttributeError, match="AgentAuditObserver"):
        agentaudit.AgentAuditObserver  # noqa: B018 - the older CrewAI observer is not provided (README says so)


def hipaa_agent(org: Org, name: str) -> str:
    """A registered agent whose HIPAA policy blocks."""
    with org.client() as admin:
        agent = admin.agents.create(name)
        policy = admin.policies.clone_pack("hipaa", "HIPAA", mode="block")
        admin.policies.attach_agent(policy.id, agent.id)
    return agent.id


def test_the_older_langchain_handler_blocks_outputs_as_before_and_prompts_too(org: Org) -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.language_models.fake import FakeListLLM

    older = importlib.import_module("agentaudit.langchain")
    agent_id = hipaa_agent(org, "notes")
    handler = older.AgentAuditCallbackHandler(api_key=org.key, agent_id=agent_id, base_url=org.base)  # guard=True
    llm = FakeListLLM(responses=["All clear.", "The SSN on file is 123-45-6789."])
    assert llm.invoke("Summarise the file.", config={"callbacks": [handler]}) == "All clear."
    with pytest.raises(older.ComplianceViolation) as blocked:
        llm.invoke("What is on file?", config={"callbacks": [handler]})
    assert (blocked.value.severity, blocked.value.violations) == ("critical", ["CRITICAL_pii_detect_SSN Detection"])
    assert handler._runs == {}
    with pytest.raises(older.ComplianceViolation):  # the prompt, before the model runs; also in async chains
        asyncio.run(FakeListLLM(responses=["ok"]).ainvoke("SSN 123-45-6789?", config={
            "callbacks": [older.AgentAuditAsyncCallbackHandler(org.key, agent_id, org.base)]}))
    assert handler.client.flush(10)
    with org.client() as admin:
        spans = admin.traces.get(handler.trace_id).spans
    llm_span = next(s for s in spans if s.action == "llm_call")
    assert llm_span.metadata["status"] == "blocked" and llm_span.prompt == "What is on file?"
    verdicts = llm_span.metadata["guardrail"]
    assert (verdicts["prompt"]["action"], verdicts["response"]["action"]) == ("allow", "block")
    check = next(s for s in spans if s.id == verdicts["response"]["auditLogId"])
    assert check.parent_span_id == llm_span.span_id and check.response == "The SSN on file is [REDACTED:ssn]."


def chat(content: str) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}}


def test_the_older_openai_wrapper_audits_each_call_and_blocks_what_a_policy_blocks(
        org: Org, scripted: ScriptedServer) -> None:
    openai = pytest.importorskip("openai")
    older = importlib.import_module("agentaudit.openai")
    agent_id = hipaa_agent(org, "support")
    scripted.script = [(200, {}, chat("Sunny in Lisbon.")), (200, {}, chat("Her SSN is 123-45-6789.")),
                       (200, {}, {"object": "list", "model": "text-embedding-ada-002",
                                  "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
                                  "usage": {"prompt_tokens": 1, "total_tokens": 1}})]
    local_openai = openai.OpenAI(api_key="sk-test", base_url=scripted.url, max_retries=0)  # a local stand-in
    wrapper = older.AgentAuditOpenAI("sk-test", org.key, agent_id, org.base, openai_client=local_openai)
    answer = wrapper.chat_completions_create(model="gpt-4o", messages=[{"role": "user", "content": "Weather?"}])
    assert answer.choices[0].message.content == "Sunny in Lisbon."
    with pytest.raises(older.ComplianceViolation) as blocked_output:
        wrapper.chat_completions_create(model="gpt-4o", messages=[{"role": "user", "content": "Her file?"}])
    with pytest.raises(older.ComplianceViolation):
        wrapper.completions_create(model="gpt-3.5-turbo-instruct", prompt="Is 123-45-6789 a valid SSN?")
    assert wrapper.embeddings_create(input=["hello"]).data[0].embedding == [0.1, 0.2]
    assert [s.path for s in scripted.seen] == ["/api/v1/chat/completions"] * 2 + ["/api/v1/embeddings"]
    assert blocked_output.value.severity == "critical"

    assert wrapper._client.flush(10)
    with org.client() as admin:
        spans = admin.traces.get(wrapper.trace_id).spans
    calls = [s for s in spans if s.action in ("llm_call", "embedding")]
    assert [(s.metadata.get("type"), s.metadata.get("status")) for s in calls] == [
        ("chat", None), ("chat", "blocked"), ("completion", "blocked"), ("embedding", None)]
    assert (calls[0].response, calls[0].metadata["usage"]["total_tokens"], calls[0].agent_id) == (
        "Sunny in Lisbon.", 12, agent_id)
    checks = [s for s in spans if s.action == "guardrail_check"]
    assert sorted(c.parent_span_id for c in checks) == sorted(  # prompt + output twice, a prompt, the input
        [calls[0].span_id] * 2 + [calls[1].span_id] * 2 + [calls[2].span_id] + [calls[3].span_id])
