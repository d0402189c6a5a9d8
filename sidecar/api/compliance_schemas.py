"""Request validation for agents, rules, packs, policies, alerts, analytics and activity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from sidecar.api.schemas import NUL_MESSAGE, Fields, _query_bool, _query_time, contains_nul, require_json
from sidecar.compliance.rules import RULE_TYPES
from sidecar.compliance.types import REDACTIONS, SEVERITIES
from sidecar.errors import FieldError, InvalidInput
from sidecar.store.activity import ActivityFilter
from sidecar.store.alerts import STATUSES, AlertFilter

MODES = ("block", "flag", "log")
OVERRIDES = ("allow", "log", "flag", "block")


async def optional_json_body(request: web.Request) -> Any:
    """The JSON body, or ``{}`` when there is none (e.g. ``PATCH /alerts/:id/resolve`` from older clients). A body
    that is there must be declared JSON (UnsupportedMediaType otherwise, see :func:`schemas.require_json`)."""
    import orjson

    if request.content_length == 0 or (request.content_length is None and not request.body_exists):
        return {}
    require_json(request)
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the request body is not valid JSON: {exc.msg}", [FieldError("body", "invalid JSON")]) from None


def _int(fields: Fields, name: str, default: int | None, *, low: int, high: int) -> int | None:
    value = fields.body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        fields.bad(name, f"must be an integer from {low} to {high}")
        return default
    return value


def _bool(fields: Fields, name: str, default: bool | None) -> bool | None:
    value = fields.body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        fields.bad(name, "must be true or false")
        return default
    return value


def _object(fields: Fields, name: str, *, required: bool = False) -> Any:
    value = fields.body.get(name)
    if value is None:
        if required:
            fields.bad(name, "is required")
        return None
    if not isinstance(value, dict):
        fields.bad(name, "must be a JSON object")
        return None
    if contains_nul(value):
        fields.bad(name, NUL_MESSAGE)
        return None
    return value


def _present(body: Any, names: tuple[str, ...]) -> set[str]:
    return {name for name in names if isinstance(body, dict) and name in body}


# -- agents ----------------------------------------------------------------------------------------

def agent_create(body: Any) -> dict[str, Any]:
    fields = Fields(body)
    name = fields.string("name", required=True, min_len=1, max_len=200, strip=True)
    result = {
        "name": name or "",
        "type": fields.string("type", min_len=1, max_len=100, strip=True) or "custom",
        "description": fields.string("description", max_len=2000),
        "metadata": fields.json_object("metadata"),
        "config": fields.json_object("config"),
    }
    fields.done()
    return result


def agent_update(body: Any) -> dict[str, Any]:
    fields = Fields(body)
    changes: dict[str, Any] = {}
    if "name" in fields.body:
        changes["name"] = fields.string("name", required=True, min_len=1, max_len=200, strip=True)
    if "type" in fields.body:
        changes["type"] = fields.string("type", required=True, min_len=1, max_len=100, strip=True)
    for name in ("description",):
        if name in fields.body:
            changes[name] = fields.string(name, max_len=2000)
    for name in ("metadata", "config"):
        if name in fields.body:
            changes[name] = fields.json_object(name)
    if not changes and not fields.errors:
        fields.bad("body", "send at least one of name, type, description, metadata, config")
    fields.done()
    return changes


# -- rules -----------------------------------------------------------------------------------------

def _rule(fields: Fields) -> dict[str, Any]:
    rule_type = fields.choice("ruleType", RULE_TYPES, required=True)
    return {
        "name": fields.string("name", required=True, min_len=1, max_len=200, strip=True) or "",
        "rule_type": rule_type or "",
        "condition": _object(fields, "condition", required=True),
        "severity": fields.choice("severity", SEVERITIES) or "warning",
        "action_override": fields.choice("actionOverride", OVERRIDES),
        "redaction": fields.choice("redaction", REDACTIONS) or "none",
        "is_active": _bool(fields, "isActive", True),
    }


def rule_create(body: Any) -> dict[str, Any]:
    """An organisation-wide rule. A ``policyId`` is refused rather than dropped: the rule would apply to every
    agent instead of the policy's."""
    fields = Fields(body)
    rule = _rule(fields)
    if fields.body.get("policyId") is not None:
        fields.bad("policyId", "this endpoint makes organisation-wide rules; add a rule to a policy with "
                               "POST /policies/{policyId}/rules")
    fields.done()
    return rule


