"""Agents, rules, packs and policies with their versions: sync units of work scoped by organisation.

Every function that changes what evaluation sees bumps the organisation's ``compliance_version``
in the same transaction, so every sidecar process notices the change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from peewee import fn

from sidecar.errors import NotFound
from sidecar.ids import new_id
from sidecar.store.models import Agent, Organization, Policy, PolicyAgent, PolicyVersion, Rule
from sidecar.store.records import AgentRecord, ComplianceState, PolicyRecord, RuleRecord, VersionRecord


def _dump(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def bump(org_id: str) -> None:
    Organization.update(compliance_version=Organization.compliance_version + 1).where(Organization.id == org_id).execute()


def compliance_version(org_id: str) -> int:
    row = Organization.select(Organization.compliance_version).where(Organization.id == org_id).first()
    return int(row.compliance_version) if row else 0


# -- agents ----------------------------------------------------------------------------------------

def create_agent(org_id: str, *, name: str, type: str, description: str | None, metadata: Any, config: Any,
                 now: int) -> AgentRecord:
    row = Agent.create(id=new_id("agent"), org_id=org_id, name=name, type=type, description=description,
                       metadata=_dump(metadata), config=_dump(config), created_at=now, updated_at=now)
    bump(org_id)
    return AgentRecord.of(row)


def _agent_row(org_id: str, agent_id: str) -> Agent:
    row = Agent.get_or_none((Agent.id == agent_id) & (Agent.org_id == org_id))
    if row is None:
        raise NotFound(f"agent {agent_id} not found")
    return row


def get_agent(org_id: str, agent_id: str) -> AgentRecord:
    return AgentRecord.of(_agent_row(org_id, agent_id))


def list_agents(org_id: str, *, limit: int, offset: int, type: str | None = None) -> tuple[list[AgentRecord], int]:
    query = Agent.select().where(Agent.org_id == org_id)
    if type:
        query = query.where(Agent.type == type)
    total = query.count()
    rows = query.order_by(Agent.created_at.desc(), Agent.id.desc()).limit(limit).offset(offset)
    return [AgentRecord.of(row) for row in rows], int(total)


def update_agent(org_id: str, agent_id: str, changes: dict[str, Any], now: int) -> AgentRecord:
    row = _agent_row(org_id, agent_id)
    for key in ("name", "type", "description"):
        if key in changes:
            setattr(row, key, changes[key])
    for key in ("metadata", "config"):
        if key in changes:
            setattr(row, key, _dump(changes[key]))
    row.updated_at = now
    row.save()
    bump(org_id)
    return AgentRecord.of(row)


def delete_agent(org_id: str, agent_id: str) -> AgentRecord:
    row = _agent_row(org_id, agent_id)
    PolicyAgent.delete().where((PolicyAgent.org_id == org_id) & (PolicyAgent.agent_id == agent_id)).execute()
    row.delete_instance()
    bump(org_id)
    return AgentRecord.of(row)


def agent_policies(org_id: str, agent_id: str) -> list[PolicyRecord]:
    rows = (Policy.select().join(PolicyAgent, on=(PolicyAgent.policy_id == Policy.id))
            .where((PolicyAgent.org_id == org_id) & (PolicyAgent.agent_id == agent_id))
            .order_by(Policy.priority.desc(), Policy.id))
    return [PolicyRecord.of(row) for row in rows]


# -- rules -----------------------------------------------------------------------------------------

def _rule_row(org_id: str, rule_id: str, policy_id: str | None = None) -> Rule:
    query = (Rule.id == rule_id) & (Rule.org_id == org_id)
    if policy_id is not None:
        query &= Rule.policy_id == policy_id
    row = Rule.get_or_none(query)
    if row is None:
        raise NotFound(f"rule {rule_id} not found")
    return row


def create_rule(org_id: str, *, policy_id: str | None, name: str, rule_type: str,
                condition: dict[str, Any], severity: str, action_override: str | None, redaction: str,
                is_active: bool, now: int, pack_id: str | None = None,
                pack_rule_key: str | None = None) -> RuleRecord:
    position = 0
    if policy_id is not None:
        position = int(Rule.select(fn.COALESCE(fn.MAX(Rule.position), -1)).where(Rule.policy_id == policy_id).scalar()) + 1
    row = Rule.create(id=new_id("rule"), org_id=org_id, policy_id=policy_id, pack_id=pack_id,
                      pack_rule_key=pack_rule_key, name=name, rule_type=rule_type, condition=_dump(condition),
                      severity=severity, action_override=action_override, redaction=redaction, is_active=is_active,
                      position=position, created_at=now, updated_at=now)
    bump(org_id)
    return RuleRecord.of(row)


def get_rule(org_id: str, rule_id: str) -> RuleRecord:
    return RuleRecord.of(_rule_row(org_id, rule_id))


def list_rules(org_id: str, *, policy_id: str | None = None, org_wide: bool = False, rule_type: str | None = None,
               pack_id: str | None = None, active: bool | None = None, limit: int = 500,
               offset: int = 0) -> tuple[list[RuleRecord], int]:
    query = Rule.select().where(Rule.org_id == org_id)
    if policy_id is not None:
        query = query.where(Rule.policy_id == policy_id)
    elif org_wide:
        query = query.where(Rule.policy_id.is_null())
    if rule_type:
        query = query.where(Rule.rule_type == rule_type)
    if pack_id:
        query = query.where(Rule.pack_id == pack_id)
    if active is not None:
        query = query.where(Rule.is_active == active)
    total = query.count()
    rows = query.order_by(Rule.created_at, Rule.position, Rule.id).limit(limit).offset(offset)
    return [RuleRecord.of(row) for row in rows], int(total)


def update_rule(org_id: str, rule_id: str, changes: dict[str, Any], now: int, *, policy_id: str | None = None) -> RuleRecord:
    row = _rule_row(org_id, rule_id, policy_id)
    mapping = {"name": "name", "ruleType": "rule_type", "severity": "severity", "actionOverride": "action_override",
               "redaction": "redaction", "isActive": "is_active"}
    for key, attr in mapping.items():
        if key in changes:
            setattr(row, attr, changes[key])
    if "condition" in changes:
        row.condition = _dump(changes["condition"])
    row.updated_at = now
    row.save()
    bump(org_id)
    return RuleRecord.of(row)


def delete_rule(org_id: str, rule_id: str, *, policy_id: str | None = None) -> RuleRecord:
    row = _rule_row(org_id, rule_id, policy_id)
    row.delete_instance()
    bump(org_id)
    return RuleRecord.of(row)


# -- policies --------------------------------------------------------------------------------------

def _policy_row(org_id: str, policy_id: str) -> Policy:
    row = Policy.get_or_none((Policy.id == policy_id) & (Policy.org_id == org_id))
    if row is None:
        raise NotFound(f"policy {policy_id} not found")
    return row


def _rules_of(policy_ids: list[str]) -> dict[str, list[RuleRecord]]:
    found: dict[str, list[RuleRecord]] = {pid: [] for pid in policy_ids}
    if policy_ids:
        for row in Rule.select().where(Rule.policy_id.in_(policy_ids)).order_by(Rule.position, Rule.id):
            found[row.policy_id].append(RuleRecord.of(row))
    return found


def _agents_of(org_id: str, policy_ids: list[str]) -> dict[str, list[AgentRecord]]:
    found: dict[str, list[AgentRecord]] = {pid: [] for pid in policy_ids}
    if policy_ids:
        query = (Agent.select(Agent, PolicyAgent.policy_id.alias("pid"))
                 .join(PolicyAgent, on=(PolicyAgent.agent_id == Agent.id))
                 .where((PolicyAgent.org_id == org_id) & PolicyAgent.policy_id.in_(policy_ids))
                 .order_by(PolicyAgent.created_at))
        for row in query.objects():
            found[row.pid].append(AgentRecord.of(row))
    return found


def _full(org_id: str, rows: list[Policy]) -> list[PolicyRecord]:
    ids = [row.id for row in rows]
    rules, agents = _rules_of(ids), _agents_of(org_id, ids)
    return [PolicyRecord.of(row, tuple(rules[row.id]), tuple(agents[row.id])) for row in rows]


def get_policy(org_id: str, policy_id: str) -> PolicyRecord:
    return _full(org_id, [_policy_row(org_id, policy_id)])[0]


def list_policies(org_id: str, *, limit: int, offset: int) -> tuple[list[PolicyRecord], int]:
    query = Policy.select().where(Policy.org_id == org_id)
    total = query.count()
    rows = list(query.order_by(Policy.priority.desc(), Policy.created_at, Policy.id).limit(limit).offset(offset))
    return _full(org_id, rows), int(total)


def snapshot(policy: PolicyRecord) -> dict[str, Any]:
    """What a version keeps: the policy's settings and its rules."""
    return {
        "name": policy.name, "description": policy.description, "mode": policy.mode, "priority": policy.priority,
        "conditions": policy.conditions, "isActive": policy.is_active, "redaction": policy.redaction,
        "rules": [
            {"id": r.id, "name": r.name, "ruleType": r.rule_type, "condition": r.condition, "severity": r.severity,
             "actionOverride": r.action_override, "redaction": r.redaction, "isActive": r.is_active,
             "packId": r.pack_id}
            for r in policy.rules
        ],
    }


