"""The log explorer after a search, against a real sidecar: the count says how many matched (none included),
and the detail pane shows only an event the new list shows."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from tests.desktop.conftest import Seeded
from tests.desktop.views.test_views import log_in, open_window  # noqa: F401 - open_window is a fixture

WAIT = 15_000


def search(qtbot: Any, window: Any, text: str) -> None:
    view, model = window.logs, window.shell.logs.model
    view.text.setText(text)
    qtbot.keyClick(view.text, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: model.filter.text == (text or None) and not model.loading, timeout=WAIT)


def test_an_empty_search_says_0_events_and_clears_the_detail(qtbot: Any, open_window: Any,  # noqa: F811
                                                              seeded: Seeded) -> None:
    window = open_window(seeded.url)
    log_in(qtbot, window, seeded.email, seeded.password)
    window.show_page("logs")
    view, presenter, model = window.logs, window.shell.logs, window.shell.logs.model
    qtbot.waitUntil(lambda: model.rowCount() > 0 and not model.loading, timeout=WAIT)
    with qtbot.waitSignal(presenter.event_loaded, timeout=WAIT):
        view.table.selectRow(0)
    shown = view.detail.current
    assert shown is not None

    view.agent.setText(shown.agent_id or "")  # a filter the event still matches: it stays
    qtbot.keyClick(view.agent, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: model.filter.agent_id == shown.agent_id and not model.loading, timeout=WAIT)
    assert model.row_of(shown.id) >= 0 and view.detail.current is shown
    view.agent.setText("")

    search(qtbot, window, "zzzz-no-such-text")
    assert (model.rowCount(), model.total) == (0, 0)
    assert view.count.text() == "0 events"
    assert view.detail.current is None and presenter.current_event is None
    assert view.detail.message.text().startswith("Select an event")

    search(qtbot, window, "")
    assert view.count.text().startswith(f"{model.total:,} event") and model.total > 0
