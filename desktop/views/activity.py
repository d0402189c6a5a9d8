"""The activity log: who changed what and when, filtered by person, action and target, a page at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QHeaderView, QLineEdit, QPushButton, QTableView, QWidget

from desktop.api import schemas
from desktop.models.roles import ActivityColumn
from desktop.presenters.activity import ActivityPresenter
from desktop.widgets.cards import label, page_layout

#: Common actions for the filter's menu (it also takes any text).
ACTIONS = ("", "settings.notifications", "settings.retention", "report.create", "report.delete",
           "report_schedule.create", "report_schedule.delete", "alert.acknowledged", "alert.resolved",
           "alert.false_positive", "policy.create", "policy.update", "policy.restore", "rule.create", "rule.update",
           "pack.install", "pack.uninstall", "agent.create", "agent.update", "ledger.purge", "user.create",
           "user.update", "user.delete", "key.create", "key.revoke")
TARGETS = ("", "user", "api_key", "report", "report_schedule", "settings", "organization", "alert", "policy", "rule",
           "pack", "agent", "audit_log")
PERIODS = (("Any time", None), ("Last 24 hours", 1), ("Last 7 days", 7), ("Last 30 days", 30))


class ActivityView(QWidget):
    def __init__(self, presenter: ActivityPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        root, head, self.subtitle = page_layout(
            self, "Activity", "Who changed what: users, keys, policies, alerts, settings and reports.")
        root.addLayout(head)
        filters = QHBoxLayout()
        self.actor = QLineEdit()
        self.actor.setPlaceholderText("Who (email)")
        self.action = QComboBox()
        self.action.setEditable(True)
        self.action.addItems(ACTIONS)
        self.action.lineEdit().setPlaceholderText("Any action")
        self.target = QComboBox()
        for target in TARGETS:
            self.target.addItem(target or "Any target", target)
        self.period = QComboBox()
        for text, days in PERIODS:
            self.period.addItem(text, days or 0)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setProperty("role", "primary")
        self.apply_button.clicked.connect(self.apply)
        self.actor.returnPressed.connect(self.apply)
        self.action.lineEdit().returnPressed.connect(self.apply)
        self.target.currentIndexChanged.connect(lambda _i: self.apply())
        self.period.currentIndexChanged.connect(lambda _i: self.apply())
        filters.addWidget(self.actor, 2)
        filters.addWidget(self.action, 2)
        filters.addWidget(self.target, 1)
        filters.addWidget(self.period, 1)
        filters.addWidget(self.apply_button)
        root.addLayout(filters)

        self.table = QTableView()
        self.table.setModel(presenter.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(30)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(ActivityColumn.DETAILS, QHeaderView.ResizeMode.Stretch)
        for column, width in ((ActivityColumn.TIME, 150), (ActivityColumn.ACTOR, 200), (ActivityColumn.ACTION, 240),
                              (ActivityColumn.TARGET, 250)):
            self.table.setColumnWidth(column, width)
        root.addWidget(self.table, 1)

        pager = QHBoxLayout()
        self.status = label("", "muted")
        self.previous_button = QPushButton("‹ Newer")
        self.previous_button.clicked.connect(presenter.previous_page)
        self.next_button = QPushButton("Older ›")
        self.next_button.clicked.connect(presenter.next_page)
        pager.addWidget(self.status, 1)
        pager.addWidget(self.previous_button)
        pager.addWidget(self.next_button)
        root.addLayout(pager)

        presenter.page_changed.connect(self._paged)
        presenter.loading_changed.connect(self._loading)
        presenter.failed.connect(self.status.setText)
        self._paged(0, 0)

    def form(self) -> schemas.ActivityFilter:
        days = self.period.currentData()
        start = datetime.now(UTC) - timedelta(days=days) if days else None
        return schemas.ActivityFilter(actor=self.actor.text(), action=self.action.currentText(),
                                      target_type=self.target.currentData() or "", start=start)

    def apply(self) -> None:
        self.presenter.apply(self.form())

    def _loading(self, loading: bool) -> None:
        if loading:
            self.status.setText("Loading…")

    def _paged(self, offset: int, total: int) -> None:
        shown = self.presenter.model.rowCount()
        if total == 0:
            self.status.setText("No activity matches." if self.presenter.model.loaded else "")
        else:
            self.status.setText(f"{offset + 1:,}–{offset + shown:,} of {total:,}")
        self.previous_button.setEnabled(self.presenter.has_previous)
        self.next_button.setEnabled(self.presenter.has_next)
