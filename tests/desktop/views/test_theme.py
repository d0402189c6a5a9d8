"""The theme: a real dark palette and style sheet, chosen in Settings, remembered in QSettings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QPushButton,
    QSpinBox,
    QStyle,
    QStyleOptionComboBox,
    QStyleOptionSpinBox,
    QTreeView,
    QWidget,
)

from desktop import theme
from desktop.api.client import SidecarClient
from desktop.api.transport import Transport
from desktop.models.trace import TraceTreeModel
from desktop.presenters.settings import SettingsPresenter
from desktop.settings import DesktopSettings
from desktop.widgets.waterfall import Waterfall


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    yield qapp
    theme.apply(qapp, "light")


def window_color(app: QApplication) -> str:
    return app.palette().color(QPalette.ColorRole.Window).name()


def test_dark_and_light_palettes(app: QApplication) -> None:
    assert theme.apply(app, "dark") is theme.DARK
    assert window_color(app) == theme.DARK.background
    assert app.palette().color(QPalette.ColorRole.WindowText).name() == theme.DARK.text
    assert f"background: {theme.DARK.surface}" in app.styleSheet()
    assert theme.apply(app, "light") is theme.LIGHT and window_color(app) == theme.BACKGROUND
    assert app.styleSheet() == theme.STYLE_SHEET


def test_settings_choose_the_theme_and_remember_it(qtbot: Any, app: QApplication, tmp_path: Path) -> None:
    store = QSettings(str(tmp_path / "desktop.ini"), QSettings.Format.IniFormat)
    controller = theme.ThemeController(app)
    controller.set_mode("light")
    presenter = SettingsPresenter(SidecarClient(Transport("http://127.0.0.1:9")),
                                  DesktopSettings(url="http://127.0.0.1:9"), store=store,
                                  apply_theme=controller.set_mode)
    with qtbot.waitSignal(presenter.saved) as saved:
        presenter.save_desktop("127.0.0.1:8799/api/v1", str(tmp_path / "data"), "dark")
    assert saved.args[0] == "App settings saved. The new sidecar address and data dir apply at the next start."
    assert (controller.applied, window_color(app)) == ("dark", theme.DARK.background)
    again = DesktopSettings.load(QSettings(str(tmp_path / "desktop.ini"), QSettings.Format.IniFormat), {})
    assert (again.url, again.data_dir, again.theme) == ("http://127.0.0.1:8799", str(tmp_path / "data"), "dark")
    with qtbot.waitSignal(presenter.failed) as failed:
        presenter.save_desktop("", "", "dark")
    assert failed.args[0].startswith("Sidecar address")
    controller.set_mode("system")  # offscreen has no dark scheme: follows it to light
    assert controller.applied == "light"


def _grab(widget: QWidget) -> QImage:
    widget.resize(160, 30)
    widget.show()
    widget.ensurePolished()
    return widget.grab().toImage()


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_a_disabled_danger_button_looks_disabled(qtbot: Any, app: QApplication, mode: str) -> None:
    theme.apply(app, mode)
    buttons = {}
    for role, enabled in (("danger", False), ("", False), ("danger", True), ("", True)):
        button = QPushButton("Delete…")
        button.setProperty("role", role)
        button.setEnabled(enabled)
        qtbot.addWidget(button)
        buttons[role, enabled] = _grab(button)
    assert buttons["danger", True] != buttons["", True]  # enabled, red stands out
    assert buttons["danger", False] == buttons["", False]  # disabled, it is greyed like any other button


def _has_color(image: QImage, rect: QRect, color: str, tolerance: int = 16) -> bool:
    want = QColor(color)
    for x in range(rect.left(), rect.right() + 1):
        for y in range(rect.top(), rect.bottom() + 1):
            pixel = image.pixelColor(x, y)
            if max(abs(pixel.red() - want.red()), abs(pixel.green() - want.green()),
                   abs(pixel.blue() - want.blue())) <= tolerance:
                return True
    return False


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_spin_boxes_and_dropdowns_show_their_arrows(qtbot: Any, app: QApplication, mode: str) -> None:
    colors = theme.apply(app, mode)
    spin, combo = QSpinBox(), QComboBox()
    spin.setRange(0, 10)
    spin.setValue(5)
    combo.addItems(["critical", "warning"])
    for widget in (spin, combo):
        qtbot.addWidget(widget)
    spin_image, combo_image = _grab(spin), _grab(combo)
    style = app.style()
    spin_option = QStyleOptionSpinBox()
    spin.initStyleOption(spin_option)
    combo_option = QStyleOptionComboBox()
    combo.initStyleOption(combo_option)
    controls = QStyle.ComplexControl
    up = style.subControlRect(controls.CC_SpinBox, spin_option, QStyle.SubControl.SC_SpinBoxUp, spin)
    down = style.subControlRect(controls.CC_SpinBox, spin_option, QStyle.SubControl.SC_SpinBoxDown, spin)
    arrow = style.subControlRect(controls.CC_ComboBox, combo_option, QStyle.SubControl.SC_ComboBoxArrow, combo)
    assert _has_color(spin_image, up, colors.muted) and _has_color(spin_image, down, colors.muted)
    assert _has_color(combo_image, arrow, colors.muted)


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_the_trace_waterfall_follows_the_scheme(qtbot: Any, app: QApplication, mode: str) -> None:
    colors = theme.apply(app, mode)
    tree = QTreeView()
    waterfall = Waterfall(tree, TraceTreeModel())
    qtbot.addWidget(tree)
    qtbot.addWidget(waterfall)
    waterfall.resize(300, 200)
    image = waterfall.grab().toImage()
    assert image.pixelColor(150, 100).name() == colors.surface  # the empty timeline
    assert image.pixelColor(0, 100).name() == colors.border  # its frame
