"""Typed application keys."""

from __future__ import annotations

from aiohttp import web

from sidecar.services.container import Services
from sidecar.services.principal import Principal
from sidecar.settings import HostCheck, Settings

SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", Services)
HOST_CHECK = web.AppKey("host_check", HostCheck)

#: Request-scoped values (aiohttp requests are dict-like).
PRINCIPAL = web.RequestKey("principal", Principal)
REQUEST_ID = web.RequestKey("request_id", str)

__all__ = ["HOST_CHECK", "PRINCIPAL", "REQUEST_ID", "SERVICES", "SETTINGS", "Principal"]
