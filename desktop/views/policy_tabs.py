"""The tabs of a selected policy besides its rules and analytics: settings and conditions, agents, versions."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTime, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.api import schemas
from desktop.models import rule_conditions as rc
from desktop.models.policies import KEY_ROLE, RowsModel
from desktop.presenters.policies import PoliciesPresenter
from desktop.presenters.policy_versions import VersionsPresenter
from desktop.widgets.cards import label
from desktop.widgets.pills import PillDelegate

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MODE_TEXT = {"block": "block: the agent is told to stop", "flag": "flag: raise alerts", "log": "log: record only"}


def table(model: RowsModel[Any], *, stretch: int = 0, pill_column: int | None = None,
          colors: dict[str, str] | None = None) -> QTableView:
    """A read-only, row-selecting table in the house style."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(26)
    header = view.horizontalHeader()
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # short lists: fit their text
    header.setMinimumSectionSize(36)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    if pill_column is not None and colors is not None:
        view.setItemDelegateForColumn(pill_column, PillDelegate(colors, KEY_ROLE, view))
    return view


class SettingsTab(QWidget):
    """Name, description, mode, priority, on/off, redaction and the conditions under which the policy applies."""

    def __init__(self, presenter: PoliciesPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        outer = QVBoxLayout(self)
        outer.setContentsMargins(14, 12, 14, 12)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.name = QLineEdit()
        self.description = QLineEdit()
        self.mode = QComboBox()
        for mode in schemas.POLICY_MODES:
            self.mode.addItem(MODE_TEXT[mode], mode)
        self.priority = QSpinBox()
        self.priority.setRange(-1000, 1000)
        self.priority.setToolTip("Higher runs first; the strongest action among violated rules wins")
        self.active = QCheckBox("Active")
        self.redaction = QComboBox()
        for value, text in (("none", "keep text"), ("mask", "mask matches"), ("hash", "hash matches")):
            self.redaction.addItem(text, value)
        form.addRow("Name", self.name)
        form.addRow("Description", self.description)
        form.addRow("Mode", self.mode)
        form.addRow("Priority", self.priority)
        form.addRow("Stored text", self.redaction)
        form.addRow("", self.active)
        form.addRow(label("Applies when (all that are set)", "section"))
        window = QHBoxLayout()
        self.window_on = QCheckBox("Between")
        self.start = QTimeEdit()
        self.end = QTimeEdit()
        for edit in (self.start, self.end):
            edit.setDisplayFormat("HH:mm")
            edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance("00:00") + 40)  # text, padding, arrows
        self.timezone = QLineEdit()
        self.timezone.setPlaceholderText("UTC, or e.g. Europe/Paris")
        window.addWidget(self.window_on)
        window.addWidget(self.start)
        window.addWidget(label("and", "muted"))
        window.addWidget(self.end)
        window.addWidget(label("in", "muted"))
        window.addWidget(self.timezone, 1)
        form.addRow("Time of day", window)
        days = QGridLayout()  # two rows (weekdays, then the rest) so that the form fits a narrow pane
        self.days = [QCheckBox(day) for day in DAYS]
        for n, box in enumerate(self.days):
            days.addWidget(box, n // 4, n % 4)
        days.addWidget(label("(none: every day)", "muted"), 1, 3, 1, 2)
        days.setColumnStretch(4, 1)
        form.addRow("Days", days)
        self.agent_types = QLineEdit()
        self.agent_types.setPlaceholderText("comma-separated agent types, e.g. chat, workflow (empty: any)")
        form.addRow("Agent types", self.agent_types)
        self.metadata = QPlainTextEdit()
        self.metadata.setPlaceholderText("one per line: key operator value, e.g.  env eq production")
        self.metadata.setFixedHeight(64)
        form.addRow("Metadata", self.metadata)
        outer.addLayout(form)
        row = QHBoxLayout()
        row.addStretch(1)
        self.save_button = QPushButton("Save settings")
        self.save_button.setProperty("role", "primary")
        self.save_button.clicked.connect(self.save)
        row.addWidget(self.save_button)
        outer.addLayout(row)
        outer.addStretch(1)

    def show_policy(self, policy: schemas.PolicyDetail) -> None:
        self.name.setText(policy.name)
        self.description.setText(policy.description)
        self.mode.setCurrentIndex(max(0, self.mode.findData(policy.mode)))
        self.priority.setValue(policy.priority)
        self.active.setChecked(policy.is_active)
        self.redaction.setCurrentIndex(max(0, self.redaction.findData(policy.redaction)))
        conditions = policy.conditions
        window = conditions.get("timeOfDay") if isinstance(conditions.get("timeOfDay"), dict) else None
        self.window_on.setChecked(window is not None)
        self.start.setTime(QTime.fromString((window or {}).get("start", "09:00"), "HH:mm"))
        self.end.setTime(QTime.fromString((window or {}).get("end", "17:00"), "HH:mm"))
        self.timezone.setText((window or {}).get("timezone", ""))
        chosen = set(conditions.get("daysOfWeek") or [])
        for n, box in enumerate(self.days):
            box.setChecked(n in chosen)
        self.agent_types.setText(", ".join(conditions.get("agentTypes") or []))
        self.metadata.setPlainText("\n".join(f"{m.get('key')} {m.get('operator')} {rc.format_value(m.get('value'))}"
                                             for m in conditions.get("metadata") or [] if isinstance(m, dict)))

    def conditions(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.window_on.isChecked():
            out["timeOfDay"] = {"start": self.start.time().toString("HH:mm"), "end": self.end.time().toString("HH:mm"),
                                "timezone": self.timezone.text().strip() or "UTC"}
        days = [n for n, box in enumerate(self.days) if box.isChecked()]
        if days:
            out["daysOfWeek"] = days
        types = [t.strip() for t in self.agent_types.text().split(",") if t.strip()]
        if types:
            out["agentTypes"] = types
        rows = []
        for line in self.metadata.toPlainText().splitlines():
            parts = line.split(None, 2)
            if len(parts) == 3:
                rows.append({"key": parts[0], "operator": parts[1], "value": rc.parse_value(parts[2])})
            elif line.strip():
                rows.append({"key": line.strip(), "operator": "", "value": ""})  # the sidecar names the error
        if rows:
            out["metadata"] = rows
        return out

    def save(self) -> None:
        self.presenter.save_settings({
            "name": self.name.text(), "description": self.description.text(), "mode": self.mode.currentData(),
            "priority": self.priority.value(), "isActive": self.active.isChecked(),
            "redaction": self.redaction.currentData(), "conditions": self.conditions()})

    def set_editable(self, editable: bool) -> None:
        self.save_button.setVisible(editable)
        for widget in (self.name, self.description, self.mode, self.priority, self.active, self.redaction,
                       self.window_on, self.start, self.end, self.timezone, *self.days, self.agent_types):
            widget.setEnabled(editable)
        self.metadata.setReadOnly(not editable)


class AgentsTab(QWidget):
    """The agents whose events this policy checks; attach a registered agent, detach one."""

    def __init__(self, presenter: PoliciesPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        hint = label("The policy's rules apply to events whose agentId is an attached agent's id or name.", "muted")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.attached = QListWidget()
        layout.addWidget(self.attached, 1)
        row = QHBoxLayout()
        self.choice = QComboBox()
        self.choice.setMinimumWidth(220)
        self.attach_button = QPushButton("Attach")
        self.attach_button.setProperty("role", "primary")
        self.detach_button = QPushButton("Detach selected")
        row.addWidget(self.choice)
        row.addWidget(self.attach_button)
        row.addStretch(1)
        row.addWidget(self.detach_button)
        layout.addLayout(row)
        self.attach_button.clicked.connect(lambda: presenter.attach(self.choice.currentData() or ""))
        self.detach_button.clicked.connect(self._detach)
        presenter.agents_changed.connect(self._fill_choice)

    def show_policy(self, policy: schemas.PolicyDetail) -> None:
        self.attached.clear()
        for agent in policy.agents:
            item = QListWidgetItem(f"{agent.name}  ·  {agent.type}  ·  {agent.id}")
            item.setData(Qt.ItemDataRole.UserRole, agent.id)
            self.attached.addItem(item)
        self._fill_choice()

    def _fill_choice(self) -> None:
        current = self.presenter.current
        attached = {a.id for a in current.agents} if current else set()
        self.choice.clear()
        for agent in self.presenter.agents:
            if agent.id not in attached:
                self.choice.addItem(f"{agent.name} ({agent.type})", agent.id)
        self.attach_button.setEnabled(self.choice.count() > 0)

    def _detach(self) -> None:
        item = self.attached.currentItem()
        if item is not None:
            self.presenter.detach(str(item.data(Qt.ItemDataRole.UserRole)))

    def set_editable(self, editable: bool) -> None:
        for widget in (self.choice, self.attach_button, self.detach_button):
            widget.setVisible(editable)


class VersionsTab(QWidget):
    """The versions, newest first; any two side by side (changed lines tinted); save and restore."""

    def __init__(self, versions: VersionsPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.versions = versions
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        self.table = table(versions.model, stretch=1)
        self.table.setMinimumWidth(170)
        left_box.addWidget(self.table, 1)
        self.version_name = QLineEdit()
        self.version_name.setPlaceholderText("Version name, e.g. before tightening")
        left_box.addWidget(self.version_name)
        buttons = QVBoxLayout()  # one above the other: the list stays narrow beside the diff
        self.save_button = QPushButton("Save version")
        self.restore_button = QPushButton("Restore selected")
        self.restore_button.setProperty("role", "danger")
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.restore_button)
        left_box.addLayout(buttons)
        splitter.addWidget(left)
        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        compare = QGridLayout()  # the two choices one above the other, each as wide as the pane
        self.left_choice = QComboBox()
        self.right_choice = QComboBox()
        for choice in (self.left_choice, self.right_choice):  # long version names end in … in a narrow pane
            choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            choice.setMinimumContentsLength(6)
        compare.addWidget(label("Compare", "muted"), 0, 0)
        compare.addWidget(self.left_choice, 0, 1)
        compare.addWidget(label("with", "muted"), 1, 0)
        compare.addWidget(self.right_choice, 1, 1)
        compare.setColumnStretch(1, 1)
        right_box.addLayout(compare)
        panes = QSplitter(Qt.Orientation.Horizontal)
        self.diff_left = self._pane(versions, number=0, text=1)
        self.diff_right = self._pane(versions, number=2, text=3)
        panes.addWidget(self.diff_left)
        panes.addWidget(self.diff_right)
        self.diff_left.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the right one serves both
        left_bar, right_bar = self.diff_left.verticalScrollBar(), self.diff_right.verticalScrollBar()
        left_bar.valueChanged.connect(right_bar.setValue)  # the panes scroll together, line for line
        right_bar.valueChanged.connect(left_bar.setValue)
        left_side, right_side = self.diff_left.horizontalScrollBar(), self.diff_right.horizontalScrollBar()
        left_side.valueChanged.connect(right_side.setValue)  # and sideways, to read long lines
        right_side.valueChanged.connect(left_side.setValue)
        right_box.addWidget(panes, 1)
        self.summary = label("", "muted")
        self.summary.setWordWrap(True)
        right_box.addWidget(self.summary)
        splitter.addWidget(right)
        splitter.setSizes([190, 840])
        layout.addWidget(splitter)

        self.save_button.clicked.connect(self._save)
        self.restore_button.clicked.connect(self._restore)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.left_choice.activated.connect(self._choose)
        self.right_choice.activated.connect(self._choose)
        versions.versions_changed.connect(self._listed)
        versions.diff_changed.connect(self._diffed)
        self._update_buttons()

    @staticmethod
    def _pane(versions: VersionsPresenter, *, number: int, text: int) -> QTableView:
        """One side of the diff: the diff model showing only that side's line numbers and text. Lines are
        never cut short: the text column is as wide as its longest line, and the pane scrolls sideways."""
        pane = table(versions.diff, stretch=text)
        pane.setFont(theme.mono_font(9))
        pane.setSelectionMode(QTableView.SelectionMode.NoSelection)
        pane.setAlternatingRowColors(False)
        pane.setTextElideMode(Qt.TextElideMode.ElideNone)
        pane.setHorizontalScrollMode(QTableView.ScrollMode.ScrollPerPixel)
        pane.verticalHeader().setDefaultSectionSize(20)
        header = pane.horizontalHeader()
        header.setSectionResizeMode(number, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(text, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        pane.setColumnWidth(number, 34)
        for column in range(4):
            pane.setColumnHidden(column, column not in (number, text))
        return pane

    def _listed(self) -> None:
        for combo in (self.left_choice, self.right_choice):
            combo.clear()
            for version in self.versions.model.rows():
                combo.addItem(version.title, version.id)
        self.left_choice.setCurrentIndex(max(0, self.left_choice.findData(self.versions.left_id)))
        self.right_choice.setCurrentIndex(max(0, self.right_choice.findData(self.versions.right_id)))
        self._update_buttons()

    def _selected(self, *_args: object) -> None:
        version = self.selected_version()
        if version is not None:
            self.left_choice.setCurrentIndex(max(0, self.left_choice.findData(version.id)))
            self.versions.compare(version.id, self.right_choice.currentData())
        self._update_buttons()

    def _choose(self, _index: int) -> None:
        self.versions.compare(self.left_choice.currentData(), self.right_choice.currentData())

    def _diffed(self, changed: int) -> None:
        left, right = self.versions.diff.titles
        self.summary.setText(f"{changed} changed line{'s' if changed != 1 else ''} between {left} and {right}"
                             if changed else f"{left} and {right} are the same")

    def selected_version(self) -> schemas.PolicyVersion | None:
        rows = self.table.selectionModel().selectedRows()
        return self.versions.model.row(rows[0].row()) if rows else None

    def _save(self) -> None:
        self.versions.save(self.version_name.text())
        self.version_name.clear()

    def _restore(self) -> None:
        version = self.selected_version()
        if version is not None:
            self.versions.restore(version.id)

    def _update_buttons(self) -> None:
        version = self.selected_version()
        newest = self.versions.model.rows()[0].id if self.versions.model.rowCount() else None
        self.restore_button.setEnabled(version is not None and version.id != newest)

    def set_editable(self, editable: bool) -> None:
        for widget in (self.version_name, self.save_button, self.restore_button):
            widget.setVisible(editable)

