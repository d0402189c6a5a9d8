"""Agents: register, list, show (with policies and activity), change, delete."""

from __future__ import annotations

from aiohttp import web

from sidecar.api import compliance_schemas as forms
from sidecar.api import schemas, serialize
from sidecar.api.keys import PRINCIPAL, SERVICES
from sidecar.api.middlewares import requires
from sidecar.services import principal as perms


@requires(perms.MANAGE)
async def create_agent(request: web.Request) -> web.Response:
    fields = forms.agent_create(await schemas.json_body(request))
    agent = await request.app[SERVICES].policies.create_agent(request[PRINCIPAL], fields)
    return serialize.json(serialize.agent_json(agent), status=201)


@requires(perms.READ)
async def list_agents(request: web.Request) -> web.Response:
    limit, offset, _ = schemas.paging(request.query)
    agents, total = await request.app[SERVICES].policies.list_agents(request[PRINCIPAL], limit=limit, offset=offset,
                                                                    type=request.query.get("type") or None)
    return serialize.listing(request, [serialize.agent_json(a) for a in agents], total, limit=limit, offset=offset)


@requires(perms.READ)
async def get_agent(request: web.Request) -> web.Response:
    agent, policies, stats = await request.app[SERVICES].policies.agent_detail(request[PRINCIPAL],
                                                                               request.match_info["agent_id"])
    body = serialize.agent_json(agent)
    body["policies"] = [{"id": p.id, "name": p.name, "mode": p.mode, "priority": p.priority, "isActive": p.is_active}
                        for p in policies]
    body["activity"] = stats
    return serialize.json(body)


@requires(perms.MANAGE)
async def update_agent(request: web.Request) -> web.Response:
    changes = forms.agent_update(await schemas.json_body(request))
    agent = await request.app[SERVICES].policies.update_agent(request[PRINCIPAL], request.match_info["agent_id"], changes)
    return serialize.json(serialize.agent_json(agent))


@requires(perms.MANAGE)
async def delete_agent(request: web.Request) -> web.Response:
    await request.app[SERVICES].policies.delete_agent(request[PRINCIPAL], request.match_info["agent_id"])
    return web.Response(status=204)


@requires(perms.READ)
async def unregistered_agents(request: web.Request) -> web.Response:
    """Agent ids seen in events that name no registered agent (``limit`` default 100, max 500)."""
    limit, _, _ = schemas.paging({"limit": request.query.get("limit", "100")})
    seen = await request.app[SERVICES].policies.unregistered_agents(request[PRINCIPAL], limit=limit)
    body = [serialize.seen_agent_json(s) for s in seen]
    return serialize.listing(request, body, len(body), limit=limit, offset=0)