def policy_rule_create(body: Any, policy_id: str) -> dict[str, Any]:
    """A rule inside the policy ``policy_id`` (the path's id). A ``policyId`` in the body (a rule object echoed back
    carries one) is taken when it is null or equals the path's id; a different id is refused rather than ignored, so
    a rule is never put in another policy than the body names."""
    fields = Fields(body)
    rule = _rule(fields)
    named = fields.body.get("policyId")
    if named is not None and named != policy_id:
        fields.bad("policyId", f"names another policy than the path ({policy_id!r}); leave it out or send the same id")
    fields.done()
    return rule


def rule_update(body: Any) -> dict[str, Any]:
    """Changes keyed by wire name (only the keys sent)."""
    fields = Fields(body)
    changes: dict[str, Any] = {}
    if "name" in fields.body:
        changes["name"] = fields.string("name", required=True, min_len=1, max_len=200, strip=True)
    if "ruleType" in fields.body:
        changes["ruleType"] = fields.choice("ruleType", RULE_TYPES, required=True)
    if "condition" in fields.body:
        changes["condition"] = _object(fields, "condition", required=True)
    if "severity" in fields.body:
        changes["severity"] = fields.choice("severity", SEVERITIES, required=True)
    if "actionOverride" in fields.body:
        changes["actionOverride"] = fields.choice("actionOverride", OVERRIDES)
    if "redaction" in fields.body:
        changes["redaction"] = fields.choice("redaction", REDACTIONS, required=True)
    if "isActive" in fields.body:
        changes["isActive"] = _bool(fields, "isActive", None)
        if changes["isActive"] is None and not fields.errors:
            fields.bad("isActive", "must be true or false")
    if not changes and not fields.errors:
        fields.bad("body", "send at least one field to change")
    fields.done()
    return changes


def pack_id(body: Any) -> str:
    fields = Fields(body)
    value = fields.string("packId", required=True, min_len=1, max_len=100, strip=True)
    fields.done()
    return value or ""


# -- policies --------------------------------------------------------------------------------------

