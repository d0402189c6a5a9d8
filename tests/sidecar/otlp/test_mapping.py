"""How a decoded span becomes an audit event: GenAI semantic conventions, OpenInference, and what is left."""

from __future__ import annotations

import json

from sidecar.services.otel import MAX_TEXT, Span, to_event


def span(attributes: dict, **fields: object) -> Span:
    base: dict = {"trace_id": "ab" * 16, "span_id": "cd" * 8, "parent_span_id": None, "name": "chat gpt-4o",
                  "kind": 3, "start_ns": 1_750_000_000_123_456_789, "end_ns": 1_750_000_000_923_456_789,
                  "attributes": attributes, "resource": {"service.name": "support-bot"}, "scope": "openai"}
    base.update(fields)
    return Span(**base)


def test_genai_chat_span() -> None:
    messages = [{"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
                {"role": "user", "parts": [{"type": "text", "content": "Refund order 1042?"}]}]
    answer = [{"role": "assistant", "parts": [{"type": "text", "content": "Approved."},
                                              {"type": "tool_call", "name": "refund", "arguments": {"order": 1042}}]}]
    event = to_event(span({
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024",
        "gen_ai.provider.name": "openai", "gen_ai.input.messages": json.dumps(messages),
        "gen_ai.output.messages": answer, "gen_ai.usage.input_tokens": 300, "gen_ai.usage.output_tokens": 40,
        "gen_ai.usage.cost": 0.0021, "http.route": "/chat", "empty": "",
    }, status_code=2, status_message="rate limited", events=[{"name": "retry", "timeUnixNano": "1",
                                                                "attributes": {}}]))
    assert event.action == "chat"
    assert event.agent_id == "support-bot"
    assert event.prompt == "system: Be brief.\nuser: Refund order 1042?"
    assert event.response == 'assistant: Approved.\n[tool call refund] {"order": 1042}'
    assert (event.trace_id, event.span_id, event.parent_span_id) == ("ab" * 16, "cd" * 8, None)
    assert (event.started_at, event.ended_at) == (1_750_000_000_123, 1_750_000_000_923)
    metadata = event.metadata
    assert metadata["model"] == "gpt-4o-2024" and metadata["provider"] == "openai"
    assert metadata["token_usage"] == {"input_tokens": 300, "output_tokens": 40} and metadata["tokens"] == 340
    assert metadata["cost"] == 0.0021
    assert metadata["otel"] == {"name": "chat gpt-4o", "kind": "client", "status": "error",
                                "statusMessage": "rate limited", "scope": "openai",
                                "resource": {"service.name": "support-bot"},
                                "events": [{"name": "retry", "timeUnixNano": "1", "attributes": {}}]}
    # what no field took stays under attributes, the lower-priority model included
    assert metadata["attributes"] == {"gen_ai.request.model": "gpt-4o", "http.route": "/chat", "empty": ""}


def test_openinference_indexed_messages_and_tool_spans() -> None:
    event = to_event(span({
        "openinference.span.kind": "LLM", "llm.model_name": "claude", "llm.provider": "anthropic",
        "llm.input_messages.1.message.role": "user", "llm.input_messages.1.message.content": "second",
        "llm.input_messages.0.message.role": "system", "llm.input_messages.0.message.content": "first",
        "llm.output_messages.0.message.content": "reply", "llm.output_messages.0.message.role": "assistant",
        "llm.token_count.prompt": 10, "llm.token_count.completion": 5, "llm.token_count.total": 16,
        "gen_ai.agent.name": "planner", "gen_ai.agent.id": "", "input.value": "ignored?",
    }))
    assert event.action == "llm"
    assert event.agent_id == "planner"  # an empty id does not win
    assert event.prompt == "system: first\nuser: second\nignored?"
    assert event.response == "assistant: reply"
    assert event.metadata["model"] == "claude" and event.metadata["provider"] == "anthropic"
    assert event.metadata["tokens"] == 16
    assert event.metadata["token_usage"] == {"input_tokens": 10, "output_tokens": 5}
    assert event.metadata["attributes"] == {"gen_ai.agent.id": ""}

    tool = to_event(span({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search",
                          "gen_ai.tool.call.arguments": '{"q": "x"}', "gen_ai.tool.call.result": "3 hits",
                          "gen_ai.prompt.0.content": "legacy prompt", "gen_ai.completion.0.role": "assistant",
                          "gen_ai.completion.0.content": "legacy answer"}, resource={}))
    assert tool.action == "execute_tool" and tool.agent_id is None
    assert tool.prompt == 'legacy prompt\n{"q": "x"}'
    assert tool.response == "assistant: legacy answer\n3 hits"
    assert tool.metadata["tool"] == "search" and "attributes" not in tool.metadata


def test_fallbacks_and_limits() -> None:
    bare = to_event(span({}, name="", end_ns=0, start_ns=0, scope="", resource={}))
    assert bare.action == "span" and bare.prompt is None and bare.response is None
    assert (bare.started_at, bare.ended_at) == (None, None)
    assert "scope" not in bare.metadata["otel"] and "token_usage" not in bare.metadata
    named = to_event(span({"gen_ai.system_instructions": "x" * (MAX_TEXT + 5), "output.value": "ok",
                           "gen_ai.usage.completion_tokens": 7}, name="retrieve docs"))
    assert named.action == "retrieve docs"
    assert named.prompt == "x" * MAX_TEXT and named.metadata["truncated"] == ["prompt"]
    assert named.response == "ok"
    assert named.metadata["token_usage"] == {"output_tokens": 7} and named.metadata["tokens"] == 7