def save_version(org_id: str, policy_id: str, *, actor: str | None, now: int, name: str | None = None,
                 restored_from: str | None = None) -> VersionRecord:
    """Snapshot the policy as it is now under the next version number, and make it the policy's version."""
    policy = get_policy(org_id, policy_id)
    last = PolicyVersion.select(fn.MAX(PolicyVersion.version_number)).where(PolicyVersion.policy_id == policy_id).scalar()
    number = int(last or 0) + 1
    row = PolicyVersion.create(id=new_id("polv"), org_id=org_id, policy_id=policy_id, version_number=number, name=name,
                               snapshot=orjson.dumps(snapshot(policy)).decode(), restored_from_id=restored_from,
                               created_by=actor, created_at=now)
    Policy.update(version=number).where(Policy.id == policy_id).execute()
    return VersionRecord.of(row)


def create_policy(org_id: str, *, name: str, description: str | None, mode: str, priority: int,
                  conditions: dict[str, Any] | None, is_active: bool, redaction: str, source_pack_id: str | None,
                  rules: Iterable[dict[str, Any]], actor: str | None, now: int) -> PolicyRecord:
    row = Policy.create(id=new_id("pol"), org_id=org_id, name=name, description=description, mode=mode,
                        priority=priority, conditions=_dump(conditions), is_active=is_active, redaction=redaction,
                        source_pack_id=source_pack_id, version=0, created_at=now, updated_at=now)
    for rule in rules:
        create_rule(org_id, policy_id=row.id, now=now, **rule)
    bump(org_id)
    save_version(org_id, row.id, actor=actor, now=now)
    return get_policy(org_id, row.id)


