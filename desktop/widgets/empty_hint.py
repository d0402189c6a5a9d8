"""A line over an empty table saying what goes there and how to add some; gone as soon as it has a row."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel, QTableView

from desktop.widgets.cards import label


class EmptyHint(QObject):
    """Shows ``text`` centred in ``table``'s viewport while its model has no rows.

    A model with a ``loaded`` attribute shows the line only once it has loaded (no "nothing here" while the
    first answer is on its way). The table's layout is untouched: the line is a child of its viewport.

    Attributes:
        label: the line itself.
    """

    def __init__(self, table: QTableView, text: str) -> None:
        super().__init__(table)
        self._table = table
        self.label: QLabel = label(text, "empty", parent=table.viewport())
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        table.viewport().installEventFilter(self)
        model = table.model()
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.layoutChanged):
            signal.connect(self.update)
        self.update()

    def update(self, *_args: object) -> None:
        model = self._table.model()
        empty = model.rowCount() == 0 and bool(getattr(model, "loaded", True))
        self.label.setVisible(empty)
        if empty:
            self._place()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        self.label.setGeometry(self._table.viewport().rect().adjusted(24, 12, -24, -12))
