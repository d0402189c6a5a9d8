"""Billing state: Stripe accounts, processed Stripe events, monthly usage (sync units of work).

Functions that change data run on the writer thread (``Writer.run``); the others on the read pool.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import fn

from sidecar.store.models import Agent, BillingAccount, Organization, StripeEvent, Usage


@dataclass(frozen=True, slots=True)
class AccountRecord:
    org_id: str
    customer_id: str | None
    subscription_id: str | None
    price_id: str | None
    status: str
    current_period_end: int | None
    cancel_at_period_end: bool
    state_at: int


@dataclass(frozen=True, slots=True)
class BillingView:
    """What ``GET /billing/subscription`` shows: the stored plan, the account (if any), this month's usage."""

    org_id: str
    plan: str
    email: str
    name: str
    account: AccountRecord | None
    events_this_month: int
    agents: int


def _account(row: BillingAccount) -> AccountRecord:
    return AccountRecord(row.org_id, row.customer_id, row.subscription_id, row.price_id, row.status,
                         row.current_period_end, bool(row.cancel_at_period_end), int(row.state_at))


def view(org_id: str, period: str) -> BillingView | None:
    """The organisation's billing view for ``period`` (``YYYY-MM``); None if it does not exist."""
    org = Organization.get_or_none(Organization.id == org_id)
    if org is None:
        return None
    account = BillingAccount.get_or_none(BillingAccount.org_id == org_id)
    used = (Usage.select(Usage.events).where((Usage.org_id == org_id) & (Usage.period == period)).scalar()) or 0
    return BillingView(org.id, org.plan, org.email, org.name, _account(account) if account else None, int(used),
                       count_agents(org_id))


def count_agents(org_id: str) -> int:
    return int(Agent.select(fn.COUNT(Agent.id)).where(Agent.org_id == org_id).scalar() or 0)


def stored_plan(org_id: str) -> str | None:
    return Organization.select(Organization.plan).where(Organization.id == org_id).scalar()


def event_seen(event_id: str) -> bool:
    return StripeEvent.select().where(StripeEvent.id == event_id).exists()


def org_of_customer(customer_id: str) -> str | None:
    return BillingAccount.select(BillingAccount.org_id).where(BillingAccount.customer_id == customer_id).scalar()


def org_exists(org_id: str) -> bool:
    return Organization.select().where(Organization.id == org_id).exists()


# -- writes (writer thread) ---------------------------------------------------------------------------

def mark_event(event_id: str, kind: str, org_id: str | None, now: int) -> bool:
    """Record a Stripe event as processed. Returns False if it already was (a replay).

    Runs on the one writer thread, so check-then-insert cannot race; the primary key backs it up.
    """
    if event_seen(event_id):
        return False
    StripeEvent.insert(id=event_id, type=kind, org_id=org_id, processed_at=now).execute()
    return True


def ensure_account(org_id: str, now: int) -> AccountRecord:
    row = BillingAccount.get_or_none(BillingAccount.org_id == org_id)
    if row is None:
        row = BillingAccount.create(org_id=org_id, status="active", updated_at=now)
    return _account(row)


def link_customer(org_id: str, customer_id: str, now: int) -> AccountRecord:
    """Remember the organisation's Stripe customer (first one wins)."""
    account = ensure_account(org_id, now)
    if account.customer_id is None:
        BillingAccount.update(customer_id=customer_id, updated_at=now).where(
            BillingAccount.org_id == org_id).execute()
    return _account(BillingAccount.get(BillingAccount.org_id == org_id))


def set_subscription(org_id: str, *, subscription_id: str | None, price_id: str | None, status: str,
                     current_period_end: int | None, cancel_at_period_end: bool, state_at: int, now: int) -> None:
    BillingAccount.update(subscription_id=subscription_id, price_id=price_id, status=status,
                          current_period_end=current_period_end, cancel_at_period_end=cancel_at_period_end,
                          state_at=state_at, updated_at=now).where(BillingAccount.org_id == org_id).execute()


def set_status(org_id: str, status: str, now: int) -> None:
    BillingAccount.update(status=status, updated_at=now).where(BillingAccount.org_id == org_id).execute()


def set_plan(org_id: str, plan: str, now: int) -> str:
    """Change the organisation's plan; returns the previous one."""
    before = stored_plan(org_id) or "free"
    if before != plan:
        Organization.update(plan=plan, updated_at=now).where(Organization.id == org_id).execute()
    return before
