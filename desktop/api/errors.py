"""ApiError: what went wrong with one call, from the sidecar's JSON error body or from the network.

The sidecar answers every error with ``{"error", "status", "code", "requestId", "details"}`` (API.md).
A call that got no HTTP answer at all has ``status == 0`` and a code of ``network_error`` or ``timeout``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """One bad field of a 400 answer."""

    field: str
    message: str


@dataclass(eq=False)
class ApiError(Exception):  # not frozen: Python sets __traceback__ on raised exceptions
    """A failed call.

    Attributes:
        status: the HTTP status, or 0 when no answer arrived.
        code: the sidecar's machine code (``validation_error``, ``not_found``...), ``network_error`` or ``timeout``.
        message: a human-readable sentence, safe to show.
        request_id: the sidecar's ``X-Request-Id`` when there was an answer.
        details: the bad fields of a 400.
        retry_after: seconds from a 429's ``Retry-After``.
    """

    status: int
    code: str
    message: str
    request_id: str = ""
    details: tuple[FieldProblem, ...] = field(default=())
    retry_after: int | None = None

    def __str__(self) -> str:
        return self.message

    @property
    def is_network(self) -> bool:
        """True when the sidecar did not answer (down, unreachable, too slow)."""
        return self.status == 0

    @property
    def is_auth(self) -> bool:
        return self.status == 401

    @classmethod
    def network(cls, message: str, *, timeout: bool = False) -> ApiError:
        return cls(0, "timeout" if timeout else "network_error", message)

    @classmethod
    def from_response(cls, status: int, body: bytes, headers: dict[str, str]) -> ApiError:
        """Build the error from an HTTP answer, tolerating bodies that are not the JSON error shape."""
        payload: Any = None
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None
        request_id = headers.get("x-request-id", "")
        retry = headers.get("retry-after")
        retry_after = int(retry) if retry and retry.isdigit() else None
        if not isinstance(payload, dict):
            return cls(status, _default_code(status), f"the sidecar answered HTTP {status}", request_id,
                       retry_after=retry_after)
        details = tuple(
            FieldProblem(str(item.get("field", "")), str(item.get("message", "")))
            for item in payload.get("details") or () if isinstance(item, dict)
        )
        return cls(
            status,
            str(payload.get("code") or _default_code(status)),
            str(payload.get("error") or f"the sidecar answered HTTP {status}"),
            str(payload.get("requestId") or request_id),
            details,
            retry_after,
        )


def _default_code(status: int) -> str:
    return {400: "validation_error", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
            413: "payload_too_large", 429: "rate_limited"}.get(status, "server_error" if status >= 500 else "error")
