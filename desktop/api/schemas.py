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
ROLES = ("owner", "admin", "analyst", "auditor")



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
    created_at: datetime | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> User:
        org = data.get("organization")
        return cls(_str(data, "id"), _str(data, "email"), _str(data, "name"), _str(data, "role"),
                   Organization.from_json(org) if isinstance(org, Mapping) else None,
                   parse_time(data.get("createdAt")))


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

    @property
    def report_id(self) -> str | None:
        """The id of the report a ``report.ready`` event announces."""
        found = self.data.get("id") if self.name == "report.ready" and isinstance(self.data, Mapping) else None
        return found if isinstance(found, str) and found else None


# -- reports, billing, settings and activity -----------------------------------------------------------

REPORT_TYPES = ("compliance_summary", "audit_log_export", "alert_summary", "agent_activity", "trace")
REPORT_FORMATS = ("pdf", "csv", "json")
REPORT_STATUSES = ("pending", "running", "ready", "failed")


def _bool(data: Mapping[str, Any], key: str) -> bool:
    return data.get(key) is True


def _opt_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class Report:
    """A requested report: its build status (``pending``, ``running``, ``ready``, ``failed``) and file."""

    id: str
    name: str
    type: str
    format: str
    status: str
    progress: int = 0
    error: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    file_name: str = ""
    created_by: str = ""
    created_at: datetime | None = None
    finished_at: datetime | None = None
    schedule_id: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Report:
        return cls(
            id=_str(data, "id"), name=_str(data, "name"), type=_str(data, "type"), format=_str(data, "format"),
            status=_str(data, "status") or "pending", progress=_int(data, "progress"), error=_opt(data, "error"),
            size_bytes=_opt_int(data, "sizeBytes"), sha256=_opt(data, "sha256"),
            start=parse_time(data.get("from")), end=parse_time(data.get("to")), file_name=_str(data, "fileName"),
            created_by=_str(data, "createdBy"), created_at=parse_time(data.get("createdAt")),
            finished_at=parse_time(data.get("finishedAt")), schedule_id=_opt(data, "scheduleId"),
        )

    @property
    def finished(self) -> bool:
        return self.status in ("ready", "failed")


@dataclass(frozen=True, slots=True)
class ReportSchedule:
    id: str
    name: str
    type: str
    format: str
    cron: str
    timezone: str
    email_recipients: tuple[str, ...] = ()
    is_active: bool = True
    created_at: datetime | None = None
    last_run_at: datetime | None = None
    next_run_at: datetime | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReportSchedule:
        return cls(
            id=_str(data, "id"), name=_str(data, "name"), type=_str(data, "type"), format=_str(data, "format"),
            cron=_str(data, "cron"), timezone=_str(data, "timezone") or "UTC",
            email_recipients=_strings(data.get("emailRecipients")), is_active=data.get("isActive") is not False,
            created_at=parse_time(data.get("createdAt")), last_run_at=parse_time(data.get("lastRunAt")),
            next_run_at=parse_time(data.get("nextRunAt")),
        )


@dataclass(frozen=True, slots=True)
class Subscription:
    """``GET /billing/subscription``: the plan, its state and this month's usage. ``quota`` and ``agent_limit``
    are None when unlimited; ``status`` is ``not_configured`` on a sidecar without Stripe."""

    plan: str
    status: str
    current_period_end: datetime | None
    cancel_at_period_end: bool
    logs_this_month: int
    quota: int | None
    agents: int
    agent_limit: int | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Subscription:
        usage = data.get("usage")
        usage = usage if isinstance(usage, Mapping) else {}
        return cls(_str(data, "plan"), _str(data, "status"), parse_time(data.get("currentPeriodEnd")),
                   _bool(data, "cancelAtPeriodEnd"), _int(usage, "logsThisMonth"), _opt_int(usage, "quota"),
                   _int(usage, "agents"), _opt_int(usage, "agentLimit"))

    @property
    def billing_configured(self) -> bool:
        return self.status != "not_configured"


