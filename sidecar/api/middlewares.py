"""Middlewares, two layers: the request (id, errors to the JSON shape) and access (authentication, the route's
declared permission, rate limits). Two layers rather than one each: every layer is a coroutine per request."""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from sidecar import errors, log
from sidecar.api import errors as api_errors
from sidecar.api import rate_limit
from sidecar.api.keys import HOST_CHECK, PRINCIPAL, REQUEST_ID, SERVICES, SETTINGS
from sidecar.services.principal import INGEST, Permission

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_UNSET = object()
_ID_PREFIX = secrets.token_hex(3)
_ID_COUNTER = itertools.count(1)


def requires(permission: Permission | None) -> Callable[[Handler], Handler]:
    """Declare what a handler needs (None: public). Every routed handler must say."""
    def mark(handler: Handler) -> Handler:
        handler.permission = permission  # type: ignore[attr-defined]
        return handler
    return mark


def permission_of(handler: object) -> Permission | None | object:
    return getattr(handler, "permission", _UNSET)


def new_request_id() -> str:
    """A request id unique within this process and across restarts: a random per-process prefix and a
    counter (no system call per request, unlike drawing fresh random bytes each time)."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):010x}"


@web.middleware
async def request_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The outer layer: give the request an id (the caller's ``X-Request-Id`` when sane), turn every error into
    the JSON error shape (no stack trace reaches a client), and echo the id on the response."""
    inbound = request.headers.get("X-Request-Id")
    request_id = inbound if inbound and _SANE_ID.fullmatch(inbound) else new_request_id()
    request[REQUEST_ID] = request_id
    try:
        _host_names_this_sidecar(request)
        _single_query_values(request)
        _declared_size_within_limit(request)
        response = await handler(request)
    except errors.AgentAuditError as exc:
        if isinstance(exc, errors.BillingNotConfigured):  # a state of this install, not a failure
            log.http.info("%s %s: %s", request.method, request.rel_url.path, exc)
        elif api_errors.status_for(exc) >= 500:
            log.http.error("%s %s failed: %s", request.method, request.rel_url.path, exc)
        response = api_errors.from_domain(exc, request_id)
    except web.HTTPException as exc:
        if exc.status < 400:
            exc.headers["X-Request-Id"] = request_id
            raise
        message = {
            404: f"no such endpoint: {request.method} {request.rel_url.path}",
            405: f"method {request.method} is not allowed on {request.rel_url.path}",
            413: "request body too large",
        }.get(exc.status, exc.reason)
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        if exc.status == 405:
            headers["Allow"] = await _allowed_methods(request) or headers.get("Allow", "")
        response = api_errors.error_response(message, exc.status, request_id=request_id, headers=headers or None)
    except ConnectionResetError:  # the client hung up (often mid-stream): nobody is left to answer
        log.http.info("%s %s: the client closed the connection", request.method, request.rel_url.path)
        response = web.Response(status=499)  # nginx's "client closed request"; its write fails quietly
    except Exception:
        log.http.exception("unhandled error in %s %s", request.method, request.rel_url.path)
        response = api_errors.error_response("internal error", 500, request_id=request_id)
    if not response.prepared:
        response.headers["X-Request-Id"] = request_id
    return response


async def echo_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: a streamed response (exports, the live stream), which its handler prepares
    itself, carries the request id too."""
    request_id = request.get(REQUEST_ID)
    if request_id is not None and "X-Request-Id" not in response.headers:
        response.headers["X-Request-Id"] = request_id


def _host_names_this_sidecar(request: web.Request) -> None:
    """Refuse a request whose ``Host`` header names another site (see ``Settings.host_allowed``; the app's ``HostCheck`` remembers answers): a web page
    whose name an attacker re-points at 127.0.0.1 (DNS rebinding) reaches the sidecar as that same site, so
    the browser lets the page read the answers; its requests still carry the page's name in ``Host``."""
    header = request.headers.get("Host")
    if not request.app[HOST_CHECK].allows(header):
        raise errors.HostNotAllowed(f"the Host header {header[:100]!r} does not name this sidecar; use its address "
                                    "(127.0.0.1 or localhost), or list the name in AGENTAUDIT_ALLOWED_HOSTS")


def _declared_size_within_limit(request: web.Request) -> None:
    """A body whose Content-Length is over the limit is refused before any of it is read (aiohttp would read a
    whole limit's worth first: a megabyte of work per hostile request)."""
    declared = request.content_length
    if declared is not None and declared > request.app[SETTINGS].max_body_bytes:
        raise web.HTTPRequestEntityTooLarge(max_size=request.app[SETTINGS].max_body_bytes, actual_size=declared)


def _single_query_values(request: web.Request) -> None:
    """Every query parameter of the API takes one value: a repeated one (``?kind=&kind=x``) is a 400, not a
    silent choice of the first. No query or path parameter may hold a NUL character."""
    if request.match_info.http_exception is not None:  # not a route: the 404 or 405 says more
        return
    query = request.rel_url.query
    repeated = sorted({name for name in query if len(query.getall(name)) > 1})
    if repeated:
        raise errors.InvalidInput(f"give each query parameter once: {', '.join(repeated)}",
                                  [errors.FieldError(name, "given more than once") for name in repeated])
    with_nul = sorted({name for name, value in (*query.items(), *request.match_info.items()) if "\x00" in value})
    if with_nul:  # PostgreSQL cannot compare text with U+0000: refused alike on every backend
        raise errors.InvalidInput(f"NUL characters (%00) are not allowed in: {', '.join(with_nul)}",
                                  [errors.FieldError(name, "must not contain NUL characters (\\u0000)")
                                   for name in with_nul])


async def _allowed_methods(request: web.Request) -> str:
    """The methods of the path the request names: every route of the first resource that matches it.

    aiohttp's own ``Allow`` merges every matching resource, so ``/alerts/counts`` would also advertise the
    ``PATCH`` of ``/alerts/{alert_id}``.
    """
    resources = list(request.app.router.resources())
    for resource in resources:
        _, allowed = await resource.resolve(request)
        if allowed:
            methods: set[str] = set()
            for same in resources:
                if same.canonical == resource.canonical:
                    methods |= (await same.resolve(request))[1]
            return ",".join(sorted(methods))
    return ""


def credential(request: web.Request) -> tuple[str, str] | None:
    """``("key", raw)`` or ``("jwt", token)`` from the headers, or None."""
    key = request.headers.get("X-API-Key")
    if key:
        return "key", key.strip()
    authorization = request.headers.get("Authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        token = token.strip()
        return ("key", token) if token.startswith("aa_") else ("jwt", token)
    return None


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate, check the route's declared permission, then take one token from the caller's rate-limit
    bucket (see :mod:`sidecar.api.rate_limit`). Public routes pass, rate-limited per address where they are
    account routes."""
    services = request.app[SERVICES]
    permission = permission_of(request.match_info.handler)
    if permission is _UNSET or permission is None:  # public, or not a route of ours (404/405)
        await rate_limit.charge_public(services.limits, request)
        return await handler(request)
    assert isinstance(permission, Permission)
    found = credential(request)
    if found is None:
        raise errors.Unauthenticated("authentication required: send X-API-Key or Authorization: Bearer <token>")
    kind, value = found
    principal = await (services.auth.from_api_key(value) if kind == "key" else services.auth.from_access_token(value))
    permission.check(principal)
    request[PRINCIPAL] = principal
    await rate_limit.charge(services.limits, principal, ingest=permission is INGEST)
    return await handler(request)
