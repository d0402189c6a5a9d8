"""Framework integrations with the real packages and their fake models (no remote service is called)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import agentaudit
from agentaudit import AgentAuditClient
from tests.sdk.conftest import Org, ScriptedServer, free_port

pytest.importorskip("langchain_core")
pytest.importorskip("agents")


def trace_of(client: AgentAuditClient, action: str) -> list[Any]:
    """The spans of the latest trace whose root has ``action``."""
    assert client.flush(10) is True
    root = client.logs.list(action=action, limit=1).items[0]
    assert root.trace_id
    return client.traces.get(root.trace_id).spans


# -- LangChain ------------------------------------------------------------------------------------------------------
def test_langchain_chain_with_a_chat_model_and_a_tool_becomes_one_trace(client: AgentAuditClient) -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableLambda
    from langchain_core.tools import tool

    from agentaudit.integrations.langchain import AgentAuditCallbackHandler

    @tool
    def weather(city: str) -> str:
        """Today's weather in a city."""
        return f"sunny in {city}"

    model = GenericFakeChatModel(messages=iter([AIMessage(content="Pack sunglasses for Lisbon.")]))
    chain = (ChatPromptTemplate.from_messages([("system", "You plan trips."), ("human", "{question}")])
             | model | StrOutputParser()
             | RunnableLambda(lambda answer: {"answer": answer, "weather": weather.invoke({"city": "Lisbon"})}))
    handler = AgentAuditCallbackHandler(client, agent_id="trip-planner")
    result = chain.invoke({"question": "What should I pack?"}, config={"callbacks": [handler], "run_name": "plan_trip"})
    assert result == {"answer": "Pack sunglasses for Lisbon.", "weather": "sunny in Lisbon"}

    spans = trace_of(client, "chain")
    by_action: dict[str, list[Any]] = {}
    for span in spans:
        by_action.setdefault(span.action, []).append(span)
    root = next(s for s in by_action["chain"] if s.parent_span_id is None)
    assert root.metadata["name"] == "plan_trip" and root.span_id == root.trace_id
    llm = by_action["llm_call"][0]
    assert "human: What should I pack?" in (llm.prompt or "") and llm.response == "Pack sunglasses for Lisbon."
    assert llm.parent_span_id == root.span_id
    tool_span = by_action["tool_use"][0]
    assert (tool_span.metadata["tool"], tool_span.response) == ("weather", "sunny in Lisbon")
    assert {s.agent_id for s in spans} == {"trip-planner"}
    ids = {s.span_id for s in spans}
    assert all(s.parent_span_id in ids for s in spans if s is not root)  # one connected tree
    assert client.traces.get(root.trace_id).tree[0]["id"] == root.id


def test_langchain_llm_errors_are_recorded_and_runs_join_an_open_agentaudit_trace(client: AgentAuditClient) -> None:
    from langchain_core.language_models.fake import FakeListLLM
    from langchain_core.runnables import RunnableLambda

    from agentaudit.integrations.langchain import AgentAuditCallbackHandler

    handler = AgentAuditCallbackHandler(client)
    llm = FakeListLLM(responses=["four"])
    with client.trace("agent_turn") as turn:
        assert llm.invoke("2 + 2 = ?", config={"callbacks": [handler]}) == "four"
        with pytest.raises(ZeroDivisionError):
            RunnableLambda(lambda _: 1 / 0).invoke(1, config={"callbacks": [handler], "run_name": "divide"})
    spans = {s.action: s for s in trace_of(client, "agent_turn")}
    assert spans["llm_call"].parent_span_id == turn.span_id
    assert (spans["llm_call"].prompt, spans["llm_call"].response) == ("2 + 2 = ?", "four")
    assert spans["chain"].metadata["error"]["type"] == "ZeroDivisionError"
    assert spans["chain"].parent_span_id == turn.span_id


