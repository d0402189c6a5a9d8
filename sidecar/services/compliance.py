"""The compliance gate on the ingest path: which rules apply to an event, its verdict, its alerts.

Per organisation it keeps the rules and policies in memory (loaded in one read, re-checked
against the organisation's ``compliance_version`` at most every two seconds, dropped at once
when this process changes them) and a compiled rule set per combination of applicable
policies, so an event costs one evaluation over precompiled patterns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from peewee import Database

from sidecar import log
import orjson

from sidecar.clock import ms_to_datetime, now_ms, to_iso
from sidecar.compliance.conditions import policy_applies
from sidecar.compliance.engine import CompiledRules, compile_rules, evaluate
from sidecar.compliance.ratelimit import RateWindow
from sidecar.compliance.types import EventText, InvalidRule, RuleSpec, Verdict, outcome_text
from sidecar.errors import Unavailable
from sidecar.ids import new_id
from sidecar.store import alerts as alert_store
from sidecar.store import notifications as outbox_store
from sidecar.store import policies as policy_store
from sidecar.store.db import ReadPool
from sidecar.store.records import ComplianceState, PolicyRecord, RuleRecord
from sidecar.store.writer import PendingEvent

_RECHECK_SECONDS = 2.0
_ALLOW = Verdict()
_ALERTING = ("flag", "block")


def rule_spec(rule: RuleRecord, policy: PolicyRecord | None) -> RuleSpec:
    """The engine's view of a stored rule: its effective action and redaction."""
    action = rule.action_override or (policy.mode if policy is not None else "flag")
    redaction = rule.redaction if rule.redaction != "none" else (policy.redaction if policy is not None else "none")
    return RuleSpec(id=rule.id, name=rule.name, rule_type=rule.rule_type, condition=rule.condition,
                    severity=rule.severity, action=action, policy_id=rule.policy_id, pack_id=rule.pack_id,
                    redaction=redaction)


def alert_payload(row: tuple[Any, ...]) -> dict[str, Any]:
    """An alert row as the gate writes it, in the alerts API's wire shape (webhooks, live stream)."""
    (alert_id, _, severity, _, status, message, rule_id, policy_id, audit_log_id, agent_id, details, created,
     updated) = row
    return {"id": alert_id, "severity": severity, "status": status, "isResolved": False, "message": message,
            "ruleId": rule_id, "policyId": policy_id, "auditLogId": audit_log_id, "agentId": agent_id,
            "details": orjson.loads(details) if details else None, "note": None, "createdAt": to_iso(created),
            "updatedAt": to_iso(updated), "resolvedAt": None, "resolvedBy": None}


def violation_details(verdict: Verdict) -> list[dict[str, Any]] | None:
    if not verdict.violations:
        return None
    return [
        {"ruleId": v.rule_id, "policyId": v.policy_id, "name": v.name, "ruleType": v.rule_type,
         "severity": v.severity, "action": v.action,
         "matches": [{"field": m.field, "start": m.start, "end": m.end, "detector": m.detector} for m in v.matches]}
        for v in verdict.violations
    ]


def _compile(specs: Sequence[RuleSpec]) -> CompiledRules:
    try:
        return compile_rules(specs)
    except InvalidRule:
        good = []
        for spec in specs:  # a stored rule that no longer compiles must not switch off its neighbours
            try:
                compile_rules([spec])
            except InvalidRule as exc:
                log.ingest.error("rule %s (%s) cannot be compiled and is skipped: %s", spec.id, spec.name, exc.message)
                continue
            good.append(spec)
        return compile_rules(good)


class _OrgCache:
    __slots__ = ("state", "checked", "compiled")

    def __init__(self, state: ComplianceState) -> None:
        self.state = state
        self.checked = time.monotonic()
        self.compiled: dict[tuple[str, ...], CompiledRules] = {}


