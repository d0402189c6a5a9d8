"""The log explorer's table: audit events newest first, fetched a page at a time with the ``before`` cursor.

Rows keep only what the table shows (a few short strings per event), so a million loaded rows stay small;
the detail pane loads the full event by id. A response that arrives after the filter changed is dropped.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any, NamedTuple

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from desktop.api import schemas
from desktop.api.client import Call, SidecarClient
from desktop.api.errors import ApiError
from desktop.models import timefmt
from desktop.models.roles import LogColumn, LogRole

HEADERS = {
    LogColumn.TIME: "Time",
    LogColumn.AGENT: "Agent",
    LogColumn.ACTION: "Action",
    LogColumn.VERDICT: "Verdict",
    LogColumn.FLAGS: "Rules",
    LogColumn.TRACE: "Trace",
    LogColumn.PROMPT: "Prompt",
}
PREVIEW_CHARS = 140
Index = QModelIndex | QPersistentModelIndex


def _intern(value: str | None) -> str:
    return sys.intern(value) if value else ""


def preview(text: str | None, limit: int = PREVIEW_CHARS) -> str:
    """The start of a text on one line (whitespace runs collapsed), with an ellipsis when cut."""
    if not text:
        return ""
    flat = " ".join(text[: limit * 2].split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class LogRow(NamedTuple):
    """What one table row needs. A tuple of strings and numbers: the garbage collector stops tracking it after
    its first pass, so a million loaded rows add nothing to later collections (a tracked object per row made
    full collections take over a second at a million rows)."""

    id: str
    created: float
    agent: str
    action: str
    enforcement: str
    flags: int
    trace: str
    prompt: str

    @classmethod
    def of(cls, event: schemas.LogEvent) -> LogRow:
        created = event.created_at.timestamp() if event.created_at else 0.0
        return cls(event.id, created, _intern(event.agent_id), _intern(event.action),
                   _intern(event.enforcement_action), len(event.compliance_flags), _intern(event.trace_id),
                   preview(event.prompt if event.prompt else event.response))


class LogTableModel(QAbstractTableModel):
    """Audit events matching a :class:`schemas.LogFilter`, newest first, loaded lazily.

    Signals:
        loading_changed(bool): a page request started or ended.
        total_changed(int): the number of matching events the sidecar reported.
        failed(object): an :class:`ApiError` from a page request.
    """

    loading_changed = Signal(bool)
    total_changed = Signal(int)
    failed = Signal(object)

    def __init__(self, client: SidecarClient, *, page_size: int = 200, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._page_size = page_size
        self._filter = schemas.LogFilter()
        self._rows: list[LogRow] = []
        self._cursor: str | None = None
        self._exhausted = False
        self._pending: Call | None = None
        self._generation = 0
        self._total = 0
        self._error: ApiError | None = None

    # -- state ---------------------------------------------------------------------------------------

    @property
    def filter(self) -> schemas.LogFilter:
        return self._filter

    @property
    def total(self) -> int:
        return self._total

    @property
    def loading(self) -> bool:
        return self._pending is not None

    @property
    def error(self) -> ApiError | None:
        return self._error

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    def set_filter(self, flt: schemas.LogFilter) -> None:
        """Show the events matching ``flt``: drop every row and fetch the first page."""
        self._filter = flt
        self.reload()

    def reload(self) -> None:
        self._generation += 1
        self.beginResetModel()
        self._rows.clear()
        self._cursor, self._exhausted, self._error = None, False, None
        was_loading, self._pending = self._pending is not None, None
        self.endResetModel()
        if was_loading:
            self.loading_changed.emit(False)
        self.fetchMore()

    def event_id(self, row: int) -> str:
        return self._rows[row].id

    def row_of(self, event_id: str) -> int:
        for number, row in enumerate(self._rows):
            if row.id == event_id:
                return number
        return -1

    # -- Qt model ------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(LogColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(LogColumn):
            return HEADERS[LogColumn(section)]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == LogColumn.TIME:
                return timefmt.short(datetime.fromtimestamp(row.created, UTC)) if row.created else "—"
            if column == LogColumn.AGENT:
                return row.agent or "—"
            if column == LogColumn.ACTION:
                return row.action
            if column == LogColumn.VERDICT:
                return row.enforcement
            if column == LogColumn.FLAGS:
                return str(row.flags) if row.flags else ""
            if column == LogColumn.TRACE:
                return row.trace
            if column == LogColumn.PROMPT:
                return row.prompt
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and column == LogColumn.FLAGS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == LogRole.ID:
            return row.id
        if role == LogRole.ENFORCEMENT:
            return row.enforcement
        if role == LogRole.TRACE_ID:
            return row.trace
        if role == LogRole.CREATED_AT:
            return row.created
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and not self._exhausted and self._pending is None and self._error is None

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if not self.canFetchMore(parent):  # views call it repeatedly while scrolling
            return
        generation = self._generation
        call = self._client.list_logs(self._filter, limit=self._page_size, before=self._cursor)
        self._pending = call
        call.done.connect(lambda page: self._append(generation, page))
        call.failed.connect(lambda error: self._failed(generation, error))
        self.loading_changed.emit(True)

    def retry(self) -> None:
        """After a failed page: clear the error and ask again."""
        self._error = None
        self.fetchMore()

    # -- answers -------------------------------------------------------------------------------------

    def _append(self, generation: int, page: schemas.LogPage) -> None:
        if generation != self._generation:
            return
        self._pending = None
        if page.items:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page.items) - 1)
            self._rows.extend(LogRow.of(event) for event in page.items)
            self.endInsertRows()
        self._cursor = page.next_cursor
        self._exhausted = page.next_cursor is None or not page.items
        if page.total != self._total:
            self._total = page.total
            self.total_changed.emit(page.total)
        self.loading_changed.emit(False)

    def _failed(self, generation: int, error: ApiError) -> None:
        if generation != self._generation:
            return
        self._pending = None
        self._error = error
        self.loading_changed.emit(False)
        self.failed.emit(error)
