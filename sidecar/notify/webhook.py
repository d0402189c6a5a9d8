"""Signed webhook delivery to a vetted address.

The target's name is resolved once and vetted by :mod:`sidecar.notify.targets` (never link-local or a
cloud metadata address; private and loopback only when allowed, e.g. a bridge on the workstation), and the
connection is pinned to the vetted address, so DNS cannot be switched between check and use.

What a delivery records never quotes the receiver: no response body, no header, no line of a reply that is
not HTTP (a webhook aimed at an SSH or Redis port must not echo its banner). A private target's exact HTTP
status is not recorded either, only whether it answered 2xx, 4xx or 5xx, so the delivery log cannot be used
to map what runs on an internal network.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver

from sidecar import log
from sidecar.notify.targets import ResolveFailed, TargetRefused, Vetted, classify
from sidecar.notify.targets import resolve as targets_resolve

__all__ = ["Outcome", "ResolveFailed", "Target", "TargetRefused", "USER_AGENT", "check_url", "classify", "deliver",
           "resolve", "signature"]

USER_AGENT = "AgentAudit-Webhook/1"
PRIVATE_HINT = ("allow private webhook targets in the notification settings (allowPrivateWebhookTargets) "
                "to use it")


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    host: str
    port: int
    address: str
    family: int
    private: bool = False


def check_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an acceptable webhook URL. Raises TargetRefused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("the webhook URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise TargetRefused("the webhook URL must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("the webhook URL has an invalid port") from None
    return parts.scheme, parts.hostname, port


async def resolve(url: str, *, allow_private: bool, private_hint: str = PRIVATE_HINT) -> Target:
    """Resolve and vet the target once. Raises TargetRefused (permanent) or ResolveFailed (transient)."""
    _, host, port = check_url(url)
    vetted: Vetted = await targets_resolve(host, port, allow_private=allow_private, what="the webhook host",
                                           private_hint=private_hint)
    return Target(url, host, port, vetted.address, vetted.family, vetted.private)


class _PinnedResolver(AbstractResolver):
    def __init__(self, target: Target) -> None:
        self._target = target

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict[str, Any]]:
        return [{"hostname": host, "host": self._target.address, "port": port or self._target.port,
                 "family": self._target.family, "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        return None


def signature(secret: bytes, body: bytes, timestamp: int) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status: int | None
    error: str | None
    retry: bool


def _failure(exc: aiohttp.ClientError) -> str:
    """What failed, in our words: aiohttp's messages can quote the peer (a non-HTTP status line)."""
    if isinstance(exc, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError)):
        return "TLS failed: the receiver's certificate or TLS handshake was refused"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "could not connect to the receiver"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the receiver closed the connection without answering"
    if isinstance(exc, (aiohttp.ClientResponseError, aiohttp.ClientPayloadError)):
        return "the receiver's answer was not valid HTTP"
    return "the connection to the receiver failed"


async def deliver(target: Target, body: bytes, *, secret: bytes, event_type: str, delivery_id: str,
                  timeout: float = 10.0) -> Outcome:
    """POST the body once. Retry is advised on connection errors, timeouts, 5xx, 408 and 429.

    The outcome never quotes the receiver; for a private target it carries no exact status (see the module).
    """
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-AgentAudit-Event": event_type,
        "X-AgentAudit-Delivery": delivery_id,
        "X-AgentAudit-Signature": signature(secret, body, int(time.time())),
    }
    connector = aiohttp.TCPConnector(resolver=_PinnedResolver(target), use_dns_cache=False, force_close=True)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            async with session.post(target.url, data=body, headers=headers, allow_redirects=False) as response:
                status = response.status  # the body is never read: nothing of it is kept or shown
    except asyncio.TimeoutError:
        return Outcome(False, None, f"timed out after {timeout:g} s", True)
    except aiohttp.ClientError as exc:
        # for the server log only, and never the URL (its path may be the secret): the class and the peer's words
        detail = exc.message if isinstance(exc, aiohttp.ClientResponseError) else ""
        log.jobs.info("webhook delivery %s to %s failed: %s %s", delivery_id, target.host, exc.__class__.__name__,
                      str(detail)[:300])
        return Outcome(False, None, _failure(exc), True)
    retry = status >= 500 or status in (408, 429)
    ok = 200 <= status < 300
    if target.private:
        log.jobs.info("webhook delivery %s to the private target %s answered %d", delivery_id, target.host, status)
        error = None if ok else (f"the receiver answered with a {status // 100}xx status (the exact status of a "
                                 "private target is not recorded)")
        return Outcome(ok, None, error, retry and not ok)
    if ok:
        return Outcome(True, status, None, False)
    return Outcome(False, status, f"the receiver answered {status}", retry)
