"""Which addresses notifications may reach: the one check for webhook targets and SMTP hosts.

A name is resolved once and every address it resolves to must be allowed; the caller then connects to the
vetted address (pinned), so DNS cannot be switched between check and use.

- ``forbidden``, always refused: link-local (169.254.0.0/16, fe80::/10: cloud metadata lives there),
  the cloud metadata and platform addresses outside it (Azure WireServer 168.63.129.16, Alibaba
  100.100.100.200, Oracle 192.0.0.192, AWS ``fd00:ec2::254``), multicast, unspecified and reserved
  addresses, also when embedded in an IPv6 address (IPv4-mapped, NAT64 ``64:ff9b::/96``, 6to4, Teredo);
- ``private`` (loopback, RFC 1918, unique-local, carrier-grade NAT): only when allowed (the install
  permits it and the organisation asked for it);
- ``public``: allowed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",   # AWS, GCP, Azure IMDS, OpenStack, DigitalOcean, ... (link-local anyway)
    "168.63.129.16",     # Azure WireServer / platform DNS and health
    "100.100.100.200",   # Alibaba Cloud metadata
    "192.0.0.192",       # Oracle Cloud metadata (older)
    "fd00:ec2::254",     # AWS IMDS over IPv6
))
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(Exception):
    """The target is malformed or resolves to an address notifications may not reach: permanent."""


class ResolveFailed(Exception):
    """The target's name did not resolve now (DNS down, a timeout): transient, retried like a connection
    failure."""


@dataclass(frozen=True, slots=True)
class Vetted:
    """A vetted address of ``host`` to connect to instead of resolving again."""

    host: str
    port: int
    address: str
    family: int
    private: bool


def _embedded(address: IPAddress) -> list[IPAddress]:
    """The address and any IPv4 address an IPv6 one carries (which a gateway may route to); a NAT64 address
    and an IPv4-mapped one stand for their IPv4 address alone."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return [address.ipv4_mapped]
        if address in _NAT64:
            return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    found: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        for inner in (address.sixtofour, address.teredo[1] if address.teredo else None):
            if inner is not None:
                found.append(inner)
    return found


def _classify_one(address: IPAddress) -> str:
    if address in _METADATA or address.is_link_local or address.is_multicast or address.is_unspecified:
        return "forbidden"
    if address.is_loopback:
        return "private"
    if address.is_reserved:
        return "forbidden"
    if address.is_private or (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT):
        return "private"
    return "public"


def classify(address: IPAddress) -> str:
    """``forbidden``, ``private`` or ``public`` (the strictest of the address and what it embeds)."""
    kinds = {_classify_one(a) for a in _embedded(address)}
    return "forbidden" if "forbidden" in kinds else "private" if "private" in kinds else "public"


async def resolve(host: str, port: int, *, allow_private: bool, what: str, private_hint: str) -> Vetted:
    """Resolve ``host`` once and vet every address. Raises TargetRefused (a policy refusal) or ResolveFailed
    (the name did not resolve now), naming ``what`` (``"the webhook host"``, ``"the SMTP host"``);
    ``private_hint`` says how to allow a private target."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=5)
    except UnicodeError:
        raise TargetRefused(f"{what} {host} is not a valid host name") from None
    except (OSError, asyncio.TimeoutError):  # socket.gaierror is an OSError
        raise ResolveFailed(f"cannot resolve {what} {host} (will retry)") from None
    chosen: Vetted | None = None
    for family, _, _, _, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        kind = classify(address)
        if kind == "forbidden":
            raise TargetRefused(f"{what} {host} resolves to {address}, an address notifications may never reach")
        if kind == "private" and not allow_private:
            raise TargetRefused(f"{what} {host} resolves to the private or loopback address {address}; {private_hint}")
        if chosen is None:
            chosen = Vetted(host, port, str(address), family, kind == "private")
    if chosen is None:
        raise ResolveFailed(f"{what} {host} has no address (will retry)")
    return chosen
