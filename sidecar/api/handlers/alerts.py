"""Alerts: list, show, triage one or many; the activity log."""

from __future__ import annotations

from aiohttp import web

from sidecar.api import compliance_schemas as forms
from sidecar.api import schemas, serialize
from sidecar.api.keys import PRINCIPAL, SERVICES
from sidecar.api.middlewares import requires
from sidecar.services import principal as perms


@requires(perms.READ)
async def list_alerts(request: web.Request) -> web.Response:
    flt = forms.alert_filter(request.query)
    limit, offset, _ = schemas.paging(request.query)
    alerts, total = await request.app[SERVICES].alerts.list(request[PRINCIPAL], flt, limit=limit, offset=offset)
    return serialize.listing(request, [serialize.alert_json(a) for a in alerts], total, limit=limit, offset=offset)


@requires(perms.READ)
async def alert_counts(request: web.Request) -> web.Response:
    counts = await request.app[SERVICES].alerts.open_counts(request[PRINCIPAL])
    return serialize.json({"open": counts, "openTotal": sum(counts.values())})


@requires(perms.READ)
async def get_alert(request: web.Request) -> web.Response:
    alert = await request.app[SERVICES].alerts.get(request[PRINCIPAL], request.match_info["alert_id"])
    return serialize.json(serialize.alert_json(alert))


@requires(perms.TRIAGE)
async def resolve_alert(request: web.Request) -> web.Response:
    note = forms.alert_note(await forms.optional_json_body(request))
    alert = await request.app[SERVICES].alerts.set_status(request[PRINCIPAL], request.match_info["alert_id"],
                                                          status="resolved", note=note)
    return serialize.json(serialize.alert_json(alert))


@requires(perms.TRIAGE)
async def update_alert(request: web.Request) -> web.Response:
    status, note = forms.alert_change(await schemas.json_body(request))
    alert = await request.app[SERVICES].alerts.set_status(request[PRINCIPAL], request.match_info["alert_id"],
                                                          status=status, note=note)
    return serialize.json(serialize.alert_json(alert))


@requires(perms.TRIAGE)
async def bulk_update(request: web.Request) -> web.Response:
    ids, flt, status, note = forms.bulk_alerts(await schemas.json_body(request))
    changed = await request.app[SERVICES].alerts.set_status_many(request[PRINCIPAL], ids=ids, flt=flt, status=status,
                                                                 note=note)
    return serialize.json({"updated": len(changed), "ids": changed, "status": status})


@requires(perms.ACTIVITY)
async def list_activity(request: web.Request) -> web.Response:
    flt = forms.activity_filter(request.query)
    limit, offset, _ = schemas.paging(request.query)
    items, total = await request.app[SERVICES].alerts.activity(request[PRINCIPAL], flt, limit=limit, offset=offset)
    return serialize.listing(request, [serialize.activity_json(a) for a in items], total, limit=limit, offset=offset)
