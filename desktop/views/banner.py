"""The sidecar status banner: hidden while all is well; says what is wrong otherwise, with a button to restart,
start or check again."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from desktop.sidecar_process import SidecarState, SidecarStatus
from desktop.widgets.cards import label

TITLES = {
    SidecarState.STARTING: "Starting the sidecar…",
    SidecarState.UNREACHABLE: "The sidecar is not reachable.",
    SidecarState.VERSION_MISMATCH: "Sidecar version mismatch.",
}


def button_text(status: SidecarStatus) -> str:
    """What the banner's button does for this status: restart our own sidecar, start one when this app may,
    or else only look again (``--no-start``, or a sidecar at a remote address)."""
    if status.owned:
        return "Restart sidecar"
    if status.can_start and status.state is SidecarState.UNREACHABLE:
        return "Start sidecar"
    return "Check again"


def sentence(text: str) -> str:
    """``nothing answers at …`` -> ``Nothing answers at …`` (the manager's details are log fragments)."""
    return text[:1].upper() + text[1:]


class SidecarBanner(QFrame):
    """Signals:
        restart_requested(): the button: restart, start or check again (see :func:`button_text`).
    """

    restart_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(24, 8, 16, 8)
        self.title = label("")
        self.title.setStyleSheet("font-weight: 600;")
        self.detail = label("", "muted")
        self.detail.setWordWrap(True)
        self.restart = QPushButton("Restart sidecar")
        self.restart.clicked.connect(self.restart_requested)
        layout.addWidget(self.title)
        layout.addWidget(self.detail, 1)
        layout.addWidget(self.restart)
        self.hide()

    def show_status(self, status: SidecarStatus) -> None:
        self.setProperty("state", status.state.value)
        self.style().unpolish(self)
        self.style().polish(self)
        if status.state is SidecarState.UP:
            self.hide()
            return
        self.title.setText(TITLES[status.state])
        detail = status.detail
        if status.state is SidecarState.UNREACHABLE:
            detail += ". Retrying every few seconds; your data is safe in the sidecar's database."
        self.detail.setText(sentence(detail))
        self.restart.setVisible(status.state is not SidecarState.STARTING)
        self.restart.setText(button_text(status))
        self.show()
