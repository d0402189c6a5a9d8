"""Users of the organisation: list them, add one, change a role (or name), remove one; what the signed-in
user may do, and the sidecar's refusals (the last owner, owners that only an owner may touch) as sentences."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from desktop.api import schemas
from desktop.api.client import SidecarClient
from desktop.api.errors import ApiError
from desktop.models import access
from desktop.models.users import NewUserForm, UserTableModel

NOT_ALLOWED = "Only the organisation's owners and admins can see and manage its users."
NOT_ANSWERING = "The sidecar is not answering. Check its status at the top of the window."


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


class UsersPresenter(QObject):
    """Signals:
        denied(str): the signed-in user's role may not see the users (a sentence); the list stays empty.
        added(object): the new :class:`schemas.User`.
        add_failed(object): ``{field: sentence}`` for the add dialog (field ``""``: not about one field).
        changed(object): the :class:`schemas.User` as changed.
        removed(str): the removed user's id.
        own_role_changed(str): the signed-in user changed their own role (the new one).
        removed_self(): the signed-in user removed themselves; the session is over.
        saved(str): what was done, as a sentence.
        failed(str): a sentence for the user.
    """

    denied = Signal(str)
    added = Signal(object)
    add_failed = Signal(object)
    changed = Signal(object)
    removed = Signal(str)
    own_role_changed = Signal(str)
    removed_self = Signal()
    saved = Signal(str)
    failed = Signal(str)

    def __init__(self, client: SidecarClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self.model = UserTableModel(client, self)
        self.model.failed.connect(self._list_failed)
        self.busy = False

    # -- what the signed-in user may do ----------------------------------------------------------------

    @property
    def my_role(self) -> str:
        return self._client.user.role if self._client.user is not None else ""

    @property
    def my_id(self) -> str:
        return self._client.user.id if self._client.user is not None else ""

    @property
    def can_manage(self) -> bool:
        return access.can_manage_users(self.my_role)

    def assignable_roles(self) -> tuple[str, ...]:
        return access.assignable_roles(self.my_role)

    def may_change(self, user: schemas.User) -> bool:
        return access.can_change_user(self.my_role, user.role)

    def why_not(self, user: schemas.User) -> str:
        """Why the selected user cannot be changed or removed by the signed-in user ("" when they can)."""
        if not self.can_manage:
            return NOT_ALLOWED
        if not self.may_change(user):
            return f"Only an owner can change or remove {user.name}, an owner."
        return ""

    # -- listing ---------------------------------------------------------------------------------------

    def refresh(self) -> None:
        if not self.can_manage:
            self.model.clear()
            self.denied.emit(NOT_ALLOWED)
            return
        self.model.reload()

    def clear(self) -> None:
        """Forget the list (logout)."""
        self.model.clear()

    def _list_failed(self, error: ApiError) -> None:
        if error.status == 403:
            self.denied.emit(NOT_ALLOWED)
        elif error.is_network:
            self.failed.emit(f"Could not list the users. {NOT_ANSWERING}")
        else:
            self.failed.emit(f"Could not list the users: {_sentence(error.message)}")

    # -- adding ----------------------------------------------------------------------------------------

    def add(self, form: NewUserForm) -> None:
        """Check the form as the sidecar will, then ``POST /users``; ``added`` or ``add_failed`` answers."""
        problems = form.problems()
        if not problems and form.role not in self.assignable_roles():
            problems["role"] = "Only an owner can add another owner."
        if problems:
            self.add_failed.emit(problems)
            return
        self.busy = True
        call = self._client.create_user(form.email.strip(), form.name.strip(), form.password, form.role)
        call.done.connect(self._added)
        call.failed.connect(self._add_refused)

    def _added(self, user: schemas.User) -> None:
        self.busy = False
        self.model.put(user)
        self.added.emit(user)
        self.saved.emit(f"Added {user.name} ({user.email}) as {access.ROLE_NAMES.get(user.role, user.role)}.")

    def _add_refused(self, error: ApiError) -> None:
        self.busy = False
        if error.status == 409:
            problems = {"email": "Someone already has an account with this email, here or in another organisation."}
        elif error.details:
            problems = {d.field if d.field in ("email", "name", "password", "role") else "": _sentence(d.message)
                        for d in error.details}
        elif error.is_network:
            problems = {"": NOT_ANSWERING}
        else:
            problems = {"": _sentence(error.message)}
        self.add_failed.emit(problems)

    # -- changing and removing -------------------------------------------------------------------------

    def change(self, user: schemas.User, *, role: str | None = None, name: str | None = None) -> None:
        """Give ``user`` another role and/or name (only what differs is sent)."""
        role = role if role is not None and role != user.role else None
        name = name.strip() if name is not None and name.strip() != user.name else None
        if role is None and name is None:
            self.saved.emit(f"Nothing to change for {user.name}.")
            return
        if name is not None and not name:
            self.failed.emit("Give the person's name.")
            return
        if role is not None and role not in self.assignable_roles():
            self.failed.emit("Only an owner can make someone an owner.")
            return
        call = self._client.update_user(user.id, role=role, name=name)
        call.done.connect(self._changed if role is not None else self._renamed)
        call.failed.connect(lambda error: self.failed.emit(self._refusal("change", user, error)))

    def _renamed(self, user: schemas.User) -> None:
        self._changed(user, f"Saved the name {user.name}.")

    def _changed(self, user: schemas.User, message: str = "") -> None:
        self.model.put(user)
        self.changed.emit(user)
        self.saved.emit(message or f"{user.name} is now {access.ROLE_NAMES.get(user.role, user.role)}.")
        me = self._client.user
        if me is not None and user.id == me.id and (user.role != me.role or user.name != me.name):
            self._client.user = replace(me, role=user.role, name=user.name)
            self.own_role_changed.emit(user.role)
            if not self.can_manage:
                self.model.clear()
                self.denied.emit(NOT_ALLOWED)

    def remove(self, user: schemas.User) -> None:
        call = self._client.delete_user(user.id)
        call.done.connect(lambda _none: self._removed(user))
        call.failed.connect(lambda error: self.failed.emit(self._refusal("remove", user, error)))

    def _removed(self, user: schemas.User) -> None:
        self.model.remove(user.id)
        self.removed.emit(user.id)
        self.saved.emit(f"Removed {user.name} ({user.email}). They can no longer log in.")
        if user.id == self.my_id:
            self.removed_self.emit()

    def _refusal(self, verb: str, user: schemas.User, error: ApiError) -> str:
        what = f"change {user.name}" if verb == "change" else f"remove {user.name}"
        if error.status == 409 and user.role == "owner":
            action = "given another role" if verb == "change" else "removed"
            return (f"{user.name} is the organisation's last owner and cannot be {action}. "
                    "Make someone else an owner first.")
        if error.status == 404:
            self.model.reload()
            return f"{user.name} is no longer in the organisation."
        if error.is_network:
            return f"Could not {what}. {NOT_ANSWERING}"
        if error.details:
            return f"Could not {what}: " + "; ".join(_sentence(f"{d.field}: {d.message}") for d in error.details)
        return f"Could not {what}: {_sentence(error.message)}"
