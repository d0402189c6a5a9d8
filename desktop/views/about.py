"""The About dialog: which AgentAudit this is, the sidecar it talks to, and what it runs on."""

from __future__ import annotations

import platform
import sys

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktop.sidecar_process import SidecarStatus, desktop_version
from desktop.views.tray import app_icon
from desktop.widgets.cards import label


def build_kind() -> str:
    """How this copy runs: the bundled "installed app", or "from source" under a Python interpreter."""
    return "installed app" if getattr(sys, "frozen", False) else "from source"


def about_lines(status: SidecarStatus) -> list[tuple[str, str]]:
    """The dialog's rows as (caption, value): versions of the app, the sidecar and the runtime."""
    if status.connected:
        sidecar = f"{status.version} at {status.url}" + (" (started by this app)" if status.owned else "")
    else:
        sidecar = f"not connected ({status.url})"
    return [
        ("Version", f"{desktop_version()} ({build_kind()})"),
        ("Sidecar", sidecar),
        ("Runtime", f"Python {platform.python_version()}, Qt {qVersion()}, PySide6 {PySide6.__version__}"),
        ("System", f"{platform.system()} {platform.release()} ({platform.machine()})"),
    ]


class AboutDialog(QDialog):
    """Modal, plain text only; ``values`` maps each caption to its label, for tests."""

    def __init__(self, status: SidecarStatus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About AgentAudit")
        root = QVBoxLayout(self)
        root.setContentsMargins(24, 20, 24, 16)
        head = QHBoxLayout()
        icon = QLabel()
        icon.setPixmap(app_icon(size=64).pixmap(64, 64))
        head.addWidget(icon)
        titles = QVBoxLayout()
        titles.addWidget(label("AgentAudit", "title"))
        titles.addWidget(label("A self-hosted audit trail for AI agents", "subtitle"))
        head.addLayout(titles, 1)
        root.addLayout(head)
        self.values: dict[str, QLabel] = {}
        for caption, value in about_lines(status):
            row = QHBoxLayout()
            name = label(caption, "section")
            name.setFixedWidth(80)
            text = label(value)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            row.addWidget(name)
            row.addWidget(text, 1)
            root.addLayout(row)
            self.values[caption] = text
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        root.addWidget(buttons)
