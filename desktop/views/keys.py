"""API keys: the list (prefix, scopes, last use), creating one (shown once, with snippets), revoking."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.api import schemas
from desktop.models.roles import KeyColumn
from desktop.presenters.keys import KeysPresenter, curl_snippet, new_key_problem, python_snippet
from desktop.widgets.cards import label, page_layout

SCOPE_TEXT = {
    "logs:write": "logs:write — send events (agents, SDKs)",
    "logs:read": "logs:read — query events, traces and alerts",
    "admin": "admin — manage agents, policies, rules and alert triage",
}


class NewKeyDialog(QDialog):
    """Asks for a name and scopes; it stays open, saying what is missing, until both are given."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New API key")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        layout.addWidget(label("Name", "section"))
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. support-bot production")
        layout.addWidget(self.name)
        layout.addSpacing(6)
        layout.addWidget(label("Scopes", "section"))
        self.scopes: dict[str, QCheckBox] = {}
        for scope in schemas.SCOPES:
            box = QCheckBox(SCOPE_TEXT[scope])
            box.setChecked(scope != "admin")
            self.scopes[scope] = box
            layout.addWidget(box)
        self.error = label("", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = buttons.addButton("Create key", QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setProperty("role", "primary")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addSpacing(8)
        layout.addWidget(buttons)
        self.name.textChanged.connect(lambda _t: self.error.hide())

    def chosen_scopes(self) -> list[str]:
        return [scope for scope, box in self.scopes.items() if box.isChecked()]

    def accept(self) -> None:
        """Close only with a name and a scope; otherwise say what is missing, here."""
        problem = new_key_problem(self.name.text(), self.chosen_scopes())
        if problem is not None:
            self.error.setText(problem)
            self.error.show()
            if not self.name.text().strip():
                self.name.setFocus()
            return
        super().accept()


class KeyCreatedDialog(QDialog):
    """Shows a new key once, with a copy button and ready-to-paste snippets."""

    def __init__(self, created: schemas.CreatedApiKey, base_url: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("API key created")
        self.setMinimumWidth(640)
        layout = QVBoxLayout(self)
        title = label(f"“{created.key.name}” is ready", "section")
        title.setStyleSheet("font-size: 12.5pt; font-weight: 600;")
        layout.addWidget(title)
        warn = label("Copy the key now: it is shown only this once. The sidecar keeps only its hash.", "muted")
        warn.setWordWrap(True)
        layout.addWidget(warn)
        row = QHBoxLayout()
        self.key = QLineEdit(created.secret)
        self.key.setReadOnly(True)
        self.key.setFont(theme.mono_font(10))
        self.copy = QPushButton("Copy key")
        self.copy.setProperty("role", "primary")
        self.copy.clicked.connect(self._copy)
        row.addWidget(self.key, 1)
        row.addWidget(self.copy)
        layout.addLayout(row)
        layout.addWidget(label(f"Scopes: {', '.join(created.key.scopes)}", "muted"))
        tabs = QTabWidget()
        self.snippets: dict[str, QPlainTextEdit] = {}
        for name, text in (("Python SDK", python_snippet(base_url, created.secret)),
                           ("curl", curl_snippet(base_url, created.secret))):
            page = QWidget()
            page_box = QVBoxLayout(page)
            editor = QPlainTextEdit(text)
            editor.setReadOnly(True)
            editor.setFont(theme.mono_font(9))
            editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # never break the key; scroll sideways
            editor.setMinimumHeight(150)
            copy = QPushButton(f"Copy {name} snippet")
            copy.clicked.connect(lambda _c=False, t=text: QGuiApplication.clipboard().setText(t))
            page_box.addWidget(editor)
            page_box.addWidget(copy, 0, Qt.AlignmentFlag.AlignRight)
            tabs.addTab(page, name)
            self.snippets[name] = editor
        layout.addWidget(tabs)
        widest = max(editor.fontMetrics().horizontalAdvance(line) for editor in self.snippets.values()
                     for line in editor.toPlainText().splitlines())
        self.resize(max(self.minimumWidth(), widest + 90), self.sizeHint().height())  # room for whole lines
        done = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        done.rejected.connect(self.accept)
        done.accepted.connect(self.accept)
        layout.addWidget(done)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.key.text())
        self.copy.setText("Copied")


class ApiKeysView(QWidget):
    def __init__(self, presenter: KeysPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        model = presenter.model
        root, head, self.subtitle = page_layout(
            self, "API keys", "Agents, SDKs and scripts authenticate with a key (header X-API-Key).")
        self.revoke_button = QPushButton("Revoke…")
        self.revoke_button.setProperty("role", "danger")
        self.revoke_button.clicked.connect(self.confirm_revoke)
        self.new_button = QPushButton("New key…")
        self.new_button.setProperty("role", "primary")
        self.new_button.clicked.connect(self.new_key)
        head.addWidget(self.revoke_button)
        head.addWidget(self.new_button)
        root.addLayout(head)
        self.created_dialog: KeyCreatedDialog | None = None
        self.revoke_box: QMessageBox | None = None
        self.feedback = label("", "muted")
        root.addWidget(self.feedback)

        self.table = QTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(30)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(KeyColumn.SCOPES, QHeaderView.ResizeMode.Stretch)
        for column, width in ((KeyColumn.NAME, 220), (KeyColumn.PREFIX, 170), (KeyColumn.LAST_USED, 120),
                              (KeyColumn.CREATED, 140)):
            self.table.setColumnWidth(column, width)
        self.empty = label("No API keys yet.\nCreate one for each agent or script that sends events.", "empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        root.addWidget(self.stack, 1)

        model.modelReset.connect(self._update)
        model.rowsRemoved.connect(self._update)
        self.table.selectionModel().selectionChanged.connect(self._update)
        presenter.created.connect(self._created)
        presenter.revoked.connect(self._revoked)
        presenter.failed.connect(self._failed)
        self._update()

    def _revoked(self, _key_id: str) -> None:
        self.feedback.setText("Key revoked. Agents using it now get 401.")

    def _failed(self, message: str) -> None:
        self.feedback.setText(message)

    def _update(self, *_args: object) -> None:
        model = self.presenter.model
        self.stack.setCurrentIndex(1 if model.loaded and model.rowCount() == 0 else 0)
        self.revoke_button.setEnabled(bool(self.table.selectionModel().selectedRows()))

    def new_key(self) -> None:
        dialog = NewKeyDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.presenter.create(dialog.name.text(), dialog.chosen_scopes())

    def _created(self, created: schemas.CreatedApiKey) -> None:
        self.feedback.setText(f"Created “{created.key.name}” ({created.key.prefix}…).")
        dialog = KeyCreatedDialog(created, self.presenter.base_url, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "created_dialog", None))
        self.created_dialog: KeyCreatedDialog | None = dialog
        dialog.open()  # window-modal, without a nested event loop

    def selected_key(self) -> schemas.ApiKey | None:
        rows = self.table.selectionModel().selectedRows()
        return self.presenter.model.key(rows[0].row()) if rows else None

    def confirm_revoke(self) -> None:
        key = self.selected_key()
        if key is None:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Revoke API key",
                          f"Revoke “{key.name}” ({key.prefix}…)?", parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText("Agents using this key will be refused at once. This cannot be undone.")
        revoke = box.addButton("Revoke", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: button is revoke and self.presenter.revoke(key.id))
        self.revoke_box: QMessageBox | None = box
        box.finished.connect(lambda _r: setattr(self, "revoke_box", None))
        box.open()