def policy_create(body: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    fields = Fields(body)
    policy = {
        "name": fields.string("name", required=True, min_len=1, max_len=200, strip=True) or "",
        "description": fields.string("description", max_len=2000),
        "mode": fields.choice("mode", MODES) or "flag",
        "priority": _int(fields, "priority", 0, low=-1000, high=1000),
        "conditions": _object(fields, "conditions"),
        "is_active": _bool(fields, "isActive", True),
        "redaction": fields.choice("redaction", REDACTIONS) or "none",
        "source_pack_id": None,
    }
    rules: list[dict[str, Any]] = []
    raw_rules = fields.body.get("rules")
    if raw_rules is not None:
        if not isinstance(raw_rules, list) or len(raw_rules) > 500:
            fields.bad("rules", "must be an array of at most 500 rules")
        else:
            for index, item in enumerate(raw_rules):
                sub = Fields(item, prefix=f"rules[{index}].")
                rule = _rule(sub)
                fields.errors.extend(sub.errors)
                rules.append(rule)
    fields.done()
    return policy, rules


def policy_update(body: Any) -> dict[str, Any]:
    fields = Fields(body)
    changes: dict[str, Any] = {}
    if "name" in fields.body:
        changes["name"] = fields.string("name", required=True, min_len=1, max_len=200, strip=True)
    if "description" in fields.body:
        changes["description"] = fields.string("description", max_len=2000)
    if "mode" in fields.body:
        changes["mode"] = fields.choice("mode", MODES, required=True)
    if "priority" in fields.body:
        changes["priority"] = _int(fields, "priority", None, low=-1000, high=1000)
    if "conditions" in fields.body:
        changes["conditions"] = _object(fields, "conditions")
    if "isActive" in fields.body:
        changes["isActive"] = _bool(fields, "isActive", None)
    if "redaction" in fields.body:
        changes["redaction"] = fields.choice("redaction", REDACTIONS, required=True)
    if not changes and not fields.errors:
        fields.bad("body", "send at least one field to change")
    fields.done()
    return changes


def clone_pack(body: Any) -> tuple[str, dict[str, Any]]:
    fields = Fields(body)
    pack = fields.string("packId", required=True, min_len=1, max_len=100, strip=True)
    policy = {
        "name": fields.string("name", required=True, min_len=1, max_len=200, strip=True) or "",
        "description": fields.string("description", max_len=2000),
        "mode": fields.choice("mode", MODES) or "flag",
        "priority": _int(fields, "priority", 0, low=-1000, high=1000),
        "conditions": _object(fields, "conditions"),
        "is_active": _bool(fields, "isActive", True),
        "redaction": fields.choice("redaction", REDACTIONS) or "none",
    }
    fields.done()
    return pack or "", policy


def agent_ref(body: Any) -> str:
    fields = Fields(body)
    agent = fields.string("agentId", required=True, min_len=1, max_len=200, strip=True)
    fields.done()
    return agent or ""


def version_name(body: Any) -> str | None:
    fields = Fields(body)
    name = fields.string("name", max_len=200, strip=True)
    fields.done()
    return name or None


def evaluate(body: Any) -> dict[str, Any]:
    fields = Fields(body)
    result: dict[str, Any] = {
        "prompt": fields.string("prompt"),
        "response": fields.string("response"),
        "metadata": fields.json_object("metadata"),
        "agent_id": fields.string("agentId", min_len=1, max_len=200),
        "policy_id": fields.string("policyId", min_len=1, max_len=200),
        "rule": None,
    }
    if fields.body.get("rule") is not None:
        sub = Fields(fields.body["rule"], prefix="rule.")
        if "name" not in sub.body:
            sub.body = {**sub.body, "name": "test rule"}
        result["rule"] = _rule(sub)
        fields.errors.extend(sub.errors)
    fields.done()
    return result


# -- alerts ----------------------------------------------------------------------------------------

def alert_filter(query: Mapping[str, str]) -> AlertFilter:
    statuses: tuple[str, ...] = ()
    if query.get("status"):
        statuses = tuple(s.strip() for s in query["status"].split(",") if s.strip())
        unknown = [s for s in statuses if s not in STATUSES]
        if unknown:
            raise InvalidInput.fields([FieldError("status", f"must be among {', '.join(STATUSES)}")])
    severity = query.get("severity") or None
    if severity is not None and severity not in SEVERITIES:
        raise InvalidInput.fields([FieldError("severity", f"must be one of {', '.join(SEVERITIES)}")])
    return AlertFilter(
        status=statuses, is_resolved=_query_bool(query, "isResolved"), severity=severity,
        agent_id=query.get("agentId") or None, rule_id=query.get("ruleId") or None,
        policy_id=query.get("policyId") or None, audit_log_id=query.get("auditLogId") or None,
        start_ms=_query_time(query, "from", "startDate"), end_ms=_query_time(query, "to", "endDate"),
    )


def alert_change(body: Any) -> tuple[str, str | None]:
    fields = Fields(body)
    status = fields.choice("status", STATUSES, required=True)
    note = fields.string("note", max_len=5000)
    fields.done()
    return status or "", note


def alert_note(body: Any) -> str | None:
    fields = Fields(body)
    note = fields.string("note", max_len=5000)
    fields.done()
    return note


_FILTER_IDS = ("agentId", "ruleId", "policyId", "auditLogId")
_FILTER_TIMES = (("from", "startDate"), ("to", "endDate"))
FILTER_KEYS = ("status", "isResolved", "severity", *_FILTER_IDS, *(n for pair in _FILTER_TIMES for n in pair))


def _filter_statuses(fields: Fields) -> tuple[str, ...]:
    value = fields.body.get("status")
    if value is None:
        return ()
    if isinstance(value, str):
        value = [s.strip() for s in value.split(",") if s.strip()]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        fields.bad("status", "must be a status or an array of statuses")
        return ()
    if any(v not in STATUSES for v in value):
        fields.bad("status", f"must be among {', '.join(STATUSES)}")
        return ()
    return tuple(dict.fromkeys(value))


def bulk_filter(raw: dict[str, Any]) -> AlertFilter:
    """The ``filter`` object of a bulk change. Strict, unlike a listing's query: an unknown key or a bad value
    would otherwise drop out of the filter and widen the change to every alert, so each is a 400 naming
    ``filter.<key>``, and so is a filter left with no criterion (``null`` values count as absent)."""
    fields = Fields(raw, prefix="filter.")
    for key in raw:
        if key not in FILTER_KEYS:
            fields.bad(key, f"is not an alert filter; use {', '.join(FILTER_KEYS)}")
    ids = {name: fields.string(name, min_len=1, max_len=200) for name in _FILTER_IDS}
    start, end = (next((fields.timestamp(n) for n in pair if fields.body.get(n) is not None), None)
                  for pair in _FILTER_TIMES)
    if start is not None and end is not None and end < start:
        fields.bad("to", "must not be before from")
    flt = AlertFilter(status=_filter_statuses(fields), is_resolved=_bool(fields, "isResolved", None),
                      severity=fields.choice("severity", SEVERITIES), agent_id=ids["agentId"], rule_id=ids["ruleId"],
                      policy_id=ids["policyId"], audit_log_id=ids["auditLogId"], start_ms=start, end_ms=end)
    if not fields.errors and flt == AlertFilter():
        fields.errors.append(FieldError("filter", "names no criterion; send at least one of "
                                                  f"{', '.join(FILTER_KEYS)}"))
    fields.done()
    return flt


def bulk_alerts(body: Any) -> tuple[list[str] | None, AlertFilter | None, str, str | None]:
    """A ``POST /alerts/resolve`` body: ``ids`` or a ``filter`` (not both), the new ``status`` and a ``note``."""
    fields = Fields(body)
    ids = fields.string_list("ids")
    status = fields.choice("status", STATUSES) or "resolved"
    note = fields.string("note", max_len=5000)
    raw = fields.body.get("filter")
    flt = None
    if raw is not None and not isinstance(raw, dict):
        fields.bad("filter", "must be an object of alert filters")
    elif raw is not None and ids is not None:
        fields.bad("filter", "send ids or a filter, not both")
    elif raw is not None:
        try:
            flt = bulk_filter(raw)
        except InvalidInput as exc:
            fields.errors.extend(exc.details)
    elif ids is None and not any(e.field == "ids" for e in fields.errors):
        fields.bad("ids", "send ids (an array of alert ids) or a filter object")
    if ids is not None and len(ids) > 10_000:
        fields.bad("ids", "at most 10,000 ids at once")
    fields.done()
    return ids, flt, status, note


def activity_filter(query: Mapping[str, str]) -> ActivityFilter:
    return ActivityFilter(actor=query.get("actor") or None, action=query.get("action") or None,
                          target_type=query.get("targetType") or None, target_id=query.get("targetId") or None,
                          start_ms=_query_time(query, "from", "startDate"), end_ms=_query_time(query, "to", "endDate"))


def rule_filters(query: Mapping[str, str]) -> dict[str, Any]:
    rule_type = query.get("ruleType") or None
    if rule_type is not None and rule_type not in RULE_TYPES:
        raise InvalidInput.fields([FieldError("ruleType", f"must be one of {', '.join(RULE_TYPES)}")])
    scope = query.get("scope")
    return {"policy_id": query.get("policyId") or None, "org_wide": scope == "organization",
            "rule_type": rule_type, "pack_id": query.get("packId") or None,
            "active": _query_bool(query, "isActive")}
