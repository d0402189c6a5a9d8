"""Layout at the smallest supported window (1024 x 700) and the default one (1280 x 800): each page fits in
the window without squeezing a widget below its minimum, and lists show every row or say how many are left."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QRectF, Qt
from PySide6.QtWidgets import QApplication, QPushButton, QTreeView, QWidget

from desktop import theme
from desktop.models.roles import TraceColumn
from desktop.models.trace import TraceTreeModel
from desktop.sidecar_process import SidecarState
from desktop.views.traces import SPAN_COLUMN_MIN
from desktop.views.main_window import MainWindow
from desktop.widgets.charts import BarList
from desktop.widgets.waterfall import Waterfall
from tests.desktop.conftest import Seeded, make_shell

SIZES = [(1024, 700), (1280, 800)]


def test_a_bar_list_with_too_little_room_says_how_many_more(qtbot: Any) -> None:
    bars = BarList()
    qtbot.addWidget(bars)
    items = [(f"agent-{n}", 60 - n) for n in range(6)]
    bars.set_items(items)
    bars.show()
    assert bars.sizeHint().height() >= bars.minimumSizeHint().height()
    bars.resize(300, bars.sizeHint().height())
    assert bars.shown() == (items, 0) and bars.toolTip() == ""
    bars.resize(300, bars.minimumSizeHint().height())
    drawn, more = bars.shown()
    assert drawn == items[:len(drawn)] and len(drawn) + more == len(items) and more > 0
    assert bars.toolTip().splitlines() == [f"{name}: {count}" for name, count in items[len(drawn):]]


@pytest.fixture
def window(qtbot: Any, qapp: QApplication, seeded: Seeded) -> Iterator[MainWindow]:
    """The demo organisation's window in the app's light theme (its style sheet sizes the controls), logged
    in; its timers and feed stopped afterwards."""
    theme.apply(qapp, "light")
    win = MainWindow(make_shell(seeded.url), tray=False)
    qtbot.addWidget(win)
    win.show()
    win.shell.sidecar.start()
    qtbot.waitUntil(lambda: win.shell.sidecar.status.state is SidecarState.UP, timeout=10_000)
    with qtbot.waitSignal(win.shell.dashboard.snapshot_changed, timeout=15_000):
        win.shell.session.login(seeded.email, seeded.password)
    yield win
    win.shell.traces.stop()
    win.shell.live.stop()
    win.shell.sidecar.shutdown()


def fits(qtbot: Any, window: MainWindow, page: QWidget, size: tuple[int, int]) -> None:
    """The window takes ``size`` and the page gets at least its minimum: nothing squeezed or cut off."""
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size().toTuple() == size, timeout=5_000)
    for _ in range(6):  # nested layouts: each pass lays out one more level
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    assert window.pages.currentWidget() is page
    need, got = page.minimumSizeHint(), page.size()
    assert need.width() <= got.width() and need.height() <= got.height(), (need.toTuple(), got.toTuple())


@pytest.mark.parametrize("size", SIZES)
def test_the_dashboard_fits_and_shows_every_breakdown_row(qtbot: Any, window: MainWindow,
                                                          size: tuple[int, int]) -> None:
    dashboard = window.dashboard
    fits(qtbot, window, dashboard, size)
    assert len(dashboard.by_agent.items) == 6 and len(dashboard.by_pack.items) >= 4  # the demo's
    for bars in (dashboard.by_pack, dashboard.by_agent):
        assert bars.shown() == (bars.items, 0)


def select_row(qtbot: Any, table: Any, predicate: Any) -> int:
    """Select the first row of ``table`` whose value passes ``predicate`` (once the rows have arrived)."""
    model = table.model()
    qtbot.waitUntil(lambda: model.rowCount() > 0, timeout=10_000)
    row = model.find(predicate)
    assert row >= 0
    table.selectRow(row)
    return row


@pytest.mark.parametrize("size", SIZES)
def test_the_agent_page_fits_with_labelled_fields_that_show_their_text(qtbot: Any, window: MainWindow,
                                                                      size: tuple[int, int]) -> None:
    window.show_page("agents")
    view = window.agents
    select_row(qtbot, view.table, lambda agent: agent.type == "autonomous")  # the demo's longest type
    qtbot.waitUntil(lambda: view.presenter.current is not None and view.edit_type.text() == "autonomous",
                    timeout=10_000)
    fits(qtbot, window, view, size)
    detail = view.detail_stack.currentWidget()
    assert detail.geometry().right() <= view.width()  # the pane ends inside the window
    grid = view.edit_grid
    for field, caption in ((view.edit_name, "Name"), (view.edit_type, "Type"),
                           (view.edit_description, "Description")):
        row, column, _, _ = grid.getItemPosition(grid.indexOf(field))
        assert grid.itemAtPosition(row, column - 1).widget().text() == caption
        room = field.width() - 2 * 8  # the style sheet's padding and border
        shown = field.fontMetrics().horizontalAdvance(field.text())
        assert field.cursorPosition() == 0 and (shown <= room or field is view.edit_description), field.text()


def text_fits(view: Any, row: int, column: int) -> bool:
    """Whether a table cell is wide enough for its whole text (the style's cell padding included)."""
    index = view.model().index(row, column)
    return view.columnWidth(column) >= view.fontMetrics().horizontalAdvance(str(index.data())) + 16


@pytest.mark.parametrize("size", SIZES)
def test_the_policies_page_fits_and_shows_the_rule_form_whole(qtbot: Any, window: MainWindow,
                                                             size: tuple[int, int]) -> None:
    window.show_page("policies")
    view = window.policies
    select_row(qtbot, view.policy_table, lambda policy: policy.name == "Patient intake (strict)")
    qtbot.waitUntil(lambda: view.presenter.current is not None and view.presenter.rules.rowCount() > 0,
                    timeout=10_000)
    view.tabs.setCurrentWidget(view.rules_tab)
    fits(qtbot, window, view, size)
    editor = view.rules_tab.editor
    for combo in (editor.rule_type, editor.severity, editor.action, editor.redaction):
        need = combo.minimumSizeHint()
        assert combo.width() >= need.width() and combo.height() >= need.height(), combo.currentText()
    for tab in range(view.tabs.count()):  # every tab's name shows: no scroll arrows on the tab bar
        assert view.tabs.tabBar().tabRect(tab).right() <= view.tabs.tabBar().width()
    title = view.policy_title
    assert not title.elided() or title.toolTip() == title.text()
    packs = view.pack_table.model()
    for row in range(packs.rowCount()):  # a cut name is whole in the tooltip
        name = packs.index(row, 0).data()
        assert text_fits(view.pack_table, row, 0) or packs.index(row, 0).data(Qt.ItemDataRole.ToolTipRole).startswith(name)
    if size == (1280, 800):  # the default window: the names show whole
        assert not title.elided()
        assert text_fits(view.policy_table, view.policy_table.currentIndex().row(), 0)
        assert text_fits(view.pack_table, packs.find(lambda p: p[0].id == "finance"), 0)


def test_waterfall_labels_stay_inside_the_timeline(qtbot: Any) -> None:
    tree = QTreeView()
    waterfall = Waterfall(tree, TraceTreeModel())
    qtbot.addWidget(tree)
    qtbot.addWidget(waterfall)
    waterfall.resize(300, 200)
    label = 110.0
    for bar, where in ((QRectF(10, 0, 60, 10), "right"), (QRectF(150, 0, 120, 10), "left"),
                       (QRectF(10, 0, 270, 10), "over")):
        x, over = waterfall.label_x(bar, label)
        assert 0 <= x and x + label <= waterfall.width(), where
        assert over == (where == "over")
        assert (x > bar.right()) == (where == "right") and (x + label < bar.left()) == (where == "left")


@pytest.mark.parametrize("size", SIZES)
def test_the_trace_page_fits_and_keeps_its_names_whole(qtbot: Any, window: MainWindow, size: tuple[int, int]) -> None:
    window.show_page("traces")
    view = window.traces
    qtbot.waitUntil(lambda: view.recent.count() > 0, timeout=10_000)
    row = next(r for r in range(view.recent.count()) if "flagged" in view.recent.itemText(r))
    view.recent.activated.emit(row)
    presenter = view.presenter
    qtbot.waitUntil(lambda: len(presenter.tree) > 0 and view.stack.currentIndex() == 1, timeout=10_000)
    flagged = next(n for n in range(len(presenter.tree)) if presenter.tree.status(n) != "ok")
    presenter.select(presenter.tree.roots[0])
    presenter.select(flagged)  # a second path replaces the first
    qtbot.waitUntil(lambda: all(button.isVisible() for button in view.breadcrumb.buttons), timeout=5_000)
    fits(qtbot, window, view, size)
    assert view.tree.columnWidth(TraceColumn.SPAN) >= SPAN_COLUMN_MIN
    crumbs = sorted((w for w in view.breadcrumb.findChildren(QWidget) if w.isVisible()), key=lambda w: w.x())
    assert [w.text() for w in crumbs if isinstance(w, QPushButton)] == [b.text() for b in view.breadcrumb.buttons]
    for left, right in itertools.pairwise(crumbs):  # the path's parts side by side, none over another
        assert left.geometry().right() < right.geometry().left(), (left.text(), right.text())
    for name, value in view.detail.facts.items():  # the span's facts: none cut short
        assert value.width() >= value.minimumSizeHint().width(), name
    if size == (1280, 800):
        bar = view.detail.tabs.tabBar()
        assert all(bar.tabRect(n).width() >= bar.tabSizeHint(n).width() for n in range(bar.count()))
        span = view.tree.currentIndex()
        text = view.tree.fontMetrics().horizontalAdvance(str(span.data()))
        assert view.tree.visualRect(span).left() + 20 + text <= view.tree.columnWidth(TraceColumn.SPAN)
