"""Typed results. Each keeps the whole decoded JSON in ``raw``, so fields the sidecar adds later are never lost.

Results also answer ``result["camelCaseKey"]`` and ``.get()`` from ``raw``, for code written against the older
client, which returned plain dicts. List-like results (:class:`Page`, :class:`BatchResult`) also take positions
and slices (``page[0]``, ``batch[-1]``, ``page[:10]``), have a length and iterate over their items.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar, Generic, List, TypeVar

M = TypeVar("M", bound="Model")
T = TypeVar("T")
_CAMEL = re.compile(r"_([a-z0-9])")


def camel(name: str) -> str:
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)


@lru_cache(maxsize=None)
def _field_map(cls: type) -> tuple[tuple[str, str, Any], ...]:
    out = []
    for f in dataclasses.fields(cls):
        if f.name == "raw":
            continue
        out.append((f.name, camel(f.name), cls._nested.get(f.name)))
    return tuple(out)


@dataclass(frozen=True)
class Model:
    """Base of every result: built by :meth:`from_json`, tolerant of missing and unknown keys."""

    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _nested: ClassVar[dict[str, type[Model]]] = {}

    @classmethod
    def from_json(cls: type[M], data: Any) -> M:
        if not isinstance(data, dict):
            data = {}
        kwargs: dict[str, Any] = {"raw": data}
        for name, key, nested in _field_map(cls):
            if key not in data:
                continue
            value = data[key]
            if nested is not None and isinstance(value, list):
                value = [nested.from_json(v) if isinstance(v, dict) else v for v in value]
            elif nested is not None and isinstance(value, dict):
                value = nested.from_json(value)
            kwargs[name] = value
        return cls(**kwargs)

    @classmethod
    def list_from_json(cls: type[M], data: Any) -> list[M]:
        return [cls.from_json(item) for item in data or []]

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)


@dataclass(frozen=True)
class AuditLog(Model):
    """A stored event, as ``POST /audit-logs`` answers it."""

    id: str = ""
    action: str = ""
    agent_id: str | None = None
    prompt: str | None = None
    response: str | None = None
    metadata: dict[str, Any] | None = None
    trace_id: str | None = None
    span_id: str | None = None
    parent_span_id: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    created_at: str | None = None
    compliance_flags: list[str] = field(default_factory=list)
    enforcement_action: str = "allow"
    violation_details: list[dict[str, Any]] | None = None
    sequence: int | None = None
    hash: str | None = None


_SEVERITY_RANK = {"info": 1, "warning": 2, "critical": 3}


@dataclass(frozen=True)
class GuardrailResult(Model):
    """The verdict on a checked event.

    Attributes:
        allowed: False only when the verdict is ``block``.
        action: ``allow``, ``log``, ``flag`` or ``block``.
        violations: one ``<SEVERITY>_<ruleType>_<rule name>`` string per violated rule.
        severity: the highest severity among the violations, or None.
        violation_details: where each rule matched (never the matched value).
        audit_log_id: the stored event's id (None for a dry run).
    """

    allowed: bool = True
    action: str = "allow"
    violations: list[str] = field(default_factory=list)
    severity: str | None = None
    violation_details: list[dict[str, Any]] = field(default_factory=list)
    audit_log_id: str | None = None

    @classmethod
    def from_verdict(cls, data: dict[str, Any]) -> GuardrailResult:
        action = data.get("enforcementAction") or "allow"
        details = data.get("violationDetails") or []
        severities = [d.get("severity") for d in details if isinstance(d, dict)]
        severity = max(severities, key=lambda s: _SEVERITY_RANK.get(s or "", 0), default=None)
        return cls(raw=data, allowed=action != "block", action=action, violations=list(data.get("complianceFlags") or []),
                   severity=severity, violation_details=details, audit_log_id=data.get("id"))


@dataclass(frozen=True)
class BatchResult(Model):
    """``POST /audit-logs/batch``: the stored events, in the order sent."""

    data: list[AuditLog] = field(default_factory=list)
    processed: int = 0
    errors: int = 0
    _nested: ClassVar[dict[str, type[Model]]] = {"data": AuditLog}

    def __iter__(self) -> Iterator[AuditLog]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, key: int | slice | str) -> Any:
        """``batch[0]``, ``batch[1:]``: the stored events; ``batch["processed"]``: the answer's JSON."""
        if isinstance(key, (int, slice)):
            return self.data[key]
        return self.raw[key]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of audit logs or traces: ``items`` plus the ``pagination`` block."""

    items: list[T]
    total: int
    page: int
    limit: int
    offset: int
    total_pages: int
    next_cursor: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, value: object) -> bool:
        return value in self.raw if isinstance(value, str) else value in self.items

    def __getitem__(self, key: int | slice | str) -> Any:
        """``page[0]``, ``page[:10]``: the items; ``page["data"]``, ``page["pagination"]``: the answer's JSON, as
        older code read it."""
        if isinstance(key, (int, slice)):
            return self.items[key]
        return self.raw[key]

    def get(self, key: str, default: Any = None) -> Any:
        """A key of the answer's JSON (``page.get("pagination")``), or ``default``."""
        return self.raw.get(key, default)


