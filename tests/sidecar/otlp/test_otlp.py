"""OTLP/HTTP: the real OpenTelemetry SDK and exporter send GenAI spans that become a checked, linked trace."""

from __future__ import annotations

import asyncio
import gzip
import json

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tests.helpers import Account, ApiClient

CARD = "Please charge my card 4111 1111 1111 1111, expiry 09/29."


def _emit(endpoint: str, key: str) -> tuple[str, dict[str, str]]:
    """Run an instrumented 'agent' with the real SDK; returns the trace id and span ids by name."""
    exporter = OTLPSpanExporter(endpoint=endpoint, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    provider = TracerProvider(resource=Resource.create({"service.name": "billing-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test.genai")
    ids: dict[str, str] = {}
    with tracer.start_as_current_span("invoke_agent billing") as root:
        root.set_attribute("gen_ai.operation.name", "invoke_agent")
        root.set_attribute("gen_ai.agent.name", "billing-agent")
        ids["root"] = format(root.get_span_context().span_id, "016x")
        with tracer.start_as_current_span("chat gpt-4o") as chat:
            chat.set_attribute("gen_ai.operation.name", "chat")
            chat.set_attribute("gen_ai.request.model", "gpt-4o")
            chat.set_attribute("gen_ai.usage.input_tokens", 120)
            chat.set_attribute("gen_ai.usage.output_tokens", 30)
            chat.set_attribute("gen_ai.input.messages", json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": CARD}]}]))
            chat.set_attribute("gen_ai.output.messages", json.dumps(
                [{"role": "assistant", "parts": [{"type": "text", "content": "I will call the payment tool."}]}]))
            chat.set_attribute("custom.flag", True)
            ids["chat"] = format(chat.get_span_context().span_id, "016x")
            with tracer.start_as_current_span("execute_tool charge") as tool:
                tool.set_attribute("gen_ai.operation.name", "execute_tool")
                tool.set_attribute("gen_ai.tool.name", "charge")
                tool.set_attribute("gen_ai.tool.call.arguments", '{"amount": 20}')
                ids["tool"] = format(tool.get_span_context().span_id, "016x")
        trace_id = format(root.get_span_context().trace_id, "032x")
    provider.shutdown()
    return trace_id, ids


async def test_real_sdk_export_becomes_a_checked_trace(api: ApiClient, owner: Account) -> None:
    await api.post("compliance-rules/packs", json={"packId": "finance"}, headers=owner.jwt)
    endpoint = str(api.client.make_url("/v1/traces"))
    trace_id, ids = await asyncio.get_running_loop().run_in_executor(None, _emit, endpoint, owner.key)
    reply = await api.get(f"traces/{trace_id}", headers=owner.api_key)
    assert reply.status == 200, reply.body
    spans = {s["spanId"]: s for s in reply.body["spans"]}
    assert set(spans) == set(ids.values())
    root, chat, tool = spans[ids["root"]], spans[ids["chat"]], spans[ids["tool"]]
    assert (root["action"], chat["action"], tool["action"]) == ("invoke_agent", "chat", "execute_tool")
    assert root["parentSpanId"] is None and chat["parentSpanId"] == ids["root"] and tool["parentSpanId"] == ids["chat"]
    assert reply.body["tree"] == [{"id": root["id"], "children": [{"id": chat["id"], "children": [
        {"id": tool["id"], "children": []}]}]}]
    assert root["agentId"] == "billing-agent" and chat["agentId"] == "billing-agent"
    # the finance pack masks card numbers before storage: the raw number never reaches the disk
    assert chat["prompt"] == "user: Please charge my card [REDACTED:credit_card], expiry 09/29."
    assert chat["response"] == "assistant: I will call the payment tool."
    assert chat["metadata"]["model"] == "gpt-4o" and chat["metadata"]["tokens"] == 150
    assert chat["metadata"]["attributes"] == {"custom.flag": True}
    assert chat["metadata"]["otel"]["resource"]["service.name"] == "billing-agent"
    assert tool["prompt"] == '{"amount": 20}' and tool["metadata"]["tool"] == "charge"
    assert chat["enforcementAction"] == "block"
    assert any(m["detector"] == "credit_card" for v in chat["violationDetails"] for m in v["matches"])
    assert root["enforcementAction"] == "allow" and reply.body["summary"]["enforcementAction"] == "block"
    assert root["startedAt"] <= chat["startedAt"] <= tool["startedAt"] and tool["endedAt"] <= root["endedAt"]


def _json_request(trace_hex: str) -> dict:
    return {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "oi-agent"}}]},
        "scopeSpans": [{"scope": {"name": "openinference"}, "spans": [
            {"traceId": trace_hex, "spanId": "00000000000000a1", "name": "llm", "kind": 3,
             "startTimeUnixNano": "1767225600000000000", "endTimeUnixNano": "1767225601500000000",
             "attributes": [
                 {"key": "openinference.span.kind", "value": {"stringValue": "LLM"}},
                 {"key": "llm.input_messages.0.message.role", "value": {"stringValue": "user"}},
                 {"key": "llm.input_messages.0.message.content", "value": {"stringValue": "hello"}},
                 {"key": "llm.output_messages.0.message.content", "value": {"stringValue": "hi there"}},
                 {"key": "llm.token_count.total", "value": {"intValue": "42"}},
             ]},
            {"traceId": "", "spanId": "00000000000000a2", "name": "broken"},
        ]}],
    }]}


async def test_json_encoding_with_gzip_and_partial_success(api: ApiClient, owner: Account) -> None:
    trace_hex = "5b8efff798038103d269b633813fc60c"
    body = gzip.compress(json.dumps(_json_request(trace_hex)).encode())
    async with api.client.post("/v1/traces", data=body, headers={
            "X-API-Key": owner.key, "Content-Type": "application/json", "Content-Encoding": "gzip"}) as response:
        assert response.status == 200
        answer = await response.json()
    assert answer == {"partialSuccess": {"rejectedSpans": "1", "errorMessage": answer["partialSuccess"]["errorMessage"]}}
    reply = await api.get(f"traces/{trace_hex}", headers=owner.api_key)
    [span] = reply.body["spans"]
    assert (span["action"], span["prompt"], span["response"]) == ("llm", "user: hello", "hi there")
    assert (span["startedAt"], span["endedAt"]) == ("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.500Z")
    assert span["agentId"] == "oi-agent" and span["metadata"]["tokens"] == 42


async def test_protobuf_answer_and_bad_input(api: ApiClient, owner: Account) -> None:
    async with api.client.post("/v1/traces", data=b"", headers={
            "X-API-Key": owner.key, "Content-Type": "application/x-protobuf"}) as response:
        assert response.status == 200
        parsed = ExportTraceServiceResponse()
        parsed.ParseFromString(await response.read())
        assert parsed.partial_success.rejected_spans == 0
    reply = await api.post("/v1/traces", data=b"\xff\x00garbage", headers={
        "X-API-Key": owner.key, "Content-Type": "application/x-protobuf"})
    assert reply.status == 400 and reply.body["error"] == "the body is not an OTLP protobuf message"
    reply = await api.post("/v1/traces", data=b"{}", headers={"X-API-Key": owner.key, "Content-Type": "text/plain"})
    assert reply.status == 400
    reply = await api.post("/v1/traces", data=b"{}", headers={"Content-Type": "application/json"})
    assert reply.status == 401
    assert (await api.get("audit-logs", headers=owner.api_key)).body["pagination"]["total"] == 0
