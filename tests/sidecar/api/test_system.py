"""Health, request ids, and the OpenAPI document covering every route."""

from __future__ import annotations

from sidecar.api.app import create_app
from sidecar.api.openapi import OPERATIONS, build_spec
from tests.helpers import ApiClient


async def test_health(api: ApiClient) -> None:
    for path in ("/health", "/api/v1/health"):
        reply = await api.get(path)
        assert reply.status == 200
        assert reply.body == {"status": "ok", "version": "0.1.0", "database": "up"}


async def test_request_id_is_reused_when_sane(api: ApiClient) -> None:
    reply = await api.get("/health", headers={"X-Request-Id": "abc-123"})
    assert reply.headers["X-Request-Id"] == "abc-123"
    reply = await api.get("/health", headers={"X-Request-Id": "bad id with spaces\u00e9"})
    assert reply.headers["X-Request-Id"] != "bad id with spaces\u00e9" and len(reply.headers["X-Request-Id"]) == 16


async def test_openapi_describes_every_route(api: ApiClient, settings) -> None:
    reply = await api.get("openapi.json")
    assert reply.status == 200
    spec = reply.body
    assert spec["openapi"] == "3.1.0"
    app = create_app(settings)
    routed = {(r.method, r.resource.canonical) for r in app.router.routes() if r.method != "HEAD"}
    described = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert routed == described
    assert set(OPERATIONS) == routed  # no stale entries either
    assert spec["paths"]["/api/v1/audit-logs"]["post"]["security"] == [{"apiKey": []}, {"bearer": []}]
    assert spec["paths"]["/health"]["get"]["security"] == []


def test_a_route_missing_from_the_document_fails(settings) -> None:
    from aiohttp import web

    from sidecar.api.middlewares import requires

    @requires(None)
    async def extra(request: web.Request) -> web.Response:
        return web.Response()

    app = create_app(settings)
    app.router.add_get("/api/v1/undocumented", extra)
    try:
        build_spec(app.router, version="x")
    except KeyError as exc:
        assert exc.args[0] == ("GET", "/api/v1/undocumented")
    else:
        raise AssertionError("build_spec accepted an undocumented route")


def test_every_handler_declares_a_permission(settings) -> None:
    from aiohttp import web

    from sidecar.api.routes import add_routes

    async def naked(request: web.Request) -> web.Response:
        return web.Response()

    app = web.Application()
    add_routes(app)  # the real table passes
    import sidecar.api.routes as routes

    original = routes.route_table
    routes.route_table = lambda: [web.get("/x", naked)]
    try:
        add_routes(web.Application())
    except RuntimeError as exc:
        assert "declares no permission" in str(exc)
    else:
        raise AssertionError("a handler without a permission was accepted")
    finally:
        routes.route_table = original
