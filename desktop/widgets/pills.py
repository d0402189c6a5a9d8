"""Coloured "pill" labels for verdicts, severities and statuses: a delegate for tables and a label widget."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter
from PySide6.QtWidgets import QLabel, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

Index = QModelIndex | QPersistentModelIndex


def soft(color: QColor, alpha: int = 34) -> QColor:
    tint = QColor(color)
    tint.setAlpha(alpha)
    return tint


class PillDelegate(QStyledItemDelegate):
    """Paints the cell's display text as a rounded, tinted pill in the colour ``colors[text key]``.

    Args:
        colors: colour by lower-case value (``{"block": "#c92a2a", ...}``).
        key_role: the role whose value picks the colour (default: the display text).
    """

    def __init__(self, colors: dict[str, str], key_role: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colors = {key: QColor(value) for key, value in colors.items()}
        self._key_role = key_role

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        key = str(index.data(self._key_role) if self._key_role is not None else text).lower()
        color = self._colors.get(key)
        style = option.widget.style() if option.widget else None
        if style is not None:  # background and selection, without the text
            option_copy = QStyleOptionViewItem(option)
            self.initStyleOption(option_copy, index)
            option_copy.text = ""
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option_copy, painter, option.widget)
        if not text or color is None:
            if text:
                painter.drawText(option.rect.adjusted(8, 0, -4, 0), int(Qt.AlignmentFlag.AlignVCenter), text)
            return
        metrics = QFontMetrics(option.font)
        width = metrics.horizontalAdvance(text) + 16
        height = min(option.rect.height() - 6, metrics.height() + 4)
        rect = QRect(option.rect.left() + 6, option.rect.center().y() - height // 2 + 1, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(soft(color, 40))
        painter.drawRoundedRect(QRectF(rect), height / 2, height / 2)
        painter.setPen(color.darker(115))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width() + 20, size.height())


class Pill(QLabel):
    """A plain-text pill label."""

    def __init__(self, text: str = "", color: str = "#656d76", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.set(text, color)

    def set(self, text: str, color: str) -> None:
        tint = QColor(color)
        self.setText(text)
        self.setVisible(bool(text))
        self.setStyleSheet(
            f"QLabel {{ background: rgba({tint.red()},{tint.green()},{tint.blue()},40); color: {tint.darker(115).name()};"
            " border-radius: 9px; padding: 1px 9px; font-weight: 600; }")