def page_parser(model: type[Model]) -> Any:
    def parse(response: Any) -> Page[Any]:
        data = response.json()
        p = data.get("pagination") or {}
        return Page([model.from_json(i) for i in data.get("data") or []], total=int(p.get("total", 0)),
                    page=int(p.get("page", 1)), limit=int(p.get("limit", 0)), offset=int(p.get("offset", 0)),
                    total_pages=int(p.get("totalPages", 0)), next_cursor=p.get("nextCursor"), raw=data)
    return parse


class Listing(List[T]):
    """A plain-array collection page; ``total`` is the ``X-Total-Count`` header."""

    total: int | None = None


@dataclass(frozen=True)
class TraceSummary(Model):
    trace_id: str = ""
    root_action: str | None = None
    agent_ids: list[str] = field(default_factory=list)
    span_count: int = 0
    flagged_count: int = 0
    enforcement_action: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    duration_ms: float | None = None


@dataclass(frozen=True)
class Trace(Model):
    trace_id: str = ""
    spans: list[AuditLog] = field(default_factory=list)
    tree: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    _nested: ClassVar[dict[str, type[Model]]] = {"spans": AuditLog}


@dataclass(frozen=True)
class Chain(Model):
    root: AuditLog | None = None
    descendants: list[AuditLog] = field(default_factory=list)
    _nested: ClassVar[dict[str, type[Model]]] = {"root": AuditLog, "descendants": AuditLog}


@dataclass(frozen=True)
class Alert(Model):
    id: str = ""
    severity: str = ""
    status: str = ""
    is_resolved: bool = False
    message: str = ""
    rule_id: str | None = None
    policy_id: str | None = None
    audit_log_id: str | None = None
    agent_id: str | None = None
    details: Any = None
    created_at: str | None = None
    resolved_at: str | None = None
    resolved_by: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Agent(Model):
    id: str = ""
    name: str = ""
    type: str | None = None
    description: str | None = None
    metadata: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    organization_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class Rule(Model):
    id: str = ""
    name: str = ""
    rule_type: str = ""
    condition: dict[str, Any] = field(default_factory=dict)
    severity: str = ""
    action_override: str | None = None
    is_active: bool = True
    policy_id: str | None = None
    pack_id: str | None = None
    redaction: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class Pack(Model):
    id: str = ""
    name: str = ""
    description: str | None = None
    version: Any = None
    rules: list[Rule] = field(default_factory=list)
    _nested: ClassVar[dict[str, type[Model]]] = {"rules": Rule}


@dataclass(frozen=True)
class Policy(Model):
    id: str = ""
    name: str = ""
    description: str | None = None
    mode: str = "flag"
    priority: int = 0
    conditions: dict[str, Any] | None = None
    is_active: bool = True
    source_pack_id: str | None = None
    version: int | None = None
    rules: list[Rule] = field(default_factory=list)
    agents: list[Any] = field(default_factory=list)
    created_at: str | None = None
    updated_at: str | None = None
    _nested: ClassVar[dict[str, type[Model]]] = {"rules": Rule}


@dataclass(frozen=True)
class PolicyVersion(Model):
    id: str = ""
    policy_id: str = ""
    version_number: int = 0
    name: str | None = None
    mode: str | None = None
    priority: int | None = None
    description: str | None = None
    restored_from_id: str | None = None
    conditions: dict[str, Any] | None = None
    rules: list[Rule] = field(default_factory=list)
    created_at: str | None = None
    _nested: ClassVar[dict[str, type[Model]]] = {"rules": Rule}


@dataclass(frozen=True)
class PolicyAnalytics(Model):
    policy_id: str | None = None
    policy_name: str | None = None
    mode: str | None = None
    priority: int | None = None
    window: dict[str, Any] = field(default_factory=dict)
    total_audits: int = 0
    total_violations: int = 0
    block_count: int = 0
    flag_count: int = 0
    log_count: int = 0
    rule_breakdown: list[dict[str, Any]] = field(default_factory=list)
    agent_breakdown: list[dict[str, Any]] = field(default_factory=list)
    daily_trend: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Report(Model):
    id: str = ""
    type: str = ""
    format: str = ""
    status: str = ""
    name: str | None = None
    progress: int | None = None
    error: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    created_at: str | None = None


@dataclass(frozen=True)
class ReportSchedule(Model):
    id: str = ""
    type: str = ""
    format: str = ""
    cron: str = ""
    timezone: str | None = None
    email_recipients: list[str] | None = None
    created_at: str | None = None


@dataclass(frozen=True)
class Download:
    """A downloaded file: its bytes (empty when streamed to a file), name and content type."""

    content: bytes
    filename: str | None
    content_type: str | None


@dataclass(frozen=True)
class SenderStats:
    """Counters since the sender started.

    Attributes:
        queued: events accepted from callers. sent: events the sidecar stored (including replayed ones).
        dropped: oldest events pushed out of a full buffer. rejected: events the sidecar refused (400, 401, 403, ...).
        spilled: events written to the spill file. replayed: events sent from the spill file.
        lost: events still undelivered when close() gave up (no spill file). retries: failed attempts retried.
        pending: events in the buffer or in flight now.
    """

    queued: int
    sent: int
    dropped: int
    rejected: int
    spilled: int
    replayed: int
    lost: int
    retries: int
    pending: int
