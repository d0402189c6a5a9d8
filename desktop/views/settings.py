"""Settings: this app (sidecar address, data dir, theme) and the organisation's notifications (webhook, email,
delivery rules, test sends, recent deliveries) and retention. Owner/admin-only sections are read-only or hidden
for other roles."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.api import schemas
from desktop.models import timefmt
from desktop.models.settings_form import (
    RETENTION_CHOICES,
    SEVERITIES,
    SMTP_SECURITY,
    THEMES,
    DeliveryForm,
    EmailForm,
    WebhookForm,
    retention_text,
)
from desktop.presenters.settings import SettingsPresenter
from desktop.widgets.cards import Card, label, page_layout

THEME_NAMES = {"system": "Follow the system", "light": "Light", "dark": "Dark"}


def _buttons(*buttons: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    for button in buttons:
        row.addWidget(button)
    row.addStretch(1)
    return row


class SettingsView(QWidget):
    def __init__(self, presenter: SettingsPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        root, head, self.subtitle = page_layout(self, "Settings", "This app, notifications and retention.")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(presenter.refresh)
        head.addWidget(self.refresh_button)
        root.addLayout(head)
        self.feedback = label("", "muted")
        self.feedback.setWordWrap(True)
        root.addWidget(self.feedback)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        grid = QGridLayout(body)
        grid.setContentsMargins(0, 0, 6, 0)
        grid.setSpacing(12)
        scroll.setWidget(body)
        root.addWidget(scroll, 1)

        # this app
        self.app_card = Card("This app")
        form = QFormLayout()
        self.url = QLineEdit(presenter.desktop.url)
        form.addRow("Sidecar address", self.url)
        data_row = QHBoxLayout()
        self.data_dir = QLineEdit(presenter.desktop.data_dir or "")
        self.data_dir.setPlaceholderText("The sidecar's default")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        data_row.addWidget(self.data_dir, 1)
        data_row.addWidget(browse)
        form.addRow("Data dir", data_row)
        self.theme = QComboBox()
        for mode in THEMES:
            self.theme.addItem(THEME_NAMES[mode], mode)
        self.theme.setCurrentIndex(max(0, self.theme.findData(presenter.desktop.theme)))
        form.addRow("Theme", self.theme)
        self.app_card.body.addLayout(form)
        self.save_app_button = QPushButton("Save")
        self.save_app_button.setProperty("role", "primary")
        self.save_app_button.clicked.connect(
            lambda: presenter.save_desktop(self.url.text(), self.data_dir.text(), self.theme.currentData()))
        self.app_card.body.addLayout(_buttons(self.save_app_button))
        grid.addWidget(self.app_card, 0, 0)

        # retention
        self.retention_card = Card("Retention")
        self.retention = QComboBox()
        for text, days in RETENTION_CHOICES:
            self.retention.addItem(text, days or 0)  # 0: for ever (a combo's data cannot be None)
        self.retention.addItem("Other (days)", -1)
        self.retention_days = QSpinBox()
        self.retention_days.setRange(1, 36500)
        self.retention_days.setSuffix(" days")
        self.retention_days.hide()
        self.retention.currentIndexChanged.connect(
            lambda _i: self.retention_days.setVisible(self.retention.currentData() == -1))
        row = QHBoxLayout()
        row.addWidget(self.retention)
        row.addWidget(self.retention_days)
        row.addStretch(1)
        self.retention_card.body.addLayout(row)
        self.retention_text = label("", "muted")
        self.retention_text.setWordWrap(True)
        self.retention_card.body.addWidget(self.retention_text)
        self.save_retention_button = QPushButton("Save retention")
        self.save_retention_button.setProperty("role", "primary")
        self.save_retention_button.clicked.connect(self._save_retention)
        self.retention_card.body.addLayout(_buttons(self.save_retention_button))
        grid.addWidget(self.retention_card, 0, 1)

        # webhook
        self.webhook_card = Card("Webhook")
        wform = QFormLayout()
        self.webhook_url = QLineEdit()
        self.webhook_url.setPlaceholderText("https://hooks.example.com/agentaudit")
        wform.addRow("URL", self.webhook_url)
        self.webhook_secret = QLineEdit()
        self.webhook_secret.setEchoMode(QLineEdit.EchoMode.Password)
        wform.addRow("Signing secret", self.webhook_secret)
        self.webhook_on = QCheckBox("Send alerts to this webhook")
        self.allow_private = QCheckBox("Allow private and loopback addresses")
        self.allow_private.setToolTip("For a webhook bridge on this machine or network. The sidecar must allow it "
                                      "too (it does by default while it listens on loopback only).")
        wform.addRow("", self.webhook_on)
        wform.addRow("", self.allow_private)
        self.webhook_card.body.addLayout(wform)
        self.save_webhook_button = QPushButton("Save")
        self.save_webhook_button.setProperty("role", "primary")
        self.save_webhook_button.clicked.connect(self._save_webhook)
        self.test_webhook_button = QPushButton("Send test")
        self.test_webhook_button.clicked.connect(lambda: self._test("webhook"))
        self.webhook_card.body.addLayout(_buttons(self.save_webhook_button, self.test_webhook_button))
        self.webhook_result = label("", "muted")
        self.webhook_result.setWordWrap(True)
        self.webhook_card.body.addWidget(self.webhook_result)
        grid.addWidget(self.webhook_card, 1, 0)

        # email
        self.email_card = Card("Email (SMTP)")
        eform = QFormLayout()
        server = QHBoxLayout()
        self.smtp_host = QLineEdit()
        self.smtp_host.setPlaceholderText("smtp.example.com")
        self.smtp_port = QLineEdit()
        self.smtp_port.setPlaceholderText("587")
        self.smtp_port.setMaximumWidth(70)
        self.smtp_security = QComboBox()
        for mode in SMTP_SECURITY:
            self.smtp_security.addItem(mode.upper() if mode != "none" else "None", mode)
        server.addWidget(self.smtp_host, 1)
        server.addWidget(self.smtp_port)
        server.addWidget(self.smtp_security)
        eform.addRow("Server", server)
        self.smtp_user = QLineEdit()
        eform.addRow("Username", self.smtp_user)
        self.smtp_password = QLineEdit()
        self.smtp_password.setEchoMode(QLineEdit.EchoMode.Password)
        eform.addRow("Password", self.smtp_password)
        self.smtp_from = QLineEdit()
        self.smtp_from.setPlaceholderText("AgentAudit <audit@example.com>")
        eform.addRow("From", self.smtp_from)
        self.email_to = QLineEdit()
        self.email_to.setPlaceholderText("secops@example.com, dpo@example.com")
        eform.addRow("Recipients", self.email_to)
        self.email_on = QCheckBox("Send alerts by email")
        eform.addRow("", self.email_on)
        self.email_card.body.addLayout(eform)
        self.save_email_button = QPushButton("Save")
        self.save_email_button.setProperty("role", "primary")
        self.save_email_button.clicked.connect(self._save_email)
        self.test_email_button = QPushButton("Send test email")
        self.test_email_button.clicked.connect(lambda: self._test("email"))
        self.email_card.body.addLayout(_buttons(self.save_email_button, self.test_email_button))
        self.email_result = label("", "muted")
        self.email_result.setWordWrap(True)
        self.email_card.body.addWidget(self.email_result)
        grid.addWidget(self.email_card, 1, 1)

        # delivery rules and log
        self.delivery_card = Card("Delivery")
        dform = QFormLayout()
        self.min_severity = QComboBox()
        for severity in SEVERITIES:
            self.min_severity.addItem(severity.capitalize(), severity)
        dform.addRow("Minimum severity", self.min_severity)
        self.digest = QSpinBox()
        self.digest.setRange(1, 1440)
        self.digest.setSuffix(" min")
        dform.addRow("Digest interval", self.digest)
        self.delivery_card.body.addLayout(dform)
        self.delivery_card.body.addWidget(label("Critical alerts go out at once; others are grouped into a digest.",
                                                "muted"))
        self.save_delivery_button = QPushButton("Save")
        self.save_delivery_button.setProperty("role", "primary")
        self.save_delivery_button.clicked.connect(self._save_delivery)
        self.delivery_card.body.addLayout(_buttons(self.save_delivery_button))
        grid.addWidget(self.delivery_card, 2, 0)

        self.log_card = Card("Recent deliveries")
        self.deliveries = label("None yet.", "muted")
        self.deliveries.setWordWrap(True)
        self.deliveries.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.log_card.body.addWidget(self.deliveries)
        self.log_card.body.addStretch(1)
        grid.addWidget(self.log_card, 2, 1)
        grid.setRowStretch(3, 1)

        self._hints: dict[QLineEdit, str] = {}
        self._shown: schemas.NotificationSettings | None = None
        self.role_note = label("Notifications and retention are managed by the organisation's owners and admins.",
                               "muted")
        root.addWidget(self.role_note)

        presenter.notifications_changed.connect(self._notifications)
        presenter.retention_changed.connect(self._retention)
        presenter.deliveries_changed.connect(self._deliveries)
        presenter.tested.connect(self._tested)
        presenter.secret_generated.connect(
            lambda secret: self.webhook_result.setText(f"The sidecar made a signing secret (shown once): {secret}"))
        presenter.saved.connect(self.feedback.setText)
        presenter.failed.connect(self.feedback.setText)
        self.update_role()

    def update_role(self) -> None:
        """Managers change the organisation's sections; auditors see them read-only (never the secrets); analysts
        see retention only."""
        manager, reader = self.presenter.can_manage, self.presenter.can_read
        for card in (self.webhook_card, self.email_card, self.delivery_card, self.log_card):
            card.setVisible(reader)
        for edit in (self.webhook_url, self.webhook_secret, self.smtp_host, self.smtp_port, self.smtp_user,
                     self.smtp_password, self.smtp_from, self.email_to):
            edit.setReadOnly(not manager)
            hint = self._hints.setdefault(edit, edit.placeholderText())  # an example of what to type, for editors
            if edit not in (self.webhook_secret, self.smtp_password):
                edit.setPlaceholderText(hint if manager else "Not set")
        if self._shown is not None:
            self._notifications(self._shown)  # the secrets' lines depend on who reads them
        for widget in (self.webhook_on, self.allow_private, self.smtp_security, self.email_on, self.min_severity,
                       self.digest, self.retention, self.retention_days):
            widget.setEnabled(manager)
        for button in (self.save_webhook_button, self.test_webhook_button, self.save_email_button,
                       self.test_email_button, self.save_delivery_button, self.save_retention_button):
            button.setVisible(manager)
        self.role_note.setText("You can read the notification and retention settings; the organisation's owners and "
                               "admins change them." if reader and not manager else
                               "Notifications and retention are managed by the organisation's owners and admins.")
        self.role_note.setVisible(not manager)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Sidecar data dir", self.data_dir.text())
        if chosen:
            self.data_dir.setText(chosen)

    # -- showing -------------------------------------------------------------------------------------

    def _notifications(self, settings: schemas.NotificationSettings) -> None:
        self._shown = settings
        manager = self.presenter.can_manage
        self.webhook_url.setText(settings.webhook_url)
        self.webhook_url.setCursorPosition(0)
        self.webhook_secret.clear()
        if manager:
            self.webhook_secret.setPlaceholderText("Set (leave empty to keep it)" if settings.webhook_secret_set
                                                   else "At least 16 characters (empty: the sidecar makes one)")
        else:  # read-only: say what is there, not how to fill it in
            self.webhook_secret.setPlaceholderText("Set (hidden)" if settings.webhook_secret_set else "Not set")
        self.webhook_on.setChecked(settings.notify_webhook)
        self.allow_private.setChecked(settings.allow_private_targets)
        smtp = settings.smtp
        self.smtp_host.setText(smtp.host)
        self.smtp_port.setText(str(smtp.port) if smtp.port else "")
        self.smtp_security.setCurrentIndex(max(0, self.smtp_security.findData(smtp.security)))
        self.smtp_user.setText(smtp.username)
        self.smtp_password.clear()
        if manager:
            self.smtp_password.setPlaceholderText("Set (leave empty to keep it)" if smtp.password_set else "")
        else:
            self.smtp_password.setPlaceholderText("Set (hidden)" if smtp.password_set else "Not set")
        self.smtp_from.setText(smtp.sender)
        self.email_to.setText(", ".join(settings.email_recipients))
        self.email_on.setChecked(settings.notify_email)
        self.min_severity.setCurrentIndex(max(0, self.min_severity.findData(settings.min_severity)))
        self.digest.setValue(settings.digest_minutes)

    def _retention(self, retention: schemas.Retention) -> None:
        index = self.retention.findData(retention.days or 0)
        if index < 0:
            index = self.retention.findData(-1)
            self.retention_days.setValue(retention.days or 1)
        self.retention.setCurrentIndex(index)
        self.retention_text.setText(retention_text(retention.days))

    def _deliveries(self, listing: schemas.Listing) -> None:
        lines = []
        for d in listing.items[:8]:
            outcome = d.status + (f" (HTTP {d.response_status})" if d.response_status else "")
            if d.last_error and d.status != "delivered":
                outcome += f": {d.last_error}"
            lines.append(f"{timefmt.local(d.created_at, seconds=False)}  {d.channel} {d.event_type} → {outcome}")
        self.deliveries.setText("\n".join(lines) if lines else "None yet.")

    def _tested(self, channel: str, result: schemas.ChannelResult) -> None:
        target = self.webhook_result if channel == "webhook" else self.email_result
        if result.ok:
            target.setText("Test delivered" + (f" (HTTP {result.status})." if result.status else "."))
        else:
            target.setText(f"Test failed: {result.error or 'no reason given'}")

    # -- saving --------------------------------------------------------------------------------------

    def webhook_form(self) -> WebhookForm:
        return WebhookForm(self.webhook_url.text(), self.webhook_secret.text(), self.webhook_on.isChecked(),
                           self.allow_private.isChecked())

    def email_form(self) -> EmailForm:
        return EmailForm(self.smtp_host.text(), self.smtp_port.text(), self.smtp_security.currentData(),
                         self.smtp_user.text(), self.smtp_password.text(), self.smtp_from.text(), self.email_to.text(),
                         self.email_on.isChecked())

    def _save_webhook(self) -> None:
        self.presenter.save_webhook(self.webhook_form())

    def _save_email(self) -> None:
        self.presenter.save_email(self.email_form())

    def _save_delivery(self) -> None:
        self.presenter.save_delivery(DeliveryForm(self.min_severity.currentData(), self.digest.value()))

    def _save_retention(self) -> None:
        days = self.retention.currentData()
        self.presenter.save_retention(self.retention_days.value() if days == -1 else (days or None))

    def _test(self, channel: str) -> None:
        target = self.webhook_result if channel == "webhook" else self.email_result
        target.setText("Sending…")
        self.presenter.send_test(channel)
