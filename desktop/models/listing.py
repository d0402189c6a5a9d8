"""A table model over a short list of ``schemas`` values (reports, schedules, activity), one cell function per
column. Rows have an ``id``; the list is replaced whole, and single rows are replaced or removed by id."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from desktop.models.roles import RowRole

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex


class Column(Generic[T]):
    """A column: its header, the text of a cell, and optionally its tooltip."""

    def __init__(self, header: str, text: Callable[[T], str], *, tooltip: Callable[[T], str] | None = None) -> None:
        self.header, self.text, self.tooltip = header, text, tooltip


class ListTableModel(QAbstractTableModel, Generic[T]):
    """Rows of ``T`` (each with an ``id`` attribute) shown through :class:`Column` functions.

    ``status`` gives the value behind ``RowRole.STATUS`` (used by pill delegates).
    """

    def __init__(self, columns: Sequence[Column[T]], *, status: Callable[[T], str] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._status = status
        self._rows: list[T] = []
        self.loaded = False

    def set_rows(self, rows: Sequence[T]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.loaded = True
        self.endResetModel()

    def rows(self) -> list[T]:
        return list(self._rows)

    def item(self, row: int) -> T:
        return self._rows[row]

    def row_of(self, item_id: str) -> int:
        return next((n for n, item in enumerate(self._rows) if getattr(item, "id", None) == item_id), -1)

    def upsert(self, item: T) -> None:
        """Replace the row with the same id, or insert the item at the top."""
        row = self.row_of(getattr(item, "id", ""))
        if row >= 0:
            self._rows[row] = item
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self._columns) - 1))
            return
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._rows.insert(0, item)
        self.endInsertRows()

    def remove(self, item_id: str) -> None:
        row = self.row_of(item_id)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self._columns)):
            return self._columns[section].header
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._rows[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(item)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(item)
        if role == RowRole.ID:
            return getattr(item, "id", None)
        if role == RowRole.ITEM:
            return item
        if role == RowRole.STATUS and self._status is not None:
            return self._status(item)
        return None
