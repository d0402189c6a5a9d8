"""Policies: CRUD, pack clones, agents, rules inside a policy, versions, analytics."""

from __future__ import annotations

from aiohttp import web

from sidecar.api import compliance_schemas as forms
from sidecar.api import schemas, serialize
from sidecar.api.keys import PRINCIPAL, SERVICES
from sidecar.api.middlewares import requires
from sidecar.clock import now_ms, to_iso
from sidecar.compliance.rules import RULE_TYPES
from sidecar.compliance.types import SEVERITIES
from sidecar.errors import FieldError, InvalidInput
from sidecar.services import principal as perms
from sidecar.store.analytics import AnalyticsFilter

_DAY = 86_400_000


@requires(perms.MANAGE)
async def create_policy(request: web.Request) -> web.Response:
    fields, rules = forms.policy_create(await schemas.json_body(request))
    policy = await request.app[SERVICES].policies.create_policy(request[PRINCIPAL], fields, rules)
    return serialize.json(serialize.policy_json(policy), status=201)


@requires(perms.MANAGE)
async def clone_pack(request: web.Request) -> web.Response:
    pack_id, fields = forms.clone_pack(await schemas.json_body(request))
    policy = await request.app[SERVICES].policies.clone_pack(request[PRINCIPAL], pack_id, fields)
    return serialize.json(serialize.policy_json(policy), status=201)


@requires(perms.READ)
async def list_policies(request: web.Request) -> web.Response:
    limit, offset, _ = schemas.paging(request.query)
    policies, total = await request.app[SERVICES].policies.list_policies(request[PRINCIPAL], limit=limit, offset=offset)
    return serialize.listing(request, [serialize.policy_json(p) for p in policies], total, limit=limit, offset=offset)


@requires(perms.READ)
async def get_policy(request: web.Request) -> web.Response:
    policy = await request.app[SERVICES].policies.get_policy(request[PRINCIPAL], request.match_info["policy_id"])
    return serialize.json(serialize.policy_json(policy))


@requires(perms.MANAGE)
async def update_policy(request: web.Request) -> web.Response:
    changes = forms.policy_update(await schemas.json_body(request))
    policy = await request.app[SERVICES].policies.update_policy(request[PRINCIPAL], request.match_info["policy_id"],
                                                                changes)
    return serialize.json(serialize.policy_json(policy))


@requires(perms.MANAGE)
async def delete_policy(request: web.Request) -> web.Response:
    await request.app[SERVICES].policies.delete_policy(request[PRINCIPAL], request.match_info["policy_id"])
    return web.Response(status=204)


@requires(perms.MANAGE)
async def attach_agent(request: web.Request) -> web.Response:
    agent_id = forms.agent_ref(await schemas.json_body(request))
    policy_id = request.match_info["policy_id"]
    _, attached_at = await request.app[SERVICES].policies.attach(request[PRINCIPAL], policy_id, agent_id)
    return serialize.json({"id": f"{policy_id}:{agent_id}", "agentId": agent_id, "policyId": policy_id,
                           "createdAt": to_iso(attached_at)})


@requires(perms.MANAGE)
async def detach_agent(request: web.Request) -> web.Response:
    body = await forms.optional_json_body(request)
    agent_id = forms.agent_ref(body if body else {"agentId": request.query.get("agentId")})
    await request.app[SERVICES].policies.detach(request[PRINCIPAL], request.match_info["policy_id"], agent_id)
    return serialize.json({"detached": True})


@requires(perms.MANAGE)
async def add_rule(request: web.Request) -> web.Response:
    policy_id = request.match_info["policy_id"]
    fields = forms.policy_rule_create(await schemas.json_body(request), policy_id)
    rule = await request.app[SERVICES].policies.create_rule(request[PRINCIPAL], fields, policy_id=policy_id)
    return serialize.json(serialize.rule_json(rule), status=201)


@requires(perms.MANAGE)
async def update_rule(request: web.Request) -> web.Response:
    changes = forms.rule_update(await schemas.json_body(request))
    rule = await request.app[SERVICES].policies.update_rule(request[PRINCIPAL], request.match_info["rule_id"], changes,
                                                            policy_id=request.match_info["policy_id"])
    return serialize.json(serialize.rule_json(rule))


@requires(perms.MANAGE)
async def delete_rule(request: web.Request) -> web.Response:
    await request.app[SERVICES].policies.delete_rule(request[PRINCIPAL], request.match_info["rule_id"],
                                                     policy_id=request.match_info["policy_id"])
    return web.Response(status=204)


@requires(perms.READ)
async def list_versions(request: web.Request) -> web.Response:
    limit, offset, _ = schemas.paging(request.query)
    versions = await request.app[SERVICES].policies.versions(request[PRINCIPAL], request.match_info["policy_id"])
    body = [serialize.version_json(v, full=False) for v in versions]
    return serialize.listing_of(request, body, limit=limit, offset=offset)


@requires(perms.MANAGE)
async def create_version(request: web.Request) -> web.Response:
    name = forms.version_name(await forms.optional_json_body(request))
    version = await request.app[SERVICES].policies.save_version(request[PRINCIPAL], request.match_info["policy_id"], name)
    return serialize.json(serialize.version_json(version, full=True), status=201)


@requires(perms.READ)
async def get_version(request: web.Request) -> web.Response:
    version = await request.app[SERVICES].policies.version(request[PRINCIPAL], request.match_info["policy_id"],
                                                           request.match_info["version_id"])
    return serialize.json(serialize.version_json(version, full=True))


@requires(perms.MANAGE)
async def restore_version(request: web.Request) -> web.Response:
    version = await request.app[SERVICES].policies.restore(request[PRINCIPAL], request.match_info["policy_id"],
                                                           request.match_info["version_id"])
    return serialize.json(serialize.version_json(version, full=True))


def _analytics_filter(request: web.Request, policy_id: str | None) -> AnalyticsFilter:
    flt = schemas.log_filter(request.query)
    end = flt.end_ms if flt.end_ms is not None else now_ms()
    start = flt.start_ms if flt.start_ms is not None else end - 30 * _DAY
    rule_type = request.query.get("ruleType") or None
    severity = request.query.get("severity") or None
    if rule_type is not None and rule_type not in RULE_TYPES:
        raise InvalidInput.fields([FieldError("ruleType", f"must be one of {', '.join(RULE_TYPES)}")])
    if severity is not None and severity not in SEVERITIES:
        raise InvalidInput.fields([FieldError("severity", f"must be one of {', '.join(SEVERITIES)}")])
    return AnalyticsFilter(start_ms=start, end_ms=end, agent_id=flt.agent_id, rule_type=rule_type, severity=severity,
                           policy_id=policy_id)


@requires(perms.READ)
async def all_analytics(request: web.Request) -> web.Response:
    body = await request.app[SERVICES].policies.analytics(request[PRINCIPAL], _analytics_filter(request, None), None)
    return serialize.json(body)


@requires(perms.READ)
async def policy_analytics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    policy = await services.policies.get_policy(request[PRINCIPAL], request.match_info["policy_id"])
    body = await services.policies.analytics(request[PRINCIPAL], _analytics_filter(request, policy.id), policy)
    return serialize.json(body)
