"""The plans AgentAudit is sold by, and what each allows.

Limits apply only when billing is enabled. Without billing the install is private: every organisation
is on ``self_hosted`` and unlimited, whatever its stored plan says. With billing, an organisation that
has never subscribed (``self_hosted`` stored before billing was switched on) is on ``free``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Plan:
    """A plan's limits: events per calendar month (UTC) and registered agents; None is unlimited."""

    name: str
    monthly_events: int | None
    agents: int | None


SELF_HOSTED = Plan("self_hosted", None, None)
FREE = Plan("free", 5_000, 3)
PRO = Plan("pro", 50_000, 25)
BUSINESS = Plan("business", 250_000, None)

PLANS: dict[str, Plan] = {plan.name: plan for plan in (SELF_HOSTED, FREE, PRO, BUSINESS)}
PAID = ("pro", "business")

#: Stripe subscription statuses under which the paid plan's limits hold. ``past_due`` keeps them while
#: Stripe retries the payment (a critical alert says so); ``unpaid``/``canceled``/``incomplete*`` fall back to free.
ENTITLED_STATUSES = frozenset({"active", "trialing", "past_due"})


def effective(stored: str | None, *, billing_enabled: bool) -> Plan:
    """The plan whose limits apply to an organisation whose stored plan is ``stored``."""
    if not billing_enabled:
        return SELF_HOSTED
    plan = PLANS.get(stored or "", FREE)
    return FREE if plan is SELF_HOSTED else plan


def plan_for_subscription(status: str, price_plan: str | None) -> str:
    """The plan an organisation is on given its subscription's status and the plan of its price."""
    if price_plan in PAID and status in ENTITLED_STATUSES:
        return price_plan
    return "free"
