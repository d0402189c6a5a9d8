"""The users page's pure parts (the add-user form's checks, who may give which role) and its table model
over a real sidecar, checked by qtmodeltester."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.api.client import SidecarClient
from desktop.models import access
from desktop.models.roles import UserColumn, UserRole
from desktop.models.users import NewUserForm, UserTableModel
from tests.desktop.conftest import wait_call


@pytest.mark.parametrize(("form", "problems"), [
    (NewUserForm("ana@acme.test", "Ana", "analyst", "x" * 8), {}),
    (NewUserForm("  ana@acme.test ", " Ana ", "auditor", "x" * 128), {}),
    (NewUserForm("", "", "", ""), {"email": "Give the person's email address.", "name": "Give the person's name.",
                                   "role": "Choose a role.", "password": "The password needs 8 to 128 characters."}),
    (NewUserForm("ana@acme", "Ana", "admin", "x" * 129),
     {"email": "That is not an email address (name@example.com).",
      "password": "The password needs 8 to 128 characters."}),
    (NewUserForm("ana @acme.test", "A" * 201, "root", "x" * 7),
     {"email": "That is not an email address (name@example.com).", "name": "The name is longer than 200 characters.",
      "role": "Choose a role.", "password": "The password needs 8 to 128 characters."}),
])
def test_new_user_form_checks_what_the_sidecar_checks(form: NewUserForm, problems: dict[str, str]) -> None:
    assert form.problems() == problems


def test_only_owners_give_or_touch_the_owner_role() -> None:
    assert access.assignable_roles("owner") == ("owner", "admin", "analyst", "auditor")
    assert access.assignable_roles("admin") == ("admin", "analyst", "auditor")
    assert access.assignable_roles("analyst") == access.assignable_roles("auditor") == ()
    assert access.can_change_user("owner", "owner") and access.can_change_user("admin", "analyst")
    assert not access.can_change_user("admin", "owner") and not access.can_change_user("auditor", "analyst")
    assert set(access.ROLE_TEXT) == set(access.ROLES) and "read-only" in access.ROLE_TEXT["auditor"].lower()


def test_user_model_marks_the_signed_in_user(qtbot: Any, qtmodeltester: Any, client: SidecarClient) -> None:
    model = UserTableModel(client)
    with qtbot.waitSignal(model.modelReset, timeout=15_000):
        model.reload()
    qtmodeltester.check(model)
    me = wait_call(qtbot, client.me())
    row = model.row_of(me.id)
    assert row >= 0 and model.data(model.index(row, UserColumn.NAME)) == f"{me.name} (you)"
    assert model.data(model.index(row, UserColumn.EMAIL)) == me.email
    assert model.data(model.index(row, 0), UserRole.IS_ME) is True
    assert model.user(row).created_at is not None
    others = [n for n in range(model.rowCount()) if n != row]
    assert all(model.data(model.index(n, 0), UserRole.IS_ME) is False for n in others)
