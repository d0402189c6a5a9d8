"""Billing: the plan, this month's usage against the quota, upgrading (Stripe Checkout in the browser) and
managing the subscription (Stripe's customer portal), or a clear notice when billing is not configured."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from desktop.models import billing
from desktop.presenters.billing import BillingPresenter
from desktop.widgets.cards import Card, label, page_layout


class UsageBar(QWidget):
    """A caption, a progress bar and ``used of limit``."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        row = QHBoxLayout()
        row.addWidget(label(caption, "section"))
        row.addStretch(1)
        self.text = label("—", "muted")
        row.addWidget(self.text)
        layout.addLayout(row)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(10)
        layout.addWidget(self.bar)

    def set(self, usage: billing.Usage) -> None:
        self.bar.setValue(usage.percent)
        self.bar.setProperty("level", usage.level)
        self.bar.style().unpolish(self.bar)
        self.bar.style().polish(self.bar)
        self.text.setText(usage.text)


class BillingView(QWidget):
    def __init__(self, presenter: BillingPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        root, head, self.subtitle = page_layout(self, "Billing", "Your plan and this month's usage.")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(presenter.refresh)
        head.addWidget(self.refresh_button)
        root.addLayout(head)

        self.notice = Card("Billing is not configured")
        self.notice_text = label("", "muted")
        self.notice_text.setWordWrap(True)
        self.notice.body.addWidget(self.notice_text)
        root.addWidget(self.notice)

        cards = QHBoxLayout()
        cards.setSpacing(12)
        self.plan_card = Card("Current plan")
        self.plan = label("—")
        self.plan.setStyleSheet("font-size: 20pt; font-weight: 700;")
        self.status = label("", "muted")
        self.status.setWordWrap(True)
        self.limits = label("", "muted")
        for widget in (self.plan, self.status, self.limits):
            self.plan_card.body.addWidget(widget)
        self.plan_card.body.addStretch(1)
        cards.addWidget(self.plan_card, 1)
        self.usage_card = Card("Usage this month")
        self.events = UsageBar("Events")
        self.agents = UsageBar("Registered agents")
        self.usage_card.body.addWidget(self.events)
        self.usage_card.body.addSpacing(8)
        self.usage_card.body.addWidget(self.agents)
        self.usage_card.body.addStretch(1)
        cards.addWidget(self.usage_card, 2)
        root.addLayout(cards)

        self.plans_card = Card("Change plan")
        self.offers = QHBoxLayout()
        self.plans_card.body.addLayout(self.offers)
        self.offers.addStretch(1)
        actions = QHBoxLayout()
        self.manage_button = QPushButton("Manage subscription…")
        self.manage_button.clicked.connect(presenter.manage)
        actions.addWidget(self.manage_button)
        actions.addStretch(1)
        self.plans_card.body.addLayout(actions)
        self.role_note = label("Only owners and admins can change the plan.", "muted")
        self.plans_card.body.addWidget(self.role_note)
        root.addWidget(self.plans_card)
        self.feedback = label("", "muted")
        self.feedback.setWordWrap(True)
        root.addWidget(self.feedback)
        root.addStretch(1)
        self.upgrade_buttons: dict[str, QPushButton] = {}
        self.last_url = ""

        presenter.changed.connect(self._render)
        presenter.failed.connect(self.feedback.setText)
        presenter.open_url.connect(self._open)
        presenter.busy.connect(self._busy)
        self._render()

    def _render(self) -> None:
        sub = self.presenter.subscription
        configured = sub is not None and sub.billing_configured
        self.notice.setVisible(sub is not None and not configured)
        self.notice_text.setText(
            "This sidecar has no Stripe settings, so the install is private: its organisations are on the "
            "self-hosted plan, without quotas. To sell or buy plans, start the sidecar with the Stripe settings "
            "(AGENTAUDIT_STRIPE_SECRET_KEY and the price ids).")
        self.plans_card.setVisible(configured)
        if sub is None:
            self.plan.setText("—")
            self.status.setText(self.presenter.error or "Loading…")
            return
        self.plan.setText(billing.plan_name(sub.plan))
        self.status.setText(billing.status_text(sub))
        self.limits.setText(billing.limits_text(sub.plan))
        self.events.set(billing.events_usage(sub))
        self.agents.set(billing.agents_usage(sub))
        manager = self.presenter.can_manage
        self.manage_button.setVisible(manager)
        self.role_note.setVisible(not manager)
        for button in self.upgrade_buttons.values():
            self.offers.removeWidget(button)
            button.deleteLater()
        self.upgrade_buttons = {}
        if configured and manager and self.presenter.prices is not None:
            for plan, price in billing.upgrades(sub, self.presenter.prices):
                button = QPushButton(f"Upgrade to {billing.plan_name(plan)}: {billing.limits_text(plan)}")
                if not self.upgrade_buttons:
                    button.setProperty("role", "primary")
                button.clicked.connect(lambda _c=False, p=price: self.presenter.upgrade(p))
                self.offers.insertWidget(len(self.upgrade_buttons), button)
                self.upgrade_buttons[plan] = button

    def _busy(self, busy: bool) -> None:
        for button in (*self.upgrade_buttons.values(), self.manage_button):
            button.setEnabled(not busy)
        if busy:
            self.feedback.setText("Opening Stripe…")

    def _open(self, url: str) -> None:
        self.last_url = url
        QDesktopServices.openUrl(QUrl(url))
        self.feedback.setText("Stripe opened in your browser. Refresh here when you are done.")
