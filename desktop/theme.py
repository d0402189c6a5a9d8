"""Colours, fonts and the application style sheet, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget

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

@dataclass(frozen=True, slots=True)
class Colors:
    """One colour scheme: what the style sheet and the palette are made from."""

    name: str
    background: str
    surface: str
    border: str
    text: str
    muted: str
    accent: str
    accent_soft: str
    sidebar: str
    sidebar_text: str
    input_border: str
    hover: str
    disabled_text: str
    disabled_bg: str
    header_bg: str
    grid: str
    alternate: str
    track: str
    placeholder: str
    danger: str
    danger_border: str
    primary_hover: str
    primary_disabled: str
    banner_down: tuple[str, str]
    banner_starting: tuple[str, str]
    banner_mismatch: tuple[str, str]
    new_events_border: str


LIGHT = Colors(
    name="light", background=BACKGROUND, surface=SURFACE, border=BORDER, text=TEXT, muted=MUTED, accent=ACCENT,
    accent_soft=ACCENT_SOFT, sidebar=SIDEBAR, sidebar_text=SIDEBAR_TEXT, input_border="#c9ced6", hover="#f0f2f5",
    disabled_text="#a0a6ae", disabled_bg="#f6f7f8", header_bg="#f6f7f9", grid="#eef0f3", alternate="#fafbfc",
    track="#f1f3f5", placeholder="#8c959f", danger="#c92a2a", danger_border="#f1aeb5", primary_hover="#364fc7",
    primary_disabled="#a5b4fc", banner_down=("#fff0f0", "#ffc9c9"), banner_starting=("#fff9db", "#ffe066"),
    banner_mismatch=("#fff4e6", "#ffd8a8"), new_events_border="#bac8ff",
)
DARK = Colors(
    name="dark", background="#161a22", surface="#1f242e", border="#323948", text="#e3e7ee", muted="#9aa3b2",
    accent="#7b93ff", accent_soft="#2a3352", sidebar="#11141b", sidebar_text="#c9cfdb", input_border="#404859",
    hover="#283040", disabled_text="#667085", disabled_bg="#1b2029", header_bg="#232935", grid="#2b313c",
    alternate="#222833", track="#2a303b", placeholder="#7d8696", danger="#ff8787", danger_border="#7a3b44",
    primary_hover="#6a82f0", primary_disabled="#3d4768", banner_down=("#3b1d22", "#6b2f38"),
    banner_starting=("#3a3418", "#6b5e1f"), banner_mismatch=("#3b2a17", "#6b4b22"), new_events_border="#3d4a7a",
)
THEMES = {"light": LIGHT, "dark": DARK}


def icon(name: str) -> str:
    """The file of a bundled icon (``desktop/icons``), as a style sheet's ``url()`` takes it.

    The ``arrow-{up,down}[-disabled]-{light,dark}.png`` icons are 16 x 10 triangles, drawn at 8 x 5 (sharp on
    high-density screens), in each scheme's muted colour or a dimmer one when disabled."""
    return Path(str(resources.files("desktop") / "icons" / name)).as_posix()


