"""The older client's ``agentaudit.langchain``, on the current handler (:mod:`agentaudit.integrations.langchain`).

    from agentaudit.langchain import AgentAuditCallbackHandler, ComplianceViolation

    handler = AgentAuditCallbackHandler(api_key="aa_live_…", agent_id="intake", guard=True)
    llm.invoke(prompt, config={"callbacks": [handler]})     # a block raises ComplianceViolation(.violations, .severity)

Each run becomes one trace, recorded as the current handler records it (``chain``, ``llm_call``, ``tool_use``, ...;
the older handler logged ``chain_start``/``llm_end``-style pairs). ``guard=True`` (the default, as before) checks
model and tool outputs, as the older handler did, and also prompts before the model runs. ``fail_open=True`` (the
default) lets the call through when the sidecar cannot answer a check; ``False`` raises the error.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from agentaudit._legacy import AgentAudit
from agentaudit.integrations.langchain import AgentAuditCallbackHandler as _CurrentHandler
from agentaudit.integrations.langchain import ComplianceViolation

__all__ = ["AgentAuditAsyncCallbackHandler", "AgentAuditCallbackHandler", "ComplianceViolation"]


class AgentAuditCallbackHandler(_CurrentHandler):
    """The older constructor. ``trace_id`` is the trace of the latest run the handler started.

    Args:
        api_key, agent_id, base_url: of the ``AgentAudit`` client the handler logs through (``base_url`` defaults
            to ``AGENTAUDIT_BASE_URL`` or the local sidecar).
        guard: check prompts and outputs; a ``block`` raises ComplianceViolation.
        fail_open: when the sidecar cannot answer a check, let the call through (else raise the error).
    """

    def __init__(self, api_key: str, agent_id: str | None = None, base_url: str | None = None, guard: bool = True,
                 fail_open: bool = True) -> None:
        super().__init__(AgentAudit(api_key, base_url, agent_id), guardrail=guard, guard_outputs=guard,
                         on_error="allow" if fail_open else "raise")
        self.trace_id: str | None = None

    def _start(self, run_id: UUID, parent_run_id: UUID | None, action: str, prompt: str | None,
               metadata: dict[str, Any]) -> None:
        super()._start(run_id, parent_run_id, action, prompt, metadata)
        if parent_run_id is None:
            with self._lock:
                run = self._runs.get(run_id)
            if run is not None:
                self.trace_id = run.trace_id


AgentAuditAsyncCallbackHandler = AgentAuditCallbackHandler  # LangChain runs it in async chains too
