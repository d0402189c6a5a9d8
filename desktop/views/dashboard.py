"""The dashboard: KPI cards, the events/violations chart, violations by pack and agent, the latest events."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.api import schemas
from desktop.api.errors import ApiError
from desktop.models import timefmt
from desktop.models.logs import preview
from desktop.presenters.dashboard import ANALYTICS_ROWS, DashboardPresenter, DashboardSnapshot, TimeRange
from desktop.widgets.cards import Card, KpiCard, label, page_layout
from desktop.widgets.charts import BarList, Point, TimeChart
from desktop.widgets.pills import PillDelegate

LABEL_FORMATS = {TimeRange.DAY: "%H:%M", TimeRange.WEEK: "%a %d", TimeRange.MONTH: "%d %b"}


def figure(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


class DashboardView(QWidget):
    """Signals:
        open_event(str): the user double-clicked a recent event.
    """

    open_event = Signal(str)

    def __init__(self, presenter: DashboardPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        root, head, self.subtitle = page_layout(self, "Dashboard", "Loading…", spacing=14)
        self.range_buttons = QButtonGroup(self)
        for time_range in TimeRange:
            button = QPushButton(time_range.label)
            button.setProperty("role", "segment")
            button.setCheckable(True)
            button.setChecked(time_range is presenter.time_range)
            button.clicked.connect(lambda _c=False, r=time_range: presenter.set_range(r))
            self.range_buttons.addButton(button)
            head.addWidget(button)
        head.addSpacing(8)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(presenter.refresh)
        head.addWidget(refresh)
        root.addLayout(head)

        kpis = QGridLayout()
        kpis.setSpacing(12)
        self.events_card = KpiCard("Events today")
        self.flagged_card = KpiCard("Flagged today", accent=theme.VERDICT["flag"])
        self.blocked_card = KpiCard("Blocked today", accent=theme.VERDICT["block"])
        self.alerts_card = KpiCard("Open alerts", accent=theme.SEVERITY["critical"])
        self.agents_card = KpiCard("Active agents (24 h)")
        for column, card in enumerate((self.events_card, self.flagged_card, self.blocked_card, self.alerts_card,
                                       self.agents_card)):
            kpis.addWidget(card, 0, column)
            kpis.setColumnStretch(column, 1)
        root.addLayout(kpis)

        # the chart over the latest events on the left; the breakdowns down the right, a row per pack or agent
        body = QHBoxLayout()
        body.setSpacing(12)
        left = QVBoxLayout()
        left.setSpacing(12)
        self.chart_card = Card("Events and violations")
        self.chart = TimeChart()
        self.chart_card.body.addWidget(self.chart)
        left.addWidget(self.chart_card, 3)
        side = QVBoxLayout()
        side.setSpacing(12)
        self.pack_card = Card("Violations by pack")
        self.by_pack = BarList(theme.VIOLATIONS_COLOR, "No violations in this period")
        self.pack_card.body.addWidget(self.by_pack)
        self.agent_card = Card("Violations by agent")
        self.by_agent = BarList(theme.SEVERITY["critical"], "No violations in this period")
        self.agent_card.body.addWidget(self.by_agent)
        self.breakdown_note = label("", "muted")
        self.breakdown_note.setWordWrap(True)
        self.agent_card.body.addWidget(self.breakdown_note)
        self.breakdown_note.hide()
        side.addWidget(self.pack_card)
        side.addWidget(self.agent_card)
        side.addStretch(1)

        self.recent_card = Card("Latest events")
        self.recent = QTableWidget(0, 5)
        self.recent.setHorizontalHeaderLabels(["Time", "Agent", "Action", "Verdict", "Prompt"])
        self.recent.verticalHeader().hide()
        self.recent.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.recent.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.recent.setShowGrid(False)
        self.recent.setWordWrap(False)
        self.recent.verticalHeader().setDefaultSectionSize(26)
        header = self.recent.horizontalHeader()
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column in range(4):  # time, agent, action and verdict fit their text; the prompt takes the rest
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.recent.setItemDelegateForColumn(3, PillDelegate(theme.VERDICT, parent=self.recent))
        self.recent.itemDoubleClicked.connect(self._double_clicked)
        self.recent_empty = label("No events yet. Agents that send events to the sidecar show up here.", "empty")
        self.recent_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.recent_empty.setWordWrap(True)
        self.recent_card.body.addWidget(self.recent)
        self.recent_card.body.addWidget(self.recent_empty)
        left.addWidget(self.recent_card, 2)
        body.addLayout(left, 3)
        body.addLayout(side, 2)
        root.addLayout(body, 1)

        presenter.snapshot_changed.connect(self.show_snapshot)
        presenter.failed.connect(self.show_error)
        presenter.loading_changed.connect(self._loading)
        if presenter.snapshot is not None:
            self.show_snapshot(presenter.snapshot)

    def _loading(self, busy: bool) -> None:
        if busy and self.presenter.snapshot is None:
            self.subtitle.setText("Loading…")

    def show_error(self, error: ApiError) -> None:
        self.subtitle.setText(f"Could not load the dashboard: {error.message}")

    def show_snapshot(self, snap: DashboardSnapshot) -> None:
        for button, time_range in zip(self.range_buttons.buttons(), TimeRange, strict=True):
            button.setChecked(time_range is snap.range)
        when = snap.taken_at.astimezone().strftime("%H:%M:%S")
        self.subtitle.setText(f"Updated {when}" + ("  ·  " + " ".join(snap.notes) if snap.notes else ""))
        k = snap.kpis
        self.events_card.set(figure(k.events_today), "since midnight")
        flagged_share = ""
        if k.events_today and k.flagged_today is not None:
            flagged_share = f"{k.flagged_today / k.events_today:.0%} of today's events"
        self.flagged_card.set(figure(k.flagged_today), flagged_share or "events with a violation")
        self.blocked_card.set(figure(k.blocked_today), "enforcement action block")
        if k.open_alerts is None:
            self.alerts_card.set("—", "alerts unavailable")
        else:
            total = sum(k.open_alerts.values())
            parts = [f"{k.open_alerts[s]:,} {s}" for s in schemas.SEVERITIES]
            self.alerts_card.set(f"{total:,}", " · ".join(parts))
        self.agents_card.set(figure(k.active_agents), "with traces in the last 24 h")
        self.chart_card.title.setText(f"Events and violations, last {snap.range.label}")
        self.chart.set_points([Point(b.start, b.events, b.violations) for b in snap.series],
                              LABEL_FORMATS[snap.range])
        self.by_pack.set_items(snap.by_pack)
        self.by_agent.set_items(snap.by_agent)
        self.breakdown_note.setText(f"Counted over the {ANALYTICS_ROWS} most frequent rules and agents")
        self.breakdown_note.setVisible(snap.breakdown_cut)
        self._fill_recent(snap.recent)

    def _fill_recent(self, events: tuple[schemas.LogEvent, ...]) -> None:
        self.recent.setRowCount(len(events))
        now = datetime.now(UTC)
        for row, event in enumerate(events):
            cells = (timefmt.relative(event.created_at, now), event.agent_id or "—", event.action,
                     event.enforcement_action, preview(event.prompt or event.response, 200))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, event.id)
                self.recent.setItem(row, column, item)
        self.recent.setVisible(bool(events))
        self.recent_empty.setVisible(not events)

    def _double_clicked(self, item: QTableWidgetItem) -> None:
        self.open_event.emit(str(item.data(Qt.ItemDataRole.UserRole)))
