"""OpenTelemetry spans to audit events: the GenAI semantic conventions and OpenInference.

Works on spans already decoded into plain Python (see ``api/otlp.py``): ids as lower-case
hex, times in nanoseconds, attributes as a flat ``{key: value}`` dict.

Where each field comes from (first match wins):

=============  =====================================================================================
``action``     ``gen_ai.operation.name`` (chat, execute_tool, invoke_agent, …), else
               ``openinference.span.kind`` lower-cased (llm, tool, agent, chain, …), else the span name
``agentId``    ``gen_ai.agent.id``, ``gen_ai.agent.name``, else the resource's ``service.name``
``prompt``     ``gen_ai.input.messages``, ``gen_ai.system_instructions``, ``gen_ai.prompt.N.*``,
               ``llm.input_messages.N.message.*``, ``gen_ai.tool.call.arguments``, ``input.value``
``response``   ``gen_ai.output.messages``, ``gen_ai.completion.N.*``, ``llm.output_messages.N.message.*``,
               ``gen_ai.tool.call.result``, ``output.value``
``metadata``   model, token counts, cost, the span's name, kind and status, its scope and resource,
               its events, and every other attribute under ``attributes``
=============  =====================================================================================
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from sidecar.services.ingest import EventInput

MAX_TEXT = 100_000
_INDEXED = re.compile(r"^(gen_ai\.(?:prompt|completion)|llm\.(?:input|output)_messages)\.(\d+)\.(.+)$")
_SPAN_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_STATUS = {0: "unset", 1: "ok", 2: "error"}


@dataclass
class Span:
    """A decoded OTLP span."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    status_code: int = 0
    status_message: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    resource: dict[str, Any] = field(default_factory=dict)
    scope: str = ""


