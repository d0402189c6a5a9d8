"""How the billing page reads a subscription: plan names, the usage bar's figures, the state to show."""

from __future__ import annotations

from dataclasses import dataclass

from desktop.api import schemas

PLAN_NAMES = {"free": "Free", "pro": "Pro", "business": "Business", "self_hosted": "Self-hosted"}
#: What each plan allows (API.md, "Billing"); None is unlimited.
PLAN_LIMITS: dict[str, tuple[int | None, int | None]] = {
    "free": (5_000, 3), "pro": (50_000, 25), "business": (250_000, None), "self_hosted": (None, None),
}
PLAN_ORDER = ("free", "pro", "business")


@dataclass(frozen=True, slots=True)
class Usage:
    """One usage bar: ``used`` of ``limit`` (None: unlimited), as a whole percentage capped at 100."""

    used: int
    limit: int | None

    @property
    def percent(self) -> int:
        if not self.limit:
            return 0
        return min(100, round(self.used * 100 / self.limit))

    @property
    def text(self) -> str:
        if self.limit is None:
            return f"{self.used:,} (unlimited)"
        return f"{self.used:,} of {self.limit:,} ({self.percent}%)"

    @property
    def level(self) -> str:
        """``ok``, ``high`` (80 % or more) or ``full``, for the bar's colour."""
        if self.limit and self.used >= self.limit:
            return "full"
        return "high" if self.percent >= 80 else "ok"


def events_usage(sub: schemas.Subscription) -> Usage:
    return Usage(sub.logs_this_month, sub.quota)


def agents_usage(sub: schemas.Subscription) -> Usage:
    return Usage(sub.agents, sub.agent_limit)


def plan_name(plan: str) -> str:
    return PLAN_NAMES.get(plan, plan.replace("_", " ").title())


def limits_text(plan: str) -> str:
    events, agents = PLAN_LIMITS.get(plan, (None, None))
    events_part = f"{events:,} events a month" if events else "unlimited events"
    agents_part = f"{agents} agents" if agents else "unlimited agents"
    return f"{events_part}, {agents_part}"


def upgrades(sub: schemas.Subscription, prices: schemas.Prices) -> list[tuple[str, str]]:
    """(plan, price id) of the paid plans above the current one that the sidecar has a price for."""
    offered = dict(prices.by_plan)
    current = PLAN_ORDER.index(sub.plan) if sub.plan in PLAN_ORDER else -1
    return [(plan, offered[plan]) for plan in PLAN_ORDER[current + 1:] if plan in offered]


def status_text(sub: schemas.Subscription) -> str:
    if not sub.billing_configured:
        return "Billing is not configured on this sidecar: the install is private and unlimited."
    parts = [sub.status.replace("_", " ")]
    if sub.current_period_end is not None:
        verb = "ends" if sub.cancel_at_period_end else "renews"
        parts.append(f"{verb} {sub.current_period_end.astimezone().strftime('%Y-%m-%d')}")
    return ", ".join(parts)
