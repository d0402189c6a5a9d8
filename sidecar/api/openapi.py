"""The OpenAPI 3.1 description of the API, built from the route table plus per-operation notes.

``build_spec`` raises if a routed operation has no entry in :data:`OPERATIONS`, so the
document cannot silently fall behind the routes (a test builds it for the real app).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from sidecar.api.middlewares import permission_of

_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "status"],
        "properties": {
            "error": _STR, "status": {"type": "integer"}, "code": _STR, "requestId": _STR,
            "details": {"type": "array", "items": {"type": "object", "properties": {"field": _STR, "message": _STR}}},
        },
    },
    "EventInput": {
        "type": "object",
        "required": ["action"],
        "properties": {
            "action": {"type": "string", "minLength": 1, "maxLength": 200},
            "prompt": {"type": ["string", "null"], "maxLength": 100000},
            "response": {"type": ["string", "null"], "maxLength": 100000},
            "agentId": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
            "traceId": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
            "spanId": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
            "parentSpanId": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
            "startedAt": _NULLABLE_TIME,
            "endedAt": _NULLABLE_TIME,
            "metadata": {"type": ["object", "null"]},
        },
    },
    "Event": {
        "type": "object",
        "required": ["id", "action", "createdAt", "complianceFlags", "enforcementAction", "sequence", "hash"],
        "properties": {
            "id": _STR, "organizationId": _STR, "action": _STR, "agentId": _NULLABLE_STR, "prompt": _NULLABLE_STR,
            "response": _NULLABLE_STR, "metadata": {"type": ["object", "null"]}, "traceId": _NULLABLE_STR,
            "spanId": _STR, "parentSpanId": _NULLABLE_STR, "startedAt": _TIME, "endedAt": _TIME,
            "createdAt": _TIME, "complianceFlags": {"type": "array", "items": _STR},
            "enforcementAction": {"enum": ["allow", "log", "flag", "block"]},
            "violationDetails": {"type": ["array", "null"], "items": {"type": "object"}},
            "sequence": {"type": "integer"}, "hash": _STR,
        },
    },
    "Pagination": {
        "type": "object",
        "required": ["page", "limit", "offset", "total", "totalPages"],
        "properties": {"page": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"},
                       "total": {"type": "integer"}, "totalPages": {"type": "integer"}, "nextCursor": _STR},
    },
    "EventPage": {
        "type": "object", "required": ["data", "pagination"],
        "properties": {"data": {"type": "array", "items": _ref("Event")}, "pagination": _ref("Pagination")},
    },
    "TraceRow": {
        "type": "object",
        "properties": {
            "traceId": _STR, "rootAction": _NULLABLE_STR, "agentIds": {"type": "array", "items": _STR},
            "spanCount": {"type": "integer"}, "flaggedCount": {"type": "integer"},
            "enforcementAction": _STR, "startedAt": _TIME, "endedAt": _TIME, "durationMs": {"type": "integer"},
        },
    },
    "TracePage": {
        "type": "object", "required": ["data", "pagination"],
        "properties": {"data": {"type": "array", "items": _ref("TraceRow")}, "pagination": _ref("Pagination")},
    },
    "Trace": {
        "type": "object", "required": ["traceId", "spans", "tree", "summary"],
        "properties": {"traceId": _STR, "spans": {"type": "array", "items": _ref("Event")},
                       "tree": {"type": "array", "items": {"type": "object"}}, "summary": {"type": "object"}},
    },
    "Organization": {
        "type": "object",
        "properties": {"id": _STR, "name": _STR, "email": _STR, "plan": _STR, "createdAt": _TIME},
    },
    "User": {
        "type": "object",
        "properties": {"id": _STR, "organizationId": _STR, "email": _STR, "name": _STR,
                       "role": {"enum": ["owner", "admin", "analyst", "auditor"]}, "createdAt": _TIME,
                       "updatedAt": _TIME},
    },
    "Tokens": {
        "type": "object", "required": ["accessToken", "refreshToken", "expiresIn", "organization"],
        "properties": {"accessToken": _STR, "refreshToken": _STR, "tokenType": _STR,
                       "expiresIn": {"type": "integer"}, "organization": _ref("Organization"), "user": _ref("User")},
    },
    "ApiKey": {
        "type": "object",
        "properties": {"id": _STR, "name": _STR, "prefix": _STR, "scopes": {"type": "array", "items": _STR},
                       "lastUsedAt": _NULLABLE_TIME, "createdAt": _TIME, "key": _STR},
    },
    "Agent": {
        "type": "object", "required": ["id", "name", "type"],
        "properties": {"id": _STR, "name": _STR, "type": _STR, "description": _NULLABLE_STR,
                       "metadata": {"type": ["object", "null"]}, "config": {"type": ["object", "null"]},
                       "organizationId": _STR, "createdAt": _TIME, "updatedAt": _TIME,
                       "policies": {"type": "array", "items": {"type": "object"}}, "activity": {"type": "object"}},
    },
    "Rule": {
        "type": "object", "required": ["id", "name", "ruleType", "condition", "severity"],
        "properties": {"id": _STR, "name": _STR, "ruleType": _STR, "condition": {"type": "object"},
                       "severity": {"enum": ["info", "warning", "critical"]},
                       "actionOverride": {"type": ["string", "null"]}, "redaction": _STR,
                       "isActive": {"type": "boolean"}, "policyId": _NULLABLE_STR, "packId": _NULLABLE_STR,
                       "createdAt": _TIME, "updatedAt": _TIME},
    },
    "RuleInput": {
        "type": "object", "required": ["name", "ruleType", "condition"],
        "properties": {"name": _STR, "ruleType": {"enum": ["pii_detect", "keyword_match", "regex_match",
                                                             "metadata_match", "rate_limit", "sentiment_analysis",
                                                             "prompt_injection"]},
                       "condition": {"type": "object"}, "severity": {"enum": ["info", "warning", "critical"]},
                       "actionOverride": {"enum": ["allow", "log", "flag", "block", None]},
                       "redaction": {"enum": ["none", "mask", "hash"]}, "isActive": {"type": "boolean"}},
    },
    "Policy": {
        "type": "object", "required": ["id", "name", "mode", "priority", "isActive", "version", "rules", "agents"],
        "properties": {"id": _STR, "name": _STR, "description": _NULLABLE_STR, "mode": {"enum": ["block", "flag", "log"]},
                       "priority": {"type": "integer"}, "conditions": {"type": ["object", "null"]},
                       "isActive": {"type": "boolean"}, "sourcePackId": _NULLABLE_STR, "redaction": _STR,
                       "version": {"type": "integer"}, "rules": {"type": "array", "items": {"$ref": "#/components/schemas/Rule"}},
                       "agents": {"type": "array", "items": {"type": "object"}}, "createdAt": _TIME, "updatedAt": _TIME},
    },
    "PolicyInput": {
        "type": "object", "required": ["name"],
        "properties": {"name": _STR, "description": _STR, "mode": {"enum": ["block", "flag", "log"]},
                       "priority": {"type": "integer"}, "conditions": {"type": "object"}, "isActive": {"type": "boolean"},
                       "redaction": {"enum": ["none", "mask", "hash"]},
                       "rules": {"type": "array", "items": {"$ref": "#/components/schemas/RuleInput"}}},
    },
    "PolicyVersion": {
        "type": "object", "required": ["id", "policyId", "versionNumber"],
        "properties": {"id": _STR, "policyId": _STR, "versionNumber": {"type": "integer"}, "name": _STR,
                       "mode": _STR, "priority": {"type": "integer"}, "description": _NULLABLE_STR,
                       "restoredFromId": _NULLABLE_STR, "createdAt": _TIME, "conditions": {"type": ["object", "null"]},
                       "rules": {"type": "array", "items": {"type": "object"}}},
    },
    "Alert": {
        "type": "object", "required": ["id", "severity", "status", "isResolved", "message", "auditLogId"],
        "properties": {"id": _STR, "severity": _STR, "status": {"enum": ["open", "acknowledged", "resolved",
                                                                         "false_positive"]},
                       "isResolved": {"type": "boolean"}, "message": _STR, "ruleId": _NULLABLE_STR,
                       "policyId": _NULLABLE_STR, "auditLogId": _NULLABLE_STR, "agentId": _NULLABLE_STR,
                       "details": {"type": ["object", "null"]}, "note": _NULLABLE_STR, "createdAt": _TIME,
                       "resolvedAt": _NULLABLE_TIME, "resolvedBy": _NULLABLE_STR},
    },
    "Activity": {
        "type": "object",
        "properties": {"id": _STR, "actor": _STR, "actorName": _NULLABLE_STR, "action": _STR, "targetType": _STR,
                       "targetId": _NULLABLE_STR, "targetName": _NULLABLE_STR, "details": {"type": ["object", "null"]},
                       "createdAt": _TIME},
    },
    "PackUpgrade": {
        "type": "object", "required": ["packId", "fromVersion", "toVersion", "added", "updated", "removed", "rules"],
        "properties": {"packId": _STR, "fromVersion": _STR, "toVersion": _STR, "added": {"type": "integer"},
                       "updated": {"type": "integer"}, "removed": {"type": "integer"},
                       "rules": {"type": "array", "items": _ref("Rule")}},
    },
    "Pack": {
        "type": "object", "required": ["id", "name", "version", "rules"],
        "properties": {"id": _STR, "name": _STR, "description": _STR, "version": _STR,
                       "rules": {"type": "array", "items": {"type": "object"}}},
    },
    "Verdict": {
        "type": "object", "required": ["complianceFlags", "enforcementAction", "violationDetails"],
        "properties": {"complianceFlags": {"type": "array", "items": _STR}, "enforcementAction": _STR,
                       "violationDetails": {"type": ["array", "null"]}, "redacted": {"type": "object"}},
    },
    "Analytics": {
        "type": "object",
        "required": ["policyId", "totalAudits", "totalViolations", "blockCount", "flagCount", "logCount",
                     "ruleBreakdown", "agentBreakdown", "dailyTrend"],
        "properties": {"policyId": _NULLABLE_STR, "policyName": _STR, "mode": {"type": ["string", "null"]},
                       "priority": {"type": ["integer", "null"]}, "window": {"type": "object"},
                       "totalAudits": {"type": "integer"}, "totalViolations": {"type": "integer"},
                       "blockCount": {"type": "integer"}, "flagCount": {"type": "integer"},
                       "logCount": {"type": "integer"}, "ruleBreakdown": {"type": "array"},
                       "agentBreakdown": {"type": "array"}, "dailyTrend": {"type": "array"}},
    },
    "NotificationSettings": {
        "type": "object",
        "properties": {"webhookUrl": _NULLABLE_STR, "webhookSecretSet": {"type": "boolean"},
                       "notifyWebhook": {"type": "boolean"}, "notifyEmail": {"type": "boolean"},
                       "emailRecipients": {"type": "array", "items": _STR}, "notifyMinSeverity": _STR,
                       "allowPrivateWebhookTargets": {"type": "boolean"}, "digestMinutes": {"type": "integer"},
                       "includeContent": {"type": "boolean"}, "mutedRuleIds": {"type": "array", "items": _STR},
                       "smtp": {"type": "object"}, "webhookSecret": _STR},
    },
    "NotificationSettingsInput": {
        "type": "object",
        "properties": {"webhookUrl": _NULLABLE_STR, "webhookSecret": _STR, "notifyWebhook": {"type": "boolean"},
                       "notifyEmail": {"type": "boolean"}, "emailRecipients": {"type": "array", "items": _STR},
                       "notifyMinSeverity": {"enum": ["info", "warning", "critical"]},
                       "allowPrivateWebhookTargets": {"type": "boolean"},
                       "digestMinutes": {"type": "integer", "minimum": 1, "maximum": 1440},
                       "includeContent": {"type": "boolean"}, "mutedRuleIds": {"type": "array", "items": _STR},
                       "smtp": {"type": "object", "properties": {
                           "host": _STR, "port": {"type": "integer"}, "security": {"enum": ["none", "starttls", "tls"]},
                           "username": _STR, "password": _STR, "from": _STR}}},
    },
    "Health": {
        "type": "object", "required": ["status", "version", "database"],
        "properties": {"status": _STR, "version": _STR, "database": _STR},
    },
    # integrity
    "Checkpoint": {
        "type": "object",
        "required": ["organizationId", "sequence", "hash", "signedAt", "kind", "keyId", "signature", "publicKey"],
        "description": "An Ed25519 signature (publicKey, base64 of the raw 32 bytes) over the bytes "
                       "'agentaudit-checkpoint-v1\\n' + compact sorted-key JSON of {hash, kind, organizationId, "
                       "sequence, signedAt}. kind 'pruned': retention deleted events up to sequence, whose chain "
                       "hash was hash.",
        "properties": {"organizationId": _STR, "sequence": {"type": "integer"}, "hash": _STR, "signedAt": _TIME,
                       "kind": {"enum": ["head", "pruned"]}, "keyId": _STR, "signature": _STR, "publicKey": _STR},
    },
    "LedgerHead": {
        "type": "object",
        "description": "The newest signed checkpoint (one is signed on the spot if the organisation has none "
                       "yet), plus the current head, which may be newer and not yet signed.",
        "required": ["sequence", "hash", "signedAt", "signature", "publicKey", "currentSequence", "currentHash"],
        "properties": {"organizationId": _STR, "sequence": {"type": "integer"}, "hash": _STR, "signedAt": _TIME,
                       "kind": {"enum": ["head", "pruned"]}, "keyId": _STR, "signature": _STR, "publicKey": _STR,
                       "currentSequence": {"type": "integer"}, "currentHash": _STR,
                       "unsignedEvents": {"type": "integer"}, "prunedSequence": {"type": "integer"}},
    },
    "EventProof": {
        "type": "object",
        "description": "Checks one event offline (sidecar.ledger.proof.verify_event_proof): hash(event) = "
                       "SHA-256(prevHash || canonical(event)), each following event chains on from it up to the "
                       "checkpoint, whose signature covers the result. following carries the base64 canonical "
                       "bytes of the events between the event and the checkpoint.",
        "required": ["format", "version", "event", "prevHash", "following", "checkpoint"],
        "properties": {"format": {"const": "agentaudit-event-proof"}, "version": {"const": 1},
                       "event": _ref("Event"), "prevHash": _STR,
                       "following": {"type": "array", "items": {"type": "object", "properties": {
                           "sequence": {"type": "integer"}, "hash": _STR, "canonical": _STR}}},
                       "checkpoint": _ref("Checkpoint")},
    },
    "Retention": {
        "type": "object", "required": ["retentionDays", "prunedSequence", "prunedHash", "oldestSequence"],
        "description": "Events created more than retentionDays days ago are purged (hourly by default), oldest "
                       "first, leaving a signed 'pruned' checkpoint at the last purged sequence so the remaining "
                       "chain still verifies. Their violation facts go too; alerts stay. null keeps events for ever.",
        "properties": {"retentionDays": {"type": ["integer", "null"], "minimum": 1, "maximum": 36500},
                       "prunedSequence": {"type": "integer"}, "prunedHash": _STR,
                       "oldestSequence": {"type": ["integer", "null"]}},
    },
    "BillingPrices": {"type": "object", "required": ["pro", "business"],
                      "properties": {"pro": _STR, "business": _STR}},
    "CheckoutSession": {"type": "object", "required": ["sessionId", "url"],
                        "properties": {"sessionId": _STR, "url": _STR}},
    "Subscription": {
        "type": "object", "required": ["plan", "status", "currentPeriodEnd", "cancelAtPeriodEnd", "usage"],
        "properties": {
            "plan": {"enum": ["self_hosted", "free", "pro", "business"]}, "status": _STR,
            "currentPeriodEnd": _NULLABLE_TIME, "cancelAtPeriodEnd": {"type": "boolean"},
            "usage": {"type": "object", "required": ["logsThisMonth", "quota", "agents", "agentLimit"],
                      "properties": {"logsThisMonth": {"type": "integer"}, "quota": {"type": ["integer", "null"]},
                                     "agents": {"type": "integer"}, "agentLimit": {"type": ["integer", "null"]}}},
        },
    },
}

_LOG_FILTERS = ["agentId", "action", "traceId", "enforcementAction", "flagged", "startDate", "endDate", "from", "to",
                "q"]
_PAGING = ["limit", "offset", "page"]
_ANALYTICS = ["startDate", "endDate", "agentId", "ruleType", "severity"]


def _array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


_ID = {"type": "string", "minLength": 1, "maxLength": 200}
_STATUS = {"enum": ["open", "acknowledged", "resolved", "false_positive"]}
#: A bulk change's filter: strict (an unknown key or a bad value is a 400, never a wider change), not empty.
_BULK_FILTER = {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {
    "status": {"oneOf": [_STR, {"type": "array", "minItems": 1, "items": _STATUS}]},
    "isResolved": {"type": "boolean"}, "severity": {"enum": ["info", "warning", "critical"]},
    "agentId": _ID, "ruleId": _ID, "policyId": _ID, "auditLogId": _ID,
    "from": _TIME, "startDate": _TIME, "to": _TIME, "endDate": _TIME}}


#: (METHOD, path) -> (summary, tag, request schema or None, success status, response schema or None, query params)
OPERATIONS: dict[tuple[str, str], tuple[str, str, Any, int, Any, list[str]]] = {
    ("GET", "/health"): ("Health of the sidecar and its database", "system", None, 200, _ref("Health"), []),
    ("GET", "/api/v1/health"): ("Health of the sidecar and its database", "system", None, 200, _ref("Health"), []),
    ("GET", "/api/v1/openapi.json"): ("This document", "system", None, 200, {"type": "object"}, []),
    ("POST", "/v1/traces"): ("OTLP/HTTP trace export (protobuf or JSON): spans become audit events", "otlp",
                             {"type": "object"}, 200, None, []),
    ("GET", "/api/v1/stream"): ("Server-sent events: log.created, alert.created, report.ready", "system", None, 200,
                                None, []),
    ("POST", "/api/v1/auth/register"): (
        "Create an organisation and its owner", "auth",
        _obj(["name", "email", "password"], name=_STR, email=_STR, password={"type": "string", "minLength": 8}),
        201, _ref("Organization"), []),
    ("POST", "/api/v1/auth/login"): ("Log in", "auth", _obj(["email", "password"], email=_STR, password=_STR), 200,
                                     _ref("Tokens"), []),
    ("POST", "/api/v1/auth/refresh"): ("Rotate a refresh token", "auth", _obj(["refreshToken"], refreshToken=_STR),
                                       200, _ref("Tokens"), []),
    ("POST", "/api/v1/auth/logout"): ("End the session", "auth", None, 204, None, []),
    ("GET", "/api/v1/auth/me"): ("The logged-in user", "auth", None, 200, _ref("User"), []),
    ("PATCH", "/api/v1/auth/me"): ("Change your name or password", "auth",
                                   _obj([], name=_STR, password=_STR, currentPassword=_STR), 200, _ref("User"), []),
    ("POST", "/api/v1/auth/api-keys"): (
        "Create an API key (the key is shown once)", "auth",
        _obj(["name"], name=_STR, scopes={"type": "array", "items": {"enum": ["logs:write", "logs:read", "admin"]}}),
        201, _ref("ApiKey"), []),
    ("GET", "/api/v1/auth/api-keys"): ("List API keys", "auth", None, 200,
                                       {"type": "array", "items": _ref("ApiKey")}, []),
    ("DELETE", "/api/v1/auth/api-keys/{key_id}"): ("Revoke an API key", "auth", None, 204, None, []),
    ("GET", "/api/v1/users"): ("Users of the organisation", "users", None, 200,
                               {"type": "array", "items": _ref("User")}, []),
    ("POST", "/api/v1/users"): (
        "Add a user", "users",
        _obj(["email", "name", "password", "role"], email=_STR, name=_STR, password=_STR,
             role={"enum": ["owner", "admin", "analyst", "auditor"]}),
        201, _ref("User"), []),
    ("PATCH", "/api/v1/users/{user_id}"): ("Change a user's name or role", "users",
                                           _obj([], name=_STR, role=_STR), 200, _ref("User"), []),
    ("DELETE", "/api/v1/users/{user_id}"): ("Remove a user", "users", None, 204, None, []),
    ("POST", "/api/v1/audit-logs"): ("Log one event", "audit-logs", _ref("EventInput"), 201, _ref("Event"), []),
    ("POST", "/api/v1/audit-logs/batch"): (
        "Log 1 to 50 events at once", "audit-logs",
        {"type": "array", "minItems": 1, "maxItems": 50, "items": _ref("EventInput")}, 201,
        _obj(["data", "processed", "errors"], data={"type": "array", "items": _ref("Event")},
             processed={"type": "integer"}, errors={"type": "integer"}),
        []),
    ("GET", "/api/v1/audit-logs"): ("Query events, newest first", "audit-logs", None, 200, _ref("EventPage"),
                                    _LOG_FILTERS + _PAGING + ["before"]),
    ("GET", "/api/v1/audit-logs/export"): ("Export events as CSV, JSON or JSON Lines (streamed)", "audit-logs", None,
                                           200, None, _LOG_FILTERS + ["format"]),
    ("GET", "/api/v1/audit-logs/trace/{trace_id}"): ("A trace's spans as a page, oldest first (after=<span id> "
                                                     "continues after that span, Link rel=next; before=<span id> "
                                                     "is the page just before it)", "traces", None,
                                                     200, _ref("EventPage"), _PAGING + ["after", "before"]),
    ("GET", "/api/v1/audit-logs/{log_id}"): ("One event", "audit-logs", None, 200, _ref("Event"), []),
    ("GET", "/api/v1/audit-logs/{log_id}/chain"): (
        "An event and its subtree", "traces", None, 200,
        _obj(["root", "descendants"], root=_ref("Event"), descendants={"type": "array", "items": _ref("Event")}), []),
    ("GET", "/api/v1/audit-logs/{log_id}/ancestors"): ("An event's parent chain, nearest first", "traces", None, 200,
                                                       {"type": "array", "items": _ref("Event")}, []),
    ("GET", "/api/v1/traces"): ("Recent traces, one row each, most recently active first (before=<the previous "
                                "page's nextCursor>, or a trace id, continues the list; q searches the spans' "
                                "prompts and responses)",
                                "traces", None, 200, _ref("TracePage"), _LOG_FILTERS + _PAGING + ["before"]),
    ("GET", "/api/v1/traces/{trace_id}"): ("One trace: spans, tree and summary", "traces", None, 200, _ref("Trace"),
                                           []),
    # agents
    ("POST", "/api/v1/agents"): (
        "Register an agent", "agents",
        _obj(["name"], name=_STR, type=_STR, description=_STR, metadata={"type": "object"}, config={"type": "object"}),
        201, _ref("Agent"), []),
    ("GET", "/api/v1/agents"): ("Registered agents", "agents", None, 200, _array("Agent"), _PAGING + ["type"]),
    ("GET", "/api/v1/agents/{agent_id}"): ("An agent with its policies and activity", "agents", None, 200,
                                           _ref("Agent"), []),
    ("PATCH", "/api/v1/agents/{agent_id}"): (
        "Change an agent", "agents",
        _obj([], name=_STR, type=_STR, description=_STR, metadata={"type": "object"}, config={"type": "object"}),
        200, _ref("Agent"), []),
    ("DELETE", "/api/v1/agents/{agent_id}"): ("Delete an agent (its events stay)", "agents", None, 204, None, []),
    # rules and packs
    ("GET", "/api/v1/compliance-rules/packs"): ("The shipped rule packs", "compliance", None, 200, _array("Pack"), []),
    ("POST", "/api/v1/compliance-rules/packs"): ("Install a pack for the whole organisation", "compliance",
                                                 _obj(["packId"], packId=_STR), 201, _array("Rule"), []),
    ("GET", "/api/v1/compliance-rules/packs/installed"): ("Installed packs", "compliance", None, 200,
                                                          {"type": "array", "items": {"type": "object"}}, []),
    ("DELETE", "/api/v1/compliance-rules/packs/{pack_id}"): ("Uninstall a pack and its rules", "compliance", None,
                                                             204, None, []),
    ("POST", "/api/v1/compliance-rules/packs/{pack_id}/upgrade"): (
        "Bring an installed pack to the shipped version (rule ids and on/off kept)", "compliance", None, 200,
        _ref("PackUpgrade"), []),
    ("GET", "/api/v1/compliance-rules"): ("Rules", "compliance", None, 200, _array("Rule"),
                                          _PAGING + ["policyId", "ruleType", "packId", "isActive", "scope"]),
    ("POST", "/api/v1/compliance-rules"): ("Create an organisation-wide rule", "compliance", _ref("RuleInput"), 201,
                                           _ref("Rule"), []),
    ("GET", "/api/v1/compliance-rules/{rule_id}"): ("One rule", "compliance", None, 200, _ref("Rule"), []),
    ("PATCH", "/api/v1/compliance-rules/{rule_id}"): ("Change a rule", "compliance", {"type": "object"}, 200,
                                                      _ref("Rule"), []),
    ("DELETE", "/api/v1/compliance-rules/{rule_id}"): ("Delete a rule", "compliance", None, 204, None, []),
    ("POST", "/api/v1/compliance/evaluate"): (
        "The verdict an event would get (nothing is stored)", "compliance",
        _obj([], prompt=_STR, response=_STR, metadata={"type": "object"}, agentId=_STR, policyId=_STR,
             rule=_ref("RuleInput")),
        200, _ref("Verdict"), []),
    # policies
    ("GET", "/api/v1/policies/analytics"): ("Violation analytics over all policies", "policies", None, 200,
                                            _ref("Analytics"), _ANALYTICS),
    ("POST", "/api/v1/policies/clone-pack"): (
        "Create a policy from a copy of a pack's rules", "policies",
        _obj(["packId", "name"], packId=_STR, name=_STR, description=_STR, mode={"enum": ["block", "flag", "log"]},
             priority={"type": "integer"}, conditions={"type": "object"}),
        201, _ref("Policy"), []),
    ("GET", "/api/v1/policies"): ("Policies with their rules and agents", "policies", None, 200, _array("Policy"),
                                  _PAGING),
    ("POST", "/api/v1/policies"): ("Create a policy", "policies", _ref("PolicyInput"), 201, _ref("Policy"), []),
    ("GET", "/api/v1/policies/{policy_id}"): ("One policy", "policies", None, 200, _ref("Policy"), []),
    ("PATCH", "/api/v1/policies/{policy_id}"): ("Change a policy (saves a version)", "policies", {"type": "object"},
                                                200, _ref("Policy"), []),
    ("DELETE", "/api/v1/policies/{policy_id}"): ("Delete a policy", "policies", None, 204, None, []),
    ("POST", "/api/v1/policies/{policy_id}/agents"): ("Attach an agent (idempotent)", "policies",
                                                      _obj(["agentId"], agentId=_STR), 200, {"type": "object"}, []),
    ("DELETE", "/api/v1/policies/{policy_id}/agents"): ("Detach an agent", "policies", _obj(["agentId"], agentId=_STR),
                                                        200, _obj(["detached"], detached={"type": "boolean"}), []),
    ("POST", "/api/v1/policies/{policy_id}/rules"): ("Add a rule to a policy", "policies", _ref("RuleInput"), 201,
                                                     _ref("Rule"), []),
    ("PATCH", "/api/v1/policies/{policy_id}/rules/{rule_id}"): ("Change a rule of a policy", "policies",
                                                                {"type": "object"}, 200, _ref("Rule"), []),
    ("DELETE", "/api/v1/policies/{policy_id}/rules/{rule_id}"): ("Remove a rule from a policy", "policies", None, 204,
                                                                 None, []),
    ("GET", "/api/v1/policies/{policy_id}/versions"): ("A policy's versions, newest first", "policies", None, 200,
                                                       _array("PolicyVersion"), []),
    ("POST", "/api/v1/policies/{policy_id}/versions"): ("Save a named version", "policies", _obj([], name=_STR), 201,
                                                        _ref("PolicyVersion"), []),
    ("GET", "/api/v1/policies/{policy_id}/versions/{version_id}"): ("One version with its rules", "policies", None,
                                                                    200, _ref("PolicyVersion"), []),
    ("POST", "/api/v1/policies/{policy_id}/versions/{version_id}/restore"): (
        "Restore a version (makes a new version)", "policies", None, 200, _ref("PolicyVersion"), []),
    ("GET", "/api/v1/policies/{policy_id}/analytics"): ("Violation analytics of one policy", "policies", None, 200,
                                                        _ref("Analytics"), _ANALYTICS),
    # alerts and activity
    ("GET", "/api/v1/alerts"): ("Alerts, critical first then newest", "alerts", None, 200, _array("Alert"),
                                _PAGING + ["status", "isResolved", "severity", "agentId", "ruleId", "policyId",
                                           "auditLogId", "from", "to"]),
    ("GET", "/api/v1/alerts/counts"): ("Open alerts by severity", "alerts", None, 200, {"type": "object"}, []),
    ("POST", "/api/v1/alerts/resolve"): (
        "Change many alerts (by ids or filter)", "alerts",
        _obj([], ids={"type": "array", "items": _STR}, filter=_BULK_FILTER,
             status={"enum": ["open", "acknowledged", "resolved", "false_positive"]}, note=_STR),
        200, {"type": "object"}, []),
    ("GET", "/api/v1/alerts/{alert_id}"): ("One alert", "alerts", None, 200, _ref("Alert"), []),
    ("PATCH", "/api/v1/alerts/{alert_id}"): (
        "Triage an alert", "alerts",
        _obj(["status"], status={"enum": ["open", "acknowledged", "resolved", "false_positive"]}, note=_STR),
        200, _ref("Alert"), []),
    ("PATCH", "/api/v1/alerts/{alert_id}/resolve"): ("Resolve an alert", "alerts", None, 200, _ref("Alert"), []),
    ("GET", "/api/v1/activity"): ("Who changed what, newest first", "activity", None, 200, _array("Activity"),
                                  _PAGING + ["actor", "action", "targetType", "targetId", "from", "to"]),
    # notifications
    ("GET", "/api/v1/notifications/settings"): ("Notification settings (secrets never shown)", "notifications", None,
                                                200, _ref("NotificationSettings"), []),
    ("PATCH", "/api/v1/notifications/settings"): ("Change notification settings", "notifications",
                                                  _ref("NotificationSettingsInput"), 200, _ref("NotificationSettings"),
                                                  []),
    ("GET", "/api/v1/notifications/deliveries"): ("The delivery log, newest first", "notifications", None, 200,
                                                  {"type": "array", "items": {"type": "object"}},
                                                  _PAGING + ["status", "channel"]),
    ("POST", "/api/v1/notifications/test"): ("Send a test webhook and/or email now", "notifications",
                                             _obj([], channel={"enum": ["webhook", "email", "all"]}), 200,
                                             {"type": "object"}, []),
    # integrity
    ("GET", "/api/v1/ledger/head"): ("The newest signed checkpoint of the hash chain, and the current head", "ledger",
                                     None, 200, _ref("LedgerHead"), []),
    ("GET", "/api/v1/ledger/checkpoints"): ("Signed checkpoints, newest first (retention's 'pruned' ones too)",
                                            "ledger", None, 200, _array("Checkpoint"), _PAGING + ["kind"]),
    ("GET", "/api/v1/ledger/export"): (
        "The whole chain with its checkpoints as JSON Lines (streamed), for 'agentaudit verify --export FILE'",
        "ledger", None, 200, None, []),
    ("GET", "/api/v1/audit-logs/{log_id}/proof"): (
        "Proof of one event against the first checkpoint at or after it (signed on demand when none covers it "
        "yet; 409 if one was signed on demand under a second ago: retry)", "ledger", None, 200, _ref("EventProof"),
        []),
    ("GET", "/api/v1/settings/retention"): ("How long events are kept, and what retention purged so far", "ledger",
                                            None, 200, _ref("Retention"), []),
    ("PATCH", "/api/v1/settings/retention"): (
        "Set how many days events are kept (owner, admin or an admin key; null: for ever)", "ledger",
        _obj(["retentionDays"], retentionDays={"type": ["integer", "null"], "minimum": 1, "maximum": 36500}),
        200, _ref("Retention"), []),
    # billing
    ("GET", "/api/v1/billing/prices"): ("Stripe price ids of the paid plans (503 without billing)", "billing", None,
                                        200, _ref("BillingPrices"), []),
    ("POST", "/api/v1/billing/checkout"): ("Start a Stripe Checkout for a plan", "billing",
                                           _obj(["priceId"], priceId=_STR), 200, _ref("CheckoutSession"), []),
    ("POST", "/api/v1/billing/checkout-session"): ("Start a Stripe Checkout for a plan (another name)", "billing",
                                                   _obj(["priceId"], priceId=_STR), 200, _ref("CheckoutSession"), []),
    ("GET", "/api/v1/billing/subscription"): ("The plan, its state and this month's usage", "billing", None, 200,
                                              _ref("Subscription"), []),
    ("POST", "/api/v1/billing/portal"): ("A Stripe customer portal session", "billing", None, 200,
                                         _obj(["url"], url=_STR), []),
    ("POST", "/api/v1/billing/portal-session"): ("A Stripe customer portal session (another name)", "billing", None,
                                                 200, _obj(["url"], url=_STR), []),
    ("POST", "/api/v1/billing/webhook"): ("Stripe events (signature verified; each event id applied once)",
                                          "billing", {"type": "object"}, 200,
                                          _obj(["received"], received={"type": "boolean"},
                                               duplicate={"type": "boolean"}, handled={"type": "boolean"}), []),
    # reports
    ("POST", "/api/v1/reports"): ("Request a report (built in the background)", "reports", _ref("ReportInput"), 202,
                                  _ref("Report"), []),
    ("GET", "/api/v1/reports"): ("Reports, newest first", "reports", None, 200, _array("Report"),
                                 _PAGING + ["status", "type"]),
    ("GET", "/api/v1/reports/{report_id}"): ("A report's status, progress and file facts", "reports", None, 200,
                                             _ref("Report"), []),
    ("GET", "/api/v1/reports/{report_id}/download"): (
        "The report's file (409 while not ready); X-Content-SHA256 carries its hash", "reports", None, 200, None, []),
    ("DELETE", "/api/v1/reports/{report_id}"): ("Delete a report and its file", "reports", None, 204, None, []),
    ("GET", "/api/v1/report-schedules"): ("Report schedules", "reports", None, 200, _array("ReportSchedule"), _PAGING),
    ("POST", "/api/v1/report-schedules"): ("Build a report on a cron schedule", "reports", _ref("ReportScheduleInput"),
                                           201, _ref("ReportSchedule"), []),
    ("GET", "/api/v1/report-schedules/{schedule_id}"): ("One report schedule", "reports", None, 200,
                                                        _ref("ReportSchedule"), []),
    ("DELETE", "/api/v1/report-schedules/{schedule_id}"): ("Delete a report schedule", "reports", None, 204, None, []),
    ("GET", "/api/v1/unregistered-agents"): (
        "Agent ids seen in events that name no registered agent, most recently seen first", "agents", None, 200,
        {"type": "array", "items": _obj(["agentId", "eventCount", "lastSeenAt", "lastAction"], agentId=_STR,
                                        eventCount={"type": "integer"}, lastSeenAt=_TIME, lastAction=_STR)},
        ["limit"]),
}

_REPORT_TYPES = ["compliance_summary", "audit_log_export", "alert_summary", "agent_activity", "trace"]
SCHEMAS.update({
    "ReportInput": {
        "type": "object", "required": ["type", "format"],
        "properties": {"type": {"enum": _REPORT_TYPES}, "format": {"enum": ["pdf", "csv", "json"]},
                       "from": _TIME, "to": _TIME, "dateRangeStart": _TIME, "dateRangeEnd": _TIME,
                       "name": {"type": ["string", "null"], "maxLength": 200}, "agentId": _NULLABLE_STR,
                       "policyId": _NULLABLE_STR, "traceId": _NULLABLE_STR,
                       "showSensitive": {"type": "boolean", "default": False}},
    },
    "Report": {
        "type": "object", "required": ["id", "status", "type", "format", "createdAt"],
        "properties": {"id": _STR, "name": _NULLABLE_STR, "type": {"enum": _REPORT_TYPES},
                       "format": {"enum": ["pdf", "csv", "json"]},
                       "status": {"enum": ["pending", "running", "ready", "failed"]},
                       "progress": {"type": "integer", "minimum": 0, "maximum": 100}, "error": _NULLABLE_STR,
                       "sizeBytes": {"type": ["integer", "null"]}, "sha256": _NULLABLE_STR, "from": _NULLABLE_TIME,
                       "to": _NULLABLE_TIME, "agentId": _NULLABLE_STR, "policyId": _NULLABLE_STR,
                       "traceId": _NULLABLE_STR, "showSensitive": {"type": "boolean"}, "scheduleId": _NULLABLE_STR,
                       "createdBy": _NULLABLE_STR, "createdAt": _TIME, "startedAt": _NULLABLE_TIME,
                       "finishedAt": _NULLABLE_TIME, "fileName": _STR, "downloadUrl": _NULLABLE_STR},
    },
    "ReportScheduleInput": {
        "type": "object", "required": ["type", "format", "cron"],
        "properties": {"type": {"enum": _REPORT_TYPES[:-1]}, "format": {"enum": ["pdf", "csv", "json"]},
                       "cron": _STR, "timezone": {"type": "string", "default": "UTC"},
                       "emailRecipients": {"type": "array", "items": _STR}, "name": _NULLABLE_STR,
                       "agentId": _NULLABLE_STR, "policyId": _NULLABLE_STR, "showSensitive": {"type": "boolean"}},
    },
    "ReportSchedule": {
        "type": "object", "required": ["id", "type", "format", "cron", "timezone"],
        "properties": {"id": _STR, "name": _NULLABLE_STR, "type": _STR, "format": _STR, "cron": _STR,
                       "timezone": _STR, "emailRecipients": {"type": "array", "items": _STR}, "agentId": _NULLABLE_STR,
                       "policyId": _NULLABLE_STR, "showSensitive": {"type": "boolean"}, "isActive": {"type": "boolean"},
                       "createdBy": _NULLABLE_STR, "createdAt": _TIME, "lastRunAt": _NULLABLE_TIME,
                       "lastReportId": _NULLABLE_STR, "nextRunAt": _NULLABLE_TIME},
    },
})

_QUERY_SCHEMAS: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 500},
    "offset": {"type": "integer", "minimum": 0},
    "page": {"type": "integer", "minimum": 1},
    "flagged": {"type": "boolean"},
    "enforcementAction": {"enum": ["allow", "log", "flag", "block"]},
    "format": {"enum": ["csv", "json", "jsonl"]},
    "kind": {"enum": ["head", "pruned"]},
    "isResolved": {"type": "boolean"}, "isActive": {"type": "boolean"},
    "severity": {"enum": ["info", "warning", "critical"]},
    "startDate": _TIME, "endDate": _TIME, "from": _TIME, "to": _TIME,
}
# An empty query value means the parameter is absent (``?to=``, ``?limit=``), as every endpoint treats it.
_QUERY_SCHEMAS.update({name: {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
                       for name, schema in _QUERY_SCHEMAS.items()})

#: Operations whose body may be left out entirely (an empty OTLP export; defaults for the rest).
_OPTIONAL_BODIES = {("POST", "/v1/traces"), ("POST", "/api/v1/notifications/test"),
                    ("DELETE", "/api/v1/policies/{policy_id}/agents"), ("POST", "/api/v1/policies/{policy_id}/versions")}


def _nullable_optionals(schema: Any) -> Any:
    """A request schema as the API reads it: an optional field sent as ``null`` means absent (API.md)."""
    if isinstance(schema, list):
        return [_nullable_optionals(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _nullable_optionals(value) for key, value in schema.items()}
    properties = out.get("properties")
    if isinstance(properties, dict):
        required = set(out.get("required", []))
        out["properties"] = {name: (prop if name in required else _or_null(prop)) for name, prop in properties.items()}
    return out


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if "enum" in schema:
        return schema if None in schema["enum"] else {**schema, "enum": [*schema["enum"], None]}
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list):
        return schema if "null" in kind else {**schema, "type": [*kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _routes(router: web.UrlDispatcher) -> list[tuple[str, str, object]]:
    found = []
    for route in router.routes():
        if route.method == "HEAD":
            continue
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path:
            found.append((route.method, path, route.handler))
    return found


def build_spec(router: web.UrlDispatcher, *, version: str) -> dict[str, Any]:
    """The OpenAPI document for every route in ``router``.

    Raises:
        KeyError: a route has no entry in :data:`OPERATIONS`.
    """
    paths: dict[str, dict[str, Any]] = {}
    for method, path, handler in _routes(router):
        summary, tag, request_schema, status, response_schema, query = OPERATIONS[(method, path)]
        operation: dict[str, Any] = {
            "summary": summary,
            "tags": [tag],
            "operationId": f"{method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', path).strip('_')}",
            "responses": {
                str(status): ({"description": "success"} if response_schema is None else
                              {"description": "success", "content": {"application/json": {"schema": response_schema}}}),
                "default": {"description": "error", "content": {"application/json": {"schema": _ref("Error")}}},
            },
        }
        params = [{"name": name, "in": "path", "required": True, "schema": _STR}
                  for name in re.findall(r"{(\w+)}", path)]
        params += [{"name": name, "in": "query", "required": False, "schema": _QUERY_SCHEMAS.get(name, _STR)}
                   for name in query]
        if params:
            operation["parameters"] = params
        if request_schema is not None:
            operation["requestBody"] = _body(_nullable_optionals(request_schema))
            if (method, path) in _OPTIONAL_BODIES:
                operation["requestBody"]["required"] = False
        if permission_of(handler) is not None:
            operation["security"] = [{"apiKey": []}, {"bearer": []}]
        else:
            operation["security"] = []
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "AgentAudit sidecar API", "version": version},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": {name: (_nullable_optionals(schema) if name.endswith("Input") else schema)
                        for name, schema in SCHEMAS.items()},
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }
