"""``GET /api/v1/stream``: server-sent events of what is committed, for live views."""

from __future__ import annotations

import asyncio

import orjson
from aiohttp import web

from sidecar.api.keys import PRINCIPAL, SERVICES
from sidecar.api.middlewares import requires
from sidecar.services import principal as perms

KEEPALIVE_SECONDS = 15.0


@requires(perms.READ)
async def stream(request: web.Request) -> web.StreamResponse:
    hub = request.app[SERVICES].hub
    subscriber = hub.subscribe(request[PRINCIPAL].org_id)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    try:
        await response.prepare(request)
        await response.write(b"retry: 3000\nevent: ready\ndata: {}\n\n")
        while not hub.closed:
            try:
                event = await asyncio.wait_for(subscriber.queue.get(), KEEPALIVE_SECONDS)
            except asyncio.TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if event is None:
                break
            if subscriber.dropped:
                await response.write(b"event: stream.overflow\ndata: " + orjson.dumps({"dropped": subscriber.dropped})
                                     + b"\n\n")
                subscriber.dropped = 0
            await response.write(f"id: {event.id}\nevent: {event.kind}\ndata: ".encode() + orjson.dumps(event.data)
                                 + b"\n\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.unsubscribe(subscriber)
    return response
