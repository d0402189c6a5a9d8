"""Signed webhook delivery to a vetted address.

The target's name is resolved once; every address it resolves to must be allowed
(never link-local or a cloud metadata address; private and loopback only when the
organisation allows them, e.g. a bridge on the workstation), and the connection is
pinned to the vetted address, so DNS cannot be switched between check and use.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver

USER_AGENT = "AgentAudit-Webhook/1"
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
             ipaddress.ip_address("100.100.100.200")}


class TargetRefused(Exception):
    """The webhook URL is malformed or points at an address that may not be called."""


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    host: str
    port: int
    address: str
    family: int


def classify(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """``forbidden``, ``private`` or ``public``."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _METADATA or address.is_link_local or address.is_multicast or address.is_unspecified \
            or address.is_reserved:
        return "forbidden"
    if address.is_loopback or address.is_private or (isinstance(address, ipaddress.IPv4Address)
                                                       and address in ipaddress.ip_network("100.64.0.0/10")):
        return "private"
    return "public"


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


async def resolve(url: str, *, allow_private: bool) -> Target:
    """Resolve and vet the target once. Raises TargetRefused."""
    _, host, port = check_url(url)
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=5)
    except (OSError, asyncio.TimeoutError) as exc:
        raise TargetRefused(f"cannot resolve {host}: {exc}") from None
    chosen: Target | None = None
    for family, _, _, _, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        kind = classify(address)
        if kind == "forbidden":
            raise TargetRefused(f"{host} resolves to {address}, an address webhooks may never call")
        if kind == "private" and not allow_private:
            raise TargetRefused(f"{host} resolves to the private or loopback address {address}; "
                                "allow private webhook targets in the notification settings to use it")
        if chosen is None:
            chosen = Target(url, host, port, str(address), family)
    if chosen is None:
        raise TargetRefused(f"{host} has no address")
    return chosen


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


async def deliver(target: Target, body: bytes, *, secret: bytes, event_type: str, delivery_id: str,
                  timeout: float = 10.0) -> Outcome:
    """POST the body once. Retry is advised on connection errors, timeouts, 5xx, 408 and 429."""
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
                await response.read()
                status = response.status
    except asyncio.TimeoutError:
        return Outcome(False, None, f"timed out after {timeout:g} s", True)
    except aiohttp.ClientError as exc:
        return Outcome(False, None, f"connection failed: {exc.__class__.__name__}: {exc}"[:500], True)
    if 200 <= status < 300:
        return Outcome(True, status, None, False)
    retry = status >= 500 or status in (408, 429)
    return Outcome(False, status, f"the receiver answered {status}", retry)
