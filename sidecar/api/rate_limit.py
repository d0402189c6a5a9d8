"""Rate limits at the edge: one token per request from the caller's bucket, after authentication.

Authenticated calls are limited per API key (or per user, for a login): ``ingest`` for writing audit
events, ``read`` for everything else. The public account routes (register, login, refresh) are limited
per client address as ``auth``. Other public routes (health, prices, the Stripe webhook) are not limited.
"""

from __future__ import annotations

from aiohttp import web

from sidecar.services.principal import Principal
from sidecar.services.rate_limits import RateLimiter

_AUTH_PREFIX = "/api/v1/auth/"


async def charge(limits: RateLimiter, principal: Principal, *, ingest: bool) -> None:
    """One token from an authenticated caller's bucket; raises RateLimited when it is empty."""
    await limits.acquire("ingest" if ingest else "read", principal.key_id or f"user:{principal.user_id}")


async def charge_public(limits: RateLimiter, request: web.Request) -> None:
    """One token from the client address's ``auth`` bucket, for the public account routes only."""
    if request.path.startswith(_AUTH_PREFIX):
        await limits.acquire("auth", request.remote or "unknown")
