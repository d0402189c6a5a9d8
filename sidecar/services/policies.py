"""Agents, rules, packs and policies: validated changes, versions, activity records and cache invalidation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from peewee import Database

from sidecar.clock import ms_to_datetime, now_ms, to_iso
from sidecar.compliance.conditions import validate_conditions
from sidecar.compliance.packs import Pack, get_pack, load_packs
from sidecar.compliance.rules import validate_rule
from sidecar.compliance.types import InvalidRule, RuleSpec, Verdict
from sidecar.errors import FieldError, InvalidInput, NotFound
from sidecar.services.compliance import ComplianceGate, rule_spec
from sidecar.services.principal import Principal
from sidecar.store import activity, agent_ids
from sidecar.store import analytics as analytics_store
from sidecar.store import packs as pack_store
from sidecar.store import policies as store
from sidecar.store.agent_ids import SeenAgent
from sidecar.store.analytics import AnalyticsFilter
from sidecar.store.db import ReadPool
from sidecar.store.records import AgentRecord, PackUpgradeRecord, PolicyRecord, RuleRecord, VersionRecord
from sidecar.store.sql import q
from sidecar.store.writer import Writer

T = TypeVar("T")


def checked_rule(rule_type: str, condition: Any, *, prefix: str = "") -> dict[str, Any]:
    """The normalised condition, or InvalidInput naming the bad field (e.g. ``condition.pattern``)."""
    try:
        return validate_rule(rule_type, condition)
    except InvalidRule as exc:
        name = exc.field if exc.field.startswith(("condition", "ruleType")) else f"condition.{exc.field}"
        raise InvalidInput.fields([FieldError(prefix + name, exc.message)]) from None


def checked_conditions(conditions: Any) -> dict[str, Any] | None:
    if conditions is None:
        return None
    try:
        return validate_conditions(conditions)
    except InvalidRule as exc:
        raise InvalidInput.fields([FieldError(exc.field, exc.message)]) from None  # named from "conditions" on


def _installed_rules(pack: Pack) -> list[dict[str, Any]]:
    """The pack's rules as organisation-wide rule fields (the pack's action becomes the rule's action), each
    with ``since``, the pack version that added it (for an upgrade; an install ignores it)."""
    return [{"pack_rule_key": r.key, "name": r.name, "rule_type": r.rule_type, "condition": r.condition,
             "severity": r.severity, "action_override": r.action, "redaction": r.redaction, "since": r.since}
            for r in pack.rules]


def _pack(pack_id: str) -> Pack:
    pack = get_pack(pack_id)
    if pack is None:
        known = ", ".join(sorted(load_packs()))
        raise NotFound(f"pack {pack_id} not found (available: {known})")
    return pack


class PolicyService:
    def __init__(self, writer: Writer, reads: ReadPool, db: Database, gate: ComplianceGate) -> None:
        self._writer = writer
        self._reads = reads
        self._db = db
        self._gate = gate
        #: called with the organisation id on the writer thread before an agent is created (plan limits)
        self.agent_guard: Callable[[str], None] | None = None

    async def _change(self, principal: Principal, action: str, target_type: str, fn: Callable[..., T], *args: Any,
                      target: Callable[[T], str | None] | None = None,
                      details: dict[str, Any] | Callable[[T], dict[str, Any]] | None = None,
                      recorded: Callable[[T], bool] | None = None, **kwargs: Any) -> T:
        """Run a change and record who made it, in one transaction; then drop the evaluation cache.

        ``details`` may be a function of the result; ``recorded`` (of the result) False skips the record of a
        change that changed nothing.
        """
        now = now_ms()

        def unit() -> T:
            result = fn(*args, **kwargs)
            if recorded is None or recorded(result):
                activity.record(principal.org_id, actor=principal.actor, action=action, target_type=target_type,
                                target_id=target(result) if target else None,
                                details=details(result) if callable(details) else details, now=now)
            return result

        try:
            return await self._writer.run(unit)
        finally:
            self._gate.invalidate(principal.org_id)

    # -- agents ------------------------------------------------------------------------------------

    async def create_agent(self, principal: Principal, fields: dict[str, Any]) -> AgentRecord:
        guard = self.agent_guard

        def create(org_id: str, **kwargs: Any) -> AgentRecord:
            if guard is not None:
                guard(org_id)  # the plan's agent limit, checked in the creating transaction
            return store.create_agent(org_id, **kwargs)

        return await self._change(principal, "agent.create", "agent", create, principal.org_id,
                                  now=now_ms(), target=lambda a: a.id, details={"name": fields["name"]}, **fields)

    async def list_agents(self, principal: Principal, *, limit: int, offset: int,
                          type: str | None) -> tuple[list[AgentRecord], int]:
        return await self._reads.run(store.list_agents, principal.org_id, limit=limit, offset=offset, type=type)

    async def agent_detail(self, principal: Principal, agent_id: str) -> tuple[AgentRecord, list[PolicyRecord], dict[str, Any]]:
        def work() -> tuple[AgentRecord, list[PolicyRecord], dict[str, Any]]:
            agent = store.get_agent(principal.org_id, agent_id)
            stats = agent_activity(self._db, principal.org_id, agent)
            return agent, store.agent_policies(principal.org_id, agent_id), stats

        return await self._reads.run(work)

    async def update_agent(self, principal: Principal, agent_id: str, changes: dict[str, Any]) -> AgentRecord:
        return await self._change(principal, "agent.update", "agent", store.update_agent, principal.org_id, agent_id,
                                  changes, now_ms(), target=lambda a: a.id, details={"fields": sorted(changes)})

    async def delete_agent(self, principal: Principal, agent_id: str) -> None:
        await self._change(principal, "agent.delete", "agent", store.delete_agent, principal.org_id, agent_id,
                           target=lambda a: a.id)

    # -- organisation-wide rules -------------------------------------------------------------------

    async def create_rule(self, principal: Principal, fields: dict[str, Any], *, policy_id: str | None = None) -> RuleRecord:
        fields = {**fields, "condition": checked_rule(fields["rule_type"], fields["condition"])}

        def unit() -> RuleRecord:
            if policy_id is not None:
                store.require_policy(principal.org_id, policy_id)
            rule = store.create_rule(principal.org_id, policy_id=policy_id, now=now_ms(), **fields)
            if policy_id is not None:
                store.touch_policy(principal.org_id, policy_id, actor=principal.actor, now=now_ms())
            return rule

        return await self._change(principal, "rule.create", "rule", unit, target=lambda r: r.id,
                                  details={"name": fields["name"], "policyId": policy_id})

    async def list_rules(self, principal: Principal, **filters: Any) -> tuple[list[RuleRecord], int]:
        return await self._reads.run(store.list_rules, principal.org_id, **filters)

    async def get_rule(self, principal: Principal, rule_id: str) -> RuleRecord:
        return await self._reads.run(store.get_rule, principal.org_id, rule_id)

    async def update_rule(self, principal: Principal, rule_id: str, changes: dict[str, Any], *,
                          policy_id: str | None = None) -> RuleRecord:
        current = await self._reads.run(store.get_rule, principal.org_id, rule_id)
        if policy_id is not None and current.policy_id != policy_id:
            raise NotFound(f"rule {rule_id} not found")
        if "ruleType" in changes or "condition" in changes:
            rule_type = changes.get("ruleType", current.rule_type)
            changes = {**changes, "condition": checked_rule(rule_type, changes.get("condition", current.condition))}

        def unit() -> RuleRecord:
            rule = store.update_rule(principal.org_id, rule_id, changes, now_ms(), policy_id=policy_id)
            if rule.policy_id is not None:
                store.touch_policy(principal.org_id, rule.policy_id, actor=principal.actor, now=now_ms())
            return rule

        return await self._change(principal, "rule.update", "rule", unit, target=lambda r: r.id,
                                  details={"fields": sorted(changes)})

    async def delete_rule(self, principal: Principal, rule_id: str, *, policy_id: str | None = None) -> None:
        def unit() -> RuleRecord:
            rule = store.delete_rule(principal.org_id, rule_id, policy_id=policy_id)
            if rule.policy_id is not None:
                store.touch_policy(principal.org_id, rule.policy_id, actor=principal.actor, now=now_ms())
            return rule

        await self._change(principal, "rule.delete", "rule", unit, target=lambda r: r.id)

    # -- packs -------------------------------------------------------------------------------------

    def packs(self) -> list[Pack]:
        return list(load_packs().values())

    async def install_pack(self, principal: Principal, pack_id: str) -> list[RuleRecord]:
        pack = _pack(pack_id)
        return await self._change(principal, "pack.install", "pack", pack_store.install_pack, principal.org_id,
                                  pack_id=pack.id, version=pack.version, rules=_installed_rules(pack), now=now_ms(),
                                  target=lambda _: pack.id, details={"version": pack.version})

    async def installed_packs(self, principal: Principal) -> list[tuple[Pack | None, str, str, int, int]]:
        rows = await self._reads.run(pack_store.installed_packs, principal.org_id)
        return [(get_pack(pack_id), pack_id, version, at, count) for pack_id, version, at, count in rows]

    async def upgrade_pack(self, principal: Principal, pack_id: str) -> PackUpgradeRecord:
        """Bring the installed pack to the shipped version: kept rules keep their ids and on/off state and take
        the new definitions, new rules are added, rules gone from the pack are removed. Policies cloned from
        the pack are the organisation's own copies and stay as they are. Already current: nothing changes."""
        pack = _pack(pack_id)
        return await self._change(principal, "pack.upgrade", "pack", pack_store.upgrade_pack, principal.org_id,
                                  pack_id=pack.id, version=pack.version, rules=_installed_rules(pack), now=now_ms(),
                                  target=lambda _: pack.id,
                                  details=lambda done: {"from": done.from_version, "to": done.to_version,
                                                        "added": done.added, "updated": done.updated,
                                                        "removed": done.removed, "kept": done.kept,
                                                        "stayedDeleted": done.stayed_deleted},
                                  recorded=lambda done: done.from_version != done.to_version)

    async def uninstall_pack(self, principal: Principal, pack_id: str) -> None:
        pack = get_pack(pack_id)
        key = pack.id if pack else pack_id
        await self._change(principal, "pack.uninstall", "pack", pack_store.uninstall_pack, principal.org_id, key,
                           target=lambda _: key)

    # -- policies ----------------------------------------------------------------------------------

    async def create_policy(self, principal: Principal, fields: dict[str, Any], rules: list[dict[str, Any]]) -> PolicyRecord:
        fields = {**fields, "conditions": checked_conditions(fields.get("conditions"))}
        rules = [{**rule, "condition": checked_rule(rule["rule_type"], rule["condition"], prefix=f"rules[{i}].")}
                 for i, rule in enumerate(rules)]
        return await self._change(principal, "policy.create", "policy", store.create_policy, principal.org_id,
                                  rules=rules, actor=principal.actor, now=now_ms(), target=lambda p: p.id,
                                  details={"name": fields["name"]}, **fields)

    async def clone_pack(self, principal: Principal, pack_id: str, fields: dict[str, Any]) -> PolicyRecord:
        pack = _pack(pack_id)
        rules = [{"pack_id": pack.id, "name": r.name, "rule_type": r.rule_type, "condition": r.condition,
                  "severity": r.severity, "action_override": None, "redaction": r.redaction, "is_active": True}
                 for r in pack.rules]
        fields = {**fields, "source_pack_id": pack.id, "conditions": checked_conditions(fields.get("conditions"))}
        return await self._change(principal, "policy.clone_pack", "policy", store.create_policy, principal.org_id,
                                  rules=rules, actor=principal.actor, now=now_ms(), target=lambda p: p.id,
                                  details={"packId": pack.id, "name": fields["name"]}, **fields)

    async def list_policies(self, principal: Principal, *, limit: int, offset: int) -> tuple[list[PolicyRecord], int]:
        return await self._reads.run(store.list_policies, principal.org_id, limit=limit, offset=offset)

    async def get_policy(self, principal: Principal, policy_id: str) -> PolicyRecord:
        return await self._reads.run(store.get_policy, principal.org_id, policy_id)

    async def update_policy(self, principal: Principal, policy_id: str, changes: dict[str, Any]) -> PolicyRecord:
        if "conditions" in changes:
            changes = {**changes, "conditions": checked_conditions(changes["conditions"])}
        return await self._change(principal, "policy.update", "policy", store.update_policy, principal.org_id,
                                  policy_id, changes, actor=principal.actor, now=now_ms(), target=lambda p: p.id,
                                  details={"fields": sorted(changes)})

    async def delete_policy(self, principal: Principal, policy_id: str) -> None:
        await self._change(principal, "policy.delete", "policy", store.delete_policy, principal.org_id, policy_id,
                           target=lambda p: p.id)

    async def attach(self, principal: Principal, policy_id: str, agent_id: str) -> tuple[str, int]:
        return await self._change(principal, "policy.attach", "policy", store.attach, principal.org_id, policy_id,
                                  agent_id, now_ms(), target=lambda _: policy_id, details={"agentId": agent_id})

    async def detach(self, principal: Principal, policy_id: str, agent_id: str) -> None:
        await self._change(principal, "policy.detach", "policy", store.detach, principal.org_id, policy_id, agent_id,
                           target=lambda _: policy_id, details={"agentId": agent_id})

    # -- versions ----------------------------------------------------------------------------------

    async def versions(self, principal: Principal, policy_id: str) -> list[VersionRecord]:
        return await self._reads.run(store.list_versions, principal.org_id, policy_id)

    async def version(self, principal: Principal, policy_id: str, version_id: str) -> VersionRecord:
        return await self._reads.run(store.get_version, principal.org_id, policy_id, version_id)

    async def save_version(self, principal: Principal, policy_id: str, name: str | None) -> VersionRecord:
        return await self._change(principal, "policy.version", "policy", store.save_version, principal.org_id,
                                  policy_id, actor=principal.actor, now=now_ms(), name=name,
                                  target=lambda _: policy_id, details={"name": name})

    async def restore(self, principal: Principal, policy_id: str, version_id: str) -> VersionRecord:
        return await self._change(principal, "policy.restore", "policy", store.restore_version, principal.org_id,
                                  policy_id, version_id, actor=principal.actor, now=now_ms(),
                                  target=lambda _: policy_id, details={"versionId": version_id})

    # -- analytics and dry runs --------------------------------------------------------------------

    async def analytics(self, principal: Principal, flt: AnalyticsFilter, policy: PolicyRecord | None) -> dict[str, Any]:
        body = await self._reads.run(analytics_store.policy_analytics, self._db, principal.org_id, flt)
        head = ({"policyId": policy.id, "policyName": policy.name, "mode": policy.mode, "priority": policy.priority}
                if policy else {"policyId": None, "policyName": "All policies", "mode": None, "priority": None})
        return {**head, **body}

    async def evaluate(self, principal: Principal, *, prompt: str | None, response: str | None, metadata: Any,
                       agent_id: str | None, policy_id: str | None, rule: dict[str, Any] | None) -> Verdict:
        if rule is not None:
            condition = checked_rule(rule["rule_type"], rule["condition"], prefix="rule.")
            spec = RuleSpec(id="rule_test", name=rule["name"], rule_type=rule["rule_type"], condition=condition,
                            severity=rule["severity"], action=rule.get("action_override") or "flag",
                            redaction=rule.get("redaction", "none"))
            return self._gate.dry_run(principal.org_id, [spec], prompt=prompt, response=response, metadata=metadata,
                                      agent_id=agent_id)
        if policy_id is not None:
            policy = await self.get_policy(principal, policy_id)
            specs = [rule_spec(r, policy) for r in policy.rules if r.is_active]
            return self._gate.dry_run(principal.org_id, specs, prompt=prompt, response=response, metadata=metadata,
                                      agent_id=agent_id)
        await self._gate.ensure(principal.org_id)
        return self._gate.verdict(principal.org_id, prompt=prompt, response=response, metadata=metadata,
                                  agent_id=agent_id, when=ms_to_datetime(now_ms()), count_rate=False)

    async def unregistered_agents(self, principal: Principal, *, limit: int) -> list[SeenAgent]:
        """Agent ids seen in events that name no registered agent, most recently seen first."""
        return await self._reads.run(agent_ids.unregistered_agents, self._db, principal.org_id, limit=limit)


def agent_activity(db: Database, org_id: str, agent: AgentRecord) -> dict[str, Any]:
    """Event counts of an agent (events name it by id or by name)."""
    row = db.execute_sql(
        q(db, "SELECT COUNT(*), SUM(CASE WHEN flagged THEN 1 ELSE 0 END), "
              "SUM(CASE WHEN enforcement = 'block' THEN 1 ELSE 0 END), MAX(created_at) "
              "FROM audit_logs WHERE org_id = ? AND agent_id IN (?, ?)"),
        (org_id, agent.id, agent.name),
    ).fetchone()
    return {"eventCount": int(row[0] or 0), "flaggedCount": int(row[1] or 0), "blockedCount": int(row[2] or 0),
            "lastSeenAt": to_iso(row[3]) if row[3] is not None else None}
