"""The Update button of the Policies page: shown to editors for an installed pack (in Install's place), enabled
when it is outdated, confirmed, and the outcome in the feedback line; the button row fits the smallest window."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication

from desktop import theme
from desktop.views.main_window import MainWindow
from tests.desktop.conftest import Seeded, http, outdated_pack, token_for
from tests.desktop.views.test_views import log_in, open_window  # noqa: F401 - a fixture
from tests.helpers import PASSWORD

WAIT = 10_000


def _policies_page(qtbot: Any, window: MainWindow, version: str) -> Any:
    window.show_page("policies")
    presenter = window.shell.policies

    def shown() -> bool:
        row = presenter.packs.find(lambda r: r[0].id == "hipaa")
        return row >= 0 and presenter.packs.rowCount() == 4 and presenter.packs.row(row)[1] is not None \
            and presenter.packs.row(row)[1].version == version
    qtbot.waitUntil(shown, timeout=WAIT)
    return presenter


def _select(window: MainWindow, pack_id: str) -> None:
    window.policies.pack_table.selectRow(window.shell.policies.packs.find(lambda r: r[0].id == pack_id))


def test_update_an_outdated_pack_after_confirming(qtbot: Any, qapp: QApplication, open_window: Any, seeded: Seeded,
                                                  fresh_account: tuple[str, str]) -> None:
    outdated_pack(seeded, *fresh_account)
    theme.apply(qapp, "light")  # the style sheet sizes the buttons
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    presenter = _policies_page(qtbot, window, "1.0.0")
    view = window.policies
    _select(window, "gdpr")  # not installed: Install in the place Update takes for an installed pack
    assert view.install_button.isVisible() and view.install_button.isEnabled() and view.update_button.isHidden()
    _select(window, "hipaa")
    assert view.install_button.isHidden()
    assert view.update_button.isVisible() and view.update_button.isEnabled() and view.uninstall_button.isEnabled()

    # the button row fits the smallest window: every button at least as wide as its text needs, inside the card
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.size().toTuple() == (1024, 700), timeout=5_000)
    for _ in range(6):
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    card = view.pack_table.parentWidget()
    for button in (view.install_button, view.uninstall_button, view.update_button, view.clone_button):
        assert button.width() >= button.sizeHint().width(), button.text()
        assert button.mapTo(card, button.rect().topRight()).x() <= view.pack_table.geometry().right() + 1

    qtbot.mouseClick(view.update_button, Qt.MouseButton.LeftButton)
    box = view.confirm
    assert box is not None and box.text() == "Update “HIPAA (PHI)” from 1.0.0 to 1.1.0?"
    for promise in ("keep their ids", "switched off stay off", "Policies cloned from the pack"):
        assert promise in box.informativeText()
    with qtbot.waitSignal(presenter.message, timeout=WAIT):
        qtbot.mouseClick(next(b for b in box.buttons() if b.text() == "Update"), Qt.MouseButton.LeftButton)
    assert view.feedback.text() == "HIPAA (PHI) updated to 1.1.0: 1 rule changed, 0 added, 0 removed."
    _policies_page(qtbot, window, "1.1.0")
    _select(window, "hipaa")
    assert view.update_button.isVisible() and not view.update_button.isEnabled()
    headers = {"Authorization": f"Bearer {token_for(seeded.url, fresh_account[0])}"}
    assert [(p["version"], p["latestVersion"]) for p in
            http(f"{seeded.url}/api/v1/compliance-rules/packs/installed", headers=headers)[1]] == [("1.1.0", "1.1.0")]


def test_cancelling_changes_nothing_and_auditors_see_no_update(qtbot: Any, open_window: Any, seeded: Seeded,
                                                              fresh_account: tuple[str, str]) -> None:
    outdated_pack(seeded, *fresh_account)
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    _policies_page(qtbot, window, "1.0.0")
    view = window.policies
    _select(window, "hipaa")
    qtbot.mouseClick(view.update_button, Qt.MouseButton.LeftButton)
    box = view.confirm
    assert box is not None
    qtbot.mouseClick(next(b for b in box.buttons() if b.text() == "Cancel"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.confirm is None, timeout=WAIT)
    headers = {"Authorization": f"Bearer {token_for(seeded.url, fresh_account[0])}"}
    assert http(f"{seeded.url}/api/v1/compliance-rules/packs/installed", headers=headers)[1][0]["version"] == "1.0.0"

    auditor = "auditor-" + fresh_account[0]
    status, body, _ = http(f"{seeded.url}/api/v1/users", "POST",
                           {"email": auditor, "name": "Ada Auditor", "password": PASSWORD, "role": "auditor"}, headers)
    assert status == 201, body
    window = open_window(seeded.url)
    log_in(qtbot, window, auditor, PASSWORD)
    _policies_page(qtbot, window, "1.0.0")
    _select(window, "hipaa")
    assert window.policies.update_button.isHidden()
