"""The settings page's forms as plain values, and the ``PATCH`` bodies they make (pure Python)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

SEVERITIES = ("info", "warning", "critical")
SMTP_SECURITY = ("starttls", "tls", "none")
THEMES = ("system", "light", "dark")
RETENTION_CHOICES: tuple[tuple[str, int | None], ...] = (
    ("Keep for ever", None), ("30 days", 30), ("90 days", 90), ("180 days", 180), ("1 year", 365),
    ("2 years", 730), ("7 years", 2555),
)


class FormError(ValueError):
    """A form value that cannot be sent; the message names the field."""


@dataclass(frozen=True, slots=True)
class WebhookForm:
    url: str
    secret: str  # empty: keep the stored one
    enabled: bool
    allow_private: bool

    def changes(self) -> dict[str, Any]:
        url = self.url.strip()
        if url and urlsplit(url).scheme not in ("http", "https"):
            raise FormError("Webhook URL: must start with http:// or https://")
        if self.secret and len(self.secret) < 16:
            raise FormError("Webhook secret: at least 16 characters (or leave it empty to keep the current one)")
        body: dict[str, Any] = {"webhookUrl": url or None, "notifyWebhook": self.enabled and bool(url),
                                "allowPrivateWebhookTargets": self.allow_private}
        if self.secret:
            body["webhookSecret"] = self.secret
        return body


@dataclass(frozen=True, slots=True)
class EmailForm:
    host: str
    port: str
    security: str
    username: str
    password: str  # empty: keep the stored one
    sender: str
    recipients: str  # comma or semicolon separated
    enabled: bool

    def recipient_list(self) -> list[str]:
        return [part.strip() for part in self.recipients.replace(";", ",").split(",") if part.strip()]

    def changes(self) -> dict[str, Any]:
        port: int | None = None
        if self.port.strip():
            if not self.port.strip().isdigit() or not 1 <= int(self.port) <= 65535:
                raise FormError("SMTP port: a number from 1 to 65535")
            port = int(self.port)
        if self.security not in SMTP_SECURITY:
            raise FormError("SMTP security: starttls, tls or none")
        smtp: dict[str, Any] = {"host": self.host.strip() or None, "port": port, "security": self.security,
                                "username": self.username.strip() or None, "from": self.sender.strip() or None}
        if self.password:
            smtp["password"] = self.password
        return {"smtp": smtp, "emailRecipients": self.recipient_list(),
                "notifyEmail": self.enabled and bool(self.host.strip())}


@dataclass(frozen=True, slots=True)
class DeliveryForm:
    min_severity: str
    digest_minutes: int

    def changes(self) -> dict[str, Any]:
        if self.min_severity not in SEVERITIES:
            raise FormError("Minimum severity: info, warning or critical")
        if not 1 <= self.digest_minutes <= 1440:
            raise FormError("Digest interval: from 1 to 1440 minutes")
        return {"notifyMinSeverity": self.min_severity, "digestMinutes": self.digest_minutes}


def retention_text(days: int | None) -> str:
    if days is None:
        return "Events are kept for ever."
    return f"Events older than {days:,} days are purged (the ledger keeps a signed checkpoint where it cut)."
