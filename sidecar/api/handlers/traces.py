"""Traces: list, one trace as spans + tree + summary, spans as a page, subtree and ancestors of an event."""

from __future__ import annotations

from aiohttp import web

from sidecar.api import schemas, serialize
from sidecar.api.keys import PRINCIPAL, SERVICES
from sidecar.api.middlewares import requires
from sidecar.errors import FieldError, InvalidInput
from sidecar.services import principal as perms


@requires(perms.READ)
async def list_traces(request: web.Request) -> web.Response:
    flt = schemas.trace_filter(request.query)
    limit, offset, page = schemas.paging(request.query)
    items, total, following = await request.app[SERVICES].queries.list_traces(
        request[PRINCIPAL], flt, limit=limit, offset=offset, before=request.query.get("before") or None)
    body = serialize.paginated(items, total, page=page, limit=limit, offset=offset)
    if following is not None:  # a position, so traces that move to the top meanwhile neither repeat nor skip
        body["pagination"]["nextCursor"] = following
    return serialize.json(body)


@requires(perms.READ)
async def get_trace(request: web.Request) -> web.Response:
    view = await request.app[SERVICES].queries.trace(request[PRINCIPAL], request.match_info["trace_id"])
    return serialize.json(serialize.trace(view))


@requires(perms.READ)
async def trace_spans(request: web.Request) -> web.Response:
    limit, offset, page = schemas.paging(request.query)
    after = request.query.get("after") or None
    before = request.query.get("before") or None
    if after is not None and before is not None:
        raise InvalidInput("give after or before, not both",
                           [FieldError("before", "cannot be combined with after")])
    spans, total = await request.app[SERVICES].queries.trace_page(
        request[PRINCIPAL], request.match_info["trace_id"], limit=limit, offset=offset, after=after, before=before)
    body = serialize.paginated(spans, total, page=page, limit=limit, offset=offset)
    cursor = body["pagination"].get("nextCursor")
    headers = {"Link": f'<{request.url.with_query(after=cursor, limit=limit)}>; rel="next"'} if cursor else None
    return serialize.json(body, headers=headers)


@requires(perms.READ)
async def chain(request: web.Request) -> web.Response:
    root, found = await request.app[SERVICES].queries.chain(request[PRINCIPAL], request.match_info["log_id"])
    return serialize.json({"root": root, "descendants": found})


@requires(perms.READ)
async def ancestors(request: web.Request) -> web.Response:
    found = await request.app[SERVICES].queries.ancestors(request[PRINCIPAL], request.match_info["log_id"])
    return serialize.json(found)
