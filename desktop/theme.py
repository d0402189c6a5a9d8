"""Colours, fonts and the application style sheet, in one place."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

BACKGROUND = "#f4f5f7"
SURFACE = "#ffffff"
BORDER = "#e1e4e8"
TEXT = "#1f2328"
MUTED = "#656d76"
ACCENT = "#3b5bdb"
ACCENT_SOFT = "#e7ecff"
SIDEBAR = "#1d2230"
SIDEBAR_TEXT = "#c9cfdb"

SEVERITY = {"critical": "#d6336c", "warning": "#e8590c", "info": "#1c7ed6"}
VERDICT = {"block": "#c92a2a", "flag": "#e8590c", "log": "#6741d9", "allow": "#2b8a3e"}
STATUS = {"open": "#c92a2a", "acknowledged": "#e8590c", "resolved": "#2b8a3e", "false_positive": "#656d76"}
EVENTS_COLOR = "#4c6ef5"
VIOLATIONS_COLOR = "#e8590c"

MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"

STYLE_SHEET = f"""
QMainWindow, QDialog {{ background: {BACKGROUND}; }}
QWidget {{ color: {TEXT}; }}
QLabel[role="title"] {{ font-size: 17pt; font-weight: 600; }}
QLabel[role="subtitle"] {{ color: {MUTED}; }}
QLabel[role="section"] {{ font-size: 10.5pt; font-weight: 600; color: {TEXT}; }}
QLabel[role="muted"] {{ color: {MUTED}; }}
QLabel[role="error"] {{ color: #c92a2a; }}
QLabel[role="empty"] {{ color: {MUTED}; font-size: 11pt; padding: 24px; }}
QFrame[role="card"] {{ background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 8px; }}
QFrame[role="card"] QLabel {{ background: transparent; }}
QListWidget#sidebar {{ background: {SIDEBAR}; color: {SIDEBAR_TEXT}; border: none; padding-top: 8px;
    font-size: 10.5pt; outline: 0; }}
QListWidget#sidebar::item {{ padding: 10px 18px; border-left: 3px solid transparent; }}
QListWidget#sidebar::item:selected {{ background: #2a3142; color: white; border-left: 3px solid {ACCENT}; }}
QListWidget#sidebar::item:hover:!selected {{ background: #252b3a; }}
QWidget#sidebarPane {{ background: {SIDEBAR}; }}
QLabel#brand {{ color: white; font-size: 13pt; font-weight: 700; padding: 16px 18px 4px 18px; }}
QLabel#brandSub {{ color: #8b93a7; padding: 0 18px 12px 18px; }}
QLabel#sidebarFoot {{ color: #8b93a7; padding: 10px 18px; }}
QPushButton {{ background: {SURFACE}; border: 1px solid #c9ced6; border-radius: 6px; padding: 5px 12px; }}
QPushButton:hover {{ background: #f0f2f5; }}
QPushButton:disabled {{ color: #a0a6ae; background: #f6f7f8; }}
QPushButton[role="primary"] {{ background: {ACCENT}; color: white; border: 1px solid {ACCENT}; font-weight: 600; }}
QPushButton[role="primary"]:hover {{ background: #364fc7; }}
QPushButton[role="primary"]:disabled {{ background: #a5b4fc; border-color: #a5b4fc; }}
QPushButton[role="danger"] {{ color: #c92a2a; border-color: #f1aeb5; }}
QPushButton[role="segment"] {{ border-radius: 0; padding: 4px 12px; }}
QPushButton[role="segment"]:checked {{ background: {ACCENT_SOFT}; color: {ACCENT}; border-color: {ACCENT};
    font-weight: 600; }}
QLineEdit, QComboBox, QPlainTextEdit, QTextEdit {{ background: {SURFACE}; border: 1px solid #c9ced6;
    border-radius: 6px; padding: 4px 6px; selection-background-color: {ACCENT}; }}
QLineEdit:focus, QComboBox:focus, QPlainTextEdit:focus {{ border-color: {ACCENT}; }}
QTableView, QTreeView {{ background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 6px;
    gridline-color: #eef0f3; selection-background-color: {ACCENT_SOFT}; selection-color: {TEXT};
    alternate-background-color: #fafbfc; }}
QHeaderView::section {{ background: #f6f7f9; border: none; border-bottom: 1px solid {BORDER};
    padding: 6px 8px; font-weight: 600; color: {MUTED}; }}
QTabWidget::pane {{ border: 1px solid {BORDER}; border-radius: 6px; background: {SURFACE}; top: -1px; }}
QTabBar::tab {{ padding: 6px 14px; border: none; color: {MUTED}; }}
QTabBar::tab:selected {{ color: {ACCENT}; border-bottom: 2px solid {ACCENT}; font-weight: 600; }}
QStatusBar {{ background: {SURFACE}; border-top: 1px solid {BORDER}; color: {MUTED}; }}
QStatusBar QLabel {{ color: {MUTED}; padding: 0 6px; }}
QFrame#banner {{ border: none; }}
QFrame#banner[state="unreachable"] {{ background: #fff0f0; border-bottom: 1px solid #ffc9c9; }}
QFrame#banner[state="starting"] {{ background: #fff9db; border-bottom: 1px solid #ffe066; }}
QFrame#banner[state="version_mismatch"] {{ background: #fff4e6; border-bottom: 1px solid #ffd8a8; }}
QFrame#newEvents {{ background: {ACCENT_SOFT}; border: 1px solid #bac8ff; border-radius: 6px; }}
QSplitter::handle {{ background: {BACKGROUND}; }}
QScrollArea {{ border: none; background: transparent; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}
QCheckBox {{ spacing: 6px; }}
"""


def apply(app: QApplication) -> None:
    """Fusion style (the same on every platform and offscreen), our palette and style sheet."""
    style = QStyleFactory.create("Fusion")
    if style is not None:
        app.setStyle(style)
    palette = app.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(BACKGROUND))
    palette.setColor(QPalette.ColorRole.Base, QColor(SURFACE))
    palette.setColor(QPalette.ColorRole.Text, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8c959f"))
    app.setPalette(palette)
    font = QFont("DejaVu Sans")
    font.setPointSizeF(9.5)
    app.setFont(font)
    app.setStyleSheet(STYLE_SHEET)


def mono_font(size: float = 9.0) -> QFont:
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSizeF(size)
    return font
