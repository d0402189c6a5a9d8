"""The rate-limit middleware: one token per request from the caller's bucket, after authentication.

Authenticated calls are limited per API key (or per user, for a login): ``ingest`` for writing audit
events, ``read`` for everything else. The public account routes (register, login, refresh) are limited
per client address as ``auth``. Other public routes (health, prices, the Stripe webhook) are not limited.
"""

from __future__ import annotations

from aiohttp import web

from sidecar.api.keys import PRINCIPAL, SERVICES
from sidecar.api.middlewares import Handler, permission_of
from sidecar.services.principal import INGEST

_AUTH_PREFIX = "/api/v1/auth/"


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    principal = request.get(PRINCIPAL)
    limits = request.app[SERVICES].limits
    if principal is not None:
        kind = "ingest" if permission_of(request.match_info.handler) is INGEST else "read"
        await limits.acquire(kind, principal.key_id or f"user:{principal.user_id}")
    elif request.path.startswith(_AUTH_PREFIX):
        await limits.acquire("auth", request.remote or "unknown")
    return await handler(request)
