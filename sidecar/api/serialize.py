"""Domain values to wire JSON (camelCase), and JSON responses."""

from __future__ import annotations

import math
from typing import Any

import orjson
from aiohttp import web

from sidecar.clock import to_iso
from sidecar.services.billing import SubscriptionView
from sidecar.services.compliance import violation_details
from sidecar.services.queries import TraceView
from sidecar.services.reports import file_name as report_file_name
from sidecar.compliance.types import Verdict
from sidecar.ledger.checkpoint import Checkpoint
from sidecar.services.ledger import HeadView
from sidecar.services.retention import RetentionView
from sidecar.store.accounts import ApiKeyRecord, OrgRecord, UserRecord
from sidecar.store.agent_ids import SeenAgent
from sidecar.store.records import (
    ActivityRecord,
    AgentRecord,
    AlertRecord,
    PackUpgradeRecord,
    PolicyRecord,
    RuleRecord,
    VersionRecord,
)
from sidecar.store.reports import ReportRecord, ScheduleRecord


def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json", headers=headers)


def listing(request: web.Request, items: list[Any], total: int, *, limit: int, offset: int) -> web.Response:
    """A plain JSON array with ``X-Total-Count`` and a ``Link`` header (the non-log collections)."""
    links = []
    url = request.url
    if offset + limit < total:
        links.append(f'<{url.update_query(offset=offset + limit, limit=limit)}>; rel="next"')
    if offset > 0:
        links.append(f'<{url.update_query(offset=max(0, offset - limit), limit=limit)}>; rel="prev"')
    headers = {"X-Total-Count": str(total)}
    if links:
        headers["Link"] = ", ".join(links)
    return json(items, headers=headers)


def listing_of(request: web.Request, items: list[Any], *, limit: int, offset: int) -> web.Response:
    """:func:`listing` of one page of ``items``, a small collection read whole (users, keys, packs, versions)."""
    return listing(request, items[offset:offset + limit], len(items), limit=limit, offset=offset)


def paginated(items: list[dict[str, Any]], total: int, *, page: int, limit: int, offset: int) -> dict[str, Any]:
    """The ``{data, pagination}`` envelope of audit logs and traces."""
    pagination: dict[str, Any] = {
        "page": page, "limit": limit, "offset": offset, "total": total,
        "totalPages": math.ceil(total / limit) if limit else 0,
    }
    if items and "id" in items[-1] and len(items) == limit:
        pagination["nextCursor"] = items[-1]["id"]
    return {"data": items, "pagination": pagination}


def org(record: OrgRecord) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "email": record.email, "plan": record.plan,
            "createdAt": to_iso(record.created_at)}


def user(record: UserRecord) -> dict[str, Any]:
    return {"id": record.id, "organizationId": record.org_id, "email": record.email, "name": record.name,
            "role": record.role, "createdAt": to_iso(record.created_at), "updatedAt": to_iso(record.updated_at)}


def api_key(record: ApiKeyRecord) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "prefix": record.prefix, "scopes": list(record.scopes),
            "lastUsedAt": to_iso(record.last_used_at), "createdAt": to_iso(record.created_at)}


def trace(view: TraceView) -> dict[str, Any]:
    return {"traceId": view.trace_id, "spans": view.spans, "tree": view.tree, "summary": view.summary}


# -- compliance ------------------------------------------------------------------------------------

def agent_json(record: AgentRecord) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "type": record.type, "description": record.description,
            "metadata": record.metadata, "config": record.config, "organizationId": record.org_id,
            "createdAt": to_iso(record.created_at), "updatedAt": to_iso(record.updated_at)}


def rule_json(record: RuleRecord) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "ruleType": record.rule_type, "condition": record.condition,
            "severity": record.severity, "actionOverride": record.action_override, "redaction": record.redaction,
            "isActive": record.is_active, "policyId": record.policy_id, "packId": record.pack_id,
            "createdAt": to_iso(record.created_at), "updatedAt": to_iso(record.updated_at)}


def pack_upgrade_json(record: PackUpgradeRecord) -> dict[str, Any]:
    return {"packId": record.pack_id, "fromVersion": record.from_version, "toVersion": record.to_version,
            "added": record.added, "updated": record.updated, "removed": record.removed, "kept": record.kept,
            "stayedDeleted": record.stayed_deleted, "rules": [rule_json(rule) for rule in record.rules]}


def policy_json(record: PolicyRecord) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "description": record.description, "mode": record.mode,
            "priority": record.priority, "conditions": record.conditions, "isActive": record.is_active,
            "sourcePackId": record.source_pack_id, "redaction": record.redaction, "version": record.version,
            "rules": [rule_json(rule) for rule in record.rules],
            "agents": [{"id": a.id, "name": a.name, "type": a.type} for a in record.agents],
            "organizationId": record.org_id, "createdAt": to_iso(record.created_at),
            "updatedAt": to_iso(record.updated_at)}


