"""Domain errors raised by services and the store. They carry no HTTP status: ``api/errors.py`` maps them.

::

    AgentAuditError
     ├── ConfigError          a setting is missing or malformed (startup)
     ├── InvalidInput         the caller sent something malformed; ``details`` names each field
     ├── UnsupportedMediaType a body in a type the route does not take (a JSON body without a credential: application/json only)
     ├── HostNotAllowed       a Host header that does not name this sidecar (DNS rebinding defence)
     ├── Unauthenticated      no credential, or one that is invalid, expired or revoked
     ├── Forbidden            a valid credential without the needed scope or role
     ├── NotFound             no such object in the caller's organisation
     ├── Conflict             the object exists already or is in the wrong state
     ├── QuotaExceeded        the plan's monthly quota is used up
     ├── RateLimited          too many requests; ``retry_after`` seconds
     ├── Unavailable          storage cannot accept writes now (disk full, read-only)
     └── BillingNotConfigured a billing route on a sidecar without Stripe settings (503)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One bad field of a request: ``field`` is a dotted path (``[3].action`` inside a batch)."""

    field: str
    message: str


class AgentAuditError(Exception):
    """Base class of every error the sidecar raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(AgentAuditError):
    code = "config_error"


class InvalidInput(AgentAuditError):
    code = "validation_error"

    def __init__(self, message: str, details: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.details = details or []

    @classmethod
    def fields(cls, details: list[FieldError]) -> InvalidInput:
        """Build one error listing every bad field, its message naming the first few."""
        shown = "; ".join(f"{d.field}: {d.message}" for d in details[:3])
        more = f" (and {len(details) - 3} more)" if len(details) > 3 else ""
        return cls(f"invalid request: {shown}{more}", details)


class UnsupportedMediaType(AgentAuditError):
    code = "unsupported_media_type"


class HostNotAllowed(AgentAuditError):
    code = "misdirected_request"


class Unauthenticated(AgentAuditError):
    code = "unauthorized"


class Forbidden(AgentAuditError):
    code = "forbidden"


class NotFound(AgentAuditError):
    code = "not_found"


class Conflict(AgentAuditError):
    code = "conflict"


class QuotaExceeded(AgentAuditError):
    code = "quota_exceeded"

    def __init__(self, message: str, resets_at: str | None = None) -> None:
        super().__init__(message)
        self.resets_at = resets_at


class RateLimited(AgentAuditError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class Unavailable(AgentAuditError):
    code = "unavailable"


class BillingNotConfigured(AgentAuditError):
    code = "billing_not_configured"