def test_langchain_guardrail_blocks_a_prompt_before_the_model_runs(client: AgentAuditClient) -> None:
    from langchain_core.language_models.fake import FakeListLLM

    from agentaudit.integrations.langchain import AgentAuditCallbackHandler, ComplianceViolation

    agent = client.agents.create("intake")
    policy = client.policies.clone_pack("hipaa", "HIPAA", mode="block")
    client.policies.attach_agent(policy.id, agent.id)
    handler = AgentAuditCallbackHandler(client, agent_id=agent.id, guardrail=True)
    llm = FakeListLLM(responses=["noted", "fine"])
    with pytest.raises(ComplianceViolation) as blocked:
        llm.invoke("Patient SSN is 123-45-6789, update the chart.", config={"callbacks": [handler]})
    assert blocked.value.result.action == "block"
    assert llm.invoke("Summarise the meeting.", config={"callbacks": [handler]}) == "noted"
    client.flush(10)
    assert client.logs.list(action="guardrail_check", agent_id=agent.id).total == 2


def test_langchain_guardrail_check_joins_the_runs_trace_and_the_blocked_call_is_logged(
        client: AgentAuditClient) -> None:
    from langchain_core.language_models.fake import FakeListLLM
    from langchain_core.runnables import RunnableLambda

    from agentaudit.integrations.langchain import AgentAuditCallbackHandler, ComplianceViolation

    agent = client.agents.create("intake")
    policy = client.policies.clone_pack("hipaa", "HIPAA", mode="block")
    client.policies.attach_agent(policy.id, agent.id)
    handler = AgentAuditCallbackHandler(client, agent_id=agent.id, guardrail=True)
    chain = RunnableLambda(lambda note: f"Update the chart: {note}") | FakeListLLM(responses=["noted"])
    with pytest.raises(ComplianceViolation) as blocked:
        chain.invoke("Patient SSN is 123-45-6789.", config={"callbacks": [handler], "run_name": "intake"})
    assert handler._runs == {}  # nothing left behind by the run that never reached the model

    spans = trace_of(client, "chain")
    by_action = {s.action: s for s in spans}
    assert sorted(s.action for s in spans) == ["chain", "chain", "guardrail_check", "llm_call"]
    root = next(s for s in spans if s.parent_span_id is None)
    llm, check = by_action["llm_call"], by_action["guardrail_check"]
    assert llm.trace_id == check.trace_id == root.trace_id
    assert check.parent_span_id == llm.span_id and check.prompt == "Update the chart: Patient SSN is [REDACTED:ssn]."
    assert (check.enforcement_action, blocked.value.result.audit_log_id) == ("block", check.id)
    assert llm.metadata["status"] == "blocked" and llm.response is None
    assert llm.metadata["guardrail"] == {"prompt": {"action": "block", "violations": blocked.value.violations,
                                                    "auditLogId": check.id}}
    assert blocked.value.violations == check.compliance_flags and blocked.value.severity == "critical"
    assert root.metadata["error"]["type"] == "ComplianceViolation"


def test_langchain_guardrail_on_error_decides_when_the_sidecar_cannot_answer(scripted: ScriptedServer) -> None:
    from langchain_core.language_models.fake import FakeListLLM

    from agentaudit.integrations.langchain import AgentAuditCallbackHandler, ComplianceViolation

    down = AgentAuditClient(api_key="k", base_url=f"http://127.0.0.1:{free_port()}/api/v1", max_retries=0)
    handler = AgentAuditCallbackHandler(down, guardrail=True)  # on_error="raise", as client.guardrail
    with pytest.raises(agentaudit.APIConnectionError):
        FakeListLLM(responses=["hi"]).invoke("hello", config={"callbacks": [handler]})
    assert handler._runs == {}
    down.close(timeout=0)
    with pytest.raises(agentaudit.ConfigError, match="on_error"):
        AgentAuditCallbackHandler(down, guardrail=True, on_error="ignore")

    answers = {}
    with AgentAuditClient(api_key="k", base_url=scripted.url, max_retries=0) as busy:
        for on_error in ("allow", "block", "raise"):
            scripted.script = [(503, {}, {"error": "busy", "status": 503})]  # the check's answer; then batches pass
            handler = AgentAuditCallbackHandler(busy, guardrail=True, on_error=on_error)
            try:
                answers[on_error] = FakeListLLM(responses=["hi"]).invoke("hello", config={"callbacks": [handler]})
            except Exception as exc:  # noqa: BLE001 - the outcome under test
                answers[on_error] = type(exc).__name__
            assert busy.flush(10) and handler._runs == {}
    assert answers == {"allow": "hi", "block": "ComplianceViolation", "raise": "ServerError"}
    logged = [e for seen in scripted.seen if seen.path.endswith("/batch") for e in seen.body]
    assert [(e["action"], e["metadata"].get("status")) for e in logged] == [
        ("llm_call", None), ("llm_call", "blocked"), ("llm_call", "error")]
    assert logged[0]["response"] == "hi"
    for entry, action in zip(logged[:2], ("allow", "block")):
        verdict = entry["metadata"]["guardrail"]["prompt"]
        assert (verdict["action"], verdict["auditLogId"]) == (action, None) and "503" in verdict["error"]
    assert logged[2]["metadata"]["error"]["type"] == "ServerError"


