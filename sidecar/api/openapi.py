"""The OpenAPI 3.1 description of the API, built from the route table plus per-operation notes.

``build_spec`` raises if a routed operation has no entry in :data:`OPERATIONS`, so the
document cannot silently fall behind the routes (a test builds it for the real app).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from sidecar.api.middlewares import permission_of

_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "status"],
        "properties": {
            "error": _STR, "status": {"type": "integer"}, "code": _STR, "requestId": _STR,
            "details": {"type": "array", "items": {"type": "object", "properties": {"field": _STR, "message": _STR}}},
        },
    },
    "EventInput": {
        "type": "object",
        "required": ["action"],
        "properties": {
            "action": {"type": "string", "minLength": 1, "maxLength": 200},
            "prompt": {"type": ["string", "null"], "maxLength": 100000},
            "response": {"type": ["string", "null"], "maxLength": 100000},
            "agentId": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
            "traceId": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
            "spanId": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
            "parentSpanId": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
            "startedAt": _NULLABLE_TIME,
            "endedAt": _NULLABLE_TIME,
            "metadata": {"type": ["object", "null"]},
        },
    },
    "Event": {
        "type": "object",
        "required": ["id", "action", "createdAt", "complianceFlags", "enforcementAction", "sequence", "hash"],
        "properties": {
            "id": _STR, "organizationId": _STR, "action": _STR, "agentId": _NULLABLE_STR, "prompt": _NULLABLE_STR,
            "response": _NULLABLE_STR, "metadata": {"type": ["object", "null"]}, "traceId": _NULLABLE_STR,
            "spanId": _STR, "parentSpanId": _NULLABLE_STR, "startedAt": _TIME, "endedAt": _TIME,
            "createdAt": _TIME, "complianceFlags": {"type": "array", "items": _STR},
            "enforcementAction": {"enum": ["allow", "log", "flag", "block"]},
            "violationDetails": {"type": ["array", "null"], "items": {"type": "object"}},
            "sequence": {"type": "integer"}, "hash": _STR,
        },
    },
    "Pagination": {
        "type": "object",
        "required": ["page", "limit", "offset", "total", "totalPages"],
        "properties": {"page": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"},
                       "total": {"type": "integer"}, "totalPages": {"type": "integer"}, "nextCursor": _STR},
    },
    "EventPage": {
        "type": "object", "required": ["data", "pagination"],
        "properties": {"data": {"type": "array", "items": _ref("Event")}, "pagination": _ref("Pagination")},
    },
    "TraceRow": {
        "type": "object",
        "properties": {
            "traceId": _STR, "rootAction": _NULLABLE_STR, "agentIds": {"type": "array", "items": _STR},
            "spanCount": {"type": "integer"}, "flaggedCount": {"type": "integer"},
            "enforcementAction": _STR, "startedAt": _TIME, "endedAt": _TIME, "durationMs": {"type": "integer"},
        },
    },
    "TracePage": {
        "type": "object", "required": ["data", "pagination"],
        "properties": {"data": {"type": "array", "items": _ref("TraceRow")}, "pagination": _ref("Pagination")},
    },
    "Trace": {
        "type": "object", "required": ["traceId", "spans", "tree", "summary"],
        "properties": {"traceId": _STR, "spans": {"type": "array", "items": _ref("Event")},
                       "tree": {"type": "array", "items": {"type": "object"}}, "summary": {"type": "object"}},
    },
    "Organization": {
        "type": "object",
        "properties": {"id": _STR, "name": _STR, "email": _STR, "plan": _STR, "createdAt": _TIME},
    },
    "User": {
        "type": "object",
        "properties": {"id": _STR, "organizationId": _STR, "email": _STR, "name": _STR,
                       "role": {"enum": ["owner", "admin", "analyst", "auditor"]}, "createdAt": _TIME,
                       "updatedAt": _TIME},
    },
    "Tokens": {
        "type": "object", "required": ["accessToken", "refreshToken", "expiresIn", "organization"],
        "properties": {"accessToken": _STR, "refreshToken": _STR, "tokenType": _STR,
                       "expiresIn": {"type": "integer"}, "organization": _ref("Organization"), "user": _ref("User")},
    },
    "ApiKey": {
        "type": "object",
        "properties": {"id": _STR, "name": _STR, "prefix": _STR, "scopes": {"type": "array", "items": _STR},
                       "lastUsedAt": _NULLABLE_TIME, "createdAt": _TIME, "key": _STR},
    },
    "Health": {
        "type": "object", "required": ["status", "version", "database"],
        "properties": {"status": _STR, "version": _STR, "database": _STR},
    },
}

_LOG_FILTERS = ["agentId", "action", "traceId", "enforcementAction", "flagged", "startDate", "endDate", "from", "to",
                "q"]
_PAGING = ["limit", "offset", "page"]


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


#: (METHOD, path) -> (summary, tag, request schema or None, success status, response schema or None, query params)
OPERATIONS: dict[tuple[str, str], tuple[str, str, Any, int, Any, list[str]]] = {
    ("GET", "/health"): ("Health of the sidecar and its database", "system", None, 200, _ref("Health"), []),
    ("GET", "/api/v1/health"): ("Health of the sidecar and its database", "system", None, 200, _ref("Health"), []),
    ("GET", "/api/v1/openapi.json"): ("This document", "system", None, 200, {"type": "object"}, []),
    ("POST", "/api/v1/auth/register"): (
        "Create an organisation and its owner", "auth",
        _obj(["name", "email", "password"], name=_STR, email=_STR, password={"type": "string", "minLength": 8}),
        201, _ref("Organization"), []),
    ("POST", "/api/v1/auth/login"): ("Log in", "auth", _obj(["email", "password"], email=_STR, password=_STR), 200,
                                     _ref("Tokens"), []),
    ("POST", "/api/v1/auth/refresh"): ("Rotate a refresh token", "auth", _obj(["refreshToken"], refreshToken=_STR),
                                       200, _ref("Tokens"), []),
    ("POST", "/api/v1/auth/logout"): ("End the session", "auth", None, 204, None, []),
    ("GET", "/api/v1/auth/me"): ("The logged-in user", "auth", None, 200, _ref("User"), []),
    ("PATCH", "/api/v1/auth/me"): ("Change your name or password", "auth",
                                   _obj([], name=_STR, password=_STR, currentPassword=_STR), 200, _ref("User"), []),
    ("POST", "/api/v1/auth/api-keys"): (
        "Create an API key (the key is shown once)", "auth",
        _obj(["name"], name=_STR, scopes={"type": "array", "items": {"enum": ["logs:write", "logs:read", "admin"]}}),
        201, _ref("ApiKey"), []),
    ("GET", "/api/v1/auth/api-keys"): ("List API keys", "auth", None, 200,
                                       {"type": "array", "items": _ref("ApiKey")}, []),
    ("DELETE", "/api/v1/auth/api-keys/{key_id}"): ("Revoke an API key", "auth", None, 204, None, []),
    ("GET", "/api/v1/users"): ("Users of the organisation", "users", None, 200,
                               {"type": "array", "items": _ref("User")}, []),
    ("POST", "/api/v1/users"): (
        "Add a user", "users",
        _obj(["email", "name", "password", "role"], email=_STR, name=_STR, password=_STR,
             role={"enum": ["owner", "admin", "analyst", "auditor"]}),
        201, _ref("User"), []),
    ("PATCH", "/api/v1/users/{user_id}"): ("Change a user's name or role", "users",
                                           _obj([], name=_STR, role=_STR), 200, _ref("User"), []),
    ("DELETE", "/api/v1/users/{user_id}"): ("Remove a user", "users", None, 204, None, []),
    ("POST", "/api/v1/audit-logs"): ("Log one event", "audit-logs", _ref("EventInput"), 201, _ref("Event"), []),
    ("POST", "/api/v1/audit-logs/batch"): (
        "Log 1 to 50 events at once", "audit-logs",
        {"type": "array", "minItems": 1, "maxItems": 50, "items": _ref("EventInput")}, 201,
        _obj(["data", "processed", "errors"], data={"type": "array", "items": _ref("Event")},
             processed={"type": "integer"}, errors={"type": "integer"}),
        []),
    ("GET", "/api/v1/audit-logs"): ("Query events, newest first", "audit-logs", None, 200, _ref("EventPage"),
                                    _LOG_FILTERS + _PAGING + ["before"]),
    ("GET", "/api/v1/audit-logs/export"): ("Export events as CSV, JSON or JSON Lines (streamed)", "audit-logs", None,
                                           200, None, _LOG_FILTERS + ["format"]),
    ("GET", "/api/v1/audit-logs/trace/{trace_id}"): ("A trace's spans as a page, oldest first", "traces", None, 200,
                                                     _ref("EventPage"), _PAGING),
    ("GET", "/api/v1/audit-logs/{log_id}"): ("One event", "audit-logs", None, 200, _ref("Event"), []),
    ("GET", "/api/v1/audit-logs/{log_id}/chain"): (
        "An event and its subtree", "traces", None, 200,
        _obj(["root", "descendants"], root=_ref("Event"), descendants={"type": "array", "items": _ref("Event")}), []),
    ("GET", "/api/v1/audit-logs/{log_id}/ancestors"): ("An event's parent chain, nearest first", "traces", None, 200,
                                                       {"type": "array", "items": _ref("Event")}, []),
    ("GET", "/api/v1/traces"): ("Recent traces, one row each", "traces", None, 200, _ref("TracePage"),
                                _LOG_FILTERS + _PAGING),
    ("GET", "/api/v1/traces/{trace_id}"): ("One trace: spans, tree and summary", "traces", None, 200, _ref("Trace"),
                                           []),
}

_QUERY_SCHEMAS: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 500},
    "offset": {"type": "integer", "minimum": 0},
    "page": {"type": "integer", "minimum": 1},
    "flagged": {"type": "boolean"},
    "enforcementAction": {"enum": ["allow", "log", "flag", "block"]},
    "format": {"enum": ["csv", "json", "jsonl"]},
    "startDate": _TIME, "endDate": _TIME, "from": _TIME, "to": _TIME,
}


def _routes(router: web.UrlDispatcher) -> list[tuple[str, str, object]]:
    found = []
    for route in router.routes():
        if route.method == "HEAD":
            continue
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path:
            found.append((route.method, path, route.handler))
    return found


def build_spec(router: web.UrlDispatcher, *, version: str) -> dict[str, Any]:
    """The OpenAPI document for every route in ``router``.

    Raises:
        KeyError: a route has no entry in :data:`OPERATIONS`.
    """
    paths: dict[str, dict[str, Any]] = {}
    for method, path, handler in _routes(router):
        summary, tag, request_schema, status, response_schema, query = OPERATIONS[(method, path)]
        operation: dict[str, Any] = {
            "summary": summary,
            "tags": [tag],
            "operationId": f"{method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', path).strip('_')}",
            "responses": {
                str(status): ({"description": "success"} if response_schema is None else
                              {"description": "success", "content": {"application/json": {"schema": response_schema}}}),
                "default": {"description": "error", "content": {"application/json": {"schema": _ref("Error")}}},
            },
        }
        params = [{"name": name, "in": "path", "required": True, "schema": _STR}
                  for name in re.findall(r"{(\w+)}", path)]
        params += [{"name": name, "in": "query", "required": False, "schema": _QUERY_SCHEMAS.get(name, _STR)}
                   for name in query]
        if params:
            operation["parameters"] = params
        if request_schema is not None:
            operation["requestBody"] = _body(request_schema)
        if permission_of(handler) is not None:
            operation["security"] = [{"apiKey": []}, {"bearer": []}]
        else:
            operation["security"] = []
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "AgentAudit sidecar API", "version": version},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }
