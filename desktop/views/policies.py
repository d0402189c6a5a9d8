"""Policies and packs: shipped packs (install, uninstall, update, clone into a policy), the policies, and the selected
policy's rules (a form per rule type with a live test box), settings, agents, versions and analytics."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.api import schemas
from desktop.models.policies import PolicyListModel, RuleModel
from desktop.presenters.policies import PoliciesPresenter
from desktop.views.policy_analytics import AnalyticsTab
from desktop.views.policy_tabs import MODE_TEXT, AgentsTab, SettingsTab, VersionsTab, table
from desktop.views.rule_form import RuleEditor
from desktop.views.rule_test_box import RuleTestBox
from desktop.widgets.cards import Card, ElidedLabel, label, page_layout
from desktop.widgets.pills import Pill


class NewPolicyDialog(QDialog):
    """A name and a mode for a new policy (empty, or a copy of a pack's rules)."""

    def __init__(self, title: str, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(420)
        form = QFormLayout(self)
        self.name = QLineEdit(name)
        self.mode = QComboBox()
        for mode in schemas.POLICY_MODES:
            self.mode.addItem(MODE_TEXT[mode], mode)
        self.mode.setCurrentIndex(self.mode.findData("flag"))
        form.addRow("Name", self.name)
        form.addRow("Mode", self.mode)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        create = buttons.addButton("Create policy", QDialogButtonBox.ButtonRole.AcceptRole)
        create.setProperty("role", "primary")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


SIDE_BY_SIDE = 640  # the rules tab's width from which the test box sits beside the rule form, not below it


class RulesTab(QWidget):
    """The policy's rules, and the selected one in its type's form beside the test box (below it when the
    tab is narrower than ``SIDE_BY_SIDE``)."""

    def __init__(self, presenter: PoliciesPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.table = table(presenter.rules, stretch=3, pill_column=RuleModel.SEVERITY_COLUMN, colors=theme.SEVERITY)
        splitter.addWidget(self.table)
        bottom = QWidget()
        bottom_box = QVBoxLayout(bottom)
        bottom_box.setContentsMargins(0, 6, 0, 0)
        self.panes = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.editor = RuleEditor()
        self.test_box = RuleTestBox(presenter.tester)
        self.panes.addWidget(self.editor, 5)
        self.panes.addWidget(self.test_box, 3)
        bottom_box.addLayout(self.panes, 1)
        buttons = QHBoxLayout()
        self.new_button = QPushButton("New rule")
        self.delete_button = QPushButton("Remove rule")
        self.delete_button.setProperty("role", "danger")
        self.save_button = QPushButton("Save rule")
        self.save_button.setProperty("role", "primary")
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        bottom_box.addLayout(buttons)
        splitter.addWidget(bottom)
        splitter.setSizes([170, 440])
        layout.addWidget(splitter)

        self.table.selectionModel().selectionChanged.connect(self._selected)
        presenter.rules.modelReset.connect(self._reselect)
        self.editor.changed.connect(self._edited)
        self.new_button.clicked.connect(self.new_rule)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self._delete)

    def resizeEvent(self, event: QResizeEvent) -> None:
        wide = event.size().width() >= SIDE_BY_SIDE
        self.panes.setDirection(QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom)
        self.panes.setStretchFactor(self.test_box, 3 if wide else 2)  # below the form: the form's fields first
        super().resizeEvent(event)

    def minimumSizeHint(self) -> QSize:
        """As narrow as the panes one above the other (``resizeEvent`` lays them out so below the threshold)."""
        hint = super().minimumSizeHint()
        if self.panes.direction() == QBoxLayout.Direction.LeftToRight:
            hint.setWidth(min(hint.width(), max(self.editor.minimumSizeHint().width(),
                                                self.test_box.minimumSizeHint().width()) + 20))
        return hint

    def _selected(self, *_args: object) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.editor.set_rule(self.presenter.rules.row(rows[0].row()))
        self.delete_button.setEnabled(bool(rows))

    def _reselect(self) -> None:
        """After a reload, keep the rule being edited selected (a new rule: the one just saved)."""
        wanted = self.editor.rule_id or self.presenter.last_saved_rule_id
        row = self.presenter.rules.find(lambda r: r.id == wanted) if wanted else -1
        if row < 0 and self.presenter.rules.rowCount():
            row = 0
        if row >= 0:
            self.table.selectRow(row)
        else:
            self.editor.set_rule(None)
        self.delete_button.setEnabled(row >= 0)

    def _edited(self) -> None:
        body = self.editor.body()
        if body["actionOverride"] is None and self.presenter.current is not None:
            body["actionOverride"] = self.presenter.current.mode  # what the rule does inside this policy
        self.presenter.tester.set_rule(body)

    def new_rule(self) -> None:
        self.table.clearSelection()
        self.editor.set_rule(None, new_type=self.editor.rule_type.currentData() or "keyword_match")
        self.editor.name.setFocus()

    def save(self) -> None:
        self.presenter.save_rule(self.editor.rule_id, self.editor.body())

    def _delete(self) -> None:
        if self.editor.rule_id:
            self.presenter.delete_rule(self.editor.rule_id)

    def set_editable(self, editable: bool) -> None:
        for button in (self.new_button, self.delete_button, self.save_button):
            button.setVisible(editable)
        self.editor.set_read_only(not editable)


class PoliciesView(QWidget):
    """The Policies page: packs and policies on the left, the selected policy's tabs on the right."""

    def __init__(self, presenter: PoliciesPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        root, head, self.subtitle = page_layout(
            self, "Policies", "Rule packs, versioned policies attached to agents, and what they catch.")
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(presenter.refresh)
        head.addWidget(refresh)
        root.addLayout(head)
        self.feedback = label("", "muted")
        self.feedback.setWordWrap(True)
        root.addWidget(self.feedback)
        self.dialog: NewPolicyDialog | None = None
        self._editable = False
        self.confirm: QMessageBox | None = None

        splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        packs = Card("Rule packs")
        self.pack_table = table(presenter.packs, stretch=0)
        packs.body.addWidget(self.pack_table)
        pack_buttons = QHBoxLayout()
        self.install_button = QPushButton("Install")
        self.uninstall_button = QPushButton("Uninstall")
        self.update_button = QPushButton("Update")
        self.update_button.setToolTip("Bring the installed pack to the version this sidecar ships")
        self.clone_button = QPushButton("Clone…")
        self.clone_button.setToolTip("Create a policy holding a copy of the pack's rules")
        self.clone_button.setProperty("role", "primary")
        for button in (self.install_button, self.uninstall_button, self.update_button):
            pack_buttons.addWidget(button)
        pack_buttons.addStretch(1)
        pack_buttons.addWidget(self.clone_button)
        packs.body.addLayout(pack_buttons)
        left_box.addWidget(packs, 2)
        policies = Card("Policies")
        self.policy_table = table(presenter.policies, stretch=0, pill_column=PolicyListModel.MODE_COLUMN,
                                  colors=theme.VERDICT)
        policies.body.addWidget(self.policy_table)
        policy_buttons = QHBoxLayout()
        self.new_button = QPushButton("New policy…")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setProperty("role", "danger")
        policy_buttons.addWidget(self.new_button)
        policy_buttons.addStretch(1)
        policy_buttons.addWidget(self.delete_button)
        policies.body.addLayout(policy_buttons)
        left_box.addWidget(policies, 3)
        splitter.addWidget(left)

        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        title = QHBoxLayout()
        self.policy_title = ElidedLabel("", "section")
        self.policy_title.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.mode_pill = Pill()
        self.version_label = ElidedLabel("", "muted")
        title.addWidget(self.policy_title)
        title.addWidget(self.mode_pill)
        title.addWidget(self.version_label, 1)
        right_box.addLayout(title)
        self.tabs = QTabWidget()
        self.rules_tab = RulesTab(presenter)
        self.settings_tab = SettingsTab(presenter)
        self.agents_tab = AgentsTab(presenter)
        self.versions_tab = VersionsTab(presenter.versions)
        self.analytics_tab = AnalyticsTab(presenter)
        for tab, name in ((self.rules_tab, "Rules"), (self.settings_tab, "Settings"),
                          (self.agents_tab, "Agents"), (self.versions_tab, "Versions"),
                          (self.analytics_tab, "Analytics")):
            self.tabs.addTab(tab, name)
        self.tabs.setTabToolTip(1, "Name, mode, priority, stored text and the conditions under which it applies")
        self.empty = label("Select a policy, or clone a pack into a new one.", "empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.detail_stack = QStackedWidget()
        self.detail_stack.addWidget(self.empty)
        self.detail_stack.addWidget(self.tabs)
        right_box.addWidget(self.detail_stack, 1)
        splitter.addWidget(right)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 1)  # the packs and policies get a third: their names show whole at 1280
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([340, 680])
        root.addWidget(splitter, 1)

        self.install_button.clicked.connect(lambda: self._pack_action(presenter.install_pack))
        self.uninstall_button.clicked.connect(self.confirm_uninstall)
        self.update_button.clicked.connect(self.confirm_update)
        self.clone_button.clicked.connect(self.clone_selected_pack)
        self.new_button.clicked.connect(self.new_policy)
        self.delete_button.clicked.connect(self.confirm_delete)
        self.pack_table.selectionModel().selectionChanged.connect(self._update_buttons)
        presenter.packs.modelReset.connect(self._update_buttons)
        self.policy_table.selectionModel().selectionChanged.connect(self._policy_selected)
        presenter.policies.modelReset.connect(self._policies_reset)
        presenter.policy_changed.connect(self._show_policy)
        presenter.message.connect(self.feedback.setText)
        presenter.failed.connect(self.feedback.setText)
        presenter.editable_changed.connect(self.set_editable)
        self.set_editable(presenter.can_edit)  # and the buttons' state

    # -- packs ---------------------------------------------------------------------------------------

    def selected_pack(self) -> tuple[schemas.Pack, schemas.InstalledPack | None] | None:
        rows = self.pack_table.selectionModel().selectedRows()
        return self.presenter.packs.row(rows[0].row()) if rows else None

    def _pack_action(self, action: object) -> None:
        chosen = self.selected_pack()
        if chosen is not None:
            action(chosen[0].id)  # type: ignore[operator]

    def confirm_uninstall(self) -> None:
        chosen = self.selected_pack()
        if chosen is None:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Uninstall pack",
                          f"Uninstall “{chosen[0].name}”? Its organisation-wide rules stop checking events.",
                          parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        go = box.addButton("Uninstall", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda button: button is go and self.presenter.uninstall_pack(chosen[0].id))
        self._open_confirm(box)

    def confirm_update(self) -> None:
        chosen = self.selected_pack()
        if chosen is None or chosen[1] is None:
            return
        pack, installed = chosen
        box = QMessageBox(QMessageBox.Icon.Question, "Update pack",
                          f"Update “{pack.name}” from {installed.version} to {installed.latest_version}?",
                          parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText(
            "Its organisation-wide rules take the new definitions and keep their ids, so alerts and history "
            "still name them. Rules you switched off stay off, rules you deleted stay deleted, and your "
            "severity, action and redaction changes are kept; rules new in the pack are added, switched on; "
            "rules the pack no longer has are removed. Policies cloned from the pack are your own copies and "
            "do not change.")
        go = box.addButton("Update", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda button: button is go and self.presenter.upgrade_pack(pack.id))
        self._open_confirm(box)

    def clone_selected_pack(self) -> None:
        chosen = self.selected_pack()
        if chosen is None:
            return
        pack = chosen[0]
        dialog = NewPolicyDialog(f"Clone {pack.name} into a policy", f"{pack.name} (custom)", self)
        dialog.accepted.connect(lambda: self.presenter.clone_pack(pack.id, dialog.name.text(),
                                                                  dialog.mode.currentData()))
        self._open_dialog(dialog)

    def new_policy(self) -> None:
        dialog = NewPolicyDialog("New policy", "", self)
        dialog.accepted.connect(lambda: self.presenter.create_policy(dialog.name.text(), dialog.mode.currentData()))
        self._open_dialog(dialog)

    def _open_dialog(self, dialog: NewPolicyDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()

    def _open_confirm(self, box: QMessageBox) -> None:
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r: setattr(self, "confirm", None))
        self.confirm = box
        box.open()

    # -- policies ------------------------------------------------------------------------------------

    def _policy_selected(self, *_args: object) -> None:
        rows = self.policy_table.selectionModel().selectedRows()
        if rows:
            policy = self.presenter.policies.row(rows[0].row())
            if policy.id != self.presenter.selected_id:
                self.presenter.select(policy.id)
        self._update_buttons()

    def _policies_reset(self) -> None:
        row = self.presenter.policies.find(lambda p: p.id == self.presenter.selected_id)
        if row >= 0:
            self.policy_table.selectRow(row)
        self._update_buttons()

    def confirm_delete(self) -> None:
        policy = self.presenter.current
        if policy is None:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete policy", f"Delete the policy “{policy.name}”?",
                          parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText("Its rules and versions go with it. Events already checked keep their verdicts.")
        go = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda button: button is go and self.presenter.delete_policy(policy.id))
        self._open_confirm(box)

    def _show_policy(self, policy: schemas.PolicyDetail | None) -> None:
        self.detail_stack.setCurrentIndex(1 if policy else 0)
        if policy is None:
            return
        self.policy_title.setText(policy.name)
        self.mode_pill.set(policy.mode, theme.VERDICT.get(policy.mode, theme.MUTED))
        source = f" · cloned from {policy.source_pack_id}" if policy.source_pack_id else ""
        state = "" if policy.is_active else " · inactive"
        self.version_label.setText(f"version {policy.version} · priority {policy.priority}{source}{state}")
        self.settings_tab.show_policy(policy)
        self.agents_tab.show_policy(policy)
        self._update_buttons()

    def _update_buttons(self, *_args: object) -> None:
        chosen = self.selected_pack()
        installed = chosen[1] if chosen is not None else None
        self.install_button.setEnabled(chosen is not None and installed is None)
        self.uninstall_button.setEnabled(installed is not None)
        self.update_button.setEnabled(installed is not None and installed.update_available)
        # Install and Update share a place in the row (an installed pack cannot be installed again), so the
        # row stays narrow enough for the smallest window
        self.install_button.setVisible(self._editable and installed is None)
        self.update_button.setVisible(self._editable and installed is not None)
        self.clone_button.setEnabled(chosen is not None)
        self.delete_button.setEnabled(self.presenter.current is not None)

    def set_editable(self, editable: bool) -> None:
        """Owners and admins change things; everyone else (auditors, analysts) only reads."""
        self._editable = editable
        for button in (self.install_button, self.uninstall_button, self.update_button, self.clone_button,
                       self.new_button, self.delete_button):
            button.setVisible(editable)
        for tab in (self.rules_tab, self.settings_tab, self.agents_tab, self.versions_tab):
            tab.set_editable(editable)
        self._update_buttons()
