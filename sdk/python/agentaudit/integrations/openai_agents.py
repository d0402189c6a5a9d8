"""An OpenAI Agents SDK trace processor: every trace and span of an agent run becomes an AgentAudit event.

    from agents import add_trace_processor            # or set_trace_processors([...]) to replace the default
    from agentaudit.integrations.openai_agents import AgentAuditTraceProcessor

    add_trace_processor(AgentAuditTraceProcessor(client))

The trace is the root event (``agent_run``, ``spanId`` = the trace id); spans keep the SDK's span and parent ids.
Span kinds map to actions: generation/response → ``llm_call``, function → ``tool_use``, agent → ``agent_step``,
handoff → ``handoff``, guardrail → ``guardrail_check``, task/turn → ``agent_task``/``agent_turn``, custom → its
name, others → their type. Delivery is
in the background: the processor never blocks the run and never raises into it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from agents.tracing import Span, Trace, TracingProcessor

from agentaudit._client import AgentAuditClient
from agentaudit._errors import ConfigError
from agentaudit.integrations._common import epoch, error_info, text

_ACTIONS = {"generation": "llm_call", "response": "llm_call", "function": "tool_use", "agent": "agent_step",
            "handoff": "handoff", "guardrail": "guardrail_check", "task": "agent_task", "turn": "agent_turn"}
_KEPT = ("name", "model", "usage", "handoffs", "tools", "output_type", "from_agent", "to_agent", "triggered",
         "response_id", "model_config", "server", "result")


class AgentAuditTraceProcessor(TracingProcessor):
    """Sends Agents SDK traces to AgentAudit.

    Args:
        client: the client to log through.
        agent_id: agent id for these events (default: the client's).
        max_open_traces: start times of traces not ended yet that are kept; past it the oldest is forgotten (a
            trace started and never finished must not grow the processor for ever). A forgotten trace still
            gets its event when it ends, timed from its end.
    """

    def __init__(self, client: AgentAuditClient, *, agent_id: str | None = None,
                 max_open_traces: int = 10_000) -> None:
        if max_open_traces < 1:
            raise ConfigError(f"max_open_traces must be at least 1, got {max_open_traces!r}")
        self.client = client
        self.agent_id = agent_id
        self.max_open_traces = max_open_traces
        self._trace_started: dict[str, float] = {}
        self._lock = threading.Lock()  # the SDK calls processors from any thread

    def on_trace_start(self, trace: Trace) -> None:
        with self._lock:
            while len(self._trace_started) >= self.max_open_traces:
                del self._trace_started[next(iter(self._trace_started))]
            self._trace_started[trace.trace_id] = time.time()

    def on_trace_end(self, trace: Trace) -> None:
        with self._lock:
            started = self._trace_started.pop(trace.trace_id, None)
        exported = trace.export() or {}
        metadata: dict[str, Any] = {"framework": "openai-agents", "workflow": trace.name}
        for key in ("group_id", "metadata"):
            if exported.get(key):
                metadata[key] = exported[key]
        self.client.log("agent_run", metadata=metadata, agent_id=self.agent_id, trace_id=trace.trace_id,
                        span_id=trace.trace_id, started_at=started or time.time(), ended_at=time.time(), wait=False)

    def on_span_start(self, span: Span[Any]) -> None:
        return None

    def on_span_end(self, span: Span[Any]) -> None:
        data = span.span_data
        kind = data.type
        exported = data.export()
        action = _ACTIONS.get(kind) or (exported.get("name") if kind == "custom" else None) or kind
        metadata: dict[str, Any] = {"framework": "openai-agents", "spanType": kind}
        metadata.update({k: exported[k] for k in _KEPT if exported.get(k) is not None})
        if isinstance(exported.get("data"), dict) and exported["data"]:
            metadata["data"] = exported["data"]
        prompt = text(exported.get("input")) if "input" in exported else text(getattr(data, "input", None))
        response = text(exported.get("output"))
        if span.error:
            metadata["status"] = "error"
            metadata["error"] = error_info(span.error)
        now = time.time()
        self.client.log(str(action)[:200], prompt=prompt, response=response, metadata=metadata,
                        agent_id=self.agent_id, trace_id=span.trace_id, span_id=span.span_id,
                        parent_span_id=span.parent_id or span.trace_id,
                        started_at=epoch(span.started_at) or now, ended_at=epoch(span.ended_at) or now, wait=False)

    def force_flush(self) -> None:
        self.client.flush(10.0)

    def shutdown(self) -> None:
        self.client.flush(5.0)
