"""The system tray icon: the unread critical alert count as a badge, and desktop notifications."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QIcon, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from desktop import theme


def app_icon(unread: int = 0, size: int = 64) -> QIcon:
    """A shield with a tick, and a red badge with ``unread`` when it is not zero."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 64
    shield = QPainterPath()
    shield.moveTo(32 * s, 4 * s)
    shield.lineTo(56 * s, 13 * s)
    shield.cubicTo(56 * s, 38 * s, 46 * s, 52 * s, 32 * s, 60 * s)
    shield.cubicTo(18 * s, 52 * s, 8 * s, 38 * s, 8 * s, 13 * s)
    shield.closeSubpath()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(theme.ACCENT))
    painter.drawPath(shield)
    pen = painter.pen()
    pen.setStyle(Qt.PenStyle.SolidLine)
    pen.setColor(QColor("white"))
    pen.setWidthF(5 * s)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.drawPolyline([QPointF(21 * s, 32 * s), QPointF(29 * s, 40 * s), QPointF(44 * s, 23 * s)])
    if unread:
        text = str(unread) if unread < 100 else "99+"
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(theme.SEVERITY["critical"]))
        badge = QRectF(size - 34 * s, 0, 34 * s, 30 * s)
        painter.drawRoundedRect(badge, 15 * s, 15 * s)
        font = QFont("DejaVu Sans")
        font.setBold(True)
        font.setPixelSize(int(20 * s if len(text) < 3 else 14 * s))
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(badge, int(Qt.AlignmentFlag.AlignCenter), text)
    painter.end()
    return QIcon(pixmap)


class TrayIcon(QSystemTrayIcon):
    """Signals:
        show_alerts(): the user clicked the icon or a notification, or chose "Show alerts".
    """

    show_alerts = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(app_icon(), parent)
        self.unread = 0
        self.setToolTip("AgentAudit")
        menu = QMenu(parent)
        show = QAction("Show alerts", menu)
        show.triggered.connect(self.show_alerts)
        menu.addAction(show)
        self._menu = menu
        self.setContextMenu(menu)
        self.activated.connect(lambda reason: reason == QSystemTrayIcon.ActivationReason.Trigger
                               and self.show_alerts.emit())
        self.messageClicked.connect(self.show_alerts)

    def set_unread(self, count: int) -> None:
        self.unread = count
        self.setIcon(app_icon(count))
        self.setToolTip(f"AgentAudit: {count} unread critical alert{'s' if count != 1 else ''}" if count
                        else "AgentAudit")

    def notify(self, title: str, message: str) -> None:
        """A desktop notification (plain text) where the platform has a tray."""
        if self.isVisible() and QSystemTrayIcon.supportsMessages():
            self.showMessage(title, message, QSystemTrayIcon.MessageIcon.Critical, 8000)
