"""Labels and cards: plain-text labels (one that elides), a white rounded frame with a title, and the KPI card
(a big number with a caption)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget


def label(text: str = "", role: str | None = None, *, parent: QWidget | None = None) -> QLabel:
    """A plain-text label (never interpreted as rich text) with an optional style role."""
    widget = QLabel(text, parent)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    if role:
        widget.setProperty("role", role)
    return widget


class ElidedLabel(QLabel):
    """A one-line plain-text label that can be narrower than its text: it then ends in "…" (or loses its
    middle, for ids) and its tooltip holds the whole text. Use it for names and ids in a row that must fit
    a small window.

    Attributes:
        hint: the tooltip while the whole text shows (none by default).
    """

    def __init__(self, text: str = "", role: str | None = None, *,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        if role:
            self.setProperty("role", role)
        self._mode = mode
        self.hint = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self._update_tooltip()

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance("Mmmm…")), hint.height())

    def elided(self) -> bool:
        """True when the text is cut to fit."""
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_tooltip()

    def set_hint(self, hint: str) -> None:
        self.hint = hint
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        self.setToolTip(self.text() if self.elided() else self.hint)

    def paintEvent(self, _event: QPaintEvent) -> None:
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), self._mode, rect.width())
        painter = QPainter(self)
        self.style().drawItemText(painter, rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter),
                                  self.palette(), self.isEnabled(), text, self.foregroundRole())


def page_layout(page: QWidget, title: str, subtitle: str = "", *, spacing: int = 10,
                elide_subtitle: bool = False) -> tuple[QVBoxLayout, QHBoxLayout, QLabel]:
    """The frame every main view shares: page margins, a title over a subtitle, and a header row
    (stretched after the titles) for the view's own controls. Returns ``(root, header row, subtitle)``;
    with ``elide_subtitle`` the subtitle is an ``ElidedLabel`` (a long one then gives way to the controls)."""
    root = QVBoxLayout(page)
    root.setContentsMargins(24, 18, 24, 18)
    root.setSpacing(spacing)
    head = QHBoxLayout()
    titles = QVBoxLayout()
    titles.setSpacing(0)
    titles.addWidget(label(title, "title"))
    sub = ElidedLabel(subtitle, "subtitle") if elide_subtitle else label(subtitle, "subtitle")
    titles.addWidget(sub)
    head.addLayout(titles)
    head.addStretch(1)
    return root, head, sub


class Card(QFrame):
    """A titled card; put content in ``body`` (a QVBoxLayout); ``actions`` sits right of the title."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 14)
        outer.setSpacing(8)
        head = QHBoxLayout()
        self.title = label(title, "section")
        head.addWidget(self.title)
        head.addStretch(1)
        self.head = head
        if title:
            outer.addLayout(head)
        self.body = QVBoxLayout()
        self.body.setSpacing(6)
        outer.addLayout(self.body, 1)


class KpiCard(QFrame):
    """A figure with its caption and a small detail line."""

    def __init__(self, caption: str, parent: QWidget | None = None, *, accent: str | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 12, 12)
        layout.setSpacing(2)
        self.caption = label(caption, "muted")
        self.caption.setWordWrap(True)  # in a narrow row, "Events with violations" takes two lines
        self.value = label("—")
        self.value.setStyleSheet("font-size: 20pt; font-weight: 700;" + (f" color: {accent};" if accent else ""))
        self.detail = label("", "muted")
        self.detail.setWordWrap(True)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        layout.addWidget(self.detail)
        layout.addStretch(1)

    def set(self, value: str, detail: str = "") -> None:
        self.value.setText(value)
        self.detail.setText(detail)
