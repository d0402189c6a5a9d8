"""A LangChain callback handler that records chains, LLM calls, tools and retrievers as one trace per run.

    from agentaudit.integrations.langchain import AgentAuditCallbackHandler

    handler = AgentAuditCallbackHandler(client)
    chain.invoke(inputs, config={"callbacks": [handler]})

Every run becomes one event when it ends (``chain``, ``llm_call``, ``tool_use``, ``retrieval``), with LangChain's
run ids as ``spanId``/``parentSpanId`` and the root run's id as ``traceId`` (or the current AgentAudit span's trace
when the chain runs inside ``client.trace(...)``). Events go through the background sender, so the handler never
blocks or raises, unless ``guardrail=True``: then prompts are checked before the model runs and a ``block``
verdict raises :class:`ComplianceViolation` into the chain (``guard_outputs=True`` also checks what models and
tools return). Each check is a ``guardrail_check`` event, a child of the run it checks; a blocked run is logged
with ``metadata.status = "blocked"`` and the verdict in ``metadata.guardrail``. When the sidecar cannot answer a
check, ``on_error`` decides, as in ``client.guardrail``: ``"raise"`` (default), ``"allow"`` or ``"block"``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from agentaudit._client import AgentAuditClient
from agentaudit._errors import ConfigError
from agentaudit._tracing import current_span
from agentaudit.integrations._common import ComplianceViolation, error_info, text

__all__ = ["AgentAuditCallbackHandler", "ComplianceViolation"]


_ON_ERROR = ("raise", "allow", "block")


@dataclass
class _Run:
    action: str
    trace_id: str
    parent_span_id: str | None
    started_at: float
    prompt: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class AgentAuditCallbackHandler(BaseCallbackHandler):
    """Records LangChain runs as AgentAudit events.

    Args:
        client: the client to log through (its default agent id applies).
        agent_id: agent id for these events, overriding the client's.
        guardrail: check each prompt before the model runs; a ``block`` raises ComplianceViolation.
        guard_outputs: also check each model's and tool's output before the chain uses it.
        on_error: when the sidecar cannot answer a check: ``"raise"`` its error (default), ``"allow"`` the call
            (fail open) or ``"block"`` it (fail closed, ComplianceViolation), as ``client.guardrail(on_error=)``.

    Raises:
        ConfigError: ``on_error`` is none of those.
    """

    def __init__(self, client: AgentAuditClient, *, agent_id: str | None = None, guardrail: bool = False,
                 guard_outputs: bool = False, on_error: str = "raise") -> None:
        if on_error not in _ON_ERROR:
            raise ConfigError(f"on_error must be one of {', '.join(_ON_ERROR)}, got {on_error!r}")
        self.client = client
        self.agent_id = agent_id
        self.guardrail = guardrail
        self.guard_outputs = guard_outputs
        self.on_error = on_error
        self.raise_error = guardrail or guard_outputs  # LangChain swallows callback errors unless this is set
        self._runs: dict[UUID, _Run] = {}
        self._lock = threading.Lock()

    # -- bookkeeping ------------------------------------------------------------------------------------------------
    def _start(self, run_id: UUID, parent_run_id: UUID | None, action: str, prompt: str | None,
               metadata: dict[str, Any]) -> None:
        with self._lock:
            parent = self._runs.get(parent_run_id) if parent_run_id else None
        if parent is not None:
            trace_id, parent_span = parent.trace_id, str(parent_run_id)
        else:
            span = current_span()
            trace_id, parent_span = (span.trace_id, span.span_id) if span else (str(run_id), None)
        with self._lock:
            self._runs[run_id] = _Run(action, trace_id, parent_span, time.time(), prompt, metadata)

    def _end(self, run_id: UUID, *, response: str | None = None, error: BaseException | None = None,
             **metadata: Any) -> None:
        with self._lock:
            run = self._runs.pop(run_id, None)
        if run is None:
            return
        run.metadata.update({k: v for k, v in metadata.items() if v is not None})
        if error is not None:
            run.metadata["status"] = "error"
            run.metadata["error"] = error_info(error)
        self.client.log(run.action, prompt=run.prompt, response=response, metadata=run.metadata,
                        agent_id=self.agent_id, trace_id=run.trace_id, parent_span_id=run.parent_span_id,
                        span_id=str(run_id), started_at=run.started_at, ended_at=time.time(), wait=False)

    @staticmethod
    def _meta(kind: str, serialized: dict[str, Any] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        name = kwargs.get("name") or (serialized or {}).get("name") or ((serialized or {}).get("id") or [None])[-1]
        meta: dict[str, Any] = {"framework": "langchain", "runType": kind}
        if name:
            meta["name"] = name
        if kwargs.get("tags"):
            meta["tags"] = list(kwargs["tags"])
        return meta

    def _check(self, run_id: UUID, stage: str, content: str | None) -> None:
        """Check a run's ``prompt`` or ``response`` as a child span of the run. A block, or a check that fails,
        ends the run here (logged with the verdict) and raises into the chain."""
        with self._lock:
            run = self._runs.get(run_id)
        if run is None or not content:
            return
        try:
            result = self.client.guardrail("guardrail_check", agent_id=self.agent_id, trace_id=run.trace_id,
                                           parent_span_id=str(run_id), on_error=self.on_error,
                                           **{stage: content})
        except Exception as exc:
            self._end(run_id, error=exc)
            raise
        verdict: dict[str, Any] = {"action": result.action, "violations": result.violations,
                                   "auditLogId": result.audit_log_id}
        if result.audit_log_id is None and "error" in result.raw:  # on_error decided: the sidecar did not answer
            verdict["error"] = result.raw["error"]
        run.metadata.setdefault("guardrail", {})[stage] = verdict
        if not result.allowed:
            self._end(run_id, status="blocked")
            raise ComplianceViolation(result)

    # -- chains -----------------------------------------------------------------------------------------------------
    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any, *, run_id: UUID,
                       parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._start(run_id, parent_run_id, "chain", text(inputs), self._meta("chain", serialized, kwargs))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, response=text(outputs))

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error=error)

    # -- models -----------------------------------------------------------------------------------------------------
    def on_llm_start(self, serialized: dict[str, Any] | None, prompts: list[str], *, run_id: UUID,
                     parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        prompt = "\n\n".join(prompts)
        meta = self._meta("llm", serialized, kwargs)
        model = (kwargs.get("metadata") or {}).get("ls_model_name") or (kwargs.get("invocation_params") or {}).get("model")
        if model:
            meta["model"] = model
        self._start(run_id, parent_run_id, "llm_call", text(prompt), meta)
        if self.guardrail:
            self._check(run_id, "prompt", prompt)

    def on_chat_model_start(self, serialized: dict[str, Any] | None, messages: list[list[Any]], *, run_id: UUID,
                            parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        lines = [f"{getattr(m, 'type', 'message')}: {getattr(m, 'content', m)}" for batch in messages for m in batch]
        self.on_llm_start(serialized, ["\n".join(lines)], run_id=run_id, parent_run_id=parent_run_id, **kwargs)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        texts, usage = [], None
        for generations in getattr(response, "generations", None) or []:
            for generation in generations:
                texts.append(getattr(generation, "text", "") or str(getattr(generation, "message", "")))
                message = getattr(generation, "message", None)
                usage = usage or getattr(message, "usage_metadata", None)
        llm_output = getattr(response, "llm_output", None) or {}
        usage = usage or llm_output.get("token_usage") or llm_output.get("usage")
        output = "\n".join(texts)
        if self.guard_outputs:
            self._check(run_id, "response", output)
        self._end(run_id, response=text(output), usage=dict(usage) if usage else None)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error=error)

    # -- tools and retrievers ---------------------------------------------------------------------------------------
    def on_tool_start(self, serialized: dict[str, Any] | None, input_str: str, *, run_id: UUID,
                      parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        meta = self._meta("tool", serialized, kwargs)
        meta.setdefault("tool", meta.get("name"))
        self._start(run_id, parent_run_id, "tool_use", text(input_str), meta)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        result = text(getattr(output, "content", output))
        if self.guard_outputs:
            self._check(run_id, "response", result)
        self._end(run_id, response=result)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error=error)

    def on_retriever_start(self, serialized: dict[str, Any] | None, query: str, *, run_id: UUID,
                           parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._start(run_id, parent_run_id, "retrieval", text(query), self._meta("retriever", serialized, kwargs))

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        contents = [getattr(d, "page_content", str(d)) for d in documents or []]
        self._end(run_id, response=text(contents), documents=len(contents))

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error=error)
