"""The waterfall beside a trace's span tree: one bar per visible tree row (start and duration on a shared time
axis), zoomable (ctrl+wheel, buttons) and scrollable in time.

It holds no rows of its own: each paint asks the tree view which rows are on screen (``indexAt`` then
``indexBelow``) and draws only those, at the tree's own row positions, so it stays aligned with the tree
through scrolling, collapsing and expanding, and costs the same for 30 spans as for 30,000.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPoint, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QScrollBar, QSizePolicy, QTreeView, QWidget

from desktop import theme
from desktop.models.trace import MATCH_HUE, STATUS_COLOR, TraceTreeModel, format_ms, status_icon
from desktop.models.trace_tree import NO_PARENT

PAD = 10
LABEL_ROOM = 190
MIN_TICK_PX = 90
ZOOM_STEP = 1.6
MAX_SCALE = 50.0  # pixels per millisecond
ACTION_COLOR = {"llm_call": "#4c6ef5", "tool_use": "#12b886"}
OTHER_COLOR = "#868e96"


def tick_step(scale: float, min_px: int = MIN_TICK_PX) -> float:
    """The smallest of 1, 2, 5 x 10^k ms whose ticks are at least ``min_px`` apart at ``scale`` px/ms."""
    want = min_px / scale
    power = 10 ** math.floor(math.log10(want)) if want > 0 else 1.0
    for factor in (1, 2, 5, 10):
        if factor * power >= want:
            return float(factor * power)
    return float(10 * power)


def tick_label(ms: float, step: float) -> str:
    if step < 1000:
        return f"{ms:,.0f} ms" if step >= 1 else f"{ms:.2f} ms"
    decimals = 0 if step % 1000 == 0 else 1 if step % 100 == 0 else 2
    return f"{ms / 1000:.{decimals}f} s"


class Waterfall(QWidget):
    """Signals:
        node_clicked(int): a bar's row was clicked (the node number).
        scale_changed(float): pixels per millisecond, after a zoom or a fit.

    Attributes:
        scale: pixels per millisecond.
        fitted: True while the whole trace fits the width (a resize re-fits it).
    """

    node_clicked = Signal(int)
    scale_changed = Signal(float)

    def __init__(self, tree: QTreeView, model: TraceTreeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._view, self._model = tree, model
        self.scale = 1.0
        self.fitted = True
        self.setMinimumWidth(180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.hbar = QScrollBar(Qt.Orientation.Horizontal, self)
        self.hbar.valueChanged.connect(self.update)
        self._font_metrics = QFontMetrics(self.font())
        tree.verticalScrollBar().valueChanged.connect(self.update)
        tree.expanded.connect(self.update)
        tree.collapsed.connect(self.update)
        model.modelReset.connect(self._reset)
        model.dataChanged.connect(self.update)
        self.setToolTip("Ctrl+wheel zooms around the pointer; shift+wheel moves in time")

    # -- geometry ------------------------------------------------------------------------------------

    @property
    def duration_ms(self) -> float:
        return max(self._model.tree.duration_ms, 1.0)

    def _label_room(self) -> int:
        """Room right of the latest bar for its label: up to ``LABEL_ROOM``, less in a narrow pane."""
        return min(LABEL_ROOM, self.width() // 3)

    def _track_width(self) -> int:
        return max(50, self.width() - 2 * PAD - self._label_room())

    def fit_scale(self) -> float:
        return self._track_width() / self.duration_ms

    def _top(self) -> int:
        """Where the tree's first row line is, in this widget's coordinates (below the axis)."""
        viewport = self._view.viewport()
        return viewport.mapToGlobal(QPoint(0, 0)).y() - self.mapToGlobal(QPoint(0, 0)).y()

    def x_of(self, ms: float) -> float:
        return PAD + ms * self.scale - self.hbar.value()

    def time_at(self, x: float) -> float:
        return (x - PAD + self.hbar.value()) / self.scale

    @property
    def tick_step_ms(self) -> float:
        return tick_step(self.scale)

    def visible_window(self) -> tuple[float, float]:
        """The times (ms from the trace's start) at the left and right edges of the bars' area."""
        return self.time_at(PAD), self.time_at(PAD + self._track_width())

    # -- zoom ----------------------------------------------------------------------------------------

    def set_scale(self, scale: float, anchor_x: float | None = None) -> None:
        """Zoom to ``scale`` px/ms, keeping the time under ``anchor_x`` (default: the middle) in place."""
        low = self.fit_scale() * 0.5
        scale = min(MAX_SCALE, max(low, scale))
        x = PAD + self._track_width() / 2 if anchor_x is None else anchor_x
        anchor_ms = self.time_at(x)
        self.scale = scale
        self.fitted = abs(scale - self.fit_scale()) < 1e-12
        self._update_bar()
        self.hbar.setValue(int(round(PAD + anchor_ms * scale - x)))
        self.update()
        self.scale_changed.emit(scale)

    def zoom_in(self) -> None:
        self.set_scale(self.scale * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_scale(self.scale / ZOOM_STEP)

    def fit(self) -> None:
        self.scale = self.fit_scale()
        self.fitted = True
        self._update_bar()
        self.hbar.setValue(0)
        self.update()
        self.scale_changed.emit(self.scale)

    def show_time(self, start_ms: float, end_ms: float) -> None:
        """Scroll (not zoom) so that a span's bar is in view."""
        left, right = self.visible_window()
        if start_ms >= left and min(end_ms, start_ms + (right - left) * 0.8) <= right:
            return
        self.hbar.setValue(int(start_ms * self.scale - self._track_width() * 0.2))

    def _update_bar(self) -> None:
        content = int(self.duration_ms * self.scale) + 2 * PAD + self._label_room()
        self.hbar.setRange(0, max(0, content - self.width()))
        self.hbar.setPageStep(max(1, self.width()))
        self.hbar.setSingleStep(max(1, self.width() // 10))

    def _reset(self) -> None:
        self.fit()

    # -- events --------------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        height = self.hbar.sizeHint().height()
        self.hbar.setGeometry(0, self.height() - height, self.width(), height)
        if self.fitted:
            self.scale = self.fit_scale()
        self._update_bar()
        super().resizeEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = delta.y() / 120
            if steps:
                self.set_scale(self.scale * ZOOM_STEP ** steps, event.position().x())
            event.accept()
            return
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier or delta.x():
            self.hbar.setValue(self.hbar.value() - int(delta.x() or delta.y()))
            event.accept()
            return
        bar = self._view.verticalScrollBar()
        bar.setValue(bar.value() - delta.y())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        y = int(event.position().y()) - self._top()
        index = self._view.indexAt(QPoint(1, y))
        if index.isValid() and event.button() == Qt.MouseButton.LeftButton:
            self.node_clicked.emit(self._model.node(index))
        super().mousePressEvent(event)

    # -- painting ------------------------------------------------------------------------------------

    def visible_nodes(self) -> list[tuple[int, int, int]]:
        """``(node, top, height)`` of the tree rows on screen, in this widget's coordinates."""
        view = self._view
        viewport_height = view.viewport().height()
        top = self._top()
        rows: list[tuple[int, int, int]] = []
        index = view.indexAt(QPoint(1, 1))
        while index.isValid():
            rect = view.visualRect(index)
            if rect.top() >= viewport_height:
                break
            rows.append((self._model.node(index), rect.top() + top, rect.height()))
            index = view.indexBelow(index)
        return rows

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()  # the current scheme's, light or dark
        base = palette.color(QPalette.ColorRole.Base)
        painter.fillRect(self.rect(), base)
        top = self._top()
        bottom = self.height() - self.hbar.height()
        tree = self._model.tree
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.drawRect(0, 0, self.width() - 1, self.height() - 1)
        painter.drawLine(0, top - 1, self.width(), top - 1)
        if not len(tree):
            painter.end()
            return
        self._paint_axis(painter, top, bottom)
        painter.setClipRect(0, top, self.width(), bottom - top)
        current = self._current_node()
        matches = self._model.matched
        metrics = self._font_metrics
        accent = palette.color(QPalette.ColorRole.Highlight)
        selected, matched = theme.tint(accent, base, 0.16), theme.tint(MATCH_HUE, base)
        for node, y, height in self.visible_nodes():
            if node == current:
                painter.fillRect(0, y, self.width(), height, selected)
            elif node in matches:
                painter.fillRect(0, y, self.width(), height, matched)
            self._paint_bar(painter, node, y, height, metrics)
        if current != NO_PARENT:  # the replay cursor: where the selected span starts
            x = self.x_of(tree.start_ms[current])
            painter.setPen(QPen(accent, 1, Qt.PenStyle.DashLine))
            painter.drawLine(int(x), top, int(x), bottom)
        painter.end()

    def _current_node(self) -> int:
        index = self._view.currentIndex()
        return self._model.node(index) if index.isValid() else NO_PARENT

    def _paint_axis(self, painter: QPainter, top: int, bottom: int) -> None:
        step = tick_step(self.scale)
        left, _ = self.visible_window()
        first = math.floor(max(0.0, left) / step) * step
        t = first
        grid, muted = self.palette().color(QPalette.ColorRole.Midlight), theme.muted_color(self)
        while True:
            x = self.x_of(t)
            if x > self.width():
                break
            if x >= 0:
                painter.setPen(grid)
                painter.drawLine(int(x), top, int(x), bottom)
                painter.setPen(muted)
                painter.drawLine(int(x), top - 6, int(x), top - 1)
                painter.drawText(int(x) + 3, top - 8, tick_label(t, step))
            t += step

    def _paint_bar(self, painter: QPainter, node: int, y: int, height: int, metrics: QFontMetrics) -> None:
        tree = self._model.tree
        span = tree.spans[node]
        start, end = tree.start_ms[node], tree.end_ms[node]
        x0 = self.x_of(start)
        width = max(3.0, (end - start) * self.scale)
        status = tree.status(node)
        color = QColor(STATUS_COLOR[status]) if status != "ok" else QColor(ACTION_COLOR.get(span.action, OTHER_COLOR))
        bar = QRectF(x0, y + height * 0.22, width, height * 0.56)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(bar, 2, 2)
        if status == "blocked":  # hatched as well as red
            painter.setBrush(QBrush(QColor(255, 255, 255, 150), Qt.BrushStyle.BDiagPattern))
            painter.drawRect(bar)
        label = f"{span.action}  {format_ms(end - start)}"
        if status != "ok":
            label += f"  {status}"
        icon = 17 if status != "ok" else 0
        width = icon + metrics.horizontalAdvance(label)
        x, over_bar = self.label_x(bar, width)
        if over_bar:  # on a backdrop of the timeline's own colour, so that the bar does not show through
            painter.fillRect(QRectF(x - 3, y + 1, width + 6, height - 2), self.palette().color(QPalette.ColorRole.Base))
        if icon:
            status_icon(status).paint(painter, int(x), y + (height - 14) // 2, 14, 14)
        painter.setPen(QColor(STATUS_COLOR[status]) if status != "ok" else theme.muted_color(self))
        painter.drawText(int(x) + icon, y + (height + metrics.ascent() - metrics.descent()) // 2, label)

    def label_x(self, bar: QRectF, width: float) -> tuple[float, bool]:
        """Where a bar's label (``width`` pixels) starts: right of the bar or, when it would run past the right
        edge, left of it; when neither has room, against the right edge over the bar. Returns ``(x, over the
        bar)``."""
        right_edge = self.width() - 4
        if bar.right() + 5 + width <= right_edge:
            return bar.right() + 5, False
        if bar.left() - 5 - width >= 0:
            return bar.left() - 5 - width, False
        return max(0.0, right_edge - width), True
