"""Reports: request (built in the background), status, download, list, delete; schedules."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from sidecar.api import report_schemas as forms
from sidecar.api import schemas, serialize
from sidecar.api.keys import PRINCIPAL, SERVICES
from sidecar.api.middlewares import requires
from sidecar.clock import datetime_to_ms
from sidecar.jobs.scheduler import cron_trigger
from sidecar.services import principal as perms
from sidecar.services.reports import CONTENT_TYPES, file_name
from sidecar.store.reports import ScheduleRecord


@requires(perms.TRIAGE)
async def create_report(request: web.Request) -> web.Response:
    body = forms.report_request(await schemas.json_body(request))
    record = await request.app[SERVICES].reports.create(request[PRINCIPAL], body)
    return serialize.json(serialize.report_json(record), status=202,
                          headers={"Location": f"/api/v1/reports/{record.id}"})


@requires(perms.READ)
async def list_reports(request: web.Request) -> web.Response:
    limit, offset, _ = schemas.paging(request.query)
    status, kind = forms.report_list_filter(request.query)
    items, total = await request.app[SERVICES].reports.list(request[PRINCIPAL], limit=limit, offset=offset,
                                                            status=status, type=kind)
    return serialize.listing(request, [serialize.report_json(r) for r in items], total, limit=limit, offset=offset)


@requires(perms.READ)
async def get_report(request: web.Request) -> web.Response:
    record = await request.app[SERVICES].reports.get(request[PRINCIPAL], request.match_info["report_id"])
    return serialize.json(serialize.report_json(record))


@requires(perms.READ)
async def download_report(request: web.Request) -> web.FileResponse:
    record, path = await request.app[SERVICES].reports.download(request[PRINCIPAL], request.match_info["report_id"])
    return web.FileResponse(path, headers={
        "Content-Type": CONTENT_TYPES[record.format],
        "Content-Disposition": f'attachment; filename="{file_name(record)}"',
        "X-Content-SHA256": record.sha256 or "",
        "ETag": f'"{record.sha256}"',
        "Cache-Control": "private, no-store",
    })


@requires(perms.TRIAGE)
async def delete_report(request: web.Request) -> web.Response:
    await request.app[SERVICES].reports.delete(request[PRINCIPAL], request.match_info["report_id"])
    return web.Response(status=204)


def _schedule(record: ScheduleRecord) -> dict[str, object]:
    now = datetime.now(UTC)
    following = cron_trigger(record.cron, record.timezone).get_next_fire_time(None, now)
    return serialize.schedule_json(record, next_run_ms=datetime_to_ms(following) if following else None)


@requires(perms.TRIAGE)
async def create_schedule(request: web.Request) -> web.Response:
    body = forms.schedule_request(await schemas.json_body(request))
    record = await request.app[SERVICES].reports.create_schedule(request[PRINCIPAL], body)
    return serialize.json(_schedule(record), status=201)


@requires(perms.READ)
async def list_schedules(request: web.Request) -> web.Response:
    limit, offset, _ = schemas.paging(request.query)
    items, total = await request.app[SERVICES].reports.list_schedules(request[PRINCIPAL], limit=limit, offset=offset)
    return serialize.listing(request, [_schedule(r) for r in items], total, limit=limit, offset=offset)


@requires(perms.READ)
async def get_schedule(request: web.Request) -> web.Response:
    record = await request.app[SERVICES].reports.get_schedule(request[PRINCIPAL], request.match_info["schedule_id"])
    return serialize.json(_schedule(record))


@requires(perms.TRIAGE)
async def delete_schedule(request: web.Request) -> web.Response:
    await request.app[SERVICES].reports.delete_schedule(request[PRINCIPAL], request.match_info["schedule_id"])
    return web.Response(status=204)
