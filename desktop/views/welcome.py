"""First run and login: log in, create the organisation and its owner, or explore with demo data."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.presenters.session import SessionPresenter
from desktop.widgets.cards import label


def _password(placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setPlaceholderText(placeholder)
    return edit


class WelcomeView(QWidget):
    def __init__(self, presenter: SessionPresenter, *, last_email: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        card = QFrame()
        card.setProperty("role", "card")
        card.setFixedWidth(480)
        layout = QVBoxLayout(card)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(10)
        title = label("AgentAudit", "title")
        layout.addWidget(title)
        intro = label("The audit trail of your AI agents, on this machine. Log in to your organisation, or "
                      "create it if this is a new installation.", "subtitle")
        intro.setWordWrap(True)
        layout.addWidget(intro)

        self.tabs = QTabWidget()
        login = QWidget()
        form = QFormLayout(login)
        form.setContentsMargins(12, 14, 12, 10)
        self.email = QLineEdit(last_email)
        self.email.setPlaceholderText("you@example.com")
        self.password = _password("Password")
        form.addRow("Email", self.email)
        form.addRow("Password", self.password)
        self.login_button = QPushButton("Log in")
        self.login_button.setProperty("role", "primary")
        self.login_button.setDefault(True)
        self.login_button.clicked.connect(self._login)
        self.password.returnPressed.connect(self._login)
        form.addRow("", self.login_button)
        self.tabs.addTab(login, "Log in")

        create = QWidget()
        create_form = QFormLayout(create)
        create_form.setContentsMargins(12, 14, 12, 10)
        self.org_name = QLineEdit()
        self.org_name.setPlaceholderText("Acme Health")
        self.owner_email = QLineEdit()
        self.owner_email.setPlaceholderText("you@example.com")
        self.new_password = _password("8 characters or more")
        self.confirm = _password("Again")
        create_form.addRow("Organisation", self.org_name)
        create_form.addRow("Your email", self.owner_email)
        create_form.addRow("Password", self.new_password)
        create_form.addRow("Confirm", self.confirm)
        self.create_button = QPushButton("Create organisation")
        self.create_button.setProperty("role", "primary")
        self.create_button.clicked.connect(self._create)
        self.confirm.returnPressed.connect(self._create)
        create_form.addRow("", self.create_button)
        self.tabs.addTab(create, "Create organisation")
        layout.addWidget(self.tabs)

        self.error = label("", "error")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)

        demo_row = QHBoxLayout()
        demo_text = label("New here? Load a demo organisation with agents, traces, flagged events and alerts.",
                          "muted")
        demo_text.setWordWrap(True)
        self.demo_button = QPushButton("Explore demo data")
        self.demo_button.clicked.connect(presenter.load_demo)
        demo_row.addWidget(demo_text, 1)
        demo_row.addWidget(self.demo_button)
        layout.addLayout(demo_row)
        self.demo_log = QPlainTextEdit()
        self.demo_log.setReadOnly(True)
        self.demo_log.setMaximumHeight(90)
        self.demo_log.hide()
        layout.addWidget(self.demo_log)

        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.tabs.setCurrentIndex(0 if last_email else 1)

        presenter.busy_changed.connect(self._busy)
        presenter.error.connect(self._error)
        presenter.demo_output.connect(self._demo_line)

    def _login(self) -> None:
        self.error.clear()
        self.presenter.login(self.email.text(), self.password.text())

    def _create(self) -> None:
        self.error.clear()
        self.presenter.create_organisation(self.org_name.text(), self.owner_email.text(), self.new_password.text(),
                                           self.confirm.text())

    def _busy(self, busy: bool, what: str) -> None:
        for widget in (self.login_button, self.create_button, self.demo_button):
            widget.setEnabled(not busy)
        if busy:
            self.error.setProperty("role", "muted")
            self.error.setText(what)
        else:
            self.error.setProperty("role", "error")
            self.error.clear()
            self.password.clear()
        self.error.style().unpolish(self.error)
        self.error.style().polish(self.error)

    def _error(self, text: str) -> None:
        self.error.setProperty("role", "error")
        self.error.style().unpolish(self.error)
        self.error.style().polish(self.error)
        self.error.setText(text)

    def _demo_line(self, line: str) -> None:
        self.demo_log.show()
        self.demo_log.appendPlainText(line)

    def reset(self, message: str = "") -> None:
        """Back to the login form (after logout or an expired session)."""
        self.tabs.setCurrentIndex(0)
        self.email.setText(self.presenter.last_email or self.email.text())
        self.password.clear()
        self.error.setText(message)
        self.error.setAlignment(Qt.AlignmentFlag.AlignLeft)
