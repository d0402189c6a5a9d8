"""The log explorer's table: audit events newest first, fetched a page at a time with the ``before`` cursor.

Rows keep only what the table shows (a few short strings per event), so a million loaded rows stay small;
the detail pane loads the full event by id. A response that arrives after the filter changed is dropped.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

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
_COLUMN_FIELD = {LogColumn.ACTION: 3, LogColumn.VERDICT: 4, LogColumn.TRACE: 6, LogColumn.PROMPT: 7}
_ROLE_FIELD = {LogRole.ID: 0, LogRole.CREATED_AT: 1, LogRole.ENFORCEMENT: 4, LogRole.TRACE_ID: 6}
Index = QModelIndex | QPersistentModelIndex


def _intern(value: str | None) -> str:
    return sys.intern(value) if value else ""


def preview(text: str | None, limit: int = PREVIEW_CHARS) -> str:
    """The start of a text on one line (whitespace runs collapsed), with an ellipsis when cut."""
    if not text:
        return ""
    flat = " ".join(text[: limit * 2].split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# A row is a plain tuple of strings and numbers: (id, created epoch s, agent, action, verdict, violations,
# trace, prompt preview), kept in tuples of CHUNK rows. The garbage collector stops tracking tuples that hold
# only untracked values, so after its first pass it never walks the loaded rows again: a tracked object per
# row made full collections take 2.5 s at a million rows, and one list of a million tuples still cost 100 ms.
# Tuple subclasses such as NamedTuple are never untracked, hence plain tuples.
LogRow = tuple[str, float, str, str, str, int, str, str]
CHUNK = 512


class RowStore:
    """An append-only sequence of rows stored as full chunks (tuples) plus a short open tail."""

    __slots__ = ("_chunks", "_tail")

    def __init__(self) -> None:
        self._chunks: list[tuple[LogRow, ...]] = []
        self._tail: list[LogRow] = []

    def __len__(self) -> int:
        return len(self._chunks) * CHUNK + len(self._tail)

    def __getitem__(self, index: int) -> LogRow:
        chunk, offset = divmod(index, CHUNK)
        return self._chunks[chunk][offset] if chunk < len(self._chunks) else self._tail[offset]

    def extend(self, rows: Iterable[LogRow]) -> None:
        for row in rows:
            self._tail.append(row)
            if len(self._tail) == CHUNK:
                self._chunks.append(tuple(self._tail))
                self._tail = []

    def clear(self) -> None:
        self._chunks, self._tail = [], []

    def index_of(self, event_id: str) -> int:
        for number in range(len(self)):
            if self[number][ID] == event_id:
                return number
        return -1
ID, CREATED, AGENT, ACTION, VERDICT, FLAGS, TRACE, PROMPT = range(8)


def row_of_event(event: schemas.LogEvent) -> LogRow:
    created = event.created_at.timestamp() if event.created_at else 0.0
    return (event.id, created, _intern(event.agent_id), _intern(event.action), _intern(event.enforcement_action),
            len(event.compliance_flags), _intern(event.trace_id),
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
        self._rows = RowStore()
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
        return self._rows[row][ID]

    def row_of(self, event_id: str) -> int:
        return self._rows.index_of(event_id)

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
                return timefmt.short(datetime.fromtimestamp(row[CREATED], UTC)) if row[CREATED] else "—"
            if column == LogColumn.AGENT:
                return row[AGENT] or "—"
            if column == LogColumn.FLAGS:
                return str(row[FLAGS]) if row[FLAGS] else ""
            return row[_COLUMN_FIELD[column]] if column in _COLUMN_FIELD else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column == LogColumn.FLAGS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role in _ROLE_FIELD:
            return row[_ROLE_FIELD[role]]
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
            self._rows.extend(row_of_event(event) for event in page.items)
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
