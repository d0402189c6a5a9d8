"""The alert queue and its detail in the window, against a real sidecar: names instead of ids, where the
selection goes after an action, what "select all" covers, and the page on a small window."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from desktop.models.roles import AlertColumn
from desktop.views.alerts import STATUS_FILTERS
from tests.desktop.conftest import Seeded, alerting_account, http
from tests.desktop.views.test_admin_views import auth
from tests.desktop.views.test_views import log_in, open_window  # noqa: F401 - open_window is a fixture
from tests.helpers import PASSWORD

WAIT = 15_000


def show_status(qtbot: Any, window: Any, status: str) -> None:
    """Filter the queue by a status label ("Resolved") and wait for it to load."""
    view, model = window.alerts, window.shell.triage.model
    view.status.setCurrentText(status)
    qtbot.waitUntil(lambda: model.filter.status == (STATUS_FILTERS[status] or None) and not model.loading,
                    timeout=WAIT)


def test_alert_detail_names_its_rule_event_and_resolver(qtbot: Any, open_window: Any, seeded: Seeded,  # noqa: F811
                                                        fresh_account: tuple[str, str]) -> None:
    owner, _ = fresh_account
    alerting_account(seeded.url, *fresh_account, events=2)
    headers = auth(seeded.url, owner)
    alerts = http(f"{seeded.url}/api/v1/alerts?limit=100", headers=headers)[1]
    mine, theirs = alerts[0], alerts[1]
    colleague = "colleague-" + owner
    status, person, _ = http(f"{seeded.url}/api/v1/users", "POST",
                             {"email": colleague, "name": "Cleo Colleague", "password": PASSWORD, "role": "admin"},
                             headers)
    assert status == 201, person
    for alert, who in ((mine, owner), (theirs, colleague)):
        status, body, _ = http(f"{seeded.url}/api/v1/alerts/{alert['id']}", "PATCH", {"status": "resolved"},
                               auth(seeded.url, who))
        assert status == 200 and body["resolvedBy"], body
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    window.show_page("alerts")
    show_status(qtbot, window, "Resolved")
    view, model = window.alerts, window.shell.triage.model
    fields = view.detail.fields

    for alert, resolver in ((mine, f"you ({owner})"), (theirs, f"Cleo Colleague <{colleague}>")):
        rule = http(f"{seeded.url}/api/v1/compliance-rules/{alert['ruleId']}", headers=headers)[1]
        event = http(f"{seeded.url}/api/v1/audit-logs/{alert['auditLogId']}", headers=headers)[1]
        view.table.selectRow(model.row_of(alert["id"]))
        qtbot.waitUntil(lambda: " at " in fields["Event"].text() and resolver in fields["Resolved"].text(),
                        timeout=WAIT)
        assert fields["Rule"].text() == rule["name"]
        assert fields["Event"].text().startswith(f"{event['action']} by {event['agentId']} at ")
        assert fields["Resolved"].text().endswith(f" by {resolver}")
        for name in ("Rule", "Event", "Resolved"):
            assert not any(ident in fields[name].text() for ident in (alert["ruleId"], alert["auditLogId"],
                                                                       person["id"]))
    assert fields["Event"].toolTip().startswith(theirs["auditLogId"])
    with qtbot.waitSignal(window.shell.logs.event_loaded, timeout=WAIT) as blocker:
        view.event_button.click()  # the event still opens
    assert blocker.args[0].id == theirs["auditLogId"]


def test_after_an_action_the_next_alert_is_selected(qtbot: Any, open_window: Any, seeded: Seeded,  # noqa: F811
                                                    fresh_account: tuple[str, str]) -> None:
    alerting_account(seeded.url, *fresh_account, events=4)
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    window.show_page("alerts")
    view, model, triage = window.alerts, window.shell.triage.model, window.shell.triage
    qtbot.waitUntil(lambda: model.rowCount() >= 4 and not model.loading, timeout=WAIT)
    rows = model.rowCount()
    view.table.setFocus()
    view.table.selectRow(1)
    second, third = model.alert(1), model.alert(2)
    with qtbot.waitSignal(triage.triaged, timeout=WAIT):
        qtbot.keyClick(view.table, Qt.Key.Key_A)
    assert model.row_of(second.id) == -1 and model.rowCount() == rows - 1
    assert [a.id for a in view.selected_alerts()] == [third.id]  # the alert that took its place
    with qtbot.waitSignal(triage.triaged, timeout=WAIT):
        qtbot.keyClick(view.table, Qt.Key.Key_F)  # the shortcut keeps working without a click
    assert model.row_of(third.id) == -1 and model.rowCount() == rows - 2
    assert len(view.selected_alerts()) == 1

    last = model.rowCount() - 1  # acting on the last row selects the new last row
    view.table.selectRow(last)
    before_last = model.alert(last - 1)
    with qtbot.waitSignal(triage.triaged, timeout=WAIT):
        qtbot.keyClick(view.table, Qt.Key.Key_R)
    assert [a.id for a in view.selected_alerts()] == [before_last.id]

    show_status(qtbot, window, "Any status")  # alerts that stay in the queue: the one after is selected
    view.table.setFocus()
    view.table.selectRow(0)
    first, after = model.alert(0), model.alert(1)
    with qtbot.waitSignal(triage.triaged, timeout=WAIT):
        qtbot.keyClick(view.table, Qt.Key.Key_A if first.status != "acknowledged" else Qt.Key.Key_O)
    assert model.row_of(first.id) == 0 and [a.id for a in view.selected_alerts()] == [after.id]


def test_select_all_says_only_the_loaded_alerts_are_included(qtbot: Any, open_window: Any,  # noqa: F811
                                                              seeded: Seeded, fresh_account: tuple[str, str]) -> None:
    alerting_account(seeded.url, *fresh_account, events=40)
    window = open_window(seeded.url)
    window.resize(1024, 700)
    log_in(qtbot, window, *fresh_account)
    window.shell.triage.model._page_size = 2  # two at a time, as it loads 100 of a longer queue; the table
    window.show_page("alerts")                # asks for more only until it is full
    view, model = window.alerts, window.shell.triage.model
    window.shell.triage.refresh()
    qtbot.waitUntil(lambda: model.rowCount() >= 2 and not model.loading, timeout=WAIT)
    qtbot.wait(200)
    qtbot.waitUntil(lambda: not model.loading, timeout=WAIT)
    loaded, total = model.rowCount(), model.total
    assert loaded < total == 40
    view.table.selectAll()
    assert view.detail.empty.text().startswith(f"{loaded} loaded alerts selected of {total}.")

    while model.canFetchMore():  # everything loaded: no qualifier
        model.fetchMore()
        qtbot.waitUntil(lambda: not model.loading, timeout=WAIT)
    view.table.selectAll()
    assert view.detail.empty.text().startswith(f"{total} alerts selected.\n")


def test_alerts_page_fits_a_small_window(qtbot: Any, open_window: Any, seeded: Seeded,  # noqa: F811
                                         fresh_account: tuple[str, str]) -> None:
    alerting_account(seeded.url, *fresh_account, events=1)
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    window.show_page("alerts")
    view, model = window.alerts, window.shell.triage.model
    qtbot.waitUntil(lambda: model.rowCount() > 0, timeout=WAIT)
    for size in ((1024, 700), (1280, 800)):
        window.resize(*size)
        qtbot.waitUntil(lambda s=size: window.size().width() == s[0], timeout=WAIT)  # noqa: B023
        qtbot.wait(50)
        for button in [*view.buttons.values(), view.event_button, view.trace_button]:
            assert button.width() >= button.sizeHint().width(), (size, button.text(), button.width())
        assert view.table.columnWidth(AlertColumn.MESSAGE) >= 200, size
        assert view.detail.width() >= 300 and view.detail.height() >= 150, size