def update_policy(org_id: str, policy_id: str, changes: dict[str, Any], *, actor: str | None, now: int) -> PolicyRecord:
    row = _policy_row(org_id, policy_id)
    mapping = {"name": "name", "description": "description", "mode": "mode", "priority": "priority",
               "isActive": "is_active", "redaction": "redaction"}
    for key, attr in mapping.items():
        if key in changes:
            setattr(row, attr, changes[key])
    if "conditions" in changes:
        row.conditions = _dump(changes["conditions"])
    row.updated_at = now
    row.save()
    bump(org_id)
    save_version(org_id, policy_id, actor=actor, now=now)
    return get_policy(org_id, policy_id)


def touch_policy(org_id: str, policy_id: str, *, actor: str | None, now: int) -> None:
    """After a change to a policy's rules: new version, new updatedAt."""
    Policy.update(updated_at=now).where(Policy.id == policy_id).execute()
    save_version(org_id, policy_id, actor=actor, now=now)


def delete_policy(org_id: str, policy_id: str) -> PolicyRecord:
    policy = get_policy(org_id, policy_id)
    Rule.delete().where(Rule.policy_id == policy_id).execute()
    PolicyAgent.delete().where(PolicyAgent.policy_id == policy_id).execute()
    PolicyVersion.delete().where(PolicyVersion.policy_id == policy_id).execute()
    Policy.delete().where(Policy.id == policy_id).execute()
    bump(org_id)
    return policy


def require_policy(org_id: str, policy_id: str) -> None:
    _policy_row(org_id, policy_id)


