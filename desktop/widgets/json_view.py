"""A JSON tree viewer: keys and values, expanded two levels, with "copy value" and "copy path"."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHeaderView, QMenu, QTreeView, QWidget

from desktop.models.json_tree import JsonTreeModel
from desktop.models.roles import JsonColumn, JsonRole


class JsonView(QTreeView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = JsonTreeModel(self)
        self.setModel(self.tree)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.header().setSectionResizeMode(JsonColumn.KEY, QHeaderView.ResizeMode.ResizeToContents)
        self.header().setStretchLastSection(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)

    def set_value(self, value: Any) -> None:
        self.tree.set_value(value if value is not None else {})
        self.expandToDepth(1)

    def _menu(self, position: QPoint) -> None:
        index = self.indexAt(position)
        if not index.isValid():
            return
        menu = QMenu(self)
        clipboard = QGuiApplication.clipboard()
        menu.addAction("Copy value", lambda: clipboard.setText(str(index.data(JsonRole.VALUE))))
        menu.addAction("Copy path", lambda: clipboard.setText(str(index.data(JsonRole.PATH))))
        menu.exec(self.viewport().mapToGlobal(position))
