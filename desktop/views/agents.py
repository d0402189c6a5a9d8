"""Agents: registered agents (register, edit, delete), each with its activity, policies and recent violations;
agent ids seen in events but not registered, each with a one-click Register button."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.api import schemas
from desktop.models import timefmt
from desktop.models.policies import EventModel, SeenAgentModel
from desktop.presenters.agents import AgentsPresenter
from desktop.views.policy_tabs import table
from desktop.widgets.cards import Card, ElidedLabel, KpiCard, label, page_layout
from desktop.widgets.empty_hint import EmptyHint
from desktop.widgets.pills import Pill


class AgentDialog(QDialog):
    """Name, type and description of an agent to register."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Register an agent")
        self.setMinimumWidth(440)
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.name.setPlaceholderText("the agentId its events carry, e.g. support-bot")
        self.type = QLineEdit("custom")
        self.description = QLineEdit()
        form.addRow("Name", self.name)
        form.addRow("Type", self.type)
        form.addRow("Description", self.description)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.addButton("Register", QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setProperty("role", "primary")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class AgentsView(QWidget):
    """The Agents page: registered agents and unregistered ids on the left, the selected agent on the right.

    Signals:
        open_event(str): the user double-clicked one of the agent's events (open it in the log explorer).
    """

    open_event = Signal(str)

    def __init__(self, presenter: AgentsPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        root, head, self.subtitle = page_layout(
            self, "Agents", "Registered agents carry policies; events name an agent by its id or its name.")
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(presenter.refresh)
        self.register_button = QPushButton("Register agent…")
        self.register_button.setProperty("role", "primary")
        self.register_button.clicked.connect(self.register_agent)
        head.addWidget(refresh)
        head.addWidget(self.register_button)
        root.addLayout(head)
        self.feedback = label("", "muted")
        self.feedback.setWordWrap(True)
        root.addWidget(self.feedback)
        self.dialog: AgentDialog | None = None
        self.confirm: QMessageBox | None = None

        splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        registered = Card("Registered agents")
        self.table = table(presenter.agents, stretch=0)
        self.table_hint = EmptyHint(self.table, "No registered agents yet. Register one with “Register agent…”, "
                                                "or in one click from the ids seen in events below.")
        registered.body.addWidget(self.table)
        left_box.addWidget(registered, 3)
        seen = Card("Seen in events, not registered")
        self.seen_hint = label("", "muted")
        self.seen_hint.setWordWrap(True)
        seen.body.addWidget(self.seen_hint)
        self.seen_table = table(presenter.seen, stretch=0)
        self.seen_table.setSelectionMode(QTableView.SelectionMode.NoSelection)
        header = self.seen_table.horizontalHeader()
        header.setSectionResizeMode(SeenAgentModel.BUTTON_COLUMN, QHeaderView.ResizeMode.Fixed)
        self.seen_table.verticalHeader().setDefaultSectionSize(32)
        seen.body.addWidget(self.seen_table)
        left_box.addWidget(seen, 2)
        splitter.addWidget(left)

        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        self.detail_stack = QStackedWidget()
        self.empty = label("Select an agent to see its activity, policies and violations.", "empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.detail_stack.addWidget(self.empty)
        self.detail_stack.addWidget(self._detail())
        right_box.addWidget(self.detail_stack, 1)
        splitter.addWidget(right)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([500, 780])
        root.addWidget(splitter, 1)

        self.table.selectionModel().selectionChanged.connect(self._selected)
        presenter.agents.modelReset.connect(self._agents_reset)
        presenter.seen.modelReset.connect(self._seen_reset)
        presenter.agent_changed.connect(self._show_agent)
        presenter.message.connect(self.feedback.setText)
        presenter.failed.connect(self.feedback.setText)
        presenter.editable_changed.connect(self.set_editable)
        self.register_buttons: dict[str, QPushButton] = {}
        self.set_editable(presenter.can_edit)
        self._seen_reset()

    def _detail(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 0, 0, 0)
        title = QHBoxLayout()  # the name and type, then Save and Delete for the fields below
        self.name_label = ElidedLabel("", "section")
        self.name_label.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.type_pill = Pill()
        self.save_button = QPushButton("Save")
        self.save_button.setProperty("role", "primary")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setProperty("role", "danger")
        title.addWidget(self.name_label)
        title.addWidget(self.type_pill)
        title.addStretch(1)
        title.addWidget(self.save_button)
        title.addWidget(self.delete_button)
        box.addLayout(title)
        self.id_label = label("", "muted")
        self.id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.addWidget(self.id_label)
        cards = QHBoxLayout()
        self.cards = {key: KpiCard(caption, accent=accent) for key, caption, accent in (
            ("events", "Events", None), ("flagged", "With violations", theme.VIOLATIONS_COLOR),
            ("blocked", "Blocked", theme.VERDICT["block"]), ("seen", "Last seen", None))}
        for card in self.cards.values():
            cards.addWidget(card)
        box.addLayout(cards)
        self.edit_grid = edit = QGridLayout()  # labelled fields: name and type, then the description
        edit.setHorizontalSpacing(8)
        self.edit_name = QLineEdit()
        self.edit_type = QLineEdit()
        self.edit_type.setPlaceholderText("e.g. chat, workflow")
        self.edit_description = QLineEdit()
        self.edit_description.setPlaceholderText("What the agent does")
        edit.addWidget(label("Name", "muted"), 0, 0)
        edit.addWidget(self.edit_name, 0, 1)
        edit.addWidget(label("Type", "muted"), 0, 2)
        edit.addWidget(self.edit_type, 0, 3)
        edit.addWidget(label("Description", "muted"), 1, 0)
        edit.addWidget(self.edit_description, 1, 1, 1, 3)
        edit.setColumnStretch(1, 3)
        edit.setColumnStretch(3, 2)
        box.addLayout(edit)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.confirm_delete)
        self.tabs = QTabWidget()
        self.events_table = self._events(self.presenter.events)
        self.violations_table = self._events(self.presenter.violations)
        self.policy_list = QListWidget()
        self.tabs.addTab(self.events_table, "Recent activity")
        self.tabs.addTab(self.violations_table, "Recent violations")
        self.tabs.addTab(self.policy_list, "Attached policies")
        box.addWidget(self.tabs, 1)
        return page

    def _events(self, model: EventModel) -> QTableView:
        view = table(model, stretch=3, pill_column=EventModel.VERDICT_COLUMN, colors=theme.VERDICT)
        view.setToolTip("Double-click an event to open it in the log explorer")
        view.doubleClicked.connect(lambda index: self.open_event.emit(model.row(index.row()).id))
        return view

    # -- registered agents ---------------------------------------------------------------------------

    def selected_agent(self) -> schemas.AgentDetail | None:
        rows = self.table.selectionModel().selectedRows()
        return self.presenter.agents.row(rows[0].row()) if rows else None

    def _selected(self, *_args: object) -> None:
        agent = self.selected_agent()
        if agent is not None and agent.id != self.presenter.selected_id:
            self.presenter.select(agent.id)

    def _agents_reset(self) -> None:
        row = self.presenter.agents.find(lambda a: a.id == self.presenter.selected_id)
        if row >= 0:
            self.table.selectRow(row)

    def _show_agent(self, agent: schemas.AgentDetail | None) -> None:
        self.detail_stack.setCurrentIndex(1 if agent else 0)
        if agent is None:
            return
        self.name_label.setText(agent.name)
        self.type_pill.set(agent.type, theme.ACCENT)
        self.id_label.setText(agent.id)
        self.cards["events"].set(f"{agent.event_count:,}")
        self.cards["flagged"].set(f"{agent.flagged_count:,}")
        self.cards["blocked"].set(f"{agent.blocked_count:,}")
        seen = agent.last_seen_at
        self.cards["seen"].set(timefmt.relative(seen, datetime.now(UTC)),
                               timefmt.local(seen, seconds=False) if seen else "")
        self.cards["seen"].value.setStyleSheet("font-size: 11pt; font-weight: 600;")
        for edit, text in ((self.edit_name, agent.name), (self.edit_type, agent.type),
                           (self.edit_description, agent.description)):
            edit.setText(text)
            edit.setCursorPosition(0)  # show a long value from its start
        self.policy_list.clear()
        for policy in agent.policies:
            state = "" if policy.is_active else ", inactive"
            self.policy_list.addItem(f"{policy.name}  ({policy.mode}, priority {policy.priority}{state})")
        if not agent.policies:
            self.policy_list.addItem("No policy attached: only organisation-wide rules check its events.")
        self.tabs.setTabText(2, f"Attached policies ({len(agent.policies)})")

    def register_agent(self) -> None:
        dialog = AgentDialog(self)
        dialog.accepted.connect(lambda: self.presenter.register(dialog.name.text(), dialog.type.text(),
                                                                dialog.description.text()))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()

    def save(self) -> None:
        agent = self.presenter.current
        if agent is not None:
            self.presenter.update(agent.id, {"name": self.edit_name.text(), "type": self.edit_type.text(),
                                             "description": self.edit_description.text()})

    def confirm_delete(self) -> None:
        agent = self.presenter.current
        if agent is None:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete agent", f"Delete the agent “{agent.name}”?", parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText("Its events stay in the audit log; its policy attachments go.")
        go = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda button: button is go and self.presenter.delete(agent.id))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r: setattr(self, "confirm", None))
        self.confirm = box
        box.open()

    # -- unregistered ids ----------------------------------------------------------------------------

    def _seen_reset(self) -> None:
        model = self.presenter.seen
        self.register_buttons = {}
        count = model.rowCount()
        self.seen_hint.setText(
            f"{count} agent id{'s' if count != 1 else ''} in events match no registered agent. Register one to "
            "attach policies to it." if count else "Every agent id in the events belongs to a registered agent.")
        if not self.presenter.can_edit:
            return
        for row in range(count):
            seen = model.row(row)
            button = QPushButton("Register")
            button.setToolTip(f"Register “{seen.agent_id}” as an agent")
            button.clicked.connect(lambda _c=False, agent_id=seen.agent_id: self.presenter.register_seen(agent_id))
            self.seen_table.setIndexWidget(model.index(row, SeenAgentModel.BUTTON_COLUMN), button)
            self.register_buttons[seen.agent_id] = button

    def set_editable(self, editable: bool) -> None:
        """Owners and admins change agents; everyone else only reads."""
        for widget in (self.register_button, self.save_button, self.delete_button):
            widget.setVisible(editable)
        for widget in (self.edit_name, self.edit_type, self.edit_description):
            widget.setReadOnly(not editable)
        self.seen_table.setColumnWidth(SeenAgentModel.BUTTON_COLUMN, 80)
        self.seen_table.setColumnHidden(SeenAgentModel.BUTTON_COLUMN, not editable)
        self._seen_reset()
