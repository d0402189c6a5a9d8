"""Unread critical alerts for the tray icon, and one desktop notification per new critical alert."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from desktop.api import schemas
from desktop.api.client import SidecarClient
from desktop.api.errors import ApiError


class AlertNotifier(QObject):
    """Counts open critical alerts the user has not looked at since the alert queue was last shown.

    Signals:
        unread_changed(int): the count for the tray badge.
        notify(str, str): a title and a plain-text message for a desktop notification.
    """

    unread_changed = Signal(int)
    notify = Signal(str, str)

    def __init__(self, client: SidecarClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self.unread = 0

    def _set(self, count: int) -> None:
        if count != self.unread:
            self.unread = count
            self.unread_changed.emit(count)

    def start(self) -> None:
        """After login: every open critical alert counts as unread."""
        call = self._client.count_alerts(schemas.AlertFilter(status="open", severity="critical"))
        call.done.connect(self._set)
        call.failed.connect(self._ignore)

    def _ignore(self, _error: ApiError) -> None:
        self._set(0)

    def reset(self) -> None:
        """On logout."""
        self._set(0)

    def mark_read(self) -> None:
        """The user is looking at the queue."""
        self._set(0)

    def on_alert(self, alert: schemas.Alert) -> None:
        if alert.severity != "critical" or alert.status != "open":
            return
        self._set(self.unread + 1)
        where = f" ({alert.agent_id})" if alert.agent_id else ""
        self.notify.emit(f"Critical alert{where}", " ".join(alert.message.split())[:240])