# -- OpenAI Agents SDK ------------------------------------------------------------------------------------------------
@pytest.fixture
def agents_processor(client: AgentAuditClient) -> Iterator[Any]:
    from agents import set_trace_processors

    from agentaudit.integrations.openai_agents import AgentAuditTraceProcessor

    processor = AgentAuditTraceProcessor(client, agent_id="agents-sdk")
    set_trace_processors([processor])  # replaces the default exporter: nothing leaves this machine
    yield processor
    set_trace_processors([])


def fake_model() -> Any:
    """A Model that answers from a script: first a tool call, then the final text (no network)."""
    from agents.items import ModelResponse
    from agents.models.interface import Model
    from agents.tracing import generation_span
    from agents.usage import Usage
    from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText

    class ScriptedModel(Model):
        def __init__(self) -> None:
            self.turn = 0

        async def get_response(self, system_instructions: Any, input: Any, model_settings: Any, tools: Any,
                               output_schema: Any, handoffs: Any, tracing: Any, **kwargs: Any) -> ModelResponse:
            self.turn += 1
            with generation_span(input=[{"role": "user", "content": str(input)[:200]}], model="scripted-1") as span:
                if self.turn == 1:
                    output: list[Any] = [ResponseFunctionToolCall(arguments='{"city": "Lisbon"}', call_id="call_1",
                                                                  name="weather", type="function_call", id="fc_1",
                                                                  status="completed")]
                else:
                    output = [ResponseOutputMessage(id="msg_1", role="assistant", status="completed", type="message",
                                                    content=[ResponseOutputText(text="Sunny: pack sunglasses.",
                                                                                type="output_text", annotations=[])])]
                span.span_data.output = [{"turn": self.turn}]
                span.span_data.usage = {"input_tokens": 12, "output_tokens": 5}
            return ModelResponse(output=output, usage=Usage(requests=1, input_tokens=12, output_tokens=5,
                                                            total_tokens=17), response_id=None)

        def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            raise NotImplementedError

    return ScriptedModel()


def test_openai_agents_run_with_a_tool_becomes_one_trace(client: AgentAuditClient, agents_processor: Any) -> None:
    from agents import Agent, Runner, function_tool

    @function_tool
    def weather(city: str) -> str:
        """Today's weather in a city."""
        return f"sunny in {city}"

    agent = Agent(name="trip-planner", instructions="Plan trips.", tools=[weather], model=fake_model())
    # Runner.run rather than run_sync, which leaves its thread's default event loop open on purpose
    result = asyncio.run(Runner.run(agent, "What should I pack for Lisbon?"))
    assert result.final_output == "Sunny: pack sunglasses."

    spans = trace_of(client, "agent_run")
    by_id = {s.span_id: s for s in spans}
    actions = sorted(s.action for s in spans)
    assert actions == ["agent_run", "agent_step", "agent_task", "agent_turn", "agent_turn", "llm_call", "llm_call",
                       "tool_use"]
    root = next(s for s in spans if s.action == "agent_run")
    assert root.metadata["workflow"] == "Agent workflow" and root.span_id == root.trace_id
    assert all(s.parent_span_id in by_id for s in spans if s is not root)  # one connected tree
    step = next(s for s in spans if s.action == "agent_step")
    assert step.metadata["name"] == "trip-planner"
    tool_span = next(s for s in spans if s.action == "tool_use")
    assert (tool_span.metadata["name"], tool_span.response) == ("weather", "sunny in Lisbon")
    assert tool_span.prompt == '{"city": "Lisbon"}'
    ancestors = set()
    parent = tool_span.parent_span_id
    while parent in by_id:
        ancestors.add(by_id[parent].action)
        parent = by_id[parent].parent_span_id
    assert {"agent_step", "agent_run"} <= ancestors
    llm = [s for s in spans if s.action == "llm_call"]
    assert {s.metadata["model"] for s in llm} == {"scripted-1"} and llm[0].metadata["usage"]["input_tokens"] == 12
    assert sorted(s.metadata["data"]["turn"] for s in spans if s.action == "agent_turn") == [1, 2]
    assert {s.agent_id for s in spans} == {"agents-sdk"}


