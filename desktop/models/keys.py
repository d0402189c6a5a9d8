"""The API keys of the organisation: name, visible prefix, scopes, last use. Reloaded whole (a short list)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from desktop.api import schemas
from desktop.api.client import Call, SidecarClient
from desktop.api.errors import ApiError
from desktop.models import timefmt
from desktop.models.roles import KeyColumn, KeyRole

HEADERS = {
    KeyColumn.NAME: "Name",
    KeyColumn.PREFIX: "Key",
    KeyColumn.SCOPES: "Scopes",
    KeyColumn.LAST_USED: "Last used",
    KeyColumn.CREATED: "Created",
}
Index = QModelIndex | QPersistentModelIndex


class ApiKeyTableModel(QAbstractTableModel):
    """Signals: loading_changed(bool), failed(object ApiError)."""

    loading_changed = Signal(bool)
    failed = Signal(object)

    def __init__(self, client: SidecarClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._rows: list[schemas.ApiKey] = []
        self._pending: Call | None = None
        self._now = datetime.now(UTC)
        self.loaded = False

    def reload(self) -> None:
        if self._pending is not None:
            return
        call = self._client.list_api_keys()
        self._pending = call
        call.done.connect(self._loaded)
        call.failed.connect(self._failed)
        self.loading_changed.emit(True)

    def key(self, row: int) -> schemas.ApiKey:
        return self._rows[row]

    def row_of(self, key_id: str) -> int:
        return next((n for n, key in enumerate(self._rows) if key.id == key_id), -1)

    def remove(self, key_id: str) -> None:
        row = self.row_of(key_id)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()

    def _loaded(self, listing: schemas.Listing) -> None:
        self._pending = None
        self._now = datetime.now(UTC)
        self.beginResetModel()
        self._rows = sorted(listing.items, key=lambda k: k.created_at or self._now, reverse=True)
        self.loaded = True
        self.endResetModel()
        self.loading_changed.emit(False)

    def _failed(self, error: ApiError) -> None:
        self._pending = None
        self.loading_changed.emit(False)
        self.failed.emit(error)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(KeyColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(KeyColumn):
            return HEADERS[KeyColumn(section)]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        key = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == KeyColumn.NAME:
                return key.name
            if column == KeyColumn.PREFIX:
                return f"{key.prefix}…"
            if column == KeyColumn.SCOPES:
                return ", ".join(key.scopes)
            if column == KeyColumn.LAST_USED:
                return timefmt.relative(key.last_used_at, self._now)
            if column == KeyColumn.CREATED:
                return timefmt.local(key.created_at, seconds=False)
            return None
        if role == Qt.ItemDataRole.ToolTipRole and column == KeyColumn.LAST_USED and key.last_used_at:
            return timefmt.local(key.last_used_at)
        if role == KeyRole.ID:
            return key.id
        if role == KeyRole.KEY:
            return key
        return None