def _text_of_messages(value: Any) -> str | None:
    """Render ``gen_ai.*.messages`` (a JSON string or a list of messages with parts) as readable text."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    if not isinstance(value, list):
        return None if value is None else str(value)
    lines = []
    for message in value:
        if not isinstance(message, dict):
            lines.append(str(message))
            continue
        role = message.get("role", "")
        parts = message.get("parts")
        if isinstance(parts, list):
            chunks = []
            for part in parts:
                if not isinstance(part, dict):
                    continue
                if part.get("type") == "text" or "content" in part:
                    chunks.append(str(part.get("content", "")))
                elif part.get("type") == "tool_call":
                    chunks.append(f"[tool call {part.get('name', '')}] {json.dumps(part.get('arguments'))}")
                elif part.get("type") == "tool_call_response":
                    chunks.append(f"[tool result] {json.dumps(part.get('response'))}")
            text = "\n".join(c for c in chunks if c)
        else:
            text = str(message.get("content", ""))
        lines.append(f"{role}: {text}" if role else text)
    return "\n".join(lines)


def _indexed_messages(attributes: dict[str, Any], prefix: str, used: set[str]) -> str | None:
    """``gen_ai.prompt.0.role`` / ``llm.input_messages.0.message.content`` style attributes as text."""
    messages: dict[int, dict[str, Any]] = {}
    for key, value in attributes.items():
        found = _INDEXED.match(key)
        if found and found.group(1) == prefix:
            used.add(key)
            rest = found.group(3).removeprefix("message.")
            messages.setdefault(int(found.group(2)), {})[rest] = value
    if not messages:
        return None
    lines = []
    for index in sorted(messages):
        message = messages[index]
        content = message.get("content")
        if content is None:
            continue
        role = message.get("role")
        lines.append(f"{role}: {content}" if role else str(content))
    return "\n".join(lines) or None


def _first(attributes: dict[str, Any], keys: tuple[str, ...], used: set[str]) -> Any:
    for key in keys:
        if key in attributes and attributes[key] not in (None, ""):
            used.add(key)
            return attributes[key]
    return None


def _clip(text: str | None, notes: list[str], field_name: str) -> str | None:
    if text is not None and len(text) > MAX_TEXT:
        notes.append(field_name)
        return text[:MAX_TEXT]
    return text


def to_event(span: Span) -> EventInput:
    """Map one span to an audit event (never raises on odd attributes; unknown ones go to metadata)."""
    a = span.attributes
    used: set[str] = set()
    operation = _first(a, ("gen_ai.operation.name",), used)
    kind = _first(a, ("openinference.span.kind",), used)
    action = str(operation or (str(kind).lower() if kind else "") or span.name or "span")[:200]
    agent = _first(a, ("gen_ai.agent.id", "gen_ai.agent.name"), used) or span.resource.get("service.name")
    prompt_parts = []
    for key in ("gen_ai.system_instructions", "gen_ai.input.messages"):
        if key in a:
            used.add(key)
            prompt_parts.append(_text_of_messages(a[key]))
    prompt_parts.append(_indexed_messages(a, "gen_ai.prompt", used))
    prompt_parts.append(_indexed_messages(a, "llm.input_messages", used))
    prompt_parts.append(_first(a, ("gen_ai.tool.call.arguments", "input.value"), used))
    response_parts = []
    if "gen_ai.output.messages" in a:
        used.add("gen_ai.output.messages")
        response_parts.append(_text_of_messages(a["gen_ai.output.messages"]))
    response_parts.append(_indexed_messages(a, "gen_ai.completion", used))
    response_parts.append(_indexed_messages(a, "llm.output_messages", used))
    response_parts.append(_first(a, ("gen_ai.tool.call.result", "output.value"), used))
    notes: list[str] = []
    prompt = _clip("\n".join(str(p) for p in prompt_parts if p) or None, notes, "prompt")
    response = _clip("\n".join(str(p) for p in response_parts if p) or None, notes, "response")

    metadata: dict[str, Any] = {}
    model = _first(a, ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name"), used)
    if model is not None:
        metadata["model"] = model
    provider = _first(a, ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"), used)
    if provider is not None:
        metadata["provider"] = provider
    tokens_in = _first(a, ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt"), used)
    tokens_out = _first(a, ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
                            "llm.token_count.completion"), used)
    total = _first(a, ("llm.token_count.total", "gen_ai.usage.total_tokens"), used)
    if tokens_in is not None or tokens_out is not None or total is not None:
        usage = {k: v for k, v in (("input_tokens", tokens_in), ("output_tokens", tokens_out)) if v is not None}
        if total is None and all(isinstance(v, int) for v in usage.values()) and usage:
            total = sum(usage.values())
        metadata["token_usage"] = usage
        if total is not None:
            metadata["tokens"] = total
    cost = _first(a, ("gen_ai.usage.cost", "llm.cost.total", "cost"), used)
    if cost is not None:
        metadata["cost"] = cost
    tool = _first(a, ("gen_ai.tool.name", "tool.name"), used)
    if tool is not None:
        metadata["tool"] = tool
    metadata["otel"] = {
        "name": span.name,
        "kind": _SPAN_KINDS.get(span.kind, str(span.kind)),
        "status": _STATUS.get(span.status_code, str(span.status_code)),
        **({"statusMessage": span.status_message} if span.status_message else {}),
        **({"scope": span.scope} if span.scope else {}),
        "resource": span.resource,
    }
    if span.events:
        metadata["otel"]["events"] = span.events[:20]
    rest = {k: v for k, v in a.items() if k not in used}
    if rest:
        metadata["attributes"] = rest
    if notes:
        metadata["truncated"] = notes
    return EventInput(
        action=action.strip() or "span",
        prompt=prompt,
        response=response,
        agent_id=str(agent)[:200] if agent else None,
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_span_id=span.parent_span_id,
        started_at=span.start_ns // 1_000_000 if span.start_ns else None,
        ended_at=max(span.end_ns, span.start_ns) // 1_000_000 if span.end_ns else None,
        metadata=metadata,
    )
