"""The application factory: settings in, a configured aiohttp app out. Nothing opens at import time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from sidecar.api.keys import HOST_CHECK, SERVICES, SETTINGS
from sidecar.api.middlewares import access_middleware, echo_request_id, request_middleware
from sidecar.api.routes import add_routes
from sidecar.jobs.scheduler import ReportJobs
from sidecar.services.container import Services
from sidecar.settings import Settings


async def services_ctx(app: web.Application) -> AsyncIterator[None]:
    app[SERVICES] = Services.build(app[SETTINGS])
    yield
    await app[SERVICES].aclose()


async def relay_ctx(app: web.Application) -> AsyncIterator[None]:
    """On PostgreSQL, the live stream also carries what other sidecars on the database store."""
    relay = app[SERVICES].relay
    if relay is not None:
        relay.start()
    yield
    if relay is not None:
        await relay.aclose()


async def notifications_ctx(app: web.Application) -> AsyncIterator[None]:
    """The notification worker runs while the app does. Bound beyond loopback under ``auto``, it first warns
    once if organisations have private targets configured (they will be refused)."""
    service = app[SERVICES].notifications
    settings = app[SETTINGS]
    if settings.allow_private_notify_targets is None and not settings.binds_loopback:
        await service.warn_refused_private_targets()
    task = asyncio.create_task(service.run(), name="notifications")
    yield
    service.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


JOBS = web.AppKey("jobs", ReportJobs)


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    """Background jobs: started after the services, stopped before them."""
    jobs = app[JOBS] = ReportJobs(app[SERVICES].reports)
    await jobs.start()
    yield
    jobs.shutdown()


async def _end_streams(app: web.Application) -> None:
    """Close live streams first, so a graceful stop doesn't wait for their clients to hang up."""
    if SERVICES in app:
        app[SERVICES].hub.close()
async def ledger_ctx(app: web.Application) -> AsyncIterator[None]:
    """The ledger's background work: checkpoint signing and the retention purge; signs the final head on stop."""
    services = app[SERVICES]
    await services.ledger.start()
    await services.retention.start()
    yield
    await services.retention.aclose()
    await services.ledger.aclose()


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[request_middleware, access_middleware],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[HOST_CHECK] = settings.host_check()
    app.cleanup_ctx.extend([services_ctx, ledger_ctx, relay_ctx, notifications_ctx, scheduler_ctx])
    app.on_shutdown.append(_end_streams)
    app.on_response_prepare.append(echo_request_id)
    add_routes(app)
    return app
