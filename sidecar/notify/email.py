"""Email over SMTP (plain, STARTTLS or TLS), sent from a worker thread with a timeout.

The connection goes to an address vetted beforehand (:mod:`sidecar.notify.targets`), while TLS still checks
the certificate against the configured host name. A failure is reported in our words
(:class:`SendFailed`): an SMTP server's replies and banners are never quoted, so pointing the SMTP settings
at an internal service (an SSH port, a Redis) shows nothing of what answered.
"""

from __future__ import annotations

import smtplib
import socket
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


class SendFailed(Exception):
    """Sending failed; the message says what failed without quoting the server. ``permanent``: retrying the
    same settings cannot help (authentication or the target refused)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


#: What failed, per exception class, most specific first (several are subclasses of later ones).
_FAILURES: tuple[tuple[type[BaseException], str], ...] = (
    (smtplib.SMTPAuthenticationError, "the SMTP server refused the username or password"),
    (smtplib.SMTPRecipientsRefused, "the SMTP server refused the recipients"),
    (smtplib.SMTPSenderRefused, "the SMTP server refused the sender address"),
    (smtplib.SMTPDataError, "the SMTP server refused the message"),
    (smtplib.SMTPConnectError, "could not connect: the server did not greet as an SMTP server"),
    (smtplib.SMTPHeloError, "the SMTP server refused the greeting (EHLO)"),
    (smtplib.SMTPNotSupportedError, "the SMTP server does not offer what the settings need (STARTTLS or login)"),
    (smtplib.SMTPServerDisconnected, "the SMTP server closed the connection"),
    (smtplib.SMTPResponseException, "the SMTP server refused a command"),
    (smtplib.SMTPException, "the SMTP exchange failed"),
    (ssl.SSLCertVerificationError, "TLS failed: the SMTP server's certificate is not trusted for its host name"),
    (ssl.SSLError, "TLS failed: the TLS handshake with the SMTP server did not complete"),
    (TimeoutError, "timed out talking to the SMTP server"),
    (ConnectionRefusedError, "could not connect: the SMTP server refused the connection"),
    (OSError, "could not connect to the SMTP server"),
)


def describe(exc: BaseException) -> SendFailed:
    """What failed, in our words (see the module docstring); a refused login is permanent."""
    for kind, message in _FAILURES:
        if isinstance(exc, kind):
            return SendFailed(message, permanent=kind is smtplib.SMTPAuthenticationError)
    return SendFailed("sending the email failed")


class _PinnedSMTP(smtplib.SMTP):
    """Connects to the vetted address; the host name stays for STARTTLS's certificate check."""

    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        self._address = address
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return super()._get_socket(self._address, port, timeout)  # type: ignore[misc, no-any-return]


class _PinnedSMTPSSL(smtplib.SMTP_SSL):
    """As :class:`_PinnedSMTP`, over implicit TLS (verified against the host name)."""

    def __init__(self, address: str, host: str, port: int, timeout: float, context: ssl.SSLContext) -> None:
        self._address = address
        super().__init__(host, port, timeout=timeout, context=context)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return super()._get_socket(self._address, port, timeout)  # type: ignore[misc, no-any-return]


def send(config: SmtpConfig, message: EmailMessage, *, address: str) -> None:
    """Send one message through ``address`` (the vetted address of ``config.host``).

    Raises:
        SendFailed: saying what failed (the caller retries unless it is permanent).
    """
    context = ssl.create_default_context()
    try:
        if config.security == "tls":
            client: smtplib.SMTP = _PinnedSMTPSSL(address, config.host, config.port, config.timeout, context)
        else:
            client = _PinnedSMTP(address, config.host, config.port, config.timeout)
        with client:
            client.ehlo()
            if config.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if config.username:
                client.login(config.username, config.password or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise describe(exc) from exc
