"""The triage queue: alerts as the sidecar orders them (critical first, then newest), paged by offset.

Triage answers update rows in place; a row that no longer matches the status filter leaves the queue.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from desktop.api import schemas
from desktop.api.client import Call, SidecarClient
from desktop.api.errors import ApiError
from desktop.models import timefmt
from desktop.models.roles import AlertColumn, AlertRole

HEADERS = {
    AlertColumn.SEVERITY: "Severity",
    AlertColumn.STATUS: "Status",
    AlertColumn.MESSAGE: "Alert",
    AlertColumn.AGENT: "Agent",
    AlertColumn.CREATED: "Raised",
}
STATUS_LABELS = {"open": "Open", "acknowledged": "Acknowledged", "resolved": "Resolved",
                 "false_positive": "False positive"}
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
Index = QModelIndex | QPersistentModelIndex


def queue_order(alert: schemas.Alert) -> tuple[int, float]:
    """Critical first, then newest: the order the sidecar answers in, for rows we place ourselves."""
    created = alert.created_at.timestamp() if alert.created_at else 0.0
    return SEVERITY_RANK.get(alert.severity, 3), -created


class AlertTableModel(QAbstractTableModel):
    """Alerts matching an :class:`schemas.AlertFilter`.

    Signals:
        loading_changed(bool), total_changed(int), failed(object ApiError).
    """

    loading_changed = Signal(bool)
    total_changed = Signal(int)
    failed = Signal(object)

    def __init__(self, client: SidecarClient, *, page_size: int = 100, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._page_size = page_size
        self._filter = schemas.AlertFilter(status="open")
        self._rows: list[schemas.Alert] = []
        self._total = 0
        self._exhausted = False
        self._pending: Call | None = None
        self._generation = 0
        self._error: ApiError | None = None
        self._now = datetime.now(UTC)

    @property
    def filter(self) -> schemas.AlertFilter:
        return self._filter

    @property
    def total(self) -> int:
        return self._total

    @property
    def error(self) -> ApiError | None:
        return self._error

    @property
    def loading(self) -> bool:
        return self._pending is not None

    def set_filter(self, flt: schemas.AlertFilter) -> None:
        self._filter = flt
        self.reload()

    def reload(self) -> None:
        self._generation += 1
        self._now = datetime.now(UTC)
        self.beginResetModel()
        self._rows.clear()
        self._exhausted, self._error = False, None
        was_loading, self._pending = self._pending is not None, None
        self.endResetModel()
        if was_loading:
            self.loading_changed.emit(False)
        self.fetchMore()

    def alert(self, row: int) -> schemas.Alert:
        return self._rows[row]

    def row_of(self, alert_id: str) -> int:
        for number, alert in enumerate(self._rows):
            if alert.id == alert_id:
                return number
        return -1

    def apply(self, alert: schemas.Alert) -> None:
        """Take a triaged alert: update its row, or drop it when it no longer matches the status filter."""
        row = self.row_of(alert.id)
        if row < 0:
            return
        if self._filter.status and alert.status != self._filter.status:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()
            self._set_total(max(0, self._total - 1))
            return
        self._rows[row] = alert
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(AlertColumn) - 1))

    def _set_total(self, total: int) -> None:
        if total != self._total:
            self._total = total
            self.total_changed.emit(total)

    # -- Qt model ------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(AlertColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(AlertColumn):
            return HEADERS[AlertColumn(section)]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        alert = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == AlertColumn.SEVERITY:
                return alert.severity
            if column == AlertColumn.STATUS:
                return STATUS_LABELS.get(alert.status, alert.status)
            if column == AlertColumn.MESSAGE:
                return " ".join(alert.message.split())
            if column == AlertColumn.AGENT:
                return alert.agent_id or "—"
            if column == AlertColumn.CREATED:
                return timefmt.relative(alert.created_at, self._now)
            return None
        if role == Qt.ItemDataRole.ToolTipRole and column == AlertColumn.CREATED:
            return timefmt.local(alert.created_at)
        if role == AlertRole.ID:
            return alert.id
        if role == AlertRole.ALERT:
            return alert
        if role == AlertRole.SEVERITY:
            return alert.severity
        if role == AlertRole.AUDIT_LOG_ID:
            return alert.audit_log_id or ""
        if role == AlertRole.STATUS:
            return alert.status
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and not self._exhausted and self._pending is None and self._error is None

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        generation = self._generation
        call = self._client.list_alerts(self._filter, limit=self._page_size, offset=len(self._rows))
        self._pending = call
        call.done.connect(lambda listing: self._append(generation, listing))
        call.failed.connect(lambda error: self._failed(generation, error))
        self.loading_changed.emit(True)

    def _append(self, generation: int, listing: schemas.Listing) -> None:
        if generation != self._generation:
            return
        self._pending = None
        known = {alert.id for alert in self._rows}
        fresh = [alert for alert in listing.items if alert.id not in known]
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh)
            self.endInsertRows()
        self._exhausted = len(listing.items) < self._page_size or len(self._rows) >= listing.total
        self._set_total(listing.total)
        self.loading_changed.emit(False)

    def _failed(self, generation: int, error: ApiError) -> None:
        if generation != self._generation:
            return
        self._pending = None
        self._error = error
        self.loading_changed.emit(False)
        self.failed.emit(error)
