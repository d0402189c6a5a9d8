"""The Users page's dialogs: add a user (email, name, role, first password) and change a user's role or name.
Each role is offered with its one-line meaning, and only the roles the signed-in user may give."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.api import schemas
from desktop.models.access import ROLE_NAMES, ROLE_TEXT
from desktop.models.users import PASSWORD_MAX, PASSWORD_MIN, NewUserForm
from desktop.presenters.users import UsersPresenter
from desktop.widgets.cards import label

DIALOG_WIDTH = 560


def _fit(dialog: QDialog) -> None:
    """Give the dialog the height its wrapped lines need at its fixed width (``adjustSize`` would measure them
    at the narrower width of its size hint)."""
    layout = dialog.layout()
    dialog.resize(DIALOG_WIDTH, max(layout.totalMinimumSize().height(), layout.totalHeightForWidth(DIALOG_WIDTH)))


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
        _fit(self)  # the height its wrapped lines need at the fixed width

    def form(self) -> NewUserForm:
        return NewUserForm(self.email.text(), self.name.text(), self.roles.role(), self.password.text())

    def submit(self) -> None:
        for error in self.errors.values():
            _show(error, "")
        _fit(self)
        self.add_button.setEnabled(False)
        self.presenter.add(self.form())

    def _added(self, _user: schemas.User) -> None:
        self.accept()

    def _refused(self, problems: dict[str, str]) -> None:
        self.add_button.setEnabled(True)
        for field, text in problems.items():
            _show(self.errors.get(field, self.error), text)
        _fit(self)  # room for the error lines
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
        _fit(self)
