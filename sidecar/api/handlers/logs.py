"""Audit logs: ingest (single, batch), list, get, export."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
from aiohttp import web

from sidecar.api import schemas, serialize
from sidecar.api.keys import PRINCIPAL, SERVICES
from sidecar.api.middlewares import requires
from sidecar.errors import FieldError, InvalidInput
from sidecar.reports.cells import cell as _cell
from sidecar.services import principal as perms


@requires(perms.INGEST)
async def create_log(request: web.Request) -> web.Response:
    event = schemas.audit_event(await schemas.json_body(request))
    [stored] = await request.app[SERVICES].ingest.ingest(request[PRINCIPAL], [event])
    return serialize.json(stored, status=201)


@requires(perms.INGEST)
async def create_batch(request: web.Request) -> web.Response:
    events = schemas.audit_batch(await schemas.json_body(request))
    stored = await request.app[SERVICES].ingest.ingest(request[PRINCIPAL], events)
    return serialize.json({"data": stored, "processed": len(stored), "errors": 0}, status=201)


@requires(perms.READ)
async def list_logs(request: web.Request) -> web.Response:
    flt = schemas.log_filter(request.query)
    limit, offset, page = schemas.paging(request.query)
    before = request.query.get("before") or None
    result = await request.app[SERVICES].queries.list_logs(request[PRINCIPAL], flt, limit=limit, offset=offset,
                                                           before=before)
    return serialize.json(serialize.paginated(result.items, result.total, page=page, limit=limit, offset=offset))


@requires(perms.READ)
async def get_log(request: web.Request) -> web.Response:
    event = await request.app[SERVICES].queries.get_log(request[PRINCIPAL], request.match_info["log_id"])
    return serialize.json(event)


CSV_COLUMNS = ("id", "sequence", "createdAt", "startedAt", "endedAt", "agentId", "action", "traceId", "spanId",
               "parentSpanId", "enforcementAction", "complianceFlags", "prompt", "response", "metadata", "hash")


def csv_rows(events: list[dict[str, Any]], *, header: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for event in events:
        writer.writerow([_cell(event.get(column)) for column in CSV_COLUMNS])
    return out.getvalue().encode()


@requires(perms.READ)
async def export_logs(request: web.Request) -> web.StreamResponse:
    fmt = request.query.get("format", "csv")
    if fmt not in ("csv", "json", "jsonl"):
        raise InvalidInput.fields([FieldError("format", "must be csv, json or jsonl")])
    flt = schemas.log_filter(request.query)
    content_type = {"csv": "text/csv", "json": "application/json", "jsonl": "application/x-ndjson"}[fmt]
    response = web.StreamResponse(headers={
        "Content-Type": f"{content_type}; charset=utf-8",
        "Content-Disposition": f'attachment; filename="audit-logs.{fmt}"',
    })
    chunks = request.app[SERVICES].queries.export(request[PRINCIPAL], flt)
    first = True
    async for chunk in chunks:
        if first:
            await response.prepare(request)
        if fmt == "csv":
            await response.write(csv_rows(chunk, header=first))
        elif fmt == "jsonl":
            await response.write(b"".join(orjson.dumps(event) + b"\n" for event in chunk))
        else:
            body = b",".join(orjson.dumps(event) for event in chunk)
            await response.write((b"[" if first else b",") + body)
        first = False
    if first:  # nothing matched
        await response.prepare(request)
        if fmt == "csv":
            await response.write(csv_rows([], header=True))
        elif fmt == "json":
            await response.write(b"[")
    if fmt == "json":
        await response.write(b"]")
    await response.write_eof()
    return response
