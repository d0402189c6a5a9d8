"""AgentAudit Python SDK: log agent actions to the AgentAudit sidecar, check them against policies, trace runs.

    from agentaudit import AgentAuditClient

    client = AgentAuditClient(api_key="aa_live_…")                 # or AGENTAUDIT_API_KEY / AGENTAUDIT_BASE_URL
    client.log(action="llm_call", prompt="…", response="…")         # waits, returns the stored AuditLog
    client.log(action="tool_use", metadata={"tool": "search"}, wait=False)   # background: never blocks or raises
    verdict = client.guardrail(action="prompt_submitted", prompt=user_input)  # .allowed .action .violations
    with client.trace("run") as t:
        with t.span("tool_use"):
            ...
"""

from __future__ import annotations

from importlib import import_module as _import_module

from agentaudit._async_client import AsyncAgentAuditClient
from agentaudit._models import SenderStats
from agentaudit._client import AgentAuditClient, BufferedClient
from agentaudit._config import DEFAULT_BASE_URL, Config
from agentaudit._errors import (AgentAuditError, APIConnectionError, APIStatusError, APITimeoutError,
                                AuthenticationError, ConfigError, ConflictError, NotFoundError, PayloadTooLargeError,
                                PermissionDeniedError, QuotaExceededError, RateLimitError, ServerError,
                                ValidationError)
from agentaudit._models import (Agent, Alert, AuditLog, BatchResult, Chain, Download, GuardrailResult, Listing,
                                Pack, Page, Policy, PolicyAnalytics, PolicyVersion, Report, ReportSchedule, Rule,
                                Trace, TraceSummary)
from agentaudit._legacy import AgentAudit, AgentAuditAsync, AgentAuditCallback, AgentPolicy
from agentaudit._tracing import Span, context_wrap, current_span
from agentaudit._version import __version__

ComplianceRule = Rule  # the older client's name
TimeoutError = APITimeoutError  # the older client's name for it  # noqa: A001

_OLDER_INTEGRATIONS = {  # names the older client imported on first use: (module, name there)
    "AgentAuditCallbackHandler": ("agentaudit.langchain", "AgentAuditCallbackHandler"),
    "AgentAuditAsyncCallbackHandler": ("agentaudit.langchain", "AgentAuditAsyncCallbackHandler"),
    "ComplianceViolation": ("agentaudit.langchain", "ComplianceViolation"),
    "AgentAuditOpenAI": ("agentaudit.openai", "AgentAuditOpenAI"),
    "ComplianceViolationOpenAI": ("agentaudit.openai", "ComplianceViolation"),
}


def __getattr__(name: str) -> object:
    """The older client's integration names (``from agentaudit import AgentAuditCallbackHandler``), imported only
    when asked for, since they need LangChain or OpenAI."""
    if name in _OLDER_INTEGRATIONS:
        module, attribute = _OLDER_INTEGRATIONS[name]
        return getattr(_import_module(module), attribute)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "Agent",
    "AgentAudit",
    "AgentAuditAsync",
    "AgentAuditCallback",
    "AgentAuditClient",
    "AgentAuditError",
    "AgentPolicy",
    "Alert",
    "AsyncAgentAuditClient",
    "AuditLog",
    "AuthenticationError",
    "BatchResult",
    "BufferedClient",
    "Chain",
    "ComplianceRule",
    "Config",
    "ConfigError",
    "ConflictError",
    "DEFAULT_BASE_URL",
    "Download",
    "GuardrailResult",
    "Listing",
    "NotFoundError",
    "Pack",
    "Page",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Policy",
    "PolicyAnalytics",
    "PolicyVersion",
    "QuotaExceededError",
    "RateLimitError",
    "Report",
    "ReportSchedule",
    "Rule",
    "SenderStats",
    "ServerError",
    "Span",
    "Trace",
    "TraceSummary",
    "ValidationError",
    "__version__",
    "context_wrap",
    "current_span",
]
