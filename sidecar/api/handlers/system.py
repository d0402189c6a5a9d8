"""Health and the OpenAPI description."""

from __future__ import annotations

from aiohttp import web

from sidecar.api import serialize
from sidecar.api.keys import SERVICES
from sidecar.api.middlewares import requires
from sidecar.api.openapi import build_spec
from sidecar.errors import Unavailable


@requires(None)
async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    try:
        body = await services.health()
    except Exception as exc:  # the database does not answer: degraded, not an error page
        raise Unavailable("the database is not answering") from exc
    return serialize.json(body)


@requires(None)
async def openapi(request: web.Request) -> web.Response:
    return serialize.json(build_spec(request.app.router, version=request.app[SERVICES].version))
