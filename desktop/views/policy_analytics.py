"""A policy's analytics tab: what it caught over 30 days (figures, violations per day with the blocked ones in
front, breakdowns by rule and by agent)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from desktop import theme
from desktop.api import schemas
from desktop.presenters.policies import PoliciesPresenter
from desktop.views.policy_tabs import table
from desktop.widgets.cards import Card, KpiCard
from desktop.widgets.charts import Point, TimeChart


class AnalyticsTab(QWidget):
    """What the policy caught over 30 days: figures, violations per day (blocked in front), by rule and agent."""

    def __init__(self, presenter: PoliciesPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        cards = QHBoxLayout()
        self.cards = {key: KpiCard(caption, accent=accent) for key, caption, accent in (
            ("violations", "Violations (30 days)", theme.VIOLATIONS_COLOR),
            ("events", "Events with violations", None),
            ("block", "Blocked", theme.VERDICT["block"]),
            ("flag", "Flagged", theme.VERDICT["flag"]),
            ("log", "Logged", theme.VERDICT["log"]))}
        for card in self.cards.values():
            cards.addWidget(card)
        layout.addLayout(cards)
        self.chart = TimeChart(legend=("Violations", "Blocked"), empty_text="No violations in the last 30 days",
                               tooltip="{events:,} violations, {violations:,} blocked")
        self.chart.setMinimumHeight(170)
        chart_card = Card("Violations per day")
        chart_card.body.addWidget(self.chart)
        layout.addWidget(chart_card, 2)
        tables = QHBoxLayout()
        by_rule = Card("By rule")
        by_rule.body.addWidget(table(presenter.rule_counts, pill_column=1, colors=theme.SEVERITY))
        by_agent = Card("By agent")
        by_agent.body.addWidget(table(presenter.agent_counts))
        tables.addWidget(by_rule, 3)
        tables.addWidget(by_agent, 2)
        layout.addLayout(tables, 2)
        presenter.analytics_changed.connect(self.show_analytics)

    def show_analytics(self, analytics: schemas.PolicyAnalytics) -> None:
        self.cards["violations"].set(f"{analytics.total_violations:,}",
                                     f"of {analytics.total_audits:,} events checked")
        self.cards["events"].set(f"{analytics.violating_events:,}")
        self.cards["block"].set(f"{analytics.block_count:,}")
        self.cards["flag"].set(f"{analytics.flag_count:,}")
        self.cards["log"].set(f"{analytics.log_count:,}")
        self.chart.set_points(daily_points(analytics.days, datetime.now(UTC).date()), "%d %b")


def daily_points(days: tuple[schemas.DayCount, ...], today: date, span: int = 30) -> list[Point]:
    """One point per day of the last ``span`` days (zero where the sidecar reported nothing)."""
    by_date = {d.date: d for d in days}
    points = []
    for offset in range(span - 1, -1, -1):
        day = today - timedelta(days=offset)
        count = by_date.get(day.isoformat())
        points.append(Point(datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                            count.violations if count else 0, count.block if count else 0))
    return points
