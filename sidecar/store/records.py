"""Plain records that store functions return for agents, rules, policies, alerts and activity."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from sidecar.store.models import Activity, Agent, Alert, Policy, PolicyVersion, Rule


def _json(text: str | None) -> Any:
    return orjson.loads(text) if text else None


@dataclass(frozen=True, slots=True)
class AgentRecord:
    id: str
    org_id: str
    name: str
    type: str
    description: str | None
    metadata: Any
    config: Any
    created_at: int
    updated_at: int

    @classmethod
    def of(cls, row: Agent) -> AgentRecord:
        return cls(row.id, row.org_id, row.name, row.type, row.description, _json(row.metadata), _json(row.config),
                   row.created_at, row.updated_at)


@dataclass(frozen=True, slots=True)
class RuleRecord:
    id: str
    org_id: str
    policy_id: str | None
    pack_id: str | None
    name: str
    rule_type: str
    condition: dict[str, Any]
    severity: str
    action_override: str | None
    redaction: str
    is_active: bool
    created_at: int
    updated_at: int
    pack_rule_key: str | None = None

    @classmethod
    def of(cls, row: Rule) -> RuleRecord:
        return cls(row.id, row.org_id, row.policy_id, row.pack_id, row.name, row.rule_type, orjson.loads(row.condition),
                   row.severity, row.action_override, row.redaction, bool(row.is_active), row.created_at,
                   row.updated_at, row.pack_rule_key)


@dataclass(frozen=True, slots=True)
class PackUpgradeRecord:
    """What upgrading an installed pack did, and the pack's organisation-wide rules after it."""

    pack_id: str
    from_version: str
    to_version: str
    added: int
    updated: int
    removed: int
    rules: tuple[RuleRecord, ...]
    kept: int = 0  #: rules edited by the organisation whose severity, action and redaction were kept
    stayed_deleted: int = 0  #: pack rules the organisation had deleted, not re-added


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    id: str
    org_id: str
    name: str
    description: str | None
    mode: str
    priority: int
    conditions: dict[str, Any] | None
    is_active: bool
    source_pack_id: str | None
    redaction: str
    version: int
    created_at: int
    updated_at: int
    rules: tuple[RuleRecord, ...] = ()
    agents: tuple[AgentRecord, ...] = ()

    @classmethod
    def of(cls, row: Policy, rules: tuple[RuleRecord, ...] = (), agents: tuple[AgentRecord, ...] = ()) -> PolicyRecord:
        return cls(row.id, row.org_id, row.name, row.description, row.mode, row.priority, _json(row.conditions),
                   bool(row.is_active), row.source_pack_id, row.redaction, row.version, row.created_at,
                   row.updated_at, rules, agents)


@dataclass(frozen=True, slots=True)
class VersionRecord:
    id: str
    policy_id: str
    version_number: int
    name: str | None
    snapshot: dict[str, Any]
    restored_from_id: str | None
    created_by: str | None
    created_at: int

    @classmethod
    def of(cls, row: PolicyVersion) -> VersionRecord:
        return cls(row.id, row.policy_id, row.version_number, row.name, orjson.loads(row.snapshot),
                   row.restored_from_id, row.created_by, row.created_at)


@dataclass(frozen=True, slots=True)
class AlertRecord:
    id: str
    org_id: str
    severity: str
    status: str
    message: str
    rule_id: str | None
    policy_id: str | None
    audit_log_id: str | None
    agent_id: str | None
    details: Any
    note: str | None
    created_at: int
    updated_at: int
    resolved_at: int | None
    resolved_by: str | None

    @classmethod
    def of(cls, row: Alert) -> AlertRecord:
        return cls(row.id, row.org_id, row.severity, row.status, row.message, row.rule_id, row.policy_id,
                   row.audit_log_id, row.agent_id, _json(row.details), row.note, row.created_at, row.updated_at,
                   row.resolved_at, row.resolved_by)


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    id: str
    actor: str
    actor_name: str | None
    action: str
    target_type: str
    target_id: str | None
    details: Any
    created_at: int
    target_name: str | None = None

    @classmethod
    def of(cls, row: Activity) -> ActivityRecord:
        return cls(row.id, row.actor, row.actor_name, row.action, row.target_type, row.target_id, _json(row.details),
                   row.created_at, getattr(row, "target_name", None))


@dataclass(frozen=True, slots=True)
class ComplianceState:
    """Everything evaluation needs for one organisation, loaded in one read."""

    org_id: str
    version: int
    org_rules: tuple[RuleRecord, ...]
    policies: tuple[PolicyRecord, ...]  # active ones, with their active rules
    attachments: dict[str, frozenset[str]] = field(default_factory=dict)  # policy id -> agent ids
    agents: dict[str, AgentRecord] = field(default_factory=dict)  # by id and by name
