"""Billing: the plan and this month's usage, the prices, upgrading through Stripe Checkout and managing the
subscription in Stripe's customer portal (both open in the browser)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from desktop.api import schemas
from desktop.api.client import SidecarClient
from desktop.api.errors import ApiError
from desktop.models import access
from desktop.presenters.reports import say


class BillingPresenter(QObject):
    """Signals:
        changed(): ``subscription`` or ``prices`` changed.
        open_url(str): a Stripe page to open in the browser (checkout or portal).
        busy(bool): a checkout or portal session is being made.
        failed(str): a sentence for the user.
    """

    changed = Signal()
    open_url = Signal(str)
    busy = Signal(bool)
    failed = Signal(str)

    def __init__(self, client: SidecarClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self.subscription: schemas.Subscription | None = None
        self.prices: schemas.Prices | None = None
        self.error = ""

    @property
    def can_manage(self) -> bool:
        user = self._client.user
        return user is not None and access.can_manage(user.role)

    def refresh(self) -> None:
        call = self._client.billing_subscription()
        call.done.connect(self._subscription)
        call.failed.connect(self._failed)

    def _subscription(self, sub: schemas.Subscription) -> None:
        self.subscription, self.error = sub, ""
        if sub.billing_configured:
            prices = self._client.billing_prices()
            prices.done.connect(self._prices)
            prices.failed.connect(self._failed)
        else:
            self.prices = None
        self.changed.emit()

    def _prices(self, prices: schemas.Prices) -> None:
        self.prices = prices
        self.changed.emit()

    def _failed(self, error: ApiError) -> None:
        self.error = f"Could not load billing: {say(error)}"
        self.failed.emit(self.error)
        self.changed.emit()

    def clear(self) -> None:
        """Forget the organisation's plan (logout)."""
        self.subscription, self.prices, self.error = None, None, ""
        self.changed.emit()

    def upgrade(self, price_id: str) -> None:
        """Make a Checkout session for ``price_id``; its URL comes out of ``open_url``."""
        self.busy.emit(True)
        call = self._client.billing_checkout(price_id)
        call.done.connect(self._opened)
        call.failed.connect(lambda error: self._action_failed("start the checkout", error))

    def manage(self) -> None:
        """Make a customer-portal session; its URL comes out of ``open_url``."""
        self.busy.emit(True)
        call = self._client.billing_portal()
        call.done.connect(self._opened)
        call.failed.connect(lambda error: self._action_failed("open the billing portal", error))

    def _opened(self, url: str) -> None:
        self.busy.emit(False)
        self.open_url.emit(url)

    def _action_failed(self, what: str, error: ApiError) -> None:
        self.busy.emit(False)
        self.failed.emit(f"Could not {what}: {say(error)}")
