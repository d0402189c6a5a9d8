"""When a waited call may be sent again, and how long to wait first.

Retries of waited calls are at most once for what the API does not make idempotent (``POST /audit-logs``, its
batch, guardrail checks, ...): such a call is tried again only when it certainly did not reach the sidecar (the
connection could not be opened, or the request could not be written in full) or when the sidecar answered 429 or
503 with ``Retry-After``, which it does without storing anything. After a read timeout, or a connection dropped
once the request was written, the error is raised and nothing is sent again: the event may have been stored, and a
second copy would be a duplicate. GET, PUT, DELETE and calls marked ``idempotent`` are retried on any failure.
(Background delivery is at least once instead: see ``_delivery.py``.)
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

from agentaudit._errors import APIConnectionError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
NOTHING_DONE_STATUSES = frozenset({429, 503})  # with Retry-After: answered before any work was done
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` as seconds (it may be a number or an HTTP date); None when absent or unreadable."""
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def repeatable(method: str, idempotent: bool | None) -> bool:
    """Whether a call may be sent again after a failure that leaves unknown whether the sidecar acted on it."""
    return method in IDEMPOTENT_METHODS if idempotent is None else idempotent


def may_retry_status(status: int, retry_after: float | None, idempotent: bool) -> bool:
    """Whether an error answer may be retried: any of ``RETRY_STATUSES`` for an idempotent call; otherwise only 429
    and 503 that carry ``Retry-After`` (the sidecar's way of saying that it did nothing)."""
    if status not in RETRY_STATUSES:
        return False
    return idempotent or (status in NOTHING_DONE_STATUSES and retry_after is not None)


def unsent(exc: BaseException) -> bool:
    """Whether a connection error certainly happened before the request reached the server (safe to send again)."""
    return bool(getattr(exc, "_agentaudit_unsent", False))


def mark_unsent(exc: APIConnectionError) -> APIConnectionError:
    exc._agentaudit_unsent = True  # type: ignore[attr-defined]
    return exc


def not_retried(exc: APIConnectionError, method: str, path: str) -> APIConnectionError:
    """``exc``, its message saying why it was not retried."""
    if exc.args:
        exc.args = (f"{exc.args[0]} (not retried: {method} {path} may have reached the sidecar and is not "
                    "idempotent)", *exc.args[1:])
    return exc


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, overridden by ``Retry-After`` (capped at ``max_wait``)."""

    base: float = 0.25
    cap: float = 8.0
    max_wait: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_wait)
        return random.uniform(self.base / 2, min(self.cap, self.base * (2 ** attempt)))