class ComplianceGate:
    """Implements the ingest service's Gate: evaluates events and adds their alerts and violation rows."""

    def __init__(self, reads: ReadPool, db: Database, *, redaction_key: bytes | None) -> None:
        self._reads = reads
        self._db = db
        self._key = redaction_key
        self._orgs: dict[str, _OrgCache] = {}
        self._packs: dict[str, dict[str, str | None]] = {}
        self._refreshing: dict[str, asyncio.Future[None]] = {}
        self._generation: dict[str, int] = {}
        self.rate = RateWindow()

    async def ensure(self, org_id: str) -> None:
        """Make sure the organisation's rules are loaded and current (a read only every few seconds).

        One refresh per organisation runs at a time; concurrent requests wait for it instead of each
        loading and compiling the same rules.
        """
        for _ in range(5):  # a refresh overtaken by a change installs nothing: wait for the next one
            cache = self._orgs.get(org_id)
            if cache is not None and (time.monotonic() - cache.checked < _RECHECK_SECONDS
                                      or org_id in self._refreshing):
                return  # current, or being re-checked while the cached rules still serve
            pending = self._refreshing.get(org_id)
            if pending is None:
                pending = self._refreshing[org_id] = asyncio.ensure_future(self._refresh(org_id))
                pending.add_done_callback(
                    lambda done: self._refreshing.pop(org_id) if self._refreshing.get(org_id) is done else None)
            await asyncio.shield(pending)
        if org_id not in self._orgs:
            raise Unavailable("the compliance rules are changing too fast to load; retry")

    async def _refresh(self, org_id: str) -> None:
        generation = self._generation.get(org_id, 0)
        cache = self._orgs.get(org_id)
        if cache is not None:
            version = await self._reads.run(policy_store.compliance_version, org_id)
            if version == cache.state.version:
                cache.checked = time.monotonic()
                return
        state = await self._reads.run(policy_store.load_state, org_id)
        fresh = _OrgCache(state)
        # compiling a large rule set takes tens of milliseconds: do the likely ones off the event loop
        combos = {()} | {
            tuple(p.id for p in state.policies if agent.id in state.attachments.get(p.id, ()))
            for agent in state.agents.values()
        }
        loop = asyncio.get_running_loop()
        for key in list(combos)[:32]:
            policies = tuple(p for p in state.policies if p.id in key)
            fresh.compiled[key] = await loop.run_in_executor(None, _compile, self._specs(state, policies))
        packs = {rule.id: rule.pack_id for rule in state.org_rules}
        for policy in state.policies:
            packs.update((rule.id, rule.pack_id) for rule in policy.rules)
        if self._generation.get(org_id, 0) == generation:  # not invalidated while we loaded
            self._orgs[org_id] = fresh
            self._packs[org_id] = packs

    def invalidate(self, org_id: str) -> None:
        self._generation[org_id] = self._generation.get(org_id, 0) + 1
        self._refreshing.pop(org_id, None)  # a refresh in flight may have read the old rules
        self._orgs.pop(org_id, None)
        self._packs.pop(org_id, None)

    def state(self, org_id: str) -> ComplianceState:
        return self._orgs[org_id].state

    # -- which rules apply -------------------------------------------------------------------------

    def _applicable(self, state: ComplianceState, agent_id: str | None, when: datetime,
                    metadata: Any) -> tuple[PolicyRecord, ...]:
        agent = state.agents.get(agent_id) if agent_id else None
        if agent is None:
            return ()
        return tuple(
            policy for policy in state.policies
            if agent.id in state.attachments.get(policy.id, ())
            and policy_applies(policy.conditions, now=when, agent_type=agent.type, metadata=metadata)
        )

    def _compiled(self, org_id: str, policies: tuple[PolicyRecord, ...]) -> CompiledRules:
        cache = self._orgs[org_id]
        key = tuple(policy.id for policy in policies)
        hit = cache.compiled.get(key)
        if hit is None:  # a combination not compiled ahead (time conditions): compile it now, once
            if len(cache.compiled) > 256:
                cache.compiled.clear()
            hit = cache.compiled[key] = _compile(self._specs(cache.state, policies))
        return hit

    @staticmethod
    def _specs(state: ComplianceState, policies: tuple[PolicyRecord, ...]) -> list[RuleSpec]:
        """Organisation-wide rules, then each applicable policy's rules, highest priority first."""
        specs = [rule_spec(rule, None) for rule in state.org_rules]
        for policy in policies:
            specs.extend(rule_spec(rule, policy) for rule in policy.rules)
        return specs

    # -- evaluation --------------------------------------------------------------------------------

    def verdict(self, org_id: str, *, prompt: str | None, response: str | None, metadata: Any, agent_id: str | None,
                when: datetime, count_rate: bool) -> Verdict:
        """The verdict the organisation's applicable rules give (``ensure`` must have run)."""
        state = self._orgs[org_id].state
        policies = self._applicable(state, agent_id, when, metadata)
        compiled = self._compiled(org_id, policies)
        if not len(compiled):
            return _ALLOW
        agent = state.agents.get(agent_id) if agent_id else None
        text = EventText(prompt=prompt, response=response, metadata=metadata, agent_id=agent_id,
                         agent_type=agent.type if agent else None, organization_id=org_id)
        return evaluate(compiled, text, now=when, rate=self.rate if count_rate else None, redaction_key=self._key)

    def dry_run(self, org_id: str, specs: Sequence[RuleSpec], *, prompt: str | None, response: str | None,
                metadata: Any, agent_id: str | None) -> Verdict:
        """Evaluate given rules (a policy's, or one being edited); rate windows are not touched."""
        text = EventText(prompt=prompt, response=response, metadata=metadata, agent_id=agent_id,
                         organization_id=org_id)
        return evaluate(_compile(specs), text, now=ms_to_datetime(now_ms()), rate=None, redaction_key=self._key)

    def apply(self, org_id: str, event: PendingEvent) -> None:
        """Fill in the event's verdict and redacted content; queue its alerts and violation rows."""
        state = self._orgs[org_id].state
        if not state.org_rules and not state.policies:
            return
        when = ms_to_datetime(event.started_at if event.started_at is not None else now_ms())
        verdict = self.verdict(org_id, prompt=event.prompt, response=event.response, metadata=event.metadata,
                               agent_id=event.agent_id, when=when, count_rate=True)
        if not verdict.violations:
            return
        event.flags = verdict.flags
        event.enforcement = verdict.action
        event.violations = violation_details(verdict)
        if verdict.redacted:
            event.prompt, event.response, event.metadata = verdict.prompt, verdict.response, verdict.metadata
        event.after_insert.append(self._rows_hook(org_id, verdict, self._packs.get(org_id, {}), event))

    def _rows_hook(self, org_id: str, verdict: Verdict, packs: dict[str, str | None], event: PendingEvent) -> Any:
        db = self._db

        def write(cursor: Any, stored: dict[str, Any]) -> None:
            created = now_ms()
            alert_rows, fact_rows = [], []
            for violation in verdict.violations:
                fact_rows.append((org_id, stored["id"], violation.rule_id, violation.policy_id, packs.get(violation.rule_id),
                                  stored["agentId"], violation.name, violation.rule_type, violation.severity,
                                  violation.action, created))
                if violation.action not in _ALERTING:
                    continue
                where = ", ".join(sorted({m.field for m in violation.matches})) or "the event"
                agent = f" from agent {stored['agentId']}" if stored["agentId"] else ""
                message = (f"{violation.name}: {violation.severity} {violation.rule_type} violation in "
                           f"{stored['action']}{agent} ({where}); "
                           f"{outcome_text(stored['enforcementAction'], violation.action)}")
                details = {
                    "flag": violation.flag, "ruleName": violation.name, "ruleType": violation.rule_type,
                    "action": violation.action, "enforcementAction": stored["enforcementAction"],
                    "eventAction": stored["action"], "traceId": stored["traceId"],
                    "matches": [{"field": m.field, "start": m.start, "end": m.end, "detector": m.detector}
                                for m in violation.matches],
                }
                alert_rows.append((new_id("alert"), org_id, violation.severity,
                                   alert_store.SEVERITY_RANK.get(violation.severity, 1), "open", message,
                                   violation.rule_id, violation.policy_id, stored["id"], stored["agentId"],
                                   alert_store.details_json(details), created, created))
            alert_store.insert_violations(db, cursor, fact_rows)
            alert_store.insert_alerts(db, cursor, alert_rows)
            outbox_store.enqueue_raw(db, cursor, [(org_id, "alert.created", alert_payload(row), created)
                                                  for row in alert_rows])
            event.produced["alerts"] = alert_rows

        return write
