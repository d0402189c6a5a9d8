"""Alert triage: the queue (critical first, then newest), filters, actions with a note, bulk, shortcuts."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedLayout,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.api import schemas
from desktop.api.errors import ApiError
from desktop.models import timefmt
from desktop.models.alerts import STATUS_LABELS
from desktop.models.roles import AlertColumn, AlertRole
from desktop.presenters.alert_facts import AlertFacts
from desktop.presenters.triage import Triage, TriagePresenter, TriageResult
from desktop.widgets.cards import label, page_layout
from desktop.widgets.json_view import JsonView
from desktop.widgets.pills import Pill, PillDelegate

STATUS_FILTERS = {"Open": "open", "Acknowledged": "acknowledged", "Resolved": "resolved",
                  "False positive": "false_positive", "Any status": ""}
SEVERITY_FILTERS = {"Any severity": "", "Critical": "critical", "Warning": "warning", "Info": "info"}
SHORTCUTS = {Triage.ACKNOWLEDGE: "A", Triage.RESOLVE: "R", Triage.FALSE_POSITIVE: "F", Triage.REOPEN: "O"}
#: The view's width (pixels) from which the detail sits beside the queue rather than under it.
WIDE_LAYOUT = 1000
BUTTON_TEXT = {Triage.ACKNOWLEDGE: "Acknowledge", Triage.RESOLVE: "Resolve", Triage.FALSE_POSITIVE: "False positive",
               Triage.REOPEN: "Reopen"}


class AlertDetail(QFrame):
    """The selected alert, field by field (all plain text): names, not ids, for its rule, event and resolver
    (the ids are the fields' tooltips)."""

    def __init__(self, facts: AlertFacts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._facts = facts
        self._alert: schemas.Alert | None = None
        self.setProperty("role", "card")
        self._stack = QStackedLayout(self)
        self.empty = label("", "empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self._stack.addWidget(self.empty)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(14, 12, 14, 12)
        head = QHBoxLayout()
        self.severity = Pill()
        self.status = Pill()
        head.addWidget(self.severity)
        head.addWidget(self.status)
        head.addStretch(1)
        layout.addLayout(head)
        self.message = label("", "section")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        grid = QGridLayout()
        grid.setVerticalSpacing(3)
        self.fields: dict[str, QLabel] = {}
        for n, name in enumerate(("Raised", "Agent", "Rule", "Policy", "Event", "Resolved", "Note")):
            value = label("")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[name] = value
            grid.addWidget(label(name, "muted"), n, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, n, 1)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        layout.addWidget(label("Details", "muted"))
        self.details = JsonView()
        self.details.setMinimumHeight(120)
        layout.addWidget(self.details, 1)
        scroll = QScrollArea()  # on a short window the fields scroll rather than overlap
        scroll.setWidget(page)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._stack.addWidget(scroll)
        self.show_alert(None)
        facts.changed.connect(self._refill)

    def _refill(self) -> None:
        if self._alert is not None and self._stack.currentIndex() == 1:
            self.show_alert(self._alert)

    def show_alert(self, alert: schemas.Alert | None, selected: int = 1, selection_text: str = "") -> None:
        if selected > 1:
            self.empty.setText(f"{selection_text or f'{selected} alerts selected.'}\n"
                               "A acknowledge · R resolve · F false positive · O reopen")
        else:
            self.empty.setText("Select an alert to see its details.\nSelect several (Shift or Ctrl) to triage "
                               "them together.")
        self._alert = alert if selected <= 1 else None
        if alert is None or selected > 1:
            self._stack.setCurrentIndex(0)
            return
        facts = self._facts
        self.severity.set(alert.severity, theme.SEVERITY.get(alert.severity, theme.MUTED))
        self.status.set(STATUS_LABELS.get(alert.status, alert.status), theme.STATUS.get(alert.status, theme.MUTED))
        self.message.setText(alert.message)
        self.fields["Raised"].setText(timefmt.local(alert.created_at))
        self.fields["Agent"].setText(alert.agent_id or "—")
        self.fields["Rule"].setText(facts.rule_name(alert))
        self.fields["Rule"].setToolTip(alert.rule_id or "")
        self.fields["Policy"].setText(alert.policy_id or "—")
        self.fields["Event"].setText(facts.event_text(alert))
        self.fields["Event"].setToolTip(f"{alert.audit_log_id}: Open event (Enter)" if alert.audit_log_id else "")
        resolved = "—"
        if alert.resolved_at:
            by = facts.person(alert.resolved_by)
            resolved = timefmt.local(alert.resolved_at) + (f" by {by}" if by else "")
        self.fields["Resolved"].setText(resolved)
        self.fields["Resolved"].setToolTip(alert.resolved_by or "")
        self.fields["Note"].setText(alert.note or "—")
        self.details.set_value(alert.details if alert.details is not None else {})
        self._stack.setCurrentIndex(1)


class AlertTriageView(QWidget):
    """Signals:
        open_event(str): jump to the alert's event in the log explorer.
        open_trace_of(str): jump to the trace of the alert's event (by event id).
    """

    open_event = Signal(str)
    open_trace_of = Signal(str)

    def __init__(self, presenter: TriagePresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        model = presenter.model
        root, head, self.count = page_layout(self, "Alerts", "")
        self.status = QComboBox()
        self.status.addItems(list(STATUS_FILTERS))
        self.severity = QComboBox()
        self.severity.addItems(list(SEVERITY_FILTERS))
        self.agent = QLineEdit()
        self.agent.setPlaceholderText("Agent")
        self.agent.setClearButtonEnabled(True)
        self.agent.setMaximumWidth(180)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(presenter.refresh)
        for widget in (self.status, self.severity, self.agent, refresh):
            head.addWidget(widget)
        root.addLayout(head)

        # two rows, so that no button is squeezed below its text on a narrow window
        actions = QHBoxLayout()
        actions.setSpacing(8)
        self.buttons: dict[Triage, QPushButton] = {}
        for action in (Triage.ACKNOWLEDGE, Triage.RESOLVE, Triage.FALSE_POSITIVE, Triage.REOPEN):
            button = QPushButton(f"{BUTTON_TEXT[action]}  ({SHORTCUTS[action]})")
            if action is Triage.RESOLVE:
                button.setProperty("role", "primary")
            button.clicked.connect(lambda _c=False, a=action: self.act(a))
            self.buttons[action] = button
            actions.addWidget(button)
        actions.addStretch(1)
        root.addLayout(actions)
        more = QHBoxLayout()
        more.setSpacing(8)
        self.note = QLineEdit()
        self.note.setPlaceholderText("Note (optional)")
        more.addWidget(self.note, 1)
        self.event_button = QPushButton("Open event  (Enter)")
        self.event_button.clicked.connect(self._open_event)
        self.trace_button = QPushButton("Show trace  (T)")
        self.trace_button.clicked.connect(self._open_trace)
        more.addWidget(self.event_button)
        more.addWidget(self.trace_button)
        root.addLayout(more)
        self.feedback = label("", "muted")
        root.addWidget(self.feedback)

        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        self.table = QTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(28)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(AlertColumn.MESSAGE, QHeaderView.ResizeMode.Stretch)
        for column, width in ((AlertColumn.SEVERITY, 96), (AlertColumn.STATUS, 124), (AlertColumn.AGENT, 130),
                              (AlertColumn.CREATED, 96)):
            self.table.setColumnWidth(column, width)
        self.table.setItemDelegateForColumn(AlertColumn.SEVERITY,
                                            PillDelegate(theme.SEVERITY, AlertRole.SEVERITY, self.table))
        self.table.setItemDelegateForColumn(AlertColumn.STATUS,
                                            PillDelegate(theme.STATUS, AlertRole.STATUS, self.table))
        self.table.doubleClicked.connect(lambda _i: self._open_event())
        self.empty = label("", "empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        splitter.addWidget(self.stack)
        self.detail = AlertDetail(presenter.facts)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([700, 380])
        root.addWidget(splitter, 1)

        for action, key in SHORTCUTS.items():
            shortcut = QShortcut(QKeySequence(key), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(lambda a=action: self.act(a))
        for key, slot in (("Return", self._open_event), ("Enter", self._open_event), ("T", self._open_trace)):
            shortcut = QShortcut(QKeySequence(key), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)

        self.status.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.severity.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.agent.returnPressed.connect(self.apply_filters)
        self.agent.editingFinished.connect(self.apply_filters)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._selection_changed())
        # bound methods, not lambdas: Qt drops them when this view is destroyed before its presenter
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.total_changed,
                       model.loading_changed):
            signal.connect(self._update)
        model.dataChanged.connect(self._selection_changed)
        model.failed.connect(self._failed)
        presenter.triaged.connect(self._triaged)
        presenter.select_row.connect(self._select_row)
        presenter.busy_changed.connect(self._selection_changed)
        self._update()

    def apply_filters(self) -> None:
        self.presenter.set_filter(STATUS_FILTERS[self.status.currentText()],
                                  SEVERITY_FILTERS[self.severity.currentText()], self.agent.text())

    def selected_alerts(self) -> list[schemas.Alert]:
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [self.presenter.model.alert(row) for row in rows]

    def act(self, action: Triage) -> None:
        alerts = self.selected_alerts()
        if alerts:
            self.presenter.act(action, [a.id for a in alerts], self.note.text())

    def _triaged(self, result: TriageResult) -> None:
        self.feedback.setText(result.summary + ".")
        if not result.errors:
            self.note.clear()
        self.table.setFocus()

    def _select_row(self, row: int) -> None:
        self.table.selectRow(row)
        self.table.setFocus()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        """Beside the queue when there is room for both; under it on a narrow window, so the Alert column keeps
        its width."""
        super().resizeEvent(event)
        wide = event.size().width() >= WIDE_LAYOUT
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.splitter.orientation() != orientation:
            self.splitter.setOrientation(orientation)
            self.splitter.setSizes([700, 380] if wide else [500, 500])  # proportions: the splitter scales them

    def _update(self, *_args: object) -> None:
        model = self.presenter.model
        rows, total = model.rowCount(), model.total
        if model.error is not None:
            return
        status = self.status.currentText().lower()
        if rows == 0 and model.loading:
            self.count.setText("Loading…")
        else:
            noun = "alert" if total == 1 else "alerts"
            self.count.setText(f"{total:,} {status} {noun}" if status != "any status" else f"{total:,} {noun}")
        empty = rows == 0 and not model.loading
        if empty:
            self.empty.setText("Nothing to triage. New alerts appear here as rules flag events."
                               if STATUS_FILTERS[self.status.currentText()] == "open"
                               else "No alerts match these filters.")
        self.stack.setCurrentIndex(1 if empty else 0)
        self._selection_changed()

    def _failed(self, error: ApiError) -> None:
        self.count.setText("Alerts unavailable")
        reason = ("This sidecar does not serve alerts yet." if error.status == 404 else error.message)
        self.empty.setText(f"Could not load alerts.\n{reason}")
        self.stack.setCurrentIndex(1)

    def _selection_changed(self, *_args: object) -> None:
        alerts = self.selected_alerts() if self.table.selectionModel() else []
        busy = self.presenter.busy
        for action, button in self.buttons.items():
            button.setEnabled(bool(alerts) and not busy and any(a.status != action.status for a in alerts))
        single = len(alerts) == 1 and bool(alerts[0].audit_log_id)
        self.event_button.setEnabled(single)
        self.trace_button.setEnabled(single)
        count = len(alerts) or 1
        self.detail.show_alert(alerts[0] if alerts else None, count,
                               self.presenter.selection_text(count) if count > 1 else "")

    def _open_event(self) -> None:
        alerts = self.selected_alerts()
        if len(alerts) == 1 and alerts[0].audit_log_id:
            self.open_event.emit(alerts[0].audit_log_id)

    def _open_trace(self) -> None:
        alerts = self.selected_alerts()
        if len(alerts) == 1 and alerts[0].audit_log_id:
            self.open_trace_of.emit(alerts[0].audit_log_id)