def attach(org_id: str, policy_id: str, agent_id: str, now: int) -> tuple[str, int]:
    """Attach (idempotent). Returns the agent id and when it was attached."""
    _policy_row(org_id, policy_id)
    _agent_row(org_id, agent_id)
    existing = PolicyAgent.get_or_none((PolicyAgent.policy_id == policy_id) & (PolicyAgent.agent_id == agent_id))
    if existing is not None:
        return agent_id, existing.created_at
    PolicyAgent.insert(org_id=org_id, policy_id=policy_id, agent_id=agent_id, created_at=now).execute()
    bump(org_id)
    return agent_id, now


def detach(org_id: str, policy_id: str, agent_id: str) -> bool:
    _policy_row(org_id, policy_id)
    removed = PolicyAgent.delete().where((PolicyAgent.policy_id == policy_id) & (PolicyAgent.agent_id == agent_id)
                                         & (PolicyAgent.org_id == org_id)).execute()
    if not removed:
        raise NotFound(f"agent {agent_id} is not attached to policy {policy_id}")
    bump(org_id)
    return True


def list_versions(org_id: str, policy_id: str) -> list[VersionRecord]:
    _policy_row(org_id, policy_id)
    rows = (PolicyVersion.select().where((PolicyVersion.policy_id == policy_id) & (PolicyVersion.org_id == org_id))
            .order_by(PolicyVersion.version_number.desc()))
    return [VersionRecord.of(row) for row in rows]


def get_version(org_id: str, policy_id: str, version_id: str) -> VersionRecord:
    row = PolicyVersion.get_or_none((PolicyVersion.id == version_id) & (PolicyVersion.policy_id == policy_id)
                                    & (PolicyVersion.org_id == org_id))
    if row is None:
        raise NotFound(f"version {version_id} of policy {policy_id} not found")
    return VersionRecord.of(row)


def restore_version(org_id: str, policy_id: str, version_id: str, *, actor: str | None, now: int) -> VersionRecord:
    """Make the policy as it was in that version (rules recreated with new ids) and save that as a new version."""
    version = get_version(org_id, policy_id, version_id)
    snap = version.snapshot
    row = _policy_row(org_id, policy_id)
    row.name, row.description, row.mode, row.priority = snap["name"], snap["description"], snap["mode"], snap["priority"]
    row.conditions, row.is_active, row.redaction = _dump(snap["conditions"]), snap["isActive"], snap["redaction"]
    row.updated_at = now
    row.save()
    Rule.delete().where(Rule.policy_id == policy_id).execute()
    for rule in snap["rules"]:
        create_rule(org_id, policy_id=policy_id, pack_id=rule.get("packId"), name=rule["name"],
                    rule_type=rule["ruleType"], condition=rule["condition"], severity=rule["severity"],
                    action_override=rule["actionOverride"], redaction=rule["redaction"], is_active=rule["isActive"],
                    now=now)
    bump(org_id)
    return save_version(org_id, policy_id, actor=actor, now=now, name=f"restored from v{version.version_number}",
                        restored_from=version_id)


# -- evaluation state ------------------------------------------------------------------------------

def load_state(org_id: str) -> ComplianceState:
    """The organisation's active organisation-wide rules, active policies with their active rules,
    attachments and agents, in a handful of queries."""
    version = compliance_version(org_id)
    org_rules = tuple(RuleRecord.of(row) for row in Rule.select().where(
        (Rule.org_id == org_id) & Rule.policy_id.is_null() & (Rule.is_active == True)  # noqa: E712
    ).order_by(Rule.created_at, Rule.id))
    rows = list(Policy.select().where((Policy.org_id == org_id) & (Policy.is_active == True))  # noqa: E712
                .order_by(Policy.priority.desc(), Policy.created_at, Policy.id))
    rules = _rules_of([row.id for row in rows])
    policies = tuple(PolicyRecord.of(row, tuple(r for r in rules[row.id] if r.is_active)) for row in rows)
    attachments: dict[str, set[str]] = {}
    for link in PolicyAgent.select().where(PolicyAgent.org_id == org_id):
        attachments.setdefault(link.policy_id, set()).add(link.agent_id)
    agents: dict[str, AgentRecord] = {}
    for row in Agent.select().where(Agent.org_id == org_id).order_by(Agent.created_at):
        record = AgentRecord.of(row)
        agents[record.id] = record
        agents.setdefault(record.name, record)
    return ComplianceState(org_id, version, org_rules, policies,
                           {pid: frozenset(ids) for pid, ids in attachments.items()}, agents)
