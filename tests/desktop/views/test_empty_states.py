"""Empty Reports, Schedules and Registered-agents tables say what goes there and how to add one, against a
real sidecar; the line goes as soon as there is a row."""

from __future__ import annotations

from typing import Any

from tests.desktop.conftest import Seeded, http
from tests.desktop.views.test_admin_views import auth
from tests.desktop.views.test_views import log_in, open_window  # noqa: F401 - open_window is a fixture

WAIT = 20_000


def test_empty_tables_explain_themselves_until_they_have_rows(qtbot: Any, open_window: Any,  # noqa: F811
                                                              seeded: Seeded, fresh_account: tuple[str, str]) -> None:
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    headers = auth(seeded.url, fresh_account[0])
    window.show_page("reports")
    view, presenter = window.reports, window.shell.reports
    qtbot.waitUntil(lambda: presenter.reports.loaded and presenter.schedules.loaded, timeout=WAIT)
    assert view.table_hint.label.isVisible()
    assert view.table_hint.label.text().startswith("No reports yet. Choose a type and a period above and press "
                                                   "“Request report”")
    view.tabs.setCurrentIndex(1)
    assert view.schedule_hint.label.isVisible()
    assert view.schedule_hint.label.text().startswith("No schedules yet. Fill in the form above and press "
                                                      "“Create schedule”")
    assert view.schedule_hint.label.geometry().intersects(view.schedule_table.viewport().rect())

    status, body, _ = http(f"{seeded.url}/api/v1/report-schedules", "POST",
                           {"type": "compliance_summary", "format": "csv", "cron": "0 7 * * *", "name": "daily"},
                           headers)
    assert status == 201, body
    with qtbot.waitSignal(presenter.schedules.modelReset, timeout=WAIT):
        presenter.refresh()
    qtbot.waitUntil(lambda: presenter.schedules.rowCount() == 1, timeout=WAIT)
    assert not view.schedule_hint.label.isVisible()

    view.tabs.setCurrentIndex(0)
    with qtbot.waitSignal(presenter.finished, timeout=WAIT):
        view.request_button.click()
    assert presenter.reports.rowCount() == 1 and not view.table_hint.label.isVisible()

    window.show_page("agents")
    agents, agents_view = window.shell.agents, window.agents
    qtbot.waitUntil(lambda: agents.agents.loaded, timeout=WAIT)
    hint = agents_view.table_hint.label
    assert hint.isVisible() and hint.text().startswith("No registered agents yet. Register one with "
                                                       "“Register agent…”")
    assert http(f"{seeded.url}/api/v1/agents", "POST", {"name": "intake-bot"}, headers)[0] == 201
    agents.refresh()
    qtbot.waitUntil(lambda: agents.agents.rowCount() == 1, timeout=WAIT)
    assert not hint.isVisible()
