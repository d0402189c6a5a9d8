"""Scheduled reports by email: the :class:`~sidecar.services.report_files.ReportMailer` that uses the
organisation's SMTP settings (``/notifications/settings``) and the notify module's sender."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Sequence
from pathlib import Path

from sidecar.notify import email as mail
from sidecar.services.notifications import NotificationService

#: Larger files are not attached: the message says where to download them instead.
MAX_ATTACHMENT_BYTES = 15 * 1024 * 1024


class SmtpReportMailer:
    """Sends a finished report, attached, to a schedule's recipients over the organisation's SMTP server."""

    def __init__(self, notifications: NotificationService, *, base_url: str) -> None:
        self._notifications = notifications
        self._base_url = base_url.rstrip("/")

    async def send_report(self, *, org_id: str, recipients: Sequence[str], subject: str, body: str, attachment: Path,
                          filename: str, content_type: str) -> None:
        """Raises RuntimeError when the organisation has no SMTP server set, mail.SendFailed on failure (the
        SMTP host is vetted as for alert emails)."""
        settings = await self._notifications.settings(org_id)
        config = settings.smtp
        if config is None:
            raise RuntimeError("SMTP is not configured for this organisation (PATCH /notifications/settings)")
        loop = asyncio.get_running_loop()
        size = attachment.stat().st_size
        report_id = attachment.stem
        text = body
        if size > MAX_ATTACHMENT_BYTES:
            text += (f"\nThe file ({size:,} bytes) is too large to attach; download it from "
                     f"{self._base_url}/api/v1/reports/{report_id}/download\n")
        message = mail.build(sender=config.sender, recipients=list(recipients), subject=subject, text=text,
                             html=f"<pre style=\"font-family: sans-serif\">{html.escape(text)}</pre>")
        if size <= MAX_ATTACHMENT_BYTES:
            data = await loop.run_in_executor(None, attachment.read_bytes)
            maintype, _, subtype = content_type.split(";")[0].partition("/")
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        await self._notifications.send_mail(settings, message)
