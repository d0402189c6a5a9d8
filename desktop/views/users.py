"""Users: the organisation's people and their roles; add one, change a role or name, remove one. Owners and
admins see the buttons; other roles get a sentence saying who can (the sidecar answers them 403)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.api import schemas
from desktop.models.access import ROLE_NAMES, ROLE_TEXT
from desktop.models.roles import UserColumn
from desktop.models.users import PASSWORD_MAX, PASSWORD_MIN, NewUserForm
from desktop.presenters.users import NOT_ALLOWED, UsersPresenter
from desktop.widgets.cards import label, page_layout


DIALOG_WIDTH = 560


def _set_role(widget: QLabel, role: str) -> None:
    widget.setProperty("role", role)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def _error_label() -> QLabel:
    error = label("", "error")
    error.setWordWrap(True)
    error.hide()
    return error


def _show(error: QLabel, text: str) -> None:
    error.setText(text)
    error.setVisible(bool(text))


class RolePicker(QWidget):
    """One radio button per role the signed-in user may give, each with its one-line meaning."""

    def __init__(self, roles: tuple[str, ...], current: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        for row, role in enumerate(roles):
            button = QRadioButton(ROLE_NAMES[role])
            button.setToolTip(ROLE_TEXT[role])
            button.setAccessibleDescription(ROLE_TEXT[role])
            text = label(ROLE_TEXT[role], "muted")
            text.setWordWrap(True)
            text.setBuddy(button)
            self.group.addButton(button)
            self.buttons[role] = button
            grid.addWidget(button, row, 0)
            grid.addWidget(text, row, 1)
        grid.setColumnStretch(1, 1)
        chosen = current if current in self.buttons else ("analyst" if "analyst" in self.buttons else "")
        if chosen:
            self.buttons[chosen].setChecked(True)

    def role(self) -> str:
        return next((role for role, button in self.buttons.items() if button.isChecked()), "")

    def focus(self) -> None:
        button = self.buttons.get(self.role()) or next(iter(self.buttons.values()), None)
        if button is not None:
            button.setFocus()


class AddUserDialog(QDialog):
    """Email, name, role and a first password, checked here and then by the sidecar; its refusals show under
    the field they are about, and the dialog stays open until the user is added."""

    def __init__(self, presenter: UsersPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        self.setWindowTitle("Add user")
        self.setFixedWidth(DIALOG_WIDTH)
        layout = QVBoxLayout(self)
        intro = label("They log in to this organisation with this email and password, and can change the "
                      "password themselves.", "muted")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.email = QLineEdit()
        self.email.setPlaceholderText("name@example.com")
        self.email_error = _error_label()
        form.addRow("&Email", self.email)
        form.addRow("", self.email_error)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Ana Lopez")
        self.name_error = _error_label()
        form.addRow("&Name", self.name)
        form.addRow("", self.name_error)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(f"{PASSWORD_MIN} to {PASSWORD_MAX} characters")
        self.show_password = QCheckBox("&Show")
        self.show_password.toggled.connect(lambda on: self.password.setEchoMode(
            QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password))
        password_row = QWidget()
        password_box = QHBoxLayout(password_row)
        password_box.setContentsMargins(0, 0, 0, 0)
        password_box.addWidget(self.password, 1)
        password_box.addWidget(self.show_password)
        password_label = QLabel("&Password")
        password_label.setBuddy(self.password)
        self.password_error = _error_label()
        form.addRow(password_label, password_row)
        form.addRow("", self.password_error)
        layout.addLayout(form)
        layout.addSpacing(4)
        layout.addWidget(label("Role", "section"))
        self.roles = RolePicker(presenter.assignable_roles())
        layout.addWidget(self.roles)
        self.role_error = _error_label()
        layout.addWidget(self.role_error)
        self.error = _error_label()
        layout.addWidget(self.error)
        layout.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = buttons.addButton("Add user", QDialogButtonBox.ButtonRole.ActionRole)
        self.add_button.setProperty("role", "primary")
        self.add_button.setDefault(True)
        self.add_button.clicked.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addSpacing(6)
        layout.addWidget(buttons)
        self.errors = {"email": self.email_error, "name": self.name_error, "password": self.password_error,
                       "role": self.role_error, "": self.error}
        presenter.added.connect(self._added)
        presenter.add_failed.connect(self._refused)
        self.email.setFocus()
        self.adjustSize()  # the height its wrapped lines need at the fixed width

    def form(self) -> NewUserForm:
        return NewUserForm(self.email.text(), self.name.text(), self.roles.role(), self.password.text())

    def submit(self) -> None:
        for error in self.errors.values():
            _show(error, "")
        self.adjustSize()
        self.add_button.setEnabled(False)
        self.presenter.add(self.form())

    def _added(self, _user: schemas.User) -> None:
        self.accept()

    def _refused(self, problems: dict[str, str]) -> None:
        self.add_button.setEnabled(True)
        for field, text in problems.items():
            _show(self.errors.get(field, self.error), text)
        self.adjustSize()  # room for the error lines
        first = next((f for f in ("email", "name", "password", "role") if f in problems), "")
        {"email": self.email.setFocus, "name": self.name.setFocus, "password": self.password.setFocus,
         "role": self.roles.focus}.get(first, self.add_button.setFocus)()


class ChangeUserDialog(QDialog):
    """A user's role (and name): the roles the signed-in user may give, each with its meaning."""

    def __init__(self, user: schemas.User, roles: tuple[str, ...], *, me: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.user = user
        self.setWindowTitle("Change role")
        self.setFixedWidth(DIALOG_WIDTH)
        layout = QVBoxLayout(self)
        title = label(f"{user.name} ({user.email})", "section")
        title.setWordWrap(True)
        layout.addWidget(title)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.name = QLineEdit(user.name)
        form.addRow("&Name", self.name)
        layout.addLayout(form)
        layout.addWidget(label("Role", "section"))
        self.roles = RolePicker(roles, user.role)
        layout.addWidget(self.roles)
        if me:
            warn = label("This is you. With a role other than owner or admin you can no longer manage users.",
                         "error")
            warn.setWordWrap(True)
            layout.addWidget(warn)
        layout.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setProperty("role", "primary")
        self.save_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addSpacing(6)
        layout.addWidget(buttons)
        self.roles.focus()
        self.adjustSize()


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
