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
from agentaudit._tracing import Span, context_wrap, current_span
from agentaudit._version import __version__

AgentAudit = AgentAuditClient  # the older client's name
AgentAuditAsync = AsyncAgentAuditClient
TimeoutError = APITimeoutError  # the older client's name for it  # noqa: A001

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "Agent",
    "AgentAudit",
    "AgentAuditAsync",
    "AgentAuditClient",
    "AgentAuditError",
    "Alert",
    "AsyncAgentAuditClient",
    "AuditLog",
    "AuthenticationError",
    "BatchResult",
    "BufferedClient",
    "Chain",
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
