"""The span tree of one trace as a Qt item model (over a :class:`TraceTree`), with its cell formatting.

Each index carries its node number as ``internalId``, so ``index()``/``parent()`` are list look-ups and a
30,000-span trace costs nothing until rows are shown. Flagged and blocked spans carry a marker icon, a
colour and a word (``[blocked]``), so the mark does not rest on colour alone.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QIcon, QPainter, QPalette, QPixmap, QPolygonF

from desktop import theme
from desktop.models.roles import TraceColumn, TraceRole
from desktop.models.trace_tree import NO_PARENT, TraceTree

Index = QModelIndex | QPersistentModelIndex

STATUS_COLOR = {"blocked": "#c92a2a", "flagged": "#e8590c", "ok": "#1f2328"}
STATUS_WORD = {"blocked": "[blocked]", "flagged": "[flagged]", "ok": ""}
MATCH_HUE = "#fab005"  # a search match's row: amber over the palette's base (theme.tint)
HEADERS = {TraceColumn.SPAN: "Span", TraceColumn.DURATION: "Duration", TraceColumn.TOKENS: "Tokens Σ",
           TraceColumn.COST: "Cost Σ"}


def format_ms(ms: float) -> str:
    """``850 ms``, ``1.25 s``, ``2 min 05 s``."""
    if ms < 1000:
        return f"{ms:.0f} ms" if ms >= 1 or ms == 0 else f"{ms:.2f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f} s"
    minutes, seconds = divmod(int(ms // 1000), 60)
    return f"{minutes} min {seconds:02d} s"


def format_cost(cost: float) -> str:
    """``$0.0042`` below a dollar, ``$12.50`` above; fractions of a hundredth of a cent keep their first digits
    (``$0.000098``)."""
    if 0 < cost < 0.0001:
        return f"${cost:.6f}"
    return f"${cost:,.4f}" if cost < 1 else f"${cost:,.2f}"


def status_icon(status: str) -> QIcon:
    """A small marker: a red octagon with a bar for blocked, an orange triangle with a dot for flagged."""
    cached = _ICONS.get(status)
    if cached is not None:
        return cached
    pixmap = QPixmap(14, 14)
    pixmap.fill(Qt.GlobalColor.transparent)
    if status != "ok":
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(STATUS_COLOR[status]))
        if status == "blocked":
            points = [QPointF(4, 0.5), QPointF(10, 0.5), QPointF(13.5, 4), QPointF(13.5, 10), QPointF(10, 13.5),
                      QPointF(4, 13.5), QPointF(0.5, 10), QPointF(0.5, 4)]
            painter.drawPolygon(QPolygonF(points))
            painter.setBrush(QColor("white"))
            painter.drawRect(3, 6, 8, 2)
        else:
            painter.drawPolygon(QPolygonF([QPointF(7, 0.5), QPointF(13.5, 13), QPointF(0.5, 13)]))
            painter.setBrush(QColor("white"))
            painter.drawRect(6, 4, 2, 5)
            painter.drawRect(6, 10, 2, 2)
        painter.end()
    icon = QIcon(pixmap)
    _ICONS[status] = icon
    return icon


_ICONS: dict[str, QIcon] = {}
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_COLUMNS = len(TraceColumn)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class TraceTreeModel(QAbstractItemModel):
    """Read-only: span (action, agent), duration, and tokens and cost rolled up over the span's subtree."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tree = TraceTree([])
        self._matches: set[int] = set()
        self._bold = QFont()
        self._bold.setBold(True)
        self._brushes = {status: QBrush(QColor(color)) for status, color in STATUS_COLOR.items() if status != "ok"}

    def set_tree(self, tree: TraceTree) -> None:
        self.beginResetModel()
        self.tree = tree
        self._matches = set()
        self.endResetModel()

    def set_matches(self, nodes: set[int]) -> None:
        """Highlight these nodes (search hits); repaints only the rows that change."""
        changed = self._matches ^ nodes
        self._matches = set(nodes)
        last = len(TraceColumn) - 1
        for node in changed:
            self.dataChanged.emit(self.index_of(node), self.index_of(node, last),
                                  [Qt.ItemDataRole.BackgroundRole])

    @property
    def matched(self) -> set[int]:
        """The nodes highlighted as search hits."""
        return self._matches

    def index_of(self, node: int, column: int = 0) -> QModelIndex:
        return self.createIndex(self.tree.row[node], column, node)

    def node(self, index: Index) -> int:
        return int(index.internalId()) if index.isValid() else NO_PARENT

    # -- QAbstractItemModel --------------------------------------------------------------------------

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        kids = self.tree.children[int(parent.internalId())] if parent.isValid() else self.tree.roots
        if 0 <= row < len(kids) and 0 <= column < _COLUMNS:
            return self.createIndex(row, column, kids[row])
        return QModelIndex()

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        up = self.tree.parent[int(index.internalId())]
        return QModelIndex() if up == NO_PARENT else self.createIndex(self.tree.row[up], 0, up)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if not parent.isValid():
            return len(self.tree.roots)
        return len(self.tree.children[int(parent.internalId())]) if parent.column() == 0 else 0

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:
        return self.rowCount(parent) > 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return _COLUMNS

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[TraceColumn(section)]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole \
                and section != TraceColumn.SPAN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node, column, tree = int(index.internalId()), index.column(), self.tree
        if role == _DISPLAY:
            return self._text(node, column)
        if column == TraceColumn.SPAN:
            status = tree.statuses[node]
            if role == _DECORATION:  # none on a clean span: an empty icon would still be painted, per row
                return status_icon(status) if status != "ok" else None
            if role == _FOREGROUND:
                return self._brushes.get(status)
            if role == _FONT:
                return self._bold if status == "blocked" else None
        elif role == _ALIGNMENT:
            return _RIGHT
        if role == _BACKGROUND:
            if node not in self._matches:
                return None
            return QBrush(theme.tint(MATCH_HUE, QGuiApplication.palette().color(QPalette.ColorRole.Base)))
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(node)
        if role == TraceRole.NODE:
            return node
        if role == TraceRole.EVENT_ID:
            return tree.spans[node].id
        if role == TraceRole.STATUS:
            return tree.statuses[node]
        if role == TraceRole.MATCH:
            return node in self._matches
        return None

    def _text(self, node: int, column: int) -> str:
        tree = self.tree
        if column == TraceColumn.SPAN:
            span = tree.spans[node]
            word = STATUS_WORD[tree.status(node)]
            return f"{span.action} {word}" if word else span.action
        if column == TraceColumn.DURATION:
            return format_ms(tree.end_ms[node] - tree.start_ms[node])
        roll = tree.rollup(node)
        if column == TraceColumn.TOKENS:
            return f"{roll.tokens:,}" if roll.has_tokens else ""
        return format_cost(roll.cost) if roll.has_cost else ""

    def _tooltip(self, node: int) -> str:
        tree = self.tree
        span = tree.spans[node]
        lines = [f"{span.action} · {span.agent_id or 'no agent'}", f"span {span.span_id or span.id}"]
        status = tree.status(node)
        if status != "ok":
            lines.append(f"{status}: " + ", ".join(span.compliance_flags or (span.enforcement_action,)))
        if node in tree.orphans:
            lines.append(f"parent {span.parent_span_id} is not in this trace")
        roll = tree.rollup(node)
        if roll.spans > 1:
            parts = [f"{roll.spans:,} spans"]
            if roll.has_tokens:
                parts.append(f"{roll.tokens:,} tokens")
            if roll.has_cost:
                parts.append(format_cost(roll.cost))
            if roll.has_latency:
                parts.append(f"{format_ms(roll.latency_ms)} latency")
            lines.append("subtree: " + ", ".join(parts))
        return "\n".join(lines)
