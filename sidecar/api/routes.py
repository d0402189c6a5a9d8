"""The whole HTTP API in one table."""

from __future__ import annotations

from aiohttp import web

from sidecar.api.handlers import auth, logs, system, traces

API = "/api/v1"


def route_table() -> list[web.RouteDef]:
    return [
        web.get("/health", system.health),
        web.get(f"{API}/health", system.health),
        web.get(f"{API}/openapi.json", system.openapi),
        # accounts
        web.post(f"{API}/auth/register", auth.register),
        web.post(f"{API}/auth/login", auth.login),
        web.post(f"{API}/auth/refresh", auth.refresh),
        web.post(f"{API}/auth/logout", auth.logout),
        web.get(f"{API}/auth/me", auth.me),
        web.patch(f"{API}/auth/me", auth.update_me),
        web.post(f"{API}/auth/api-keys", auth.create_api_key),
        web.get(f"{API}/auth/api-keys", auth.list_api_keys),
        web.delete(f"{API}/auth/api-keys/{{key_id}}", auth.revoke_api_key),
        web.get(f"{API}/users", auth.list_users),
        web.post(f"{API}/users", auth.create_user),
        web.patch(f"{API}/users/{{user_id}}", auth.update_user),
        web.delete(f"{API}/users/{{user_id}}", auth.delete_user),
        # audit logs
        web.post(f"{API}/audit-logs", logs.create_log),
        web.post(f"{API}/audit-logs/batch", logs.create_batch),
        web.get(f"{API}/audit-logs", logs.list_logs),
        web.get(f"{API}/audit-logs/export", logs.export_logs),
        web.get(f"{API}/audit-logs/trace/{{trace_id}}", traces.trace_spans),
        web.get(f"{API}/audit-logs/{{log_id}}", logs.get_log),
        web.get(f"{API}/audit-logs/{{log_id}}/chain", traces.chain),
        web.get(f"{API}/audit-logs/{{log_id}}/ancestors", traces.ancestors),
        # traces
        web.get(f"{API}/traces", traces.list_traces),
        web.get(f"{API}/traces/{{trace_id}}", traces.get_trace),
    ]


def add_routes(app: web.Application) -> None:
    """Register every route; refuse to start if a handler does not declare its permission."""
    table = route_table()
    for route in table:
        if not hasattr(route.handler, "permission"):
            raise RuntimeError(f"handler {route.handler.__qualname__} declares no permission")
    app.add_routes(table)
