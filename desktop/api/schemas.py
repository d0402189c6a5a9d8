"""Wire values as frozen dataclasses with ``from_json``: pure Python, tolerant of fields added later.

Each ``from_json`` reads only the keys it knows and supplies a default for any that is missing, so a newer
sidecar that adds fields never breaks an older desktop. Timestamps become aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from desktop.api.filters import AlertFilter, LogFilter, format_time  # noqa: F401 - part of this module's API

SEVERITIES = ("critical", "warning", "info")
ALERT_STATUSES = ("open", "acknowledged", "resolved", "false_positive")
ENFORCEMENT_ACTIONS = ("allow", "log", "flag", "block")
SCOPES = ("logs:write", "logs:read", "admin")



def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (``…Z``) as an aware UTC datetime; None for null or garbage."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def _opt(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def _int(data: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = data.get(key)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


@dataclass(frozen=True, slots=True)
class Health:
    status: str
    version: str
    database: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Health:
        return cls(_str(data, "status"), _str(data, "version"), _str(data, "database"))


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    name: str
    email: str
    plan: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Organization:
        return cls(_str(data, "id"), _str(data, "name"), _str(data, "email"), _str(data, "plan"))


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    name: str
    role: str
    organization: Organization | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> User:
        org = data.get("organization")
        return cls(_str(data, "id"), _str(data, "email"), _str(data, "name"), _str(data, "role"),
                   Organization.from_json(org) if isinstance(org, Mapping) else None)


@dataclass(frozen=True, slots=True)
class Session:
    """The answer to a login or a refresh."""

    access_token: str
    refresh_token: str
    expires_in: int
    organization: Organization | None
    user: User | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Session:
        org, user = data.get("organization"), data.get("user")
        return cls(_str(data, "accessToken"), _str(data, "refreshToken"), _int(data, "expiresIn", 900),
                   Organization.from_json(org) if isinstance(org, Mapping) else None,
                   User.from_json(user) if isinstance(user, Mapping) else None)


@dataclass(frozen=True, slots=True)
class Match:
    """Where a rule matched: character offsets into ``field`` (``prompt``, ``response``, ``metadata.<path>``)."""

    field: str
    start: int
    end: int
    detector: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Match:
        return cls(_str(data, "field"), _int(data, "start"), _int(data, "end"), _str(data, "detector"))


@dataclass(frozen=True, slots=True)
class Violation:
    rule_id: str
    policy_id: str | None
    name: str
    rule_type: str
    severity: str
    action: str
    matches: tuple[Match, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Violation:
        matches = data.get("matches")
        return cls(_str(data, "ruleId"), _opt(data, "policyId"), _str(data, "name"), _str(data, "ruleType"),
                   _str(data, "severity"), _str(data, "action"),
                   tuple(Match.from_json(m) for m in matches if isinstance(m, Mapping))
                   if isinstance(matches, list) else ())


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One stored audit event."""

    id: str
    action: str
    agent_id: str | None = None
    prompt: str | None = None
    response: str | None = None
    metadata: Any = None
    trace_id: str | None = None
    span_id: str | None = None
    parent_span_id: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    created_at: datetime | None = None
    compliance_flags: tuple[str, ...] = ()
    enforcement_action: str = "allow"
    violations: tuple[Violation, ...] = ()
    sequence: int = 0
    hash: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogEvent:
        details = data.get("violationDetails")
        return cls(
            id=_str(data, "id"),
            action=_str(data, "action"),
            agent_id=_opt(data, "agentId"),
            prompt=_opt(data, "prompt"),
            response=_opt(data, "response"),
            metadata=data.get("metadata"),
            trace_id=_opt(data, "traceId"),
            span_id=_opt(data, "spanId"),
            parent_span_id=_opt(data, "parentSpanId"),
            started_at=parse_time(data.get("startedAt")),
            ended_at=parse_time(data.get("endedAt")),
            created_at=parse_time(data.get("createdAt")),
            compliance_flags=_strings(data.get("complianceFlags")),
            enforcement_action=_str(data, "enforcementAction") or "allow",
            violations=tuple(Violation.from_json(v) for v in details if isinstance(v, Mapping))
            if isinstance(details, list) else (),
            sequence=_int(data, "sequence"),
            hash=_str(data, "hash"),
        )

    @property
    def flagged(self) -> bool:
        return bool(self.compliance_flags)

    @property
    def duration_ms(self) -> int | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds() * 1000)


