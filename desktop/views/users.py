"""Users: the organisation's people and their roles; add one, change a role or name, remove one. Owners and
admins see the buttons; other roles get a sentence saying who can (the sidecar answers them 403)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.api import schemas
from desktop.models.access import ROLE_NAMES
from desktop.models.roles import UserColumn
from desktop.presenters.users import NOT_ALLOWED, UsersPresenter
from desktop.views.user_dialogs import AddUserDialog, ChangeUserDialog
from desktop.widgets.cards import label, page_layout

def _set_role(widget: QLabel, role: str) -> None:
    widget.setProperty("role", role)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class UsersView(QWidget):
    def __init__(self, presenter: UsersPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        model = presenter.model
        root, head, self.subtitle = page_layout(
            self, "Users", "Who can log in to this organisation, and what each may do.")
        self.remove_button = QPushButton("Re&move…")
        self.remove_button.setProperty("role", "danger")
        self.remove_button.setToolTip("Remove the selected user (Delete)")
        self.remove_button.clicked.connect(self.confirm_remove)
        self.change_button = QPushButton("Change &role…")
        self.change_button.setToolTip("Change the selected user's role or name (Enter)")
        self.change_button.clicked.connect(self.change_selected)
        self.add_button = QPushButton("&Add user…")
        self.add_button.setProperty("role", "primary")
        self.add_button.clicked.connect(self.add_user)
        for button in (self.remove_button, self.change_button, self.add_button):
            head.addWidget(button)
        root.addLayout(head)
        self.add_dialog: AddUserDialog | None = None
        self.change_dialog: ChangeUserDialog | None = None
        self.remove_box: QMessageBox | None = None
        self.feedback = label("", "muted")
        self.feedback.setWordWrap(True)
        self.feedback.hide()
        root.addWidget(self.feedback)

        self.table = QTableView()
        self.table.setModel(model)
        self.table.setAccessibleName("Users")
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(30)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(UserColumn.EMAIL, QHeaderView.ResizeMode.Stretch)
        for column, width in ((UserColumn.NAME, 240), (UserColumn.ROLE, 110), (UserColumn.ADDED, 150)):
            self.table.setColumnWidth(column, width)
        self.table.doubleClicked.connect(lambda _index: self.change_selected())
        self.table.installEventFilter(self)  # Enter: change the role; Delete: remove
        self.hint = label("", "muted")
        self.hint.setWordWrap(True)

        table_page = QWidget()
        table_box = QVBoxLayout(table_page)
        table_box.setContentsMargins(0, 0, 0, 0)
        table_box.addWidget(self.table, 1)
        table_box.addWidget(self.hint)
        self.denied = label("", "empty")
        self.denied.setWordWrap(True)
        self.denied.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(table_page)
        self.stack.addWidget(self.denied)
        root.addWidget(self.stack, 1)

        model.modelReset.connect(self._update)
        model.rowsInserted.connect(self._update)
        model.rowsRemoved.connect(self._update)
        model.dataChanged.connect(self._update)
        self.table.selectionModel().selectionChanged.connect(self._update)
        presenter.denied.connect(self._denied)
        presenter.added.connect(self._added)
        presenter.saved.connect(lambda text: self._say(text, error=False))
        presenter.failed.connect(lambda text: self._say(text, error=True))
        self.update_role()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.selected_user() is not None:
                self.change_selected()
                return True
            if event.key() == Qt.Key.Key_Delete and self.selected_user() is not None:
                self.confirm_remove()
                return True
        return super().eventFilter(watched, event)

    # -- state -----------------------------------------------------------------------------------------

    def update_role(self) -> None:
        """Show the buttons to owners and admins only; others see why there is no list."""
        manager = self.presenter.can_manage
        for button in (self.add_button, self.change_button, self.remove_button):
            button.setVisible(manager)
        if manager:
            self.stack.setCurrentIndex(0)
        else:
            self._denied(NOT_ALLOWED)
        self._update()

    def _denied(self, text: str) -> None:
        role = ROLE_NAMES.get(self.presenter.my_role, self.presenter.my_role)
        self.denied.setText(text + (f"\nYour role is {role}. Ask an owner or admin if you need a change."
                                    if role else ""))
        for button in (self.add_button, self.change_button, self.remove_button):
            button.setVisible(False)
        self.stack.setCurrentIndex(1)
        self.feedback.clear()
        self.feedback.hide()

    def _say(self, text: str, *, error: bool) -> None:
        _set_role(self.feedback, "error" if error else "muted")
        self.feedback.setText(text)
        self.feedback.setVisible(bool(text))

    def _update(self, *_args: object) -> None:
        user = self.selected_user()
        allowed = user is not None and self.presenter.may_change(user)
        self.change_button.setEnabled(allowed)
        self.remove_button.setEnabled(allowed)
        self.add_button.setEnabled(self.presenter.can_manage)
        if user is None:
            self.hint.setText("Select a user to change their role or remove them." if self.presenter.can_manage
                              else "")
        else:
            self.hint.setText(self.presenter.why_not(user))

    def selected_user(self) -> schemas.User | None:
        rows = self.table.selectionModel().selectedRows()
        return self.presenter.model.user(rows[0].row()) if rows else None

    def _added(self, user: schemas.User) -> None:
        row = self.presenter.model.row_of(user.id)
        if row >= 0:
            self.table.selectRow(row)

    # -- actions ---------------------------------------------------------------------------------------

    def add_user(self) -> AddUserDialog | None:
        if not self.presenter.can_manage:
            return None
        dialog = AddUserDialog(self.presenter, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "add_dialog", None))
        self.add_dialog = dialog
        dialog.open()  # window-modal, without a nested event loop
        return dialog

    def change_selected(self) -> ChangeUserDialog | None:
        user = self.selected_user()
        if user is None or not self.presenter.may_change(user):
            return None
        dialog = ChangeUserDialog(user, self.presenter.assignable_roles(), me=user.id == self.presenter.my_id,
                                  parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.presenter.change(user, role=dialog.roles.role(),
                                                              name=dialog.name.text()))
        dialog.finished.connect(lambda _r: setattr(self, "change_dialog", None))
        self.change_dialog = dialog
        dialog.open()
        return dialog

    def confirm_remove(self) -> QMessageBox | None:
        user = self.selected_user()
        if user is None or not self.presenter.may_change(user):
            return None
        box = QMessageBox(QMessageBox.Icon.Warning, "Remove user", f"Remove {user.name} ({user.email})?",
                          parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        if user.id == self.presenter.my_id:
            box.setInformativeText("This is you: you will be logged out at once and cannot log in again.")
        else:
            box.setInformativeText("They are logged out at once and can no longer log in. What they did stays in "
                                   "the activity log.")
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: button is remove and self.presenter.remove(user))
        box.finished.connect(lambda _r: setattr(self, "remove_box", None))
        self.remove_box = box
        box.open()
        return box
