"""Billing: plans and their limits, Stripe checkout and portal, and the Stripe webhook.

The organisation's plan lives in ``organizations.plan`` and changes only from verified Stripe events
(each applied once, in one writer transaction with its alert and outbox rows). The monthly event quota
is enforced by the writer's :class:`~sidecar.store.usage.UsageMeter` with :meth:`BillingService.quota_for`;
the agent limit by :meth:`BillingService.check_agent_limit` inside the agent-creating transaction.

A "payment failed" event raises a critical alert. It concerns no audit event, so its ``auditLogId`` is
null (the ``alerts.audit_log_id`` column became nullable in migration 6); ``details`` names the Stripe
event, invoice and subscription instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import stripe
from peewee import Database

from sidecar import log
from sidecar.clock import now_ms, to_iso
from sidecar.errors import BillingNotConfigured, Conflict, FieldError, InvalidInput, NotFound, QuotaExceeded
from sidecar.ids import new_id
from sidecar.services import plans
from sidecar.services.compliance import alert_payload
from sidecar.services.events import EventHub
from sidecar.services.principal import Permission, Principal
from sidecar.services.stripe_gateway import StripeGateway
from sidecar.settings import Settings
from sidecar.store import alerts as alert_store
from sidecar.store import billing as store
from sidecar.store import notifications as outbox
from sidecar.store.db import ReadPool
from sidecar.store.usage import month_of
from sidecar.store.writer import Writer

#: Checkout and the portal change what the organisation pays: owners and admins, by login only.
BILLING_MANAGE = Permission("billing", None, frozenset({"owner", "admin"}))
#: Seeing the plan and usage: any member, or an API key with the admin scope.
BILLING_READ = Permission("billing_read", "admin", frozenset({"owner", "admin", "analyst", "auditor"}))

HANDLED = frozenset({
    "checkout.session.completed", "customer.subscription.created", "customer.subscription.updated",
    "customer.subscription.deleted", "invoice.payment_succeeded", "invoice.payment_failed",
})


@dataclass(slots=True)
class StripeUpdate:
    """What one Stripe event says, reduced to what we keep."""

    event_id: str
    kind: str
    created: int  # seconds, Stripe's clock
    org_hint: str | None = None
    customer_id: str | None = None
    subscription: dict[str, Any] | None = None  # {id, price_id, status, current_period_end, cancel_at_period_end}
    state_at: int = 0
    payment: str | None = None  # "succeeded" or "failed"
    invoice: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Applied:
    duplicate: bool = False
    org_id: str | None = None
    plan_before: str | None = None
    plan_after: str | None = None
    alerts: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    plan: str
    status: str
    current_period_end: int | None
    cancel_at_period_end: bool
    logs_this_month: int
    quota: int | None
    agents: int
    agent_limit: int | None


def _subscription_state(sub: dict[str, Any]) -> dict[str, Any]:
    """The parts of a Stripe subscription we keep (both the older and the 2025+ shapes of the API)."""
    items = ((sub.get("items") or {}).get("data") or [{}])
    first = items[0] if items else {}
    price = first.get("price") or {}
    period_end = sub.get("current_period_end") or first.get("current_period_end")
    return {
        "id": sub.get("id"),
        "price_id": price.get("id") if isinstance(price, dict) else price,
        "status": str(sub.get("status") or "incomplete"),
        "current_period_end": int(period_end) * 1000 if period_end else None,
        "cancel_at_period_end": bool(sub.get("cancel_at_period_end")),
        "org_id": (sub.get("metadata") or {}).get("orgId"),
        "customer": sub.get("customer"),
    }


class BillingService:
    """Plans, usage, Stripe checkout/portal and the webhook. Inert (503) when billing is not configured."""

    def __init__(self, settings: Settings, *, db: Database, writer: Writer, reads: ReadPool, hub: EventHub,
                 on_outbox: Callable[[], None] | None = None, gateway: StripeGateway | None = None) -> None:
        self.enabled = settings.billing_enabled
        self._db = db
        self._writer = writer
        self._reads = reads
        self._hub = hub
        self.on_outbox = on_outbox
        self._webhook_secret = settings.stripe_webhook_secret
        self._prices = {"pro": settings.stripe_price_pro, "business": settings.stripe_price_business}
        self._plan_of_price = {price: plan for plan, price in self._prices.items() if price}
        self._return_url = settings.billing_return_url
        self._gateway = gateway
        if self.enabled and gateway is None:
            self._gateway = StripeGateway(secret_key=settings.stripe_secret_key, api_base=settings.stripe_api_base,
                                          timeout=settings.stripe_timeout_seconds)

    @property
    def default_plan(self) -> str:
        """The plan a new organisation starts on."""
        return "free" if self.enabled else "self_hosted"

    def plan(self, stored: str | None) -> plans.Plan:
        return plans.effective(stored, billing_enabled=self.enabled)

    def quota_for(self, stored: str | None) -> int | None:
        """The monthly event quota for a stored plan (the writer's meter asks, on the writer thread)."""
        return self.plan(stored).monthly_events

    def _require(self) -> StripeGateway:
        if not self.enabled or self._gateway is None:
            raise BillingNotConfigured("billing is not configured on this sidecar (it is a private install: "
                                       "set AGENTAUDIT_STRIPE_SECRET_KEY and the price ids to sell plans)")
        return self._gateway

    def close(self) -> None:
        if self._gateway is not None:
            self._gateway.close()

    # -- reads -------------------------------------------------------------------------------------

    def prices(self) -> dict[str, str]:
        self._require()
        return dict(self._prices)

    async def subscription(self, principal: Principal) -> SubscriptionView:
        period = month_of(now_ms())[0]
        view = await self._reads.run(store.view, principal.org_id, period)
        if view is None:
            raise NotFound("organisation not found")
        plan = self.plan(view.plan)
        account = view.account
        if not self.enabled:
            status = "not_configured"
        elif account is not None and account.subscription_id:
            status = account.status
        else:
            status = "active"
        return SubscriptionView(
            plan=plan.name, status=status,
            current_period_end=account.current_period_end if account and self.enabled else None,
            cancel_at_period_end=bool(account and self.enabled and account.cancel_at_period_end),
            logs_this_month=view.events_this_month, quota=plan.monthly_events, agents=view.agents,
            agent_limit=plan.agents,
        )

    # -- checkout and portal -----------------------------------------------------------------------

    def return_url(self, origin: str) -> str:
        """Where Stripe sends the browser back to: the configured URL, or ``<origin>/billing``."""
        return self._return_url or f"{origin.rstrip('/')}/billing"

    async def checkout(self, principal: Principal, price_id: str, *, origin: str) -> tuple[str, str]:
        """A Stripe Checkout session subscribing the caller's organisation to ``price_id``."""
        gateway = self._require()
        if price_id not in self._plan_of_price:
            raise InvalidInput.fields([FieldError("priceId", f"must be one of {sorted(self._plan_of_price)}")])
        view = await self._reads.run(store.view, principal.org_id, month_of(now_ms())[0])
        account = view.account if view is not None else None
        if account is not None and account.subscription_id and account.status in plans.ENTITLED_STATUSES:
            raise Conflict("this organisation already has a subscription: change or cancel it in the billing "
                           "portal (POST /billing/portal)")
        customer_id = await self._customer(principal.org_id, gateway)
        back = self.return_url(origin)
        separator = "&" if "?" in back else "?"
        return await gateway.create_checkout(
            customer_id=customer_id, price_id=price_id, org_id=principal.org_id,
            success_url=f"{back}{separator}checkout=success&session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{back}{separator}checkout=cancelled")

    async def portal(self, principal: Principal, *, origin: str) -> str:
        gateway = self._require()
        view = await self._reads.run(store.view, principal.org_id, month_of(now_ms())[0])
        if view is None or view.account is None or not view.account.customer_id:
            raise Conflict("this organisation has no Stripe customer yet: subscribe with POST /billing/checkout first")
        return await gateway.create_portal(customer_id=view.account.customer_id, return_url=self.return_url(origin))

    async def _customer(self, org_id: str, gateway: StripeGateway) -> str:
        view = await self._reads.run(store.view, org_id, month_of(now_ms())[0])
        if view is None:
            raise NotFound("organisation not found")
        if view.account is not None and view.account.customer_id:
            return view.account.customer_id
        customer_id = await gateway.create_customer(email=view.email, name=view.name, org_id=org_id)
        account = await self._writer.run(store.link_customer, org_id, customer_id, now_ms())
        return account.customer_id or customer_id  # a concurrent checkout may have linked one first

    # -- the agent limit ---------------------------------------------------------------------------

    def check_agent_limit(self, org_id: str) -> None:
        """Raise QuotaExceeded if the plan allows no more agents. Writer thread, in the creating transaction."""
        if not self.enabled:
            return
        plan = self.plan(store.stored_plan(org_id))
        if plan.agents is not None and store.count_agents(org_id) >= plan.agents:
            raise QuotaExceeded(f"the {plan.name} plan allows {plan.agents} agents; delete one or upgrade the plan")

    # -- the webhook -------------------------------------------------------------------------------

    async def webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """Verify and apply one Stripe event, once. Returns ``{received, duplicate, handled}``.

        Raises:
            InvalidInput: the signature does not verify (nothing changes).
        """
        self._require()
        if not self._webhook_secret:
            raise BillingNotConfigured("no Stripe webhook secret is configured (AGENTAUDIT_STRIPE_WEBHOOK_SECRET)")
        try:
            stripe.Webhook.construct_event(payload.decode("utf-8"), signature, self._webhook_secret)
            event = orjson.loads(payload)
            event_id, kind, obj = str(event["id"]), str(event["type"]), event["data"]["object"]
        except stripe.SignatureVerificationError:
            raise InvalidInput("the Stripe-Signature header does not verify for this payload",
                               [FieldError("Stripe-Signature", "does not verify for this payload")]) from None
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise InvalidInput("the payload is not a Stripe event",
                               [FieldError("body", "must be a Stripe event {id, type, data: {object}}")]) from None
        if kind not in HANDLED:
            return {"received": True, "duplicate": False, "handled": False}
        if await self._reads.run(store.event_seen, event_id):
            return {"received": True, "duplicate": True, "handled": True}
        update = await self._interpret(event_id, kind, int(event.get("created") or 0), obj)
        applied = await self._writer.run(self._apply, update, now_ms())
        if applied.duplicate:
            return {"received": True, "duplicate": True, "handled": True}
        if applied.org_id is not None:
            for row in applied.alerts:
                self._hub.publish(applied.org_id, "alert.created", alert_payload(row))
            if self.on_outbox is not None:
                self.on_outbox()
            if applied.plan_before != applied.plan_after:
                log.http.info("organisation %s moved from plan %s to %s (%s)", applied.org_id, applied.plan_before,
                              applied.plan_after, kind)
        return {"received": True, "duplicate": False, "handled": True}

    async def _interpret(self, event_id: str, kind: str, created: int, obj: dict[str, Any]) -> StripeUpdate:
        update = StripeUpdate(event_id=event_id, kind=kind, created=created, state_at=created)
        update.customer_id = obj.get("customer") if isinstance(obj.get("customer"), str) else None
        if kind == "checkout.session.completed":
            update.org_hint = obj.get("client_reference_id") or (obj.get("metadata") or {}).get("orgId")
            subscription_id = obj.get("subscription")
            if isinstance(subscription_id, str) and subscription_id:
                # the session names the subscription only: ask Stripe for its current state
                update.subscription = _subscription_state(await self._require().subscription(subscription_id))
                update.state_at = max(created, now_ms() // 1000)
        elif kind.startswith("customer.subscription."):
            update.subscription = _subscription_state(obj)
            update.org_hint = update.subscription["org_id"]
            if kind == "customer.subscription.deleted":
                update.subscription["status"] = "canceled"
        else:
            update.payment = "succeeded" if kind == "invoice.payment_succeeded" else "failed"
            parent = ((obj.get("parent") or {}).get("subscription_details") or {})
            update.invoice = {
                "invoiceId": obj.get("id"), "amountDue": obj.get("amount_due"), "currency": obj.get("currency"),
                "attemptCount": obj.get("attempt_count"), "hostedInvoiceUrl": obj.get("hosted_invoice_url"),
                "subscriptionId": obj.get("subscription") or parent.get("subscription"),
                "nextPaymentAttempt": to_iso(obj["next_payment_attempt"] * 1000) if obj.get("next_payment_attempt")
                else None,
            }
            update.org_hint = (parent.get("metadata") or {}).get("orgId")
        return update

    def _resolve_org(self, update: StripeUpdate) -> str | None:
        by_customer = store.org_of_customer(update.customer_id) if update.customer_id else None
        if by_customer is not None:
            if update.org_hint and update.org_hint != by_customer:
                log.http.warning("Stripe event %s names organisation %s but its customer belongs to %s; using the "
                                 "customer's", update.event_id, update.org_hint, by_customer)
            return by_customer
        if update.org_hint and store.org_exists(update.org_hint):
            return update.org_hint
        return None

    def _apply(self, update: StripeUpdate, now: int) -> Applied:
        """Apply one Stripe event (writer thread, one transaction): state, plan, alert, outbox, processed id."""
        if store.event_seen(update.event_id):
            return Applied(duplicate=True)
        org_id = self._resolve_org(update)
        store.mark_event(update.event_id, update.kind, org_id, now)
        if org_id is None:
            log.http.warning("Stripe event %s (%s) names no organisation of ours; ignored", update.event_id,
                             update.kind)
            return Applied()
        applied = Applied(org_id=org_id)
        account = store.ensure_account(org_id, now)
        if update.customer_id and account.customer_id is None:
            account = store.link_customer(org_id, update.customer_id, now)
        sub = update.subscription
        if sub is not None and update.state_at >= account.state_at:
            price_plan = self._plan_of_price.get(sub["price_id"] or "")
            if sub["price_id"] and price_plan is None:
                log.http.warning("Stripe subscription %s has price %s, which is not configured", sub["id"],
                                 sub["price_id"])
            store.set_subscription(org_id, subscription_id=sub["id"], price_id=sub["price_id"], status=sub["status"],
                                   current_period_end=sub["current_period_end"],
                                   cancel_at_period_end=sub["cancel_at_period_end"], state_at=update.state_at, now=now)
            new_plan = plans.plan_for_subscription(sub["status"], price_plan)
            applied.plan_before = store.set_plan(org_id, new_plan, now)
            applied.plan_after = new_plan
            if applied.plan_before != new_plan:
                if self._writer.meter is not None:
                    self._writer.meter.forget(org_id)  # the quota changes with the next event
                outbox.enqueue(org_id, "billing.plan_changed",
                               {"from": applied.plan_before, "to": new_plan, "status": sub["status"],
                                "stripeEventId": update.event_id}, now)
        if update.payment == "failed":
            store.set_status(org_id, "past_due", now)
            applied.alerts.append(self._payment_alert(org_id, update, now))
            alert_store.insert_alerts(self._db, self._db.cursor(), applied.alerts)
            outbox.enqueue(org_id, "billing.payment_failed", {**update.invoice, "stripeEventId": update.event_id}, now)
            outbox.enqueue(org_id, "alert.created", alert_payload(applied.alerts[0]), now)
        elif update.payment == "succeeded":
            if account.status == "past_due":
                store.set_status(org_id, "active", now)
            outbox.enqueue(org_id, "billing.payment_succeeded", {**update.invoice, "stripeEventId": update.event_id},
                           now)
        return applied

    def _payment_alert(self, org_id: str, update: StripeUpdate, now: int) -> tuple[Any, ...]:
        plan = store.stored_plan(org_id) or "free"
        invoice = update.invoice
        amount = ""
        if isinstance(invoice.get("amountDue"), int) and invoice.get("currency"):
            amount = f", {invoice['amountDue'] / 100:.2f} {str(invoice['currency']).upper()}"
        message = (f"Payment failed for the {plan} plan (invoice {invoice.get('invoiceId') or 'unknown'}{amount}). "
                   "Stripe will retry; update the payment method in the billing portal, or the organisation falls "
                   "back to the free plan's limits when the subscription ends.")
        details = {"source": "billing", "stripeEventId": update.event_id, "plan": plan, **invoice}
        return (new_id("alert"), org_id, "critical", alert_store.SEVERITY_RANK["critical"], "open", message, None,
                None, None, None, alert_store.details_json(details), now, now)
