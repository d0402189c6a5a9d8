"""The dashboard's state: KPIs, events and violations over time, violations by pack and agent, recent events.

Everything is computed from the public endpoints: counts are the ``pagination.total`` of one-row pages and
the ``X-Total-Count`` of alert lists; the time chart is one count per bucket; the breakdowns come from the
violation analytics of the range (``GET /policies/analytics``: exact counts by rule and by agent, the top
hundred of each, said so when cut).
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.api import schemas
from desktop.api.client import Call, SidecarClient
from desktop.api.errors import ApiError
from desktop.presenters.gather import Gather

PACK_NAMES = {"hipaa": "HIPAA", "gdpr": "GDPR", "finance": "Finance / PCI", "secrets": "Secrets"}
RECENT = 8


class TimeRange(enum.Enum):
    """The chart's window, with its bucket width."""

    DAY = ("24 h", timedelta(hours=24), timedelta(hours=1))
    WEEK = ("7 d", timedelta(days=7), timedelta(hours=6))
    MONTH = ("30 d", timedelta(days=30), timedelta(days=1))

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def span(self) -> timedelta:
        return self.value[1]

    @property
    def bucket(self) -> timedelta:
        return self.value[2]

    def buckets(self, now: datetime) -> list[tuple[datetime, datetime]]:
        """Contiguous ``[start, end)`` buckets ending with the one that holds ``now`` (aligned to the width)."""
        width = self.bucket
        epoch = datetime(2000, 1, 1, tzinfo=UTC)
        if width >= timedelta(days=1):  # whole local days
            local_midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
            last_start = local_midnight.astimezone(UTC)
        else:
            last_start = epoch + ((now - epoch) // width) * width
        count = int(self.span / width)
        starts = [last_start - width * (count - 1 - n) for n in range(count)]
        return [(start, start + width) for start in starts]


@dataclass(frozen=True, slots=True)
class Bucket:
    start: datetime
    end: datetime
    events: int
    violations: int


@dataclass(frozen=True, slots=True)
class Kpis:
    """None for a figure the sidecar could not give (the note says why)."""

    events_today: int | None = None
    flagged_today: int | None = None
    blocked_today: int | None = None
    open_alerts: dict[str, int] | None = None
    active_agents: int | None = None


@dataclass(frozen=True, slots=True)
class DashboardSnapshot:
    kpis: Kpis
    range: TimeRange
    series: tuple[Bucket, ...]
    by_pack: tuple[tuple[str, int], ...]
    by_agent: tuple[tuple[str, int], ...]
    recent: tuple[schemas.LogEvent, ...]
    breakdown_cut: bool = False  # the analytics listed only their top rules or agents
    notes: tuple[str, ...] = field(default=())
    taken_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def start_of_today(now: datetime) -> datetime:
    return now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def pack_of(rule_id: str, policy_id: str | None, rules: dict[str, schemas.Rule],
            policies: dict[str, schemas.Policy]) -> str:
    """The pack a violated rule came from: its own ``packId``, its policy's ``sourcePackId``, else custom."""
    rule = rules.get(rule_id)
    pack = rule.pack_id if rule else None
    policy_id = policy_id or (rule.policy_id if rule else None)
    if not pack and policy_id and policy_id in policies:
        pack = policies[policy_id].source_pack_id
    if pack:
        return PACK_NAMES.get(pack, pack)
    return "Custom rules"


#: How many rows of each breakdown the analytics endpoint lists at most.
ANALYTICS_ROWS = 100


def breakdowns(analytics: schemas.PolicyAnalytics, rules: dict[str, schemas.Rule],
               policies: dict[str, schemas.Policy]) -> tuple[list[tuple[str, int]], list[tuple[str, int]], bool]:
    """Violations counted by pack and by agent, and whether the analytics cut either list short."""
    by_pack: Counter[str] = Counter()
    for row in analytics.rules:
        by_pack[pack_of(row.rule_id, row.policy_id, rules, policies)] += row.count
    by_agent: Counter[str] = Counter({row.agent_id: row.violations for row in analytics.agents})
    cut = len(analytics.rules) >= ANALYTICS_ROWS or len(analytics.agents) >= ANALYTICS_ROWS
    return by_pack.most_common(6), by_agent.most_common(6), cut


class DashboardPresenter(QObject):
    """Signals:
        snapshot_changed(object): a complete :class:`DashboardSnapshot`.
        loading_changed(bool).
        failed(object): an :class:`ApiError` when nothing could be loaded.
    """

    snapshot_changed = Signal(object)
    loading_changed = Signal(bool)
    failed = Signal(object)

    def __init__(self, client: SidecarClient, *, debounce_ms: int = 700, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._range = TimeRange.DAY
        self._gather: Gather | None = None
        self._finished_gather: Gather | None = None
        self._dirty = False
        self.snapshot: DashboardSnapshot | None = None
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self.refresh)

    @property
    def time_range(self) -> TimeRange:
        return self._range

    def set_range(self, value: TimeRange) -> None:
        if value != self._range:
            self._range = value
            self.refresh()

    def refresh_soon(self) -> None:
        """Coalesce a burst of live events into one refresh."""
        if not self._debounce.isActive():
            self._debounce.start()

    def on_log(self, event: schemas.LogEvent) -> None:
        """A new event arrived live: show it in the recent list now; recount shortly."""
        if self.snapshot is not None and all(e.id != event.id for e in self.snapshot.recent):
            recent = (event, *self.snapshot.recent)[:RECENT]
            self.snapshot = replace(self.snapshot, recent=recent)
            self.snapshot_changed.emit(self.snapshot)
        self.refresh_soon()

    def refresh(self) -> None:
        if not self._client.logged_in:
            return
        if self._gather is not None:
            self._dirty = True
            return
        now = datetime.now(UTC)
        today = start_of_today(now)
        time_range = self._range
        buckets = time_range.buckets(now)
        calls: dict[str, Call] = {
            "events": self._client.count_logs(schemas.LogFilter(start=today)),
            "flagged": self._client.count_logs(schemas.LogFilter(start=today, flagged=True)),
            "blocked": self._client.count_logs(schemas.LogFilter(start=today, enforcement="block")),
            "traces": self._client.list_traces(schemas.LogFilter(start=now - timedelta(hours=24)), limit=500),
            "recent": self._client.list_logs(schemas.LogFilter(), limit=RECENT),
            "analytics": self._client.all_analytics(buckets[0][0]),
            "rules": self._client.list_rules(),
            "policies": self._client.list_policies(),
        }
        for severity in schemas.SEVERITIES:
            calls[f"alerts:{severity}"] = self._client.count_alerts(
                schemas.AlertFilter(status="open", severity=severity))
        for n, (start, end) in enumerate(buckets):
            last = end - timedelta(milliseconds=1)
            calls[f"b{n}:events"] = self._client.count_logs(schemas.LogFilter(start=start, end=last))
            calls[f"b{n}:violations"] = self._client.count_logs(schemas.LogFilter(start=start, end=last, flagged=True))
        gather = Gather(calls)  # no parent: it must not die with this presenter while it is emitting
        self._gather = gather
        gather.finished.connect(lambda results, errors: self._assemble(time_range, buckets, results, errors))
        self.loading_changed.emit(True)

    def _assemble(self, time_range: TimeRange, buckets: list[tuple[datetime, datetime]], results: dict[str, Any],
                  errors: dict[str, ApiError]) -> None:
        self._finished_gather, self._gather = self._gather, None  # freed at the next refresh, not mid-emit
        self.loading_changed.emit(False)
        if errors and not results:
            self.failed.emit(next(iter(errors.values())))
            return
        notes: list[str] = []
        open_alerts: dict[str, int] | None = None
        if all(f"alerts:{s}" in results for s in schemas.SEVERITIES):
            open_alerts = {s: results[f"alerts:{s}"] for s in schemas.SEVERITIES}
        else:
            notes.append("Alerts are not available from this sidecar.")
        traces: schemas.TracePage | None = results.get("traces")
        agents = {agent for trace in traces.items for agent in trace.agent_ids} if traces else None
        kpis = Kpis(results.get("events"), results.get("flagged"), results.get("blocked"), open_alerts,
                    len(agents) if agents is not None else None)
        series = tuple(
            Bucket(start, end, results.get(f"b{n}:events", 0), results.get(f"b{n}:violations", 0))
            for n, (start, end) in enumerate(buckets)
        )
        rules = {r.id: r for r in results["rules"].items} if "rules" in results else {}
        policies = {p.id: p for p in results["policies"].items} if "policies" in results else {}
        analytics: schemas.PolicyAnalytics | None = results.get("analytics")
        by_pack: list[tuple[str, int]] = []
        by_agent: list[tuple[str, int]] = []
        cut = False
        if analytics is not None:
            by_pack, by_agent, cut = breakdowns(analytics, rules, policies)
        else:
            notes.append("Violation breakdowns are not available from this sidecar.")
        recent: schemas.LogPage | None = results.get("recent")
        self.snapshot = DashboardSnapshot(
            kpis=kpis, range=time_range, series=series, by_pack=tuple(by_pack), by_agent=tuple(by_agent),
            recent=recent.items if recent else (), breakdown_cut=cut, notes=tuple(notes),
        )
        self.snapshot_changed.emit(self.snapshot)
        if self._dirty:
            self._dirty = False
            self.refresh()

