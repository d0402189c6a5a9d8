"""Organisation-wide compliance rules, rule packs, and dry-run evaluation."""

from __future__ import annotations

from aiohttp import web

from sidecar.api import compliance_schemas as forms
from sidecar.api import schemas, serialize
from sidecar.api.keys import PRINCIPAL, SERVICES
from sidecar.api.middlewares import requires
from sidecar.clock import to_iso
from sidecar.services import principal as perms


@requires(perms.MANAGE)
async def create_rule(request: web.Request) -> web.Response:
    fields = forms.rule_create(await schemas.json_body(request))
    rule = await request.app[SERVICES].policies.create_rule(request[PRINCIPAL], fields)
    return serialize.json(serialize.rule_json(rule), status=201)


@requires(perms.READ)
async def list_rules(request: web.Request) -> web.Response:
    limit, offset, _ = schemas.paging(request.query)
    rules, total = await request.app[SERVICES].policies.list_rules(
        request[PRINCIPAL], limit=limit, offset=offset, **forms.rule_filters(request.query))
    return serialize.listing(request, [serialize.rule_json(r) for r in rules], total, limit=limit, offset=offset)


@requires(perms.READ)
async def get_rule(request: web.Request) -> web.Response:
    rule = await request.app[SERVICES].policies.get_rule(request[PRINCIPAL], request.match_info["rule_id"])
    return serialize.json(serialize.rule_json(rule))


@requires(perms.MANAGE)
async def update_rule(request: web.Request) -> web.Response:
    changes = forms.rule_update(await schemas.json_body(request))
    rule = await request.app[SERVICES].policies.update_rule(request[PRINCIPAL], request.match_info["rule_id"], changes)
    return serialize.json(serialize.rule_json(rule))


@requires(perms.MANAGE)
async def delete_rule(request: web.Request) -> web.Response:
    await request.app[SERVICES].policies.delete_rule(request[PRINCIPAL], request.match_info["rule_id"])
    return web.Response(status=204)


@requires(perms.READ)
async def list_packs(request: web.Request) -> web.Response:
    limit, offset, _ = schemas.paging(request.query)
    packs = [pack.to_json() for pack in request.app[SERVICES].policies.packs()]
    return serialize.listing_of(request, packs, limit=limit, offset=offset)


@requires(perms.MANAGE)
async def install_pack(request: web.Request) -> web.Response:
    pack_id = forms.pack_id(await schemas.json_body(request))
    rules = await request.app[SERVICES].policies.install_pack(request[PRINCIPAL], pack_id)
    return serialize.json([serialize.rule_json(r) for r in rules], status=201)


@requires(perms.READ)
async def installed_packs(request: web.Request) -> web.Response:
    limit, offset, _ = schemas.paging(request.query)
    rows = await request.app[SERVICES].policies.installed_packs(request[PRINCIPAL])
    body = [{"id": pack_id, "packId": pack_id, "name": pack.name if pack else pack_id, "version": version,
             "latestVersion": pack.version if pack else None, "installedAt": to_iso(at), "ruleCount": count}
            for pack, pack_id, version, at, count in rows]
    return serialize.listing_of(request, body, limit=limit, offset=offset)


@requires(perms.MANAGE)
async def upgrade_pack(request: web.Request) -> web.Response:
    done = await request.app[SERVICES].policies.upgrade_pack(request[PRINCIPAL], request.match_info["pack_id"])
    return serialize.json(serialize.pack_upgrade_json(done))


@requires(perms.MANAGE)
async def uninstall_pack(request: web.Request) -> web.Response:
    await request.app[SERVICES].policies.uninstall_pack(request[PRINCIPAL], request.match_info["pack_id"])
    return web.Response(status=204)


@requires(perms.READ)
async def evaluate(request: web.Request) -> web.Response:
    form = forms.evaluate(await schemas.json_body(request))
    verdict = await request.app[SERVICES].policies.evaluate(request[PRINCIPAL], **form)
    return serialize.json(serialize.verdict_json(verdict))
