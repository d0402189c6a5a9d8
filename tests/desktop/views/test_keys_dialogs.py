"""The API key dialogs against a real sidecar: a key needs a name before the dialog closes, and the new key is
never broken across lines in the snippets."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QTabWidget

from desktop.views.keys import NewKeyDialog
from tests.desktop.conftest import Seeded, http
from tests.desktop.views.test_admin_views import auth
from tests.desktop.views.test_views import log_in, open_window  # noqa: F401 - open_window is a fixture

WAIT = 15_000


def test_new_key_dialog_wants_a_name_and_a_scope(qtbot: Any, open_window: Any, seeded: Seeded,  # noqa: F811
                                                 fresh_account: tuple[str, str]) -> None:
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    window.show_page("keys")
    dialog = NewKeyDialog(window.keys)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)  # no name
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.error.isVisible() and dialog.error.text() == "Give the key a name, e.g. the agent that will use it."
    qtbot.keyClicks(dialog.name, "   ")
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)  # blank is no name either
    assert dialog.isVisible() and dialog.error.text().startswith("Give the key a name")

    qtbot.keyClicks(dialog.name, "ci exporter")
    assert not dialog.error.isVisible()  # typing clears the complaint
    for box in dialog.scopes.values():
        box.setChecked(False)
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.error.text() == "Choose at least one scope."
    dialog.scopes["logs:read"].setChecked(True)
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Accepted
    assert window.keys.feedback.text() == ""  # nothing went to the page
    keys = http(f"{seeded.url}/api/v1/auth/api-keys", headers=auth(seeded.url, fresh_account[0]))[1]
    assert keys == []  # the dialog's checks stopped the empty attempts before the sidecar


def test_the_new_key_is_never_broken_across_lines(qtbot: Any, open_window: Any, seeded: Seeded,  # noqa: F811
                                                  fresh_account: tuple[str, str]) -> None:
    window = open_window(seeded.url)
    window.resize(1024, 700)
    log_in(qtbot, window, *fresh_account)
    window.show_page("keys")
    view = window.keys
    window.shell.keys.create("support-bot production", ["logs:write", "logs:read"])
    qtbot.waitUntil(lambda: view.created_dialog is not None, timeout=WAIT)
    dialog = view.created_dialog
    secret = dialog.key.text()
    assert secret.startswith("aa_live_")
    tabs = dialog.findChild(QTabWidget)
    for name, editor in dialog.snippets.items():
        tabs.setCurrentIndex(list(dialog.snippets).index(name))
        qtbot.waitUntil(editor.isVisible, timeout=WAIT)
        document = editor.document()
        assert secret in document.find(secret).block().text(), name
        blocks = [document.findBlockByNumber(n) for n in range(document.blockCount())]
        # every line of the snippet, the key's included, is one line on screen (wider ones scroll sideways)
        assert [b.text() for b in blocks if b.layout().lineCount() != 1] == [], name
        assert editor.horizontalScrollBar().maximum() > 0 or all(
            editor.fontMetrics().horizontalAdvance(b.text()) < editor.viewport().width() for b in blocks)
    dialog.accept()
