"""Helpers shared by the integrations: text of arbitrary inputs, timestamps, errors, the blocked-call exception."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from agentaudit._models import GuardrailResult

LIMIT = 100_000


class ComplianceViolation(RuntimeError):
    """A guardrail check blocked a prompt or an output; ``result`` is the verdict (``violations`` and ``severity``
    are its fields, as the older client's exception had them)."""

    def __init__(self, result: GuardrailResult) -> None:
        super().__init__(f"blocked by AgentAudit: {', '.join(result.violations) or result.action}")
        self.result = result
        self.violations = list(result.violations)
        self.severity = result.severity


def text(value: Any) -> str | None:
    """A prompt/response string for any input or output (JSON when it is structured), clipped to the API limit."""
    if value is None:
        return None
    if not isinstance(value, str):
        try:
            value = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            value = str(value)
    return value if len(value) <= LIMIT else value[:LIMIT]


def epoch(value: str | None) -> float | None:
    """Epoch seconds from an ISO timestamp (any offset), or None."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


def error_info(error: BaseException | Any) -> dict[str, Any]:
    if isinstance(error, BaseException):
        return {"type": type(error).__name__, "message": str(error)[:2000]}
    if isinstance(error, dict):
        return {"type": "error", "message": str(error.get("message", ""))[:2000], **({"data": error["data"]}
                                                                                   if error.get("data") else {})}
    return {"type": "error", "message": str(error)[:2000]}
