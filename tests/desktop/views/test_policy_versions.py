"""The versions tab against a real sidecar: unnamed versions are not named twice, and a long changed line can be
read in full in the diff."""

from __future__ import annotations

from typing import Any

from desktop.models.policy_text import Change
from tests.desktop.conftest import Seeded, http
from tests.desktop.views.test_admin_views import auth
from tests.desktop.views.test_policies_agents import _policies_page
from tests.desktop.views.test_views import log_in, open_window  # noqa: F401 - open_window is a fixture

WAIT = 15_000


def test_versions_are_listed_once_and_long_lines_scroll_sideways(qtbot: Any, open_window: Any,  # noqa: F811
                                                                  seeded: Seeded,
                                                                  fresh_account: tuple[str, str]) -> None:
    headers = auth(seeded.url, fresh_account[0])
    status, policy, _ = http(f"{seeded.url}/api/v1/policies", "POST",
                             {"name": "Intake", "mode": "flag", "description": "short"}, headers)
    assert status == 201, policy
    long_text = " ".join(f"clause-{n}" for n in range(60))  # a line far wider than the pane
    assert http(f"{seeded.url}/api/v1/policies/{policy['id']}", "PATCH", {"description": long_text},
                headers)[0] == 200
    assert http(f"{seeded.url}/api/v1/policies/{policy['id']}/versions", "POST", {"name": "signed off"},
                headers)[0] == 201
    listed = http(f"{seeded.url}/api/v1/policies/{policy['id']}/versions", headers=headers)[1]
    window = open_window(seeded.url)
    window.resize(1280, 800)
    log_in(qtbot, window, *fresh_account)
    presenter = _policies_page(qtbot, window)
    view = window.policies
    view.policy_table.selectRow(presenter.policies.find(lambda p: p.id == policy["id"]))
    view.tabs.setCurrentWidget(view.versions_tab)
    tab, versions = view.versions_tab, presenter.versions
    qtbot.waitUntil(lambda: versions.model.rowCount() == len(listed) and tab.left_choice.count() == len(listed),
                    timeout=WAIT)

    names = {v["versionNumber"]: v["name"] for v in listed}
    for row in range(versions.model.rowCount()):
        number = versions.model.row(row).number
        given = "" if names[number] == f"v{number}" else names[number]
        assert versions.model.index(row, 0).data() == f"v{number}"
        assert versions.model.index(row, 1).data() == given  # not "v2" beside "v2"
        assert tab.left_choice.itemText(row) == (f"v{number} · {given}" if given else f"v{number}")
    assert "signed off" in [tab.left_choice.itemText(r) for r in range(tab.left_choice.count())][0]

    tab.table.selectRow(versions.model.find(lambda v: v.number == 1))
    qtbot.waitUntil(lambda: any(r.right == f"description: {long_text}" for r in versions.diff.rows()), timeout=WAIT)
    qtbot.wait(50)
    row = next(n for n, r in enumerate(versions.diff.rows()) if r.change is Change.CHANGED)
    pane = tab.diff_right
    line = pane.model().index(row, 3).data()
    assert line == f"description: {long_text}"
    assert pane.columnWidth(3) >= pane.fontMetrics().horizontalAdvance(line)  # the whole line, not "…"
    side = pane.horizontalScrollBar()
    assert side.maximum() > 0
    side.setValue(side.maximum())  # scrolling one pane sideways scrolls the other with it
    assert tab.diff_left.horizontalScrollBar().value() == min(side.maximum(),
                                                              tab.diff_left.horizontalScrollBar().maximum())
    assert pane.visualRect(pane.model().index(row, 3)).right() <= pane.viewport().width() + 1  # its end is shown