@dataclass(frozen=True, slots=True)
class Prices:
    """``GET /billing/prices``: the Stripe price id of each paid plan (``{"pro": "price_…", ...}``)."""

    by_plan: tuple[tuple[str, str], ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Prices:
        return cls(tuple((str(plan), str(price)) for plan, price in data.items() if isinstance(price, str)))


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int | None
    security: str
    username: str
    sender: str
    password_set: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SmtpSettings:
        return cls(_str(data, "host"), _opt_int(data, "port"), _str(data, "security") or "starttls",
                   _str(data, "username"), _str(data, "from"), _bool(data, "passwordSet"))


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    """``GET /notifications/settings``. Secrets are write-only: only whether one is set comes back (and a
    generated webhook secret once, in ``generated_secret``)."""

    webhook_url: str
    webhook_secret_set: bool
    notify_webhook: bool
    notify_email: bool
    email_recipients: tuple[str, ...]
    min_severity: str
    allow_private_targets: bool
    digest_minutes: int
    smtp: SmtpSettings
    generated_secret: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NotificationSettings:
        smtp = data.get("smtp")
        return cls(_str(data, "webhookUrl"), _bool(data, "webhookSecretSet"), _bool(data, "notifyWebhook"),
                   _bool(data, "notifyEmail"), _strings(data.get("emailRecipients")),
                   _str(data, "notifyMinSeverity") or "warning", _bool(data, "allowPrivateWebhookTargets"),
                   _int(data, "digestMinutes", 15), SmtpSettings.from_json(smtp if isinstance(smtp, Mapping) else {}),
                   _opt(data, "webhookSecret"))


@dataclass(frozen=True, slots=True)
class ChannelResult:
    ok: bool
    status: int | None
    error: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChannelResult:
        return cls(_bool(data, "ok"), _opt_int(data, "status"), _opt(data, "error"))


@dataclass(frozen=True, slots=True)
class SendResults:
    """``POST /notifications/test``: how the send went on each channel asked for."""

    webhook: ChannelResult | None
    email: ChannelResult | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SendResults:
        hook, mail = data.get("webhook"), data.get("email")
        return cls(ChannelResult.from_json(hook) if isinstance(hook, Mapping) else None,
                   ChannelResult.from_json(mail) if isinstance(mail, Mapping) else None)


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    event_type: str
    channel: str
    target: str
    status: str
    attempts: int
    response_status: int | None
    last_error: str | None
    created_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Delivery:
        return cls(_str(data, "id"), _str(data, "eventType"), _str(data, "channel"), _str(data, "target"),
                   _str(data, "status"), _int(data, "attempts"), _opt_int(data, "responseStatus"),
                   _opt(data, "lastError"), parse_time(data.get("createdAt")), parse_time(data.get("deliveredAt")))


@dataclass(frozen=True, slots=True)
class Retention:
    """``GET /settings/retention``: days kept (None: for ever) and what was purged so far."""

    days: int | None
    pruned_sequence: int
    oldest_sequence: int | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Retention:
        return cls(_opt_int(data, "retentionDays"), _int(data, "prunedSequence"), _opt_int(data, "oldestSequence"))


@dataclass(frozen=True, slots=True)
class Activity:
    """One administrative action: who (``actor``, ``actor_name``) did what (``action``) to which target."""

    id: str
    actor: str
    actor_name: str
    action: str
    target_type: str
    target_id: str
    details: Any
    created_at: datetime | None
    target_name: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Activity:
        return cls(_str(data, "id"), _str(data, "actor"), _str(data, "actorName"), _str(data, "action"),
                   _str(data, "targetType"), _str(data, "targetId"), data.get("details"),
                   parse_time(data.get("createdAt")), _str(data, "targetName"))


@dataclass(frozen=True, slots=True)
class ActivityFilter:
    """The activity log's filters (empty strings and None mean "any")."""

    actor: str = ""
    action: str = ""
    target_type: str = ""
    start: datetime | None = None
    end: datetime | None = None

    def to_query(self) -> dict[str, str]:
        query = {"actor": self.actor.strip(), "action": self.action.strip(), "targetType": self.target_type.strip()}
        if self.start is not None:
            query["from"] = format_time(self.start)
        if self.end is not None:
            query["to"] = format_time(self.end)
        return {key: value for key, value in query.items() if value}


# -- policies, packs and agents (full shapes) ----------------------------------------------------------

RULE_TYPES = ("pii_detect", "keyword_match", "regex_match", "metadata_match", "rate_limit", "sentiment_analysis",
              "prompt_injection")
POLICY_MODES = ("block", "flag", "log")
REDACTIONS = ("none", "mask", "hash")


def _bool(data: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = data.get(key)
    return value if isinstance(value, bool) else default


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


@dataclass(frozen=True, slots=True)
class PackRule:
    """One rule of a shipped pack (no id: ids exist once installed or cloned)."""

    name: str
    rule_type: str
    severity: str
    condition: dict[str, Any]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PackRule:
        return cls(_str(data, "name"), _str(data, "ruleType"), _str(data, "severity"), _dict(data.get("condition")))


@dataclass(frozen=True, slots=True)
class Pack:
    id: str
    name: str
    description: str
    version: str
    rules: tuple[PackRule, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Pack:
        rules = data.get("rules")
        return cls(_str(data, "id"), _str(data, "name"), _str(data, "description"), _str(data, "version"),
                   tuple(PackRule.from_json(r) for r in rules if isinstance(r, Mapping))
                   if isinstance(rules, list) else ())


@dataclass(frozen=True, slots=True)
class InstalledPack:
    pack_id: str
    name: str
    version: str
    latest_version: str | None
    installed_at: datetime | None
    rule_count: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InstalledPack:
        return cls(_str(data, "packId") or _str(data, "id"), _str(data, "name"), _str(data, "version"),
                   _opt(data, "latestVersion"), parse_time(data.get("installedAt")), _int(data, "ruleCount"))

    @property
    def update_available(self) -> bool:
        """Whether the sidecar ships a newer version of the pack than the one installed."""
        return self.latest_version is not None and version_key(self.latest_version) > version_key(self.version)


def version_key(version: str) -> tuple[int, ...]:
    """``"1.10.0"`` -> ``(1, 10, 0)``, so that versions compare as numbers (a part that is not one counts 0)."""
    return tuple(int(part) if part.isdigit() else 0 for part in version.strip().lstrip("v").split("."))


@dataclass(frozen=True, slots=True)
class PackUpgrade:
    """What ``POST /compliance-rules/packs/:id/upgrade`` did."""

    pack_id: str
    from_version: str
    to_version: str
    added: int
    updated: int
    removed: int
    rules: tuple[RuleDetail, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PackUpgrade:
        rules = data.get("rules")
        return cls(_str(data, "packId"), _str(data, "fromVersion"), _str(data, "toVersion"), _int(data, "added"),
                   _int(data, "updated"), _int(data, "removed"),
                   tuple(RuleDetail.from_json(r) for r in rules if isinstance(r, Mapping))
                   if isinstance(rules, list) else ())


@dataclass(frozen=True, slots=True)
class RuleDetail:
    """A rule with everything an editor needs: its condition, action override, redaction and state."""

    id: str
    name: str
    rule_type: str
    condition: dict[str, Any]
    severity: str
    action_override: str | None
    redaction: str
    is_active: bool
    policy_id: str | None = None
    pack_id: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RuleDetail:
        return cls(_str(data, "id"), _str(data, "name"), _str(data, "ruleType"), _dict(data.get("condition")),
                   _str(data, "severity") or "warning", _opt(data, "actionOverride"),
                   _str(data, "redaction") or "none", _bool(data, "isActive", True), _opt(data, "policyId"),
                   _opt(data, "packId"))

    def to_json(self) -> dict[str, Any]:
        """The request body that creates or changes this rule."""
        return {"name": self.name, "ruleType": self.rule_type, "condition": self.condition,
                "severity": self.severity, "actionOverride": self.action_override, "redaction": self.redaction,
                "isActive": self.is_active}


@dataclass(frozen=True, slots=True)
class AgentRef:
    id: str
    name: str
    type: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AgentRef:
        return cls(_str(data, "id"), _str(data, "name"), _str(data, "type"))


@dataclass(frozen=True, slots=True)
class PolicyDetail:
    """A policy with its settings, rules and attached agents."""

    id: str
    name: str
    description: str
    mode: str
    priority: int
    conditions: dict[str, Any]
    is_active: bool
    source_pack_id: str | None
    redaction: str
    version: int
    rules: tuple[RuleDetail, ...]
    agents: tuple[AgentRef, ...]
    updated_at: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PolicyDetail:
        rules, agents = data.get("rules"), data.get("agents")
        return cls(
            id=_str(data, "id"), name=_str(data, "name"), description=_str(data, "description"),
            mode=_str(data, "mode") or "flag", priority=_int(data, "priority"),
            conditions=_dict(data.get("conditions")), is_active=_bool(data, "isActive", True),
            source_pack_id=_opt(data, "sourcePackId"), redaction=_str(data, "redaction") or "none",
            version=_int(data, "version"),
            rules=tuple(RuleDetail.from_json(r) for r in rules if isinstance(r, Mapping))
            if isinstance(rules, list) else (),
            agents=tuple(AgentRef.from_json(a) for a in agents if isinstance(a, Mapping))
            if isinstance(agents, list) else (),
            updated_at=parse_time(data.get("updatedAt")),
        )

    def rule(self, rule_id: str) -> RuleDetail | None:
        return next((r for r in self.rules if r.id == rule_id), None)


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """A saved version. ``snapshot`` (settings and rules) is filled only when fetched one by one."""

    id: str
    policy_id: str
    number: int
    name: str
    created_by: str | None
    created_at: datetime | None
    restored_from_id: str | None
    snapshot: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PolicyVersion:
        snapshot = None
        if isinstance(data.get("rules"), list):
            snapshot = {"name": data.get("policyName"), "description": data.get("description"),
                        "mode": data.get("mode"), "priority": data.get("priority"),
                        "conditions": data.get("conditions"), "isActive": data.get("isActive"),
                        "redaction": data.get("redaction"), "rules": data.get("rules")}
        return cls(_str(data, "id"), _str(data, "policyId"), _int(data, "versionNumber"), _str(data, "name"),
                   _opt(data, "createdBy"), parse_time(data.get("createdAt")), _opt(data, "restoredFromId"),
                   snapshot)

    @property
    def given_name(self) -> str:
        """The name a person gave the version; "" when it has only the number (the sidecar names those "vN")."""
        return "" if self.name == f"v{self.number}" else self.name

    @property
    def title(self) -> str:
        """``v3 · approved by compliance``, or ``v4`` for a version without a name of its own."""
        return f"v{self.number} · {self.given_name}" if self.given_name else f"v{self.number}"


@dataclass(frozen=True, slots=True)
class RuleCount:
    rule_id: str
    rule_name: str
    rule_type: str
    severity: str
    action: str
    count: int
    policy_id: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RuleCount:
        return cls(_str(data, "ruleId"), _str(data, "ruleName"), _str(data, "ruleType"), _str(data, "severity"),
                   _str(data, "action"), _int(data, "count"), _opt(data, "policyId"))


@dataclass(frozen=True, slots=True)
class AgentCount:
    agent_id: str
    violations: int
    events: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AgentCount:
        return cls(_str(data, "agentId") or "(no agent)", _int(data, "violations"), _int(data, "events"))


@dataclass(frozen=True, slots=True)
class DayCount:
    date: str
    violations: int
    block: int
    flag: int
    log: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DayCount:
        return cls(_str(data, "date"), _int(data, "violations"), _int(data, "block"), _int(data, "flag"),
                   _int(data, "log"))


@dataclass(frozen=True, slots=True)
class PolicyAnalytics:
    policy_id: str | None
    total_audits: int
    total_violations: int
    violating_events: int
    block_count: int
    flag_count: int
    log_count: int
    rules: tuple[RuleCount, ...]
    agents: tuple[AgentCount, ...]
    days: tuple[DayCount, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PolicyAnalytics:
        def rows(key: str, parse: Any) -> tuple[Any, ...]:
            value = data.get(key)
            return tuple(parse(r) for r in value if isinstance(r, Mapping)) if isinstance(value, list) else ()
        return cls(_opt(data, "policyId"), _int(data, "totalAudits"), _int(data, "totalViolations"),
                   _int(data, "violatingEvents"), _int(data, "blockCount"), _int(data, "flagCount"),
                   _int(data, "logCount"), rows("ruleBreakdown", RuleCount.from_json),
                   rows("agentBreakdown", AgentCount.from_json), rows("dailyTrend", DayCount.from_json))


@dataclass(frozen=True, slots=True)
class Verdict:
    """What ``POST /compliance/evaluate`` says an event would get (nothing stored)."""

    flags: tuple[str, ...]
    action: str
    violations: tuple[Violation, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Verdict:
        details = data.get("violationDetails")
        return cls(_strings(data.get("complianceFlags")), _str(data, "enforcementAction") or "allow",
                   tuple(Violation.from_json(v) for v in details if isinstance(v, Mapping))
                   if isinstance(details, list) else ())


@dataclass(frozen=True, slots=True)
class AgentPolicy:
    id: str
    name: str
    mode: str
    priority: int
    is_active: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AgentPolicy:
        return cls(_str(data, "id"), _str(data, "name"), _str(data, "mode"), _int(data, "priority"),
                   _bool(data, "isActive", True))


@dataclass(frozen=True, slots=True)
class AgentDetail:
    """A registered agent with its policies and activity counts (``GET /agents/:id``)."""

    id: str
    name: str
    type: str
    description: str
    metadata: Any
    created_at: datetime | None
    policies: tuple[AgentPolicy, ...] = ()
    event_count: int = 0
    flagged_count: int = 0
    blocked_count: int = 0
    last_seen_at: datetime | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AgentDetail:
        policies = data.get("policies")
        activity = _dict(data.get("activity"))
        return cls(_str(data, "id"), _str(data, "name"), _str(data, "type"), _str(data, "description"),
                   data.get("metadata"), parse_time(data.get("createdAt")),
                   tuple(AgentPolicy.from_json(p) for p in policies if isinstance(p, Mapping))
                   if isinstance(policies, list) else (),
                   _int(activity, "eventCount"), _int(activity, "flaggedCount"), _int(activity, "blockedCount"),
                   parse_time(activity.get("lastSeenAt")))


@dataclass(frozen=True, slots=True)
class SeenAgent:
    """An agent id seen in events that names no registered agent."""

    agent_id: str
    event_count: int
    last_seen_at: datetime | None
    last_action: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SeenAgent:
        return cls(_str(data, "agentId"), _int(data, "eventCount"), parse_time(data.get("lastSeenAt")),
                   _str(data, "lastAction"))


@dataclass(frozen=True, slots=True)
class RawSpans:
    """One page of a trace's spans, still undecoded, and the cursor of the next page (from the ``Link`` header,
    so the next request can leave before this page is decoded)."""

    body: bytes
    next_cursor: str | None