def version_json(record: VersionRecord, *, full: bool) -> dict[str, Any]:
    snap = record.snapshot
    body: dict[str, Any] = {
        "id": record.id, "policyId": record.policy_id, "versionNumber": record.version_number,
        "name": record.name or f"v{record.version_number}", "mode": snap["mode"], "priority": snap["priority"],
        "description": snap["description"], "restoredFromId": record.restored_from_id,
        "createdBy": record.created_by, "createdAt": to_iso(record.created_at),
    }
    if full:
        body.update({"policyName": snap["name"], "conditions": snap["conditions"], "isActive": snap["isActive"],
                     "redaction": snap["redaction"], "rules": snap["rules"]})
    return body


def alert_json(record: AlertRecord) -> dict[str, Any]:
    return {"id": record.id, "severity": record.severity, "status": record.status,
            "isResolved": record.status in ("resolved", "false_positive"), "message": record.message,
            "ruleId": record.rule_id, "policyId": record.policy_id, "auditLogId": record.audit_log_id,
            "agentId": record.agent_id, "details": record.details, "note": record.note,
            "createdAt": to_iso(record.created_at), "updatedAt": to_iso(record.updated_at),
            "resolvedAt": to_iso(record.resolved_at), "resolvedBy": record.resolved_by}


def activity_json(record: ActivityRecord) -> dict[str, Any]:
    return {"id": record.id, "actor": record.actor, "actorName": record.actor_name, "action": record.action,
            "targetType": record.target_type, "targetId": record.target_id, "targetName": record.target_name,
            "details": record.details,
            "createdAt": to_iso(record.created_at)}


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    body: dict[str, Any] = {"complianceFlags": verdict.flags, "enforcementAction": verdict.action,
                            "violationDetails": violation_details(verdict)}
    if verdict.redacted:
        body["redacted"] = {"prompt": verdict.prompt, "response": verdict.response, "metadata": verdict.metadata}
    return body


# -- ledger ----------------------------------------------------------------------------------------

def checkpoint_json(checkpoint: Checkpoint) -> dict[str, Any]:
    return checkpoint.to_wire()


def ledger_head_json(view: HeadView) -> dict[str, Any]:
    return {**view.checkpoint.to_wire(), "currentSequence": view.current_sequence, "currentHash": view.current_hash,
            "unsignedEvents": max(0, view.current_sequence - view.checkpoint.sequence),
            "prunedSequence": view.pruned_sequence}


def retention_json(view: RetentionView) -> dict[str, Any]:
    return {"retentionDays": view.retention_days, "prunedSequence": view.pruned_sequence,
            "prunedHash": view.pruned_hash, "oldestSequence": view.oldest_sequence}


def billing_subscription(view: SubscriptionView) -> dict[str, Any]:
    return {
        "plan": view.plan, "status": view.status, "currentPeriodEnd": to_iso(view.current_period_end),
        "cancelAtPeriodEnd": view.cancel_at_period_end,
        "usage": {"logsThisMonth": view.logs_this_month, "quota": view.quota, "agents": view.agents,
                  "agentLimit": view.agent_limit},
    }


# -- reports ---------------------------------------------------------------------------------------

def report_json(record: ReportRecord) -> dict[str, Any]:
    params = record.params
    body: dict[str, Any] = {
        "id": record.id, "name": record.name, "type": record.type, "format": record.format, "status": record.status,
        "progress": record.progress, "error": record.error, "sizeBytes": record.size_bytes, "sha256": record.sha256,
        "from": to_iso(params.get("from")), "to": to_iso(params.get("to")), "agentId": params.get("agentId"),
        "policyId": params.get("policyId"), "traceId": params.get("traceId"),
        "showSensitive": bool(params.get("showSensitive")), "scheduleId": record.schedule_id,
        "createdBy": record.created_by, "createdAt": to_iso(record.created_at),
        "startedAt": to_iso(record.started_at), "finishedAt": to_iso(record.finished_at),
        "fileName": report_file_name(record),
        "downloadUrl": f"/api/v1/reports/{record.id}/download" if record.status == "ready" else None,
    }
    return body


def schedule_json(record: ScheduleRecord, *, next_run_ms: int | None) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "type": record.type, "format": record.format, "cron": record.cron,
            "timezone": record.timezone, "emailRecipients": list(record.email_recipients),
            "agentId": record.params.get("agentId"), "policyId": record.params.get("policyId"),
            "showSensitive": bool(record.params.get("showSensitive")), "isActive": record.is_active,
            "createdBy": record.created_by, "createdAt": to_iso(record.created_at),
            "lastRunAt": to_iso(record.last_run_at), "lastReportId": record.last_report_id,
            "nextRunAt": to_iso(next_run_ms)}


def seen_agent_json(seen: SeenAgent) -> dict[str, Any]:
    """An agent id found in events but not registered."""
    return {"agentId": seen.agent_id, "eventCount": seen.event_count, "lastSeenAt": to_iso(seen.last_seen_at),
            "lastAction": seen.last_action}
