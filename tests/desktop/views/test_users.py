"""The Users page in the window, end to end against a real sidecar: add a user through the dialog (with its
checks and the sidecar's refusals inline), change a role, remove a user, the last owner refused, and roles
that may not manage users."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop.models.roles import UserColumn, UserRole
from desktop.presenters.shell import PAGES
from desktop.views.main_window import MainWindow
from desktop.views.user_dialogs import AddUserDialog, ChangeUserDialog
from tests.desktop.conftest import Seeded, http, token_for
from tests.desktop.views.test_views import log_in, open_window  # noqa: F401 - open_window is a fixture
from tests.helpers import PASSWORD

WAIT = 15_000


def server_users(url: str, email: str) -> dict[str, str]:
    """email -> role, as the sidecar has them (read outside the code under test)."""
    status, body, _ = http(f"{url}/api/v1/users", headers={"Authorization": f"Bearer {token_for(url, email)}"})
    assert status == 200, body
    return {user["email"]: user["role"] for user in body}


def add_by_api(url: str, owner: str, email: str, name: str, role: str) -> None:
    status, body, _ = http(f"{url}/api/v1/users", "POST",
                           {"email": email, "name": name, "password": PASSWORD, "role": role},
                           {"Authorization": f"Bearer {token_for(url, owner)}"})
    assert status == 201, body


def users_page(qtbot: Any, window: MainWindow) -> None:
    window.show_page("users")
    qtbot.waitUntil(lambda: window.shell.users.model.loaded, timeout=WAIT)


def cell(window: MainWindow, row: int, column: UserColumn) -> str:
    model = window.shell.users.model
    return str(model.data(model.index(row, column)))


def fill(qtbot: Any, dialog: AddUserDialog, email: str, name: str, password: str, role: str) -> None:
    for field, text in ((dialog.email, email), (dialog.name, name), (dialog.password, password)):
        field.clear()
        qtbot.keyClicks(field, text)
    dialog.roles.buttons[role].click()


def test_an_owner_adds_a_user_changes_their_role_and_removes_them(qtbot: Any, open_window: Any, seeded: Seeded,
                                                                  fresh_account: tuple[str, str]) -> None:
    owner, _ = fresh_account
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    users_page(qtbot, window)
    view, model = window.users, window.shell.users.model
    assert model.rowCount() == 1
    assert cell(window, 0, UserColumn.NAME) == "Acme (you)" and cell(window, 0, UserColumn.ROLE) == "Owner"
    assert cell(window, 0, UserColumn.EMAIL) == owner and cell(window, 0, UserColumn.ADDED)[:2] == "20"
    assert model.data(model.index(0, 0), UserRole.IS_ME) is True
    assert view.add_button.isVisible() and view.change_button.isVisible() and view.remove_button.isVisible()

    # the dialog checks what it can before asking the sidecar
    qtbot.mouseClick(view.add_button, Qt.MouseButton.LeftButton)
    dialog = view.add_dialog
    assert isinstance(dialog, AddUserDialog) and dialog.isVisible()
    assert list(dialog.roles.buttons) == ["owner", "admin", "analyst", "auditor"]
    fill(qtbot, dialog, "bea.example.com", "Bea Lopez", "short", "analyst")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert dialog.email_error.text() == "That is not an email address (name@example.com)."
    assert dialog.password_error.text() == "The password needs 8 to 128 characters."
    assert dialog.isVisible() and not dialog.name_error.isVisibleTo(dialog)
    assert server_users(seeded.url, owner) == {owner: "owner"}

    bea = "bea-" + owner
    fill(qtbot, dialog, bea, "Bea Lopez", PASSWORD, "analyst")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.add_dialog is None, timeout=WAIT)
    assert model.rowCount() == 2 and cell(window, 1, UserColumn.NAME) == "Bea Lopez"
    assert cell(window, 1, UserColumn.ROLE) == "Analyst"
    assert view.selected_user() is not None and view.selected_user().email == bea
    assert server_users(seeded.url, owner) == {owner: "owner", bea: "analyst"}
    assert token_for(seeded.url, bea)  # they can log in with the first password

    # the same email again: the sidecar's 409, shown under the email, the dialog still open
    dialog = view.add_user()
    assert dialog is not None
    fill(qtbot, dialog, bea, "Bea Again", PASSWORD, "auditor")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.email_error.isVisibleTo(dialog), timeout=WAIT)
    assert dialog.email_error.text() == ("Someone already has an account with this email, here or in another "
                                         "organisation.")
    assert dialog.isVisible() and dialog.add_button.isEnabled() and model.rowCount() == 2
    dialog.reject()

    # change the role with the keyboard: Enter on the row opens the dialog
    view.table.selectRow(1)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    change = view.change_dialog
    assert isinstance(change, ChangeUserDialog) and change.roles.role() == "analyst"
    change.roles.buttons["auditor"].click()
    with qtbot.waitSignal(window.shell.users.changed, timeout=WAIT):
        qtbot.mouseClick(change.save_button, Qt.MouseButton.LeftButton)
    assert cell(window, 1, UserColumn.ROLE) == "Auditor"
    assert view.feedback.text() == "Bea Lopez is now Auditor."
    assert server_users(seeded.url, owner)[bea] == "auditor"
    change = view.change_selected()  # the name alone
    assert change is not None and change.roles.role() == "auditor"
    change.name.setText("Bea Lopez-Ruiz")
    with qtbot.waitSignal(window.shell.users.changed, timeout=WAIT):
        change.save_button.click()
    assert cell(window, 1, UserColumn.NAME) == "Bea Lopez-Ruiz"
    assert view.feedback.text() == "Saved the name Bea Lopez-Ruiz."

    # remove with Delete, the confirmation naming the person
    view.table.selectRow(1)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    box = view.remove_box
    assert isinstance(box, QMessageBox) and box.text() == f"Remove Bea Lopez-Ruiz ({bea})?"
    remove = next(b for b in box.buttons() if b.text() == "Remove")
    with qtbot.waitSignal(window.shell.users.removed, timeout=WAIT):
        qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    assert model.rowCount() == 1 and model.row_of(bea) < 0
    assert server_users(seeded.url, owner) == {owner: "owner"}
    status, _, _ = http(f"{seeded.url}/api/v1/auth/login", "POST", {"email": bea, "password": PASSWORD})
    assert status == 401


def test_the_last_owner_is_refused_with_a_sentence(qtbot: Any, open_window: Any, seeded: Seeded,
                                                   fresh_account: tuple[str, str]) -> None:
    owner, _ = fresh_account
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    users_page(qtbot, window)
    view = window.users
    view.table.selectRow(0)
    change = view.change_selected()
    assert change is not None and change.roles.role() == "owner"
    change.roles.buttons["admin"].click()
    with qtbot.waitSignal(window.shell.users.failed, timeout=WAIT):
        change.save_button.click()
    assert view.feedback.text() == ("Acme is the organisation's last owner and cannot be given another role. "
                                    "Make someone else an owner first.")
    assert view.feedback.property("role") == "error"
    assert cell(window, 0, UserColumn.ROLE) == "Owner" and server_users(seeded.url, owner) == {owner: "owner"}

    box = view.confirm_remove()
    assert box is not None and box.informativeText().startswith("This is you")
    remove = next(b for b in box.buttons() if b.text() == "Remove")
    with qtbot.waitSignal(window.shell.users.failed, timeout=WAIT):
        remove.click()
    assert view.feedback.text() == ("Acme is the organisation's last owner and cannot be removed. "
                                    "Make someone else an owner first.")
    assert window.shell.client.logged_in and window.shell.users.model.rowCount() == 1


def test_an_admin_leaves_owners_alone(qtbot: Any, open_window: Any, seeded: Seeded,
                                      fresh_account: tuple[str, str]) -> None:
    owner, _ = fresh_account
    admin = "admin-" + owner
    add_by_api(seeded.url, owner, admin, "Ada Admin", "admin")
    window = open_window(seeded.url)
    log_in(qtbot, window, admin, PASSWORD)
    assert not window.sidebar.item(PAGES.index("users")).isHidden()
    users_page(qtbot, window)
    view = window.users
    assert cell(window, 1, UserColumn.NAME) == "Ada Admin (you)"
    view.table.selectRow(0)  # the owner
    assert not view.change_button.isEnabled() and not view.remove_button.isEnabled()
    assert view.hint.text() == "Only an owner can change or remove Acme, an owner."
    assert view.change_selected() is None and view.confirm_remove() is None
    dialog = view.add_user()
    assert dialog is not None and list(dialog.roles.buttons) == ["admin", "analyst", "auditor"]
    dialog.reject()


def test_roles_without_rights_see_no_users_and_no_buttons(qtbot: Any, open_window: Any, seeded: Seeded,
                                                          fresh_account: tuple[str, str]) -> None:
    owner, _ = fresh_account
    auditor = "auditor-" + owner
    add_by_api(seeded.url, owner, auditor, "Otto Auditor", "auditor")
    window = open_window(seeded.url)
    log_in(qtbot, window, auditor, PASSWORD)
    assert window.sidebar.item(PAGES.index("users")).isHidden()
    with qtbot.waitSignal(window.shell.users.denied, timeout=WAIT):
        window.show_page("users")  # e.g. through its Ctrl+number shortcut
    view = window.users
    assert view.stack.currentWidget() is view.denied and view.denied.isVisible()
    assert view.denied.text() == ("Only the organisation's owners and admins can see and manage its users.\n"
                                  "Your role is Auditor. Ask an owner or admin if you need a change.")
    assert not any(b.isVisible() for b in (view.add_button, view.change_button, view.remove_button))
    assert window.shell.users.model.rowCount() == 0 and view.add_user() is None


def test_an_owner_who_steps_down_loses_the_page_and_one_who_leaves_is_logged_out(
        qtbot: Any, open_window: Any, seeded: Seeded, fresh_account: tuple[str, str]) -> None:
    owner, _ = fresh_account
    second = "second-" + owner
    add_by_api(seeded.url, owner, second, "Sam Second", "owner")
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    users_page(qtbot, window)
    view, model = window.users, window.shell.users.model
    view.table.selectRow(model.row_of(window.shell.client.user.id))
    change = view.change_selected()
    assert change is not None
    change.roles.buttons["auditor"].click()
    with qtbot.waitSignal(window.shell.users.own_role_changed, timeout=WAIT) as changed:
        change.save_button.click()
    assert changed.args == ["auditor"] and window.shell.client.user.role == "auditor"
    assert server_users(seeded.url, second)[owner] == "auditor"
    assert window.sidebar.item(PAGES.index("users")).isHidden()
    assert view.stack.currentWidget() is view.denied and not view.add_button.isVisible()
    assert not window.settings.save_webhook_button.isVisibleTo(window.settings)  # the rest of the app follows too

    leaving = "leaving-" + owner
    add_by_api(seeded.url, second, leaving, "Lee Leaving", "admin")
    other = open_window(seeded.url)
    log_in(qtbot, other, leaving, PASSWORD)
    users_page(qtbot, other)
    other.users.table.selectRow(other.shell.users.model.row_of(other.shell.client.user.id))
    box = other.users.confirm_remove()
    assert box is not None and box.text() == f"Remove Lee Leaving ({leaving})?"
    assert box.informativeText().startswith("This is you")
    remove = next(b for b in box.buttons() if b.text() == "Remove")
    with qtbot.waitSignal(other.shell.logged_out, timeout=WAIT):
        remove.click()
    assert not other.shell.client.logged_in and other.root_stack.currentIndex() == 0
    assert leaving not in server_users(seeded.url, second)
