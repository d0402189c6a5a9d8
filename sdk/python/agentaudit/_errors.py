"""Exceptions raised by the client.

    AgentAuditError
     ├── ConfigError                 a bad argument or environment variable
     ├── APIConnectionError          the sidecar could not be reached (refused, reset, DNS)
     │    └── APITimeoutError        a network wait ran past its timeout
     └── APIStatusError              the sidecar answered with an error status (.status, .code, .details, ...)
          ├── ValidationError        400 (and 422); .details names each bad field
          ├── AuthenticationError    401
          ├── QuotaExceededError     402
          ├── PermissionDeniedError  403 (the message names the missing scope or role)
          ├── NotFoundError          404
          ├── ConflictError          409
          ├── PayloadTooLargeError   413
          ├── RateLimitError         429 (.retry_after in seconds, or None)
          └── ServerError            5xx

Background mode (``log(..., wait=False)``, ``BufferedClient``) never raises any of these into the caller.

The older client raised ``ValidationError`` for every 4xx but 401 and 429, so the older methods of ``AgentAudit``
(``get_policy``, ``assign_policy``, ...) raise classes that are both: a 404 there is a ``NotFoundError`` and a
``ValidationError`` (see :func:`legacy_error`). ``AgentAuditClient`` keeps the tree above.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class AgentAuditError(Exception):
    """Base class of every error this package raises.

    Attributes:
        stored: on an error of a waited ``log_batch`` of more than 50 events, the events its earlier requests
            stored (each request holds up to 50); empty otherwise.
    """

    stored: Sequence[Any] = ()


class ConfigError(AgentAuditError, ValueError):
    """A client setting is missing or malformed."""


class APIConnectionError(AgentAuditError):
    """The request did not get an HTTP answer."""


class APITimeoutError(APIConnectionError):
    """A network wait ran past the configured timeout."""


class APIStatusError(AgentAuditError):
    """The sidecar answered with a 4xx or 5xx status.

    Attributes:
        status: the HTTP status.
        code: the machine-readable ``code`` of the error body (``validation_error``, ``not_found``, ...).
        message: the human-readable ``error``.
        request_id: ``requestId`` (also the ``X-Request-Id`` header), to find the request in the sidecar log.
        details: per-field problems on a 400, ``[{"field", "message"}]``.
        body: the decoded error body, whatever its shape.
    """

    def __init__(self, status: int, message: str, *, code: str | None = None, request_id: str | None = None,
                 details: list[dict[str, Any]] | None = None, body: Any = None,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code or 'error'}: {message}")
        self.status = status
        self.message = message
        self.code = code
        self.request_id = request_id
        self.details = details or []
        self.body = body
        self.retry_after = retry_after


class ValidationError(APIStatusError):
    """400: the request was refused; ``details`` lists each bad field."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class QuotaExceededError(APIStatusError):
    """402: the plan's monthly event quota is used up."""


class PermissionDeniedError(APIStatusError):
    """403: the key lacks the scope (or the user the role) this call needs."""


class NotFoundError(APIStatusError):
    """404: no such id in this organisation."""


class ConflictError(APIStatusError):
    """409: the change conflicts with the current state (e.g. a pack already installed, a report not ready)."""


class PayloadTooLargeError(APIStatusError):
    """413: the body is over the sidecar's limit."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` says how long to wait, when the sidecar said."""


class ServerError(APIStatusError):
    """5xx: the sidecar failed or cannot take writes right now (503)."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: ValidationError, 422: ValidationError, 401: AuthenticationError, 402: QuotaExceededError,
    403: PermissionDeniedError, 404: NotFoundError, 409: ConflictError, 413: PayloadTooLargeError,
    429: RateLimitError,
}


def status_error(status: int, body: Any, headers: dict[str, str], retry_after: float | None) -> APIStatusError:
    """The exception for an error response (``body`` already decoded when it was JSON)."""
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIStatusError)
    if isinstance(body, dict):
        message = str(body.get("error") or body.get("message") or "")
        return cls(status, message or f"HTTP {status}", code=body.get("code"),
                   request_id=body.get("requestId") or headers.get("x-request-id"),
                   details=body.get("details") if isinstance(body.get("details"), list) else None,
                   body=body, retry_after=retry_after)
    text = body.decode("utf-8", "replace")[:500] if isinstance(body, bytes) else str(body or "")
    return cls(status, text or f"HTTP {status}", request_id=headers.get("x-request-id"), body=body,
               retry_after=retry_after)


def _legacy_class(cls: type[APIStatusError]) -> type[APIStatusError]:
    doc = f"{cls.__doc__} Raised by the older client's methods, so also a ValidationError, as its 4xx errors were."
    return type(cls.__name__, (cls, ValidationError), {"__module__": cls.__module__, "__doc__": doc})


_LEGACY_4XX: dict[type[APIStatusError], type[APIStatusError]] = {
    cls: _legacy_class(cls) for cls in (QuotaExceededError, PermissionDeniedError, NotFoundError, ConflictError,
                                        PayloadTooLargeError)}


def legacy_error(exc: APIStatusError) -> APIStatusError:
    """The error the older client's tree expects: a 4xx other than 401 and 429 that is not a ValidationError comes
    back as a copy that is also one (``NotFoundError`` stays catchable as such); anything else is ``exc`` itself."""
    if isinstance(exc, ValidationError) or not 400 <= exc.status < 500 or exc.status in (401, 429):
        return exc
    cls = _LEGACY_4XX.get(type(exc), ValidationError)
    legacy = cls(exc.status, exc.message, code=exc.code, request_id=exc.request_id, details=exc.details,
                 body=exc.body, retry_after=exc.retry_after)
    legacy.stored = exc.stored
    return legacy