@dataclass(frozen=True, slots=True)
class LogPage:
    items: tuple[LogEvent, ...]
    total: int
    next_cursor: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogPage:
        rows = data.get("data")
        pagination = data.get("pagination")
        pagination = pagination if isinstance(pagination, Mapping) else {}
        items = tuple(LogEvent.from_json(r) for r in rows if isinstance(r, Mapping)) if isinstance(rows, list) else ()
        limit = _int(pagination, "limit", len(items))
        cursor = _opt(pagination, "nextCursor")
        if cursor is None and items and len(items) >= limit > 0:
            cursor = items[-1].id  # older sidecars: a full page means there may be more
        return cls(items, _int(pagination, "total", len(items)), cursor)


@dataclass(frozen=True, slots=True)
class TraceSummary:
    trace_id: str
    root_action: str
    agent_ids: tuple[str, ...]
    span_count: int
    flagged_count: int
    enforcement_action: str
    started_at: datetime | None
    ended_at: datetime | None
    duration_ms: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TraceSummary:
        return cls(_str(data, "traceId"), _str(data, "rootAction"), _strings(data.get("agentIds")),
                   _int(data, "spanCount"), _int(data, "flaggedCount"), _str(data, "enforcementAction") or "allow",
                   parse_time(data.get("startedAt")), parse_time(data.get("endedAt")), _int(data, "durationMs"))


@dataclass(frozen=True, slots=True)
class TracePage:
    items: tuple[TraceSummary, ...]
    total: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TracePage:
        rows = data.get("data")
        pagination = data.get("pagination")
        total = _int(pagination, "total") if isinstance(pagination, Mapping) else 0
        items = tuple(TraceSummary.from_json(r) for r in rows if isinstance(r, Mapping)) if isinstance(rows, list) else ()
        return cls(items, max(total, len(items)))


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    severity: str
    status: str
    message: str
    rule_id: str | None = None
    policy_id: str | None = None
    audit_log_id: str | None = None
    agent_id: str | None = None
    details: Any = None
    created_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    note: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Alert:
        status = _str(data, "status")
        if not status:
            status = "resolved" if data.get("isResolved") else "open"
        return cls(
            id=_str(data, "id"),
            severity=_str(data, "severity") or "info",
            status=status,
            message=_str(data, "message"),
            rule_id=_opt(data, "ruleId"),
            policy_id=_opt(data, "policyId"),
            audit_log_id=_opt(data, "auditLogId"),
            agent_id=_opt(data, "agentId"),
            details=data.get("details"),
            created_at=parse_time(data.get("createdAt")),
            resolved_at=parse_time(data.get("resolvedAt")),
            resolved_by=_opt(data, "resolvedBy"),
            note=_opt(data, "note"),
        )

    @property
    def is_resolved(self) -> bool:
        return self.status in ("resolved", "false_positive")


@dataclass(frozen=True, slots=True)
class Listing:
    """A plain JSON array page (alerts, keys, agents, rules...) with the ``X-Total-Count`` header's total."""

    items: tuple[Any, ...]
    total: int


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    last_used_at: datetime | None
    created_at: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApiKey:
        return cls(_str(data, "id"), _str(data, "name"), _str(data, "prefix"), _strings(data.get("scopes")),
                   parse_time(data.get("lastUsedAt")), parse_time(data.get("createdAt")))


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    """A new key: ``secret`` is the full ``aa_live_…`` value, shown once."""

    key: ApiKey
    secret: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CreatedApiKey:
        return cls(ApiKey.from_json(data), _str(data, "key"))


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    name: str
    type: str
    description: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Agent:
        return cls(_str(data, "id"), _str(data, "name"), _str(data, "type"), _str(data, "description"))


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    rule_type: str
    severity: str
    pack_id: str | None
    policy_id: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rule:
        return cls(_str(data, "id"), _str(data, "name"), _str(data, "ruleType"), _str(data, "severity"),
                   _opt(data, "packId"), _opt(data, "policyId"))


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    name: str
    mode: str
    source_pack_id: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Policy:
        return cls(_str(data, "id"), _str(data, "name"), _str(data, "mode"), _opt(data, "sourcePackId"))


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One server-sent event: its name (``log.created``, ``alert.created``...) and its decoded JSON data."""

    name: str
    data: Any

    @property
    def log(self) -> LogEvent | None:
        payload = self.data.get("log", self.data) if isinstance(self.data, Mapping) else None
        return LogEvent.from_json(payload) if self.name == "log.created" and isinstance(payload, Mapping) else None

    @property
    def alert(self) -> Alert | None:
        payload = self.data.get("alert", self.data) if isinstance(self.data, Mapping) else None
        return Alert.from_json(payload) if self.name == "alert.created" and isinstance(payload, Mapping) else None


@dataclass(frozen=True, slots=True)
class RawSpans:
    """One page of a trace's spans, still undecoded, and the cursor of the next page (from the ``Link`` header,
    so the next request can leave before this page is decoded)."""

    body: bytes
    next_cursor: str | None