def style_sheet(c: Colors) -> str:
    """The application style sheet in the colours ``c``."""
    return f"""
QMainWindow, QDialog {{ background: {c.background}; }}
QWidget {{ color: {c.text}; }}
QLabel[role="title"] {{ font-size: 17pt; font-weight: 600; }}
QLabel[role="subtitle"] {{ color: {c.muted}; }}
QLabel[role="section"] {{ font-size: 10.5pt; font-weight: 600; color: {c.text}; }}
QLabel[role="muted"] {{ color: {c.muted}; }}
QLabel[role="error"] {{ color: {c.danger}; }}
QLabel[role="empty"] {{ color: {c.muted}; font-size: 11pt; padding: 24px; }}
QFrame[role="card"] {{ background: {c.surface}; border: 1px solid {c.border}; border-radius: 8px; }}
QFrame[role="card"] QLabel {{ background: transparent; }}
QListWidget#sidebar {{ background: {c.sidebar}; color: {c.sidebar_text}; border: none; padding-top: 8px;
    font-size: 10.5pt; outline: 0; }}
QListWidget#sidebar::item {{ padding: 10px 18px; border-left: 3px solid transparent; }}
QListWidget#sidebar::item:selected {{ background: #2a3142; color: white; border-left: 3px solid {c.accent}; }}
QListWidget#sidebar::item:hover:!selected {{ background: #252b3a; }}
QWidget#sidebarPane {{ background: {c.sidebar}; }}
QLabel#brand {{ color: white; font-size: 13pt; font-weight: 700; padding: 16px 18px 4px 18px; }}
QLabel#brandSub {{ color: #8b93a7; padding: 0 18px 12px 18px; }}
QLabel#sidebarFoot {{ color: #8b93a7; padding: 10px 18px; }}
QPushButton {{ background: {c.surface}; border: 1px solid {c.input_border}; border-radius: 6px; padding: 5px 12px; }}
QPushButton:hover {{ background: {c.hover}; }}
QPushButton:disabled {{ color: {c.disabled_text}; background: {c.disabled_bg}; }}
QPushButton[role="primary"] {{ background: {c.accent}; color: white; border: 1px solid {c.accent}; font-weight: 600; }}
QPushButton[role="primary"]:hover {{ background: {c.primary_hover}; }}
QPushButton[role="primary"]:disabled {{ background: {c.primary_disabled}; border-color: {c.primary_disabled}; }}
QPushButton[role="danger"] {{ color: {c.danger}; border-color: {c.danger_border}; }}
QPushButton[role="danger"]:disabled {{ color: {c.disabled_text}; border-color: {c.input_border}; }}
QPushButton[role="segment"] {{ border-radius: 0; padding: 4px 12px; }}
QPushButton[role="segment"]:checked {{ background: {c.accent_soft}; color: {c.accent}; border-color: {c.accent};
    font-weight: 600; }}
QLineEdit, QComboBox, QPlainTextEdit, QTextEdit, QAbstractSpinBox {{ background: {c.surface};
    border: 1px solid {c.input_border}; border-radius: 6px; padding: 4px 6px; selection-background-color: {c.accent}; }}
QLineEdit:focus, QComboBox:focus, QPlainTextEdit:focus, QAbstractSpinBox:focus {{ border-color: {c.accent}; }}
QComboBox {{ padding-right: 22px; }}
QComboBox::drop-down {{ subcontrol-origin: padding; subcontrol-position: center right; width: 20px; border: none; }}
QAbstractSpinBox {{ padding-right: 22px; }}
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{ subcontrol-origin: border; width: 20px; border: none;
    border-left: 1px solid {c.input_border}; background: transparent; }}
QAbstractSpinBox::up-button {{ subcontrol-position: top right; border-bottom: 1px solid {c.input_border};
    border-top-right-radius: 6px; }}
QAbstractSpinBox::down-button {{ subcontrol-position: bottom right; border-bottom-right-radius: 6px; }}
QAbstractSpinBox::up-button:hover, QAbstractSpinBox::down-button:hover {{ background: {c.hover}; }}
QComboBox::down-arrow, QAbstractSpinBox::down-arrow {{ image: url({icon(f"arrow-down-{c.name}.png")});
    width: 8px; height: 5px; }}
QComboBox::down-arrow:disabled, QAbstractSpinBox::down-arrow:disabled, QAbstractSpinBox::down-arrow:off {{
    image: url({icon(f"arrow-down-disabled-{c.name}.png")}); }}
QAbstractSpinBox::up-arrow {{ image: url({icon(f"arrow-up-{c.name}.png")}); width: 8px; height: 5px; }}
QAbstractSpinBox::up-arrow:disabled, QAbstractSpinBox::up-arrow:off {{
    image: url({icon(f"arrow-up-disabled-{c.name}.png")}); }}
QTableView, QTreeView {{ background: {c.surface}; border: 1px solid {c.border}; border-radius: 6px;
    gridline-color: {c.grid}; selection-background-color: {c.accent_soft}; selection-color: {c.text};
    alternate-background-color: {c.alternate}; }}
QHeaderView::section {{ background: {c.header_bg}; border: none; border-bottom: 1px solid {c.border};
    padding: 6px 8px; font-weight: 600; color: {c.muted}; }}
QTabWidget::pane {{ border: 1px solid {c.border}; border-radius: 6px; background: {c.surface}; top: -1px; }}
QTabBar::tab {{ padding: 6px 14px; border: none; color: {c.muted}; }}
QTabBar::tab:selected {{ color: {c.accent}; border-bottom: 2px solid {c.accent}; font-weight: 600; }}
QStatusBar {{ background: {c.surface}; border-top: 1px solid {c.border}; color: {c.muted}; }}
QStatusBar QLabel {{ color: {c.muted}; padding: 0 6px; }}
QFrame#banner {{ border: none; }}
QFrame#banner[state="unreachable"] {{ background: {c.banner_down[0]}; border-bottom: 1px solid {c.banner_down[1]}; }}
QFrame#banner[state="starting"] {{ background: {c.banner_starting[0]}; border-bottom: 1px solid {c.banner_starting[1]}; }}
QFrame#banner[state="version_mismatch"] {{ background: {c.banner_mismatch[0]};
    border-bottom: 1px solid {c.banner_mismatch[1]}; }}
QFrame#newEvents {{ background: {c.accent_soft}; border: 1px solid {c.new_events_border}; border-radius: 6px; }}
QSplitter::handle {{ background: {c.background}; }}
QScrollArea {{ border: none; background: transparent; }}
QScrollBar:vertical {{ background: transparent; width: 12px; margin: 2px; }}
QScrollBar:horizontal {{ background: transparent; height: 12px; margin: 2px; }}
QScrollBar::handle {{ background: {c.input_border}; border-radius: 4px; }}
QScrollBar::handle:vertical {{ min-height: 28px; }}
QScrollBar::handle:horizontal {{ min-width: 28px; }}
QScrollBar::handle:hover {{ background: {c.placeholder}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; border: none; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}
QCheckBox {{ spacing: 6px; }}
QRadioButton {{ spacing: 6px; }}
QRadioButton::indicator {{ width: 12px; height: 12px; border-radius: 7px; border: 1px solid {c.muted};
    background: {c.surface}; }}
QRadioButton::indicator:checked {{ border-color: {c.accent}; background: qradialgradient(cx: 0.5, cy: 0.5,
    radius: 0.5, fx: 0.5, fy: 0.5, stop: 0 {c.accent}, stop: 0.5 {c.accent}, stop: 0.6 {c.surface},
    stop: 1 {c.surface}); }}
QRadioButton::indicator:focus {{ border-color: {c.accent}; }}
QProgressBar {{ background: {c.track}; border: none; border-radius: 5px; height: 10px; text-align: center;
    color: transparent; }}
QProgressBar::chunk {{ background: {c.accent}; border-radius: 5px; }}
QProgressBar[level="high"]::chunk {{ background: #e8590c; }}
QProgressBar[level="full"]::chunk {{ background: #c92a2a; }}
"""


