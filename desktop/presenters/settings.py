"""Settings: this app's own (sidecar address, data dir, theme) and the organisation's on the sidecar
(notifications by webhook and email, test sends, the delivery log, retention)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal

from desktop.api import schemas
from desktop.api.client import SidecarClient
from desktop.api.errors import ApiError
from desktop.models import access
from desktop.models.settings_form import THEMES, DeliveryForm, EmailForm, FormError, WebhookForm
from desktop.presenters.reports import say
from desktop.settings import DesktopSettings


class SettingsPresenter(QObject):
    """Signals:
        notifications_changed(object): the :class:`schemas.NotificationSettings` as stored.
        secret_generated(str): the sidecar made a webhook secret (shown once).
        tested(str, object): (channel, :class:`schemas.ChannelResult`) of a test send.
        deliveries_changed(object): a :class:`schemas.Listing` of :class:`schemas.Delivery`.
        retention_changed(object): the :class:`schemas.Retention`.
        desktop_saved(object): the :class:`DesktopSettings` written (address changes apply at the next start).
        saved(str): what was saved, as a sentence.
        failed(str): a sentence for the user.
    """

    notifications_changed = Signal(object)
    secret_generated = Signal(str)
    tested = Signal(str, object)
    deliveries_changed = Signal(object)
    retention_changed = Signal(object)
    desktop_saved = Signal(object)
    saved = Signal(str)
    failed = Signal(str)

    def __init__(self, client: SidecarClient, desktop: DesktopSettings | None = None, *,
                 store: QSettings | None = None, apply_theme: Callable[[str], None] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self.desktop = desktop or DesktopSettings(url=client.base_url)
        self._store = store
        self._apply_theme = apply_theme
        self.notifications: schemas.NotificationSettings | None = None
        self.retention: schemas.Retention | None = None

    @property
    def can_manage(self) -> bool:
        user = self._client.user
        return user is not None and access.can_manage(user.role)

    @property
    def can_read(self) -> bool:
        """May see the notification settings and deliveries (managers, and auditors read-only)."""
        user = self._client.user
        return user is not None and access.can_read_settings(user.role)

    # -- this app ------------------------------------------------------------------------------------

    def save_desktop(self, url: str, data_dir: str, theme: str) -> None:
        url = url.strip().rstrip("/").removesuffix("/api/v1")
        if url and "://" not in url:
            url = f"http://{url}"
        if not url:
            self.failed.emit("Sidecar address: give one, e.g. http://127.0.0.1:8731")
            return
        if theme not in THEMES:
            self.failed.emit("Theme: system, light or dark")
            return
        moved = url != self.desktop.url or (data_dir.strip() or None) != self.desktop.data_dir
        self.desktop = replace(self.desktop, url=url, data_dir=data_dir.strip() or None, theme=theme)
        if self._store is not None:
            self.desktop.save(self._store)
            self._store.sync()
        if self._apply_theme is not None:
            self._apply_theme(theme)
        self.desktop_saved.emit(self.desktop)
        self.saved.emit("App settings saved." + (" The new sidecar address and data dir apply at the next start."
                                                  if moved else ""))

    # -- notifications -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Load what the logged-in user may see: notifications and deliveries (managers and auditors),
        retention."""
        if self.can_read:
            call = self._client.notification_settings()
            call.done.connect(self._notifications)
            call.failed.connect(lambda error: self.failed.emit(f"Could not load the notifications: {say(error)}"))
            self.refresh_deliveries()
        retention = self._client.retention()
        retention.done.connect(self._retention)
        retention.failed.connect(lambda error: self.failed.emit(f"Could not load the retention: {say(error)}"))

    def refresh_deliveries(self) -> None:
        call = self._client.list_deliveries(limit=20)
        call.done.connect(self.deliveries_changed.emit)
        call.failed.connect(lambda error: self.failed.emit(f"Could not list the deliveries: {say(error)}"))

    def _notifications(self, settings: schemas.NotificationSettings) -> None:
        self.notifications = settings
        self.notifications_changed.emit(settings)
        if settings.generated_secret:
            self.secret_generated.emit(settings.generated_secret)

    def save_webhook(self, form: WebhookForm) -> None:
        self._patch(form, "Webhook settings saved.")

    def save_email(self, form: EmailForm) -> None:
        self._patch(form, "Email settings saved.")

    def save_delivery(self, form: DeliveryForm) -> None:
        self._patch(form, "Delivery settings saved.")

    def _patch(self, form: WebhookForm | EmailForm | DeliveryForm, message: str) -> None:
        try:
            changes: dict[str, Any] = form.changes()
        except FormError as exc:
            self.failed.emit(str(exc))
            return
        call = self._client.update_notification_settings(changes)
        call.done.connect(lambda settings: (self._notifications(settings), self.saved.emit(message)))
        call.failed.connect(lambda error: self.failed.emit(f"Could not save: {say(error)}"))

    def send_test(self, channel: str) -> None:
        """Send a test on ``webhook`` or ``email`` now; ``tested`` says how it went."""
        call = self._client.send_test_notification(channel)
        call.done.connect(lambda results: self._tested(channel, results))
        call.failed.connect(lambda error: self.tested.emit(channel, schemas.ChannelResult(False, None, say(error))))

    def _tested(self, channel: str, results: schemas.SendResults) -> None:
        result = getattr(results, channel, None) or schemas.ChannelResult(False, None, "the sidecar did not say")
        self.tested.emit(channel, result)
        self.refresh_deliveries()

    # -- retention -----------------------------------------------------------------------------------

    def _retention(self, retention: schemas.Retention) -> None:
        self.retention = retention
        self.retention_changed.emit(retention)

    def save_retention(self, days: int | None) -> None:
        if days is not None and not 1 <= days <= 36500:
            self.failed.emit("Retention: from 1 to 36,500 days, or for ever")
            return
        call = self._client.set_retention(days)
        call.done.connect(lambda retention: (self._retention(retention), self.saved.emit("Retention saved.")))
        call.failed.connect(lambda error: self.failed.emit(f"Could not save the retention: {say(error)}"))
