"""A read-only plain-text viewer that highlights character spans (the matched PII of a violation).

Text is set with ``setPlainText`` only, so markup in an event (``<b>x</b><img src=…>``) shows as those
characters. Spans come as Python string offsets (code points) and are converted to Qt's UTF-16 positions.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget


def utf16_offset(text: str, index: int) -> int:
    """Qt positions count UTF-16 code units; Python indexes count code points."""
    prefix = text[: max(0, min(index, len(text)))]
    return len(prefix.encode("utf-16-le")) // 2


class HighlightedText(QPlainTextEdit):
    """Plain text with highlighted ``(start, end)`` spans; ``placeholder`` shows when the text is empty."""

    def __init__(self, parent: QWidget | None = None, *, highlight: str = "#ffd8a8") -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setUndoRedoEnabled(False)
        self._highlight = QColor(highlight)
        self.spans: list[tuple[int, int]] = []

    def set_text(self, text: str | None, spans: Sequence[tuple[int, int]] = (), *, empty: str = "(none)") -> None:
        self.setPlaceholderText(empty)
        self.setPlainText(text or "")
        value = text or ""
        selections = []
        self.spans = []
        for start, end in spans:
            if not 0 <= start < end <= len(value):
                continue
            selection = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.document())
            cursor.setPosition(utf16_offset(value, start))
            cursor.setPosition(utf16_offset(value, end), QTextCursor.MoveMode.KeepAnchor)
            char_format = QTextCharFormat()
            char_format.setBackground(self._highlight)
            char_format.setForeground(QColor("#7c2d12"))
            selection.cursor = cursor  # type: ignore[attr-defined]
            selection.format = char_format  # type: ignore[attr-defined]
            selections.append(selection)
            self.spans.append((start, end))
        self.setExtraSelections(selections)
