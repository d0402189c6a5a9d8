"""The older client's ``agentaudit.openai``: ``AgentAuditOpenAI`` wraps an OpenAI client so each call is audited.

    from agentaudit.openai import AgentAuditOpenAI, ComplianceViolation

    client = AgentAuditOpenAI(openai_api_key="sk-…", api_key="aa_live_…", agent_id="support", guard=True)
    response = client.chat_completions_create(model="gpt-4o", messages=[{"role": "user", "content": "Hello!"}])

Each call is one event (``llm_call``, or ``embedding``) with the prompt, the output, the model and its usage; the
older wrapper logged a ``*_start``/``*_end`` pair. The calls of one wrapper share a trace (``trace_id``), unless an
AgentAudit span is open, whose trace they join. ``guard=True`` (the default, as before) checks the output before
it is returned, as the older wrapper did, and also the prompt before it is sent; each check is a
``guardrail_check`` child of the call, and a ``block`` raises :class:`ComplianceViolation`. ``fail_open=True`` (the
default) lets the call through when the sidecar cannot answer a check; ``False`` raises the error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openai import OpenAI

from agentaudit._events import new_trace_id
from agentaudit._legacy import AgentAudit
from agentaudit._models import GuardrailResult
from agentaudit._tracing import Span, current_span
from agentaudit.integrations._common import ComplianceViolation, text

__all__ = ["AgentAuditOpenAI", "ComplianceViolation"]


class AgentAuditOpenAI:
    """``chat_completions_create``, ``completions_create`` and ``embeddings_create``, audited.

    Args:
        openai_api_key: the OpenAI key (ignored when ``openai_client`` is given).
        api_key, agent_id, base_url: of the ``AgentAudit`` client the wrapper logs through (``base_url`` defaults
            to ``AGENTAUDIT_BASE_URL`` or the local sidecar).
        guard: check prompts and outputs; a ``block`` raises ComplianceViolation.
        fail_open: when the sidecar cannot answer a check, let the call through (else raise the error).
        openai_client: an ``openai.OpenAI`` to call instead of one built from ``openai_api_key``.
    """

    def __init__(self, openai_api_key: str, api_key: str, agent_id: str | None = None, base_url: str | None = None,
                 guard: bool = True, fail_open: bool = True, *, openai_client: OpenAI | None = None) -> None:
        self._client = AgentAudit(api_key, base_url, agent_id)
        self._openai = openai_client or OpenAI(api_key=openai_api_key)
        self._guard = guard
        self._on_error = "allow" if fail_open else "raise"
        self.trace_id: str | None = None

    def chat_completions_create(self, model: str, messages: list[dict[str, str]], **kwargs: Any) -> Any:
        prompt = "\n".join(f"{m.get('role', 'user')}: {m.get('content', '')}" for m in messages)
        return self._call("llm_call", "chat", model, prompt,
                          lambda: self._openai.chat.completions.create(model=model, messages=messages, **kwargs),
                          lambda r: r.choices[0].message.content if r.choices else "")

    def completions_create(self, model: str, prompt: str, **kwargs: Any) -> Any:
        return self._call("llm_call", "completion", model, prompt,
                          lambda: self._openai.completions.create(model=model, prompt=prompt, **kwargs),
                          lambda r: r.choices[0].text if r.choices else "")

    def embeddings_create(self, input: list[str], model: str = "text-embedding-ada-002", **kwargs: Any) -> Any:
        return self._call("embedding", "embedding", model, text(input),
                          lambda: self._openai.embeddings.create(input=input, model=model, **kwargs), None)

    # -- one audited call ------------------------------------------------------------------------------------------
    def _span(self, action: str, kind: str, model: str, prompt: str | None) -> Span:
        metadata = {"framework": "openai", "type": kind, "model": model}
        parent = current_span()
        if parent is not None:
            return parent.span(action, prompt=prompt, metadata=metadata)
        if self.trace_id is None:
            self.trace_id = new_trace_id()
        return Span(self._client, action, trace_id=self.trace_id, parent_span_id=None, prompt=prompt,
                    metadata=metadata)

    def _call(self, action: str, kind: str, model: str, prompt: str | None, create: Callable[[], Any],
              output_of: Callable[[Any], str | None] | None) -> Any:
        blocked: GuardrailResult | None = None
        with self._span(action, kind, model, prompt) as span:
            blocked = self._check(span, "prompt", prompt)
            if blocked is None:
                response = create()
                usage = getattr(response, "usage", None)
                if usage is not None:
                    span.set(usage=usage.model_dump())
                if output_of is not None:
                    output = text(output_of(response))
                    span.set(response=output)
                    blocked = self._check(span, "response", output)
        if blocked is not None:
            raise ComplianceViolation(blocked)
        return response

    def _check(self, span: Span, stage: str, content: str | None) -> GuardrailResult | None:
        """Check ``content`` as a child of the call's span; the verdict goes in its metadata. Returns a block."""
        if not self._guard or not content:
            return None
        result = self._client.guardrail("guardrail_check", trace_id=span.trace_id, parent_span_id=span.span_id,
                                        on_error=self._on_error, **{stage: content})
        verdict: dict[str, Any] = {"action": result.action, "violations": result.violations,
                                   "auditLogId": result.audit_log_id}
        if result.audit_log_id is None and "error" in result.raw:
            verdict["error"] = result.raw["error"]
        span.metadata.setdefault("guardrail", {})[stage] = verdict
        if result.allowed:
            return None
        span.set(status="blocked")
        return result
