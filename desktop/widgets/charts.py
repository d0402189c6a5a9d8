"""Charts drawn with QPainter (QtCharts is not part of PySide6-Essentials): a time chart and a bar list."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from desktop import theme


@dataclass(frozen=True, slots=True)
class Point:
    """One bucket of the time chart."""

    start: datetime
    events: int
    violations: int


def nice_ceiling(value: int, ticks: int = 4) -> int:
    """A round axis maximum at or above ``value`` that splits into ``ticks`` whole steps of 1, 2 or 5 × 10^n."""
    if value <= 0:
        return ticks
    raw = value / ticks
    exponent = 10 ** max(0, math.floor(math.log10(raw))) if raw >= 1 else 1
    for step in (1, 2, 5, 10):
        if raw <= step * exponent:
            return step * exponent * ticks
    return 10 * exponent * ticks


def compact(value: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M".replace(".0M", "M")
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k".replace(".0k", "k")
    return str(value)


class TimeChart(QWidget):
    """Events (blue) and violations (orange, in front) per bucket, with a y axis, time labels and a legend."""

    def __init__(self, parent: QWidget | None = None, *, legend: tuple[str, str] = ("Events", "Violations"),
                 empty_text: str = "No events in this period",
                 tooltip: str = "{events:,} events, {violations:,} with violations") -> None:
        super().__init__(parent)
        self._points: list[Point] = []
        self._label_format = "%H:%M"
        self._empty_text = empty_text
        self._legend_labels = legend
        self._tooltip = tooltip
        self.setMouseTracking(True)
        self.setMinimumHeight(180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_points(self, points: Sequence[Point], label_format: str) -> None:
        self._points = list(points)
        self._label_format = label_format
        self.update()

    @property
    def points(self) -> list[Point]:
        return self._points

    def sizeHint(self) -> QSize:
        return QSize(600, 220)

    def _plot_rect(self) -> QRectF:
        return QRectF(44, 30, max(10, self.width() - 56), max(10, self.height() - 56))

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        plot = self._plot_rect()
        metrics = QFontMetrics(self.font())
        self._legend(painter)
        top = nice_ceiling(max((p.events for p in self._points), default=0))
        grid = QPen(self.palette().color(QPalette.ColorRole.Midlight))
        muted = theme.muted_color(self)
        for step in range(5):
            value = top * step / 4
            y = plot.bottom() - plot.height() * step / 4
            painter.setPen(grid)
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(muted)
            label = compact(int(value))
            painter.drawText(QRectF(0, y - 8, plot.left() - 8, 16),
                             int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), label)
        if not self._points or all(p.events == 0 for p in self._points):
            painter.setPen(muted)
            painter.drawText(plot, int(Qt.AlignmentFlag.AlignCenter), self._empty_text)
            return
        slot = plot.width() / len(self._points)
        bar = max(2.0, slot * 0.68)
        events, violations = QColor(theme.EVENTS_COLOR), QColor(theme.VIOLATIONS_COLOR)
        events.setAlpha(200)
        painter.setPen(Qt.PenStyle.NoPen)
        for n, point in enumerate(self._points):
            x = plot.left() + slot * n + (slot - bar) / 2
            height = plot.height() * point.events / top
            painter.setBrush(events)
            painter.drawRoundedRect(QRectF(x, plot.bottom() - height, bar, height), 2, 2)
            if point.violations:
                vheight = max(2.0, plot.height() * point.violations / top)
                painter.setBrush(violations)
                painter.drawRoundedRect(QRectF(x, plot.bottom() - vheight, bar, vheight), 2, 2)
        painter.setPen(muted)
        label_width = metrics.horizontalAdvance(self._points[0].start.astimezone().strftime(self._label_format)) + 12
        every = max(1, math.ceil(label_width / slot))
        for n, point in enumerate(self._points):
            if n % every:
                continue
            text = point.start.astimezone().strftime(self._label_format)
            x = plot.left() + slot * n + slot / 2
            painter.drawText(QRectF(x - label_width / 2, plot.bottom() + 4, label_width, 18),
                             int(Qt.AlignmentFlag.AlignCenter), text)

    def _legend(self, painter: QPainter) -> None:
        x = 48.0
        for label, color in zip(self._legend_labels, (theme.EVENTS_COLOR, theme.VIOLATIONS_COLOR), strict=True):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(color))
            painter.drawRoundedRect(QRectF(x, 9, 10, 10), 2, 2)
            painter.setPen(theme.text_color(self))
            width = QFontMetrics(self.font()).horizontalAdvance(label)
            painter.drawText(QRectF(x + 15, 4, width + 4, 20), int(Qt.AlignmentFlag.AlignVCenter), label)
            x += width + 36

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        plot = self._plot_rect()
        if not self._points or not plot.contains(event.position()):
            QToolTip.hideText()
            return
        n = int((event.position().x() - plot.left()) / (plot.width() / len(self._points)))
        point = self._points[max(0, min(n, len(self._points) - 1))]
        when = point.start.astimezone().strftime("%a %d %b %H:%M")
        QToolTip.showText(event.globalPosition().toPoint(),
                          f"{when}\n" + self._tooltip.format(events=point.events, violations=point.violations),
                          self)


ROW = 28  # the height of one bar's row, in pixels
MIN_ROWS = 3  # rows a bar list keeps however little room it is given (the last may be "+N more")


class BarList(QWidget):
    """Labelled horizontal bars, largest first (violations by pack, by agent).

    It asks for a row per item and never drops one silently: given less height, it draws the bars that fit
    and then a "+N more" row, whose tooltip lists the others.
    """

    def __init__(self, color: str = theme.VIOLATIONS_COLOR, empty_text: str = "Nothing yet",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[tuple[str, int]] = []
        self._color = QColor(color)
        self._empty_text = empty_text
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def set_items(self, items: Sequence[tuple[str, int]]) -> None:
        self._items = list(items)
        self.updateGeometry()
        self._update_tooltip()
        self.update()

    @property
    def items(self) -> list[tuple[str, int]]:
        return self._items

    @staticmethod
    def _height(rows: int) -> int:
        return ROW * rows + 8

    def sizeHint(self) -> QSize:
        return QSize(300, self._height(max(MIN_ROWS, len(self._items))))

    def minimumSizeHint(self) -> QSize:
        return QSize(160, self._height(min(MIN_ROWS, max(1, len(self._items)))))

    def shown(self) -> tuple[list[tuple[str, int]], int]:
        """The items drawn at the current height, and how many more there are (said in a "+N more" row)."""
        fits = max(1, (self.height() - 8) // ROW)
        if len(self._items) <= fits:
            return self._items, 0
        return self._items[:fits - 1], len(self._items) - (fits - 1)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        drawn, more = self.shown()
        self.setToolTip("\n".join(f"{label}: {count:,}" for label, count in self._items[len(drawn):]) if more else "")

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = QFontMetrics(self.font())
        muted = theme.muted_color(self)
        if not self._items:
            painter.setPen(muted)
            painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter), self._empty_text)
            return
        drawn, more = self.shown()
        label_width = min(int(self.width() * 0.5), max(metrics.horizontalAdvance(l) for l, _ in self._items) + 16)
        count_width = max(metrics.horizontalAdvance(f"{c:,}") for _, c in self._items) + 10
        top = max(c for _, c in self._items) or 1
        track = self.width() - label_width - count_width - 8
        for n, (label, count) in enumerate(drawn):
            y = 4 + n * ROW
            painter.setPen(theme.text_color(self))
            painter.drawText(QRectF(0, y, label_width - 8, ROW - 6),
                             int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                             metrics.elidedText(label, Qt.TextElideMode.ElideMiddle, label_width - 8))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.palette().color(QPalette.ColorRole.AlternateBase))
            painter.drawRoundedRect(QRectF(label_width, y + 5, track, ROW - 16), 4, 4)
            painter.setBrush(self._color)
            painter.drawRoundedRect(QRectF(label_width, y + 5, max(4.0, track * count / top), ROW - 16), 4, 4)
            painter.setPen(muted)
            painter.drawText(QRectF(label_width + track + 4, y, count_width, ROW - 6),
                             int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight), f"{count:,}")
        if more:
            painter.setPen(muted)
            painter.drawText(QRectF(0, 4 + len(drawn) * ROW, self.width(), ROW - 6),
                             int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), f"+{more} more")
