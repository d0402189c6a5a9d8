"""Email over SMTP (plain, STARTTLS or TLS), sent from a worker thread with a timeout."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # "none", "starttls" or "tls"
    username: str | None
    password: str | None
    sender: str
    timeout: float = 15.0


def build(*, sender: str, recipients: list[str], subject: str, text: str, html: str) -> EmailMessage:
    """A multipart/alternative message with a plain-text and an HTML part."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="agentaudit.local")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send(config: SmtpConfig, message: EmailMessage) -> None:
    """Send one message. Raises OSError or smtplib.SMTPException on failure (the caller retries)."""
    context = ssl.create_default_context()
    if config.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    with client:
        client.ehlo()
        if config.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if config.username:
            client.login(config.username, config.password or "")
        client.send_message(message)
