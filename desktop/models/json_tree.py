"""A read-only tree model over any JSON value (an event's metadata): key and value columns."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from desktop.models.roles import JsonColumn, JsonRole

Index = QModelIndex | QPersistentModelIndex


class _Node:
    __slots__ = ("key", "value", "parent", "row", "children", "path")

    def __init__(self, key: str, value: Any, parent: _Node | None, row: int, path: str) -> None:
        self.key, self.value, self.parent, self.row, self.path = key, value, parent, row, path
        self.children: list[_Node] = []
        if isinstance(value, dict):
            self.children = [_Node(str(k), v, self, n, f"{path}.{k}" if path else str(k))
                             for n, (k, v) in enumerate(value.items())]
        elif isinstance(value, list):
            self.children = [_Node(f"[{n}]", v, self, n, f"{path}[{n}]") for n, v in enumerate(value)]


def describe(value: Any) -> str:
    """How a value appears in the value column: containers summarised, strings as they are."""
    if isinstance(value, dict):
        return f"{{…}} {len(value)} key{'s' if len(value) != 1 else ''}"
    if isinstance(value, list):
        return f"[…] {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, str):
        return " ".join(value.split()) if len(value) < 2000 else " ".join(value[:2000].split()) + "…"
    if isinstance(value, float) and math.isfinite(value):
        return plain_number(value)
    return json.dumps(value)


def plain_number(value: float) -> str:
    """A float in plain decimals, never in exponent form: ``6e-05`` reads ``0.00006`` (a cost), ``1e+20``
    reads ``100000000000000000000``. The digits are the float's shortest repr, so nothing is rounded away."""
    return format(Decimal(repr(value)), "f")


class JsonTreeModel(QAbstractItemModel):
    """The keys of a JSON value as a tree; ``JsonRole.PATH`` gives ``a.b[2]`` paths."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = _Node("", {}, None, 0, "")

    def set_value(self, value: Any) -> None:
        self.beginResetModel()
        self._root = _Node("", value if isinstance(value, (dict, list)) else {"value": value}, None, 0, "")
        self.endResetModel()

    def _node(self, index: Index) -> _Node:
        return index.internalPointer() if index.isValid() else self._root  # type: ignore[no-any-return]

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        return self.createIndex(row, column, self._node(parent).children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        node = self._node(index).parent
        if node is None or node is self._root:
            return QModelIndex()
        return self.createIndex(node.row, 0, node)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return len(JsonColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return {JsonColumn.KEY: "Key", JsonColumn.VALUE: "Value"}.get(JsonColumn(section)) if section < 2 else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._node(index)
        if role == Qt.ItemDataRole.DisplayRole:
            return node.key if index.column() == JsonColumn.KEY else describe(node.value)
        if role == JsonRole.PATH:
            return node.path
        if role == JsonRole.VALUE:
            return json.dumps(node.value, ensure_ascii=False)
        return None