STYLE_SHEET = style_sheet(LIGHT)


def resolve(mode: str, app: QApplication) -> Colors:
    """The colours for ``mode`` (``light``, ``dark``, or ``system``: the desktop's current scheme)."""
    if mode == "system":
        dark = app.styleHints().colorScheme() == Qt.ColorScheme.Dark
        return DARK if dark else LIGHT
    return THEMES.get(mode, LIGHT)


def apply(app: QApplication, mode: str = "light") -> Colors:
    """Fusion style (the same on every platform and offscreen), the palette and style sheet of ``mode``.
    Returns the colours applied."""
    colors = resolve(mode, app)
    style = QStyleFactory.create("Fusion")
    if style is not None:
        app.setStyle(style)
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, value in ((roles.Window, colors.background), (roles.Base, colors.surface),
                        (roles.AlternateBase, colors.track), (roles.Text, colors.text),
                        (roles.WindowText, colors.text), (roles.ButtonText, colors.text),
                        (roles.Button, colors.surface), (roles.ToolTipBase, colors.surface),
                        (roles.ToolTipText, colors.text), (roles.Highlight, colors.accent),
                        (roles.HighlightedText, "#ffffff"), (roles.PlaceholderText, colors.placeholder),
                        (roles.Midlight, colors.grid), (roles.Mid, colors.border), (roles.Link, colors.accent)):
        palette.setColor(role, QColor(value))
    palette.setColor(QPalette.ColorGroup.Disabled, roles.Text, QColor(colors.disabled_text))
    palette.setColor(QPalette.ColorGroup.Disabled, roles.WindowText, QColor(colors.disabled_text))
    app.setPalette(palette)
    font = QFont("DejaVu Sans")
    font.setPointSizeF(9.5)
    app.setFont(font)
    app.setStyleSheet(style_sheet(colors))
    return colors


class ThemeController(QObject):
    """Applies a theme mode and, in ``system`` mode, follows the desktop when it switches light or dark.

    Signals:
        changed(str): the scheme now applied (``light`` or ``dark``).
    """

    changed = Signal(str)

    def __init__(self, app: QApplication, mode: str = "system", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self.mode = mode
        self.applied = ""
        app.styleHints().colorSchemeChanged.connect(self._scheme_changed)

    def set_mode(self, mode: str) -> None:
        self.mode = mode if mode in ("system", *THEMES) else "system"
        self.applied = apply(self._app, self.mode).name
        self.changed.emit(self.applied)

    def _scheme_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self.mode == "system":
            self.set_mode("system")


def text_color(widget: QWidget) -> QColor:
    """The current scheme's text colour (for custom painting)."""
    return widget.palette().color(QPalette.ColorRole.WindowText)


def muted_color(widget: QWidget) -> QColor:
    return widget.palette().color(QPalette.ColorRole.PlaceholderText)


def tint(color: str | QColor, base: QColor, strength: float = 0.3) -> QColor:
    """``color`` laid over ``base`` at ``strength`` opacity: a background tint (changed lines, matches, the
    selected row) that keeps the scheme's text readable, light on a light base and dark on a dark one."""
    over = QColor(color)
    return QColor.fromRgbF(*(b + (o - b) * strength for o, b in ((over.redF(), base.redF()),
                                                                 (over.greenF(), base.greenF()),
                                                                 (over.blueF(), base.blueF()))))


def mono_font(size: float = 9.0) -> QFont:
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSizeF(size)
    return font