def test_openai_agents_custom_spans_and_errors_through_the_tracing_api(client: AgentAuditClient,
                                                                       agents_processor: Any) -> None:
    from agents.tracing import custom_span, function_span, trace

    with trace("nightly_review", group_id="g-1") as run:
        with custom_span("load_policies", data={"count": 3}):
            with function_span("lookup", input='{"q": 1}') as failing:
                failing.set_error({"message": "lookup failed", "data": {"code": 500}})
    spans = {s.action: s for s in trace_of(client, "agent_run") if s.trace_id == run.trace_id}
    assert set(spans) == {"agent_run", "load_policies", "tool_use"}
    assert spans["agent_run"].metadata["workflow"] == "nightly_review"
    assert spans["agent_run"].metadata["group_id"] == "g-1"
    assert spans["load_policies"].metadata["data"] == {"count": 3}
    assert spans["load_policies"].parent_span_id == run.trace_id
    assert spans["tool_use"].parent_span_id == spans["load_policies"].span_id
    assert spans["tool_use"].metadata["error"] == {"type": "error", "message": "lookup failed", "data": {"code": 500}}


def test_openai_agents_a_tripped_guardrail_ends_the_run_as_one_complete_trace(client: AgentAuditClient,
                                                                             agents_processor: Any) -> None:
    from agents import Agent, GuardrailFunctionOutput, InputGuardrailTripwireTriggered, Runner, input_guardrail

    @input_guardrail
    def no_ssn(ctx: Any, agent: Any, text: Any) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(output_info={"found": "ssn"}, tripwire_triggered="123-45" in str(text))

    agent = Agent(name="intake", instructions="File notes.", model=fake_model(), input_guardrails=[no_ssn])
    with pytest.raises(InputGuardrailTripwireTriggered):
        asyncio.run(Runner.run(agent, "Patient SSN is 123-45-6789."))
    spans = trace_of(client, "agent_run")
    by_id = {s.span_id: s for s in spans}
    check = next(s for s in spans if s.action == "guardrail_check")
    assert (check.metadata["name"], check.metadata["triggered"]) == ("no_ssn", True)
    assert all(s.parent_span_id in by_id for s in spans if s.action != "agent_run")  # one connected tree
    assert by_id[check.parent_span_id].metadata["error"]["message"] == "Guardrail tripwire triggered"
    assert agents_processor._trace_started == {}


def test_openai_agents_traces_never_finished_do_not_grow_the_processor(client: AgentAuditClient) -> None:
    from agents.tracing import trace

    from agentaudit.integrations.openai_agents import AgentAuditTraceProcessor

    processor = AgentAuditTraceProcessor(client, max_open_traces=2)
    abandoned = [trace(f"abandoned-{i}", disabled=False) for i in range(3)]
    for t in abandoned:
        processor.on_trace_start(t)  # started, never finished
    assert list(processor._trace_started) == [abandoned[1].trace_id, abandoned[2].trace_id]
    processor.on_trace_end(abandoned[0])  # a forgotten trace still gets its event
    assert processor._trace_started.keys() == {abandoned[1].trace_id, abandoned[2].trace_id}
    assert client.flush(10)
    assert client.logs.list(action="agent_run", trace_id=abandoned[0].trace_id).total == 1
    with pytest.raises(agentaudit.ConfigError, match="max_open_traces"):
        AgentAuditTraceProcessor(client, max_open_traces=0)
