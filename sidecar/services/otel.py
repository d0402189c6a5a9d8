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
            text = "\n".join(filter(None, chunks))
        else:
            text = str(message.get("content", ""))
        lines.append(f"{role}: {text}" if role else text)
    return "\n".join(lines)


#: Attribute keys that fill one field each, best first: the first present and non-empty one wins.
_FIELDS: dict[str, tuple[str, ...]] = {
    "operation": ("gen_ai.operation.name",),
    "kind": ("openinference.span.kind",),
    "agent": ("gen_ai.agent.id", "gen_ai.agent.name"),
    "input": ("gen_ai.tool.call.arguments", "input.value"),
    "output": ("gen_ai.tool.call.result", "output.value"),
    "model": ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name"),
    "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"),
    "tokens_in": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt"),
    "tokens_out": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion"),
    "total": ("llm.token_count.total", "gen_ai.usage.total_tokens"),
    "cost": ("gen_ai.usage.cost", "llm.cost.total", "cost"),
    "tool": ("gen_ai.tool.name", "tool.name"),
}
_KEY_FIELD = {key: (name, rank) for name, keys in _FIELDS.items() for rank, key in enumerate(keys)}
#: Whole-message attributes, always taken (even when empty).
_MESSAGES = ("gen_ai.system_instructions", "gen_ai.input.messages", "gen_ai.output.messages")
_INDEXED_PREFIXES = ("gen_ai.prompt.", "gen_ai.completion.", "llm.input_messages.", "llm.output_messages.")


def _sort_attributes(
    attributes: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[int, dict[str, Any]]], dict[str, Any]]:
    """One pass over a span's attributes: ``(fields, messages, indexed, rest)``: the winning value of each
    field in :data:`_FIELDS`, the whole-message attributes, the indexed messages by prefix (``gen_ai.prompt``,
    ``llm.input_messages``, ...) then index, and everything no field took."""
    best: dict[str, tuple[int, str, Any]] = {}
    messages: dict[str, Any] = {}
    indexed: dict[str, dict[int, dict[str, Any]]] = {}
    rest: dict[str, Any] = {}
    for key, value in attributes.items():
        hit = _KEY_FIELD.get(key)
        if hit is not None:
            if value is None or value == "":
                rest[key] = value
                continue
            name, rank = hit
            held = best.get(name)
            if held is None or rank < held[0]:
                if held is not None:
                    rest[held[1]] = held[2]
                best[name] = (rank, key, value)
            else:
                rest[key] = value
        elif key in _MESSAGES:
            messages[key] = value
        elif key.startswith(_INDEXED_PREFIXES) and (found := _INDEXED.match(key)) is not None:
            rest_of_key = found.group(3).removeprefix("message.")
            indexed.setdefault(found.group(1), {}).setdefault(int(found.group(2)), {})[rest_of_key] = value
        else:
            rest[key] = value
    return {name: held[2] for name, held in best.items()}, messages, indexed, rest


def _indexed_text(messages: dict[int, dict[str, Any]] | None) -> str | None:
    """``gen_ai.prompt.0.role`` / ``llm.input_messages.0.message.content`` style messages as text."""
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


def _clip(text: str | None, notes: list[str], field_name: str) -> str | None:
    if text is not None and len(text) > MAX_TEXT:
        notes.append(field_name)
        return text[:MAX_TEXT]
    return text


_PROMPT_MESSAGES = ("gen_ai.system_instructions", "gen_ai.input.messages")
_RESPONSE_MESSAGES = ("gen_ai.output.messages",)


def _joined(parts: list[Any]) -> str | None:
    """The non-empty parts, one per line (None when there are none)."""
    present = [part for part in parts if part]
    if not present:
        return None
    if len(present) == 1 and type(present[0]) is str:
        return present[0]  # type: ignore[no-any-return]
    return "\n".join(map(str, present))


def to_event(span: Span) -> EventInput:
    """Map one span to an audit event (never raises on odd attributes; unknown ones go to metadata)."""
    fields, messages, indexed, rest = _sort_attributes(span.attributes)
    get = fields.get
    operation, kind = get("operation"), get("kind")
    action = str(operation or (str(kind).lower() if kind else "") or span.name or "span")[:200]
    agent = get("agent") or span.resource.get("service.name")
    prompt_parts = [_text_of_messages(messages[key]) for key in _PROMPT_MESSAGES if key in messages]
    response_parts = [_text_of_messages(messages[key]) for key in _RESPONSE_MESSAGES if key in messages]
    if indexed:
        prompt_parts += [_indexed_text(indexed.get("gen_ai.prompt")), _indexed_text(indexed.get("llm.input_messages"))]
        response_parts += [_indexed_text(indexed.get("gen_ai.completion")),
                           _indexed_text(indexed.get("llm.output_messages"))]
    prompt_parts.append(get("input"))
    response_parts.append(get("output"))
    notes: list[str] = []
    prompt = _clip(_joined(prompt_parts), notes, "prompt")
    response = _clip(_joined(response_parts), notes, "response")

    metadata: dict[str, Any] = {}
    if fields:
        for name in ("model", "provider"):
            if name in fields:
                metadata[name] = fields[name]
        tokens_in, tokens_out, total = get("tokens_in"), get("tokens_out"), get("total")
        if tokens_in is not None or tokens_out is not None or total is not None:
            usage = {}
            if tokens_in is not None:
                usage["input_tokens"] = tokens_in
            if tokens_out is not None:
                usage["output_tokens"] = tokens_out
            if total is None and usage and (tokens_in is None or isinstance(tokens_in, int)) and (
                    tokens_out is None or isinstance(tokens_out, int)):
                total = sum(usage.values())
            metadata["token_usage"] = usage
            if total is not None:
                metadata["tokens"] = total
        for name in ("cost", "tool"):
            if name in fields:
                metadata[name] = fields[name]
    otel: dict[str, Any] = {
        "name": span.name,
        "kind": _SPAN_KINDS.get(span.kind) or str(span.kind),
        "status": _STATUS.get(span.status_code) or str(span.status_code),
    }
    if span.status_message:
        otel["statusMessage"] = span.status_message
    if span.scope:
        otel["scope"] = span.scope
    otel["resource"] = span.resource
    if span.events:
        otel["events"] = span.events[:20]
    metadata["otel"] = otel
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
