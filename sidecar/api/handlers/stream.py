"""``GET /api/v1/stream``: server-sent events of what is committed, for live views.

The caller's credential is checked again before every delivery and at least every ``RECHECK_SECONDS`` (from
the auth service's caches, so revocation elsewhere shows within about twice that): a revoked key, a logout, a
removed user, a password change elsewhere or an expired access token ends the stream with a last
``stream.closed`` event saying why (``{"status": 401, "code": "unauthorized", "error": …}``). A credential
that ends in this process wakes idle streams at once; an access token's expiry ends its stream on time.
"""

from __future__ import annotations

import asyncio

import orjson
from aiohttp import web

from sidecar import errors
from sidecar.api import errors as api_errors
from sidecar.api.keys import PRINCIPAL, SERVICES
from sidecar.api.middlewares import requires
from sidecar.services import principal as perms
from sidecar.services.events import RECHECK

KEEPALIVE_SECONDS = 15.0
RECHECK_SECONDS = 5.0


@requires(perms.READ)
async def stream(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    hub, auth = services.hub, services.auth
    principal = request[PRINCIPAL]
    subscriber = hub.subscribe(principal.org_id)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    loop = asyncio.get_running_loop()
    try:
        await response.prepare(request)
        await response.write(b"retry: 3000\nevent: ready\ndata: {}\n\n")
        last_write = loop.time()
        while not hub.closed:
            left = auth.seconds_left(principal)
            wait = RECHECK_SECONDS if left is None else min(RECHECK_SECONDS, left + 0.01)
            try:
                event = await asyncio.wait_for(subscriber.queue.get(), wait)
            except asyncio.TimeoutError:
                event = RECHECK
            if event is None:
                break
            try:
                principal = await auth.recheck(principal)
                perms.READ.check(principal)
            except (errors.Unauthenticated, errors.Forbidden) as exc:
                ended = {"status": api_errors.status_for(exc), "code": exc.code, "error": exc.message}
                await response.write(b"event: stream.closed\ndata: " + orjson.dumps(ended) + b"\n\n")
                break
            if event is RECHECK:
                if loop.time() - last_write >= KEEPALIVE_SECONDS:
                    await response.write(b": keep-alive\n\n")
                    last_write = loop.time()
                continue
            if subscriber.dropped:
                await response.write(b"event: stream.overflow\ndata: " + orjson.dumps({"dropped": subscriber.dropped})
                                     + b"\n\n")
                subscriber.dropped = 0
            await response.write(f"id: {event.id}\nevent: {event.kind}\ndata: ".encode() + orjson.dumps(event.data)
                                 + b"\n\n")
            last_write = loop.time()
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.unsubscribe(subscriber)
    return response
