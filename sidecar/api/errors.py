"""The one place that maps errors to HTTP statuses and renders the JSON error body.

Body: ``{"error": message, "status": N, "code": "...", "requestId": "...", "details": [...]}``
(``details`` on 400s). 500s never carry the exception's text; it goes to the server log.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from sidecar import errors

STATUS: dict[type[errors.AgentAuditError], int] = {
    errors.InvalidInput: 400,
    errors.UnsupportedMediaType: 415,
    errors.HostNotAllowed: 421,
    errors.Unauthenticated: 401,
    errors.QuotaExceeded: 402,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
    errors.BillingNotConfigured: 503,
    errors.ConfigError: 500,
}

HTTP_CODES = {
    400: "validation_error", 401: "unauthorized", 402: "quota_exceeded", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
    421: "misdirected_request",
    429: "rate_limited", 500: "internal_error", 503: "unavailable",
}


def status_for(exc: errors.AgentAuditError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_response(
    message: str,
    status: int,
    *,
    code: str | None = None,
    request_id: str | None = None,
    details: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> web.Response:
    body: dict[str, Any] = {"error": message, "status": status, "code": code or HTTP_CODES.get(status, "error")}
    if request_id:
        body["requestId"] = request_id
    if details:
        body["details"] = details
    if extra:
        body.update(extra)
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json", headers=headers)


def from_domain(exc: errors.AgentAuditError, request_id: str | None) -> web.Response:
    status = status_for(exc)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    details = None
    if isinstance(exc, errors.InvalidInput):
        details = [{"field": d.field, "message": d.message} for d in exc.details]
    if isinstance(exc, errors.RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
        extra["retryAfter"] = exc.retry_after
    if isinstance(exc, errors.QuotaExceeded) and exc.resets_at:
        extra["resetsAt"] = exc.resets_at
    if isinstance(exc, errors.Unavailable):
        headers["Retry-After"] = "5"
    message = exc.message if status != 500 else "internal error"
    return error_response(message, status, code=exc.code if status != 500 else None, request_id=request_id,
                          details=details, headers=headers or None, extra=extra or None)
