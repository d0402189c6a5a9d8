"""Where notifications go, as shown to callers who may not read the notification settings.

A webhook URL is a credential of its own (Slack and Teams put the secret in the path) and the recipients
of alert emails are settings too, so the delivery log shows them in full only to those who may read the
notification settings (:data:`sidecar.services.principal.SETTINGS_READ`); everyone else sees the webhook's
scheme and host and masked addresses (``c***@acme.test``).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_EMAIL = re.compile(r"([^@\s,<>\"']+)@([^@\s,<>\"']+)")
_URL = re.compile(r"\b(https?)://([^/\s?#'\"]+)[^\s'\"]*", re.IGNORECASE)


def mask_email(address: str) -> str:
    """``ciso@acme.test`` -> ``c***@acme.test``."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def webhook_origin(url: str) -> str:
    """``https://hooks.slack.com/services/T0/B0/secret`` -> ``https://hooks.slack.com/…``."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "…"
    if not parts.scheme or not host:
        return "…"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}/…"


def redact_target(channel: str, target: str) -> str:
    """A delivery's target as shown without the right to read the notification settings."""
    if channel == "webhook":
        return webhook_origin(target)
    if channel == "email":
        return ", ".join(mask_email(address) for address in target.split(",") if address.strip())
    return "…"


def redact_text(text: str | None) -> str | None:
    """Free text (a delivery's last error) with URLs cut to their origin and email addresses masked."""
    if not text:
        return text
    text = _URL.sub(lambda m: f"{m.group(1)}://{m.group(2).rpartition('@')[2]}/…", text)
    return _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
