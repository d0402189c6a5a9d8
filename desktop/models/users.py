"""The organisation's users (name, email, role, when added; the signed-in one marked "you"), and the add-user
form checked as the sidecar will check it. Reloaded whole (a short list)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont

from desktop.api import schemas
from desktop.api.client import Call, SidecarClient
from desktop.api.errors import ApiError
from desktop.models import timefmt
from desktop.models.access import ROLE_NAMES, ROLES
from desktop.models.roles import UserColumn, UserRole

HEADERS = {UserColumn.NAME: "Name", UserColumn.EMAIL: "Email", UserColumn.ROLE: "Role", UserColumn.ADDED: "Added"}
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}")  # the sidecar's own check (api/schemas.py)
PASSWORD_MIN, PASSWORD_MAX = 8, 128
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class NewUserForm:
    """What the add-user dialog holds."""

    email: str
    name: str
    role: str
    password: str

    def problems(self) -> dict[str, str]:
        """Each field the sidecar would refuse, with a sentence; empty when the form can be sent."""
        found: dict[str, str] = {}
        email = self.email.strip()
        if not email:
            found["email"] = "Give the person's email address."
        elif len(email) > 320 or not EMAIL.fullmatch(email):
            found["email"] = "That is not an email address (name@example.com)."
        if not self.name.strip():
            found["name"] = "Give the person's name."
        elif len(self.name.strip()) > 200:
            found["name"] = "The name is longer than 200 characters."
        if self.role not in ROLES:
            found["role"] = "Choose a role."
        if not PASSWORD_MIN <= len(self.password) <= PASSWORD_MAX:
            found["password"] = f"The password needs {PASSWORD_MIN} to {PASSWORD_MAX} characters."
        return found


class UserTableModel(QAbstractTableModel):
    """Signals: loading_changed(bool), failed(object ApiError)."""

    loading_changed = Signal(bool)
    failed = Signal(object)

    def __init__(self, client: SidecarClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._rows: list[schemas.User] = []
        self._pending: Call | None = None
        self.loaded = False

    @property
    def my_id(self) -> str:
        return self._client.user.id if self._client.user is not None else ""

    def reload(self) -> None:
        if self._pending is not None:
            return
        call = self._client.list_users()
        self._pending = call
        call.done.connect(self._loaded)
        call.failed.connect(self._failed)
        self.loading_changed.emit(True)

    def clear(self) -> None:
        self.beginResetModel()
        self._rows, self.loaded, self._pending = [], False, None
        self.endResetModel()

    def user(self, row: int) -> schemas.User:
        return self._rows[row]

    def row_of(self, user_id: str) -> int:
        return next((n for n, user in enumerate(self._rows) if user.id == user_id), -1)

    def owners(self) -> int:
        return sum(1 for user in self._rows if user.role == "owner")

    def put(self, user: schemas.User) -> None:
        """Show a user as the sidecar answered it: replace the row, or append a new one."""
        row = self.row_of(user.id)
        if row < 0:
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows))
            self._rows.append(user)
            self.endInsertRows()
            return
        self._rows[row] = user
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(UserColumn) - 1))

    def remove(self, user_id: str) -> None:
        row = self.row_of(user_id)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()

    def _loaded(self, listing: schemas.Listing) -> None:
        if self.sender() is not self._pending:
            return
        self._pending = None
        self.beginResetModel()
        self._rows = list(listing.items)
        self.loaded = True
        self.endResetModel()
        self.loading_changed.emit(False)

    def _failed(self, error: ApiError) -> None:
        if self.sender() is not self._pending:
            return
        self._pending = None
        self.loading_changed.emit(False)
        self.failed.emit(error)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(UserColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(UserColumn)):
            return HEADERS[UserColumn(section)]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        user = self._rows[index.row()]
        column = index.column()
        me = bool(user.id) and user.id == self.my_id
        if role == Qt.ItemDataRole.DisplayRole:
            if column == UserColumn.NAME:
                return f"{user.name} (you)" if me else user.name
            if column == UserColumn.EMAIL:
                return user.email
            if column == UserColumn.ROLE:
                return ROLE_NAMES.get(user.role, user.role)
            if column == UserColumn.ADDED:
                return timefmt.local(user.created_at, seconds=False)
            return None
        if role == Qt.ItemDataRole.FontRole and me and column == UserColumn.NAME:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and me:
            return "You are signed in as this user."
        if role == UserRole.ID:
            return user.id
        if role == UserRole.USER:
            return user
        if role == UserRole.IS_ME:
            return me
        return None
