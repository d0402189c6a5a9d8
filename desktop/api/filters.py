"""The query filters of ``GET /audit-logs`` (and its export) and ``GET /alerts``, and the wire time format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


def format_time(value: datetime) -> str:
    """The wire form: UTC, milliseconds, ``Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class LogFilter:
    """The audit-log filters of ``GET /audit-logs`` and its export; empty fields are left out of the query."""

    agent_id: str | None = None
    action: str | None = None
    trace_id: str | None = None
    enforcement: str | None = None
    flagged: bool | None = None
    start: datetime | None = None
    end: datetime | None = None
    text: str | None = None

    def to_query(self) -> dict[str, str]:
        query: dict[str, str] = {}
        for key, value in (("agentId", self.agent_id), ("action", self.action), ("traceId", self.trace_id),
                           ("enforcementAction", self.enforcement), ("q", self.text)):
            if value:
                query[key] = value
        if self.flagged is not None:
            query["flagged"] = "true" if self.flagged else "false"
        if self.start is not None:
            query["from"] = format_time(self.start)
        if self.end is not None:
            query["to"] = format_time(self.end)
        return query

    @property
    def is_empty(self) -> bool:
        return not self.to_query()


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """The filters of ``GET /alerts``."""

    status: str | None = None
    severity: str | None = None
    agent_id: str | None = None
    rule_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def to_query(self) -> dict[str, str]:
        query = {key: value for key, value in (("status", self.status), ("severity", self.severity),
                                               ("agentId", self.agent_id), ("ruleId", self.rule_id)) if value}
        if self.start is not None:
            query["from"] = format_time(self.start)
        if self.end is not None:
            query["to"] = format_time(self.end)
        return query
