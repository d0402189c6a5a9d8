"""The activity page in words, against a real sidecar: actions as phrases, and names for the ids in details."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop.models.roles import ActivityColumn
from tests.desktop.conftest import Seeded, alerting_account, http
from tests.desktop.views.test_admin_views import auth
from tests.desktop.views.test_views import log_in, open_window  # noqa: F401 - open_window is a fixture

WAIT = 15_000


def test_activity_reads_as_words_with_names_for_ids(qtbot: Any, open_window: Any, seeded: Seeded,  # noqa: F811
                                                    fresh_account: tuple[str, str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    owner, _ = fresh_account
    headers = auth(seeded.url, owner)
    agents = {}
    for name in ("intake-bot", "claims-bot"):
        status, agent, _ = http(f"{seeded.url}/api/v1/agents", "POST", {"name": name}, headers)
        assert status == 201, agent
        agents[agent["id"]] = name
    status, policy, _ = http(f"{seeded.url}/api/v1/policies", "POST", {"name": "Intake", "mode": "flag"}, headers)
    assert status == 201, policy
    for agent_id in agents:
        status, body, _ = http(f"{seeded.url}/api/v1/policies/{policy['id']}/agents", "POST", {"agentId": agent_id},
                               headers)
        assert status in (200, 201), body
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    presenter = window.shell.activity
    presenter.page_size = 2  # the two attachments: their agents are named nowhere else on the page
    listed: list[int] = []
    client = presenter._client
    list_agents = client.list_agents
    monkeypatch.setattr(client, "list_agents", lambda **kw: (listed.append(1), list_agents(**kw))[1])
    with qtbot.waitSignal(presenter.page_changed, timeout=WAIT):
        window.show_page("activity")
    model = presenter.model

    def cells(column: ActivityColumn) -> list[str]:
        return [model.index(row, column).data() for row in range(model.rowCount())]
    assert [model.item(row).action for row in range(model.rowCount())] == ["policy.attach"] * 2
    qtbot.waitUntil(lambda: not any("agent_" in text for text in cells(ActivityColumn.DETAILS)), timeout=WAIT)
    assert sorted(cells(ActivityColumn.DETAILS)) == sorted(f"agent: {name}" for name in agents.values())
    assert cells(ActivityColumn.ACTION) == ["attached an agent to a policy"] * 2
    assert cells(ActivityColumn.TARGET) == ["policy Intake"] * 2
    assert model.index(0, ActivityColumn.ACTION).data(Qt.ItemDataRole.ToolTipRole) == "policy.attach"
    assert len(listed) == 1  # one listing of the agents for the page, not one request per row

    with qtbot.waitSignal(presenter.page_changed, timeout=WAIT):
        presenter.next_page()
    assert cells(ActivityColumn.ACTION) == ["created a policy", "registered an agent"]
    assert cells(ActivityColumn.TARGET) == ["policy Intake", "agent claims-bot"]
    with qtbot.waitSignal(presenter.page_changed, timeout=WAIT):
        presenter.previous_page()
    assert sorted(cells(ActivityColumn.DETAILS)) == sorted(f"agent: {name}" for name in agents.values())
    assert len(listed) == 1  # known agents are kept


def test_a_false_positive_reads_as_a_sentence(qtbot: Any, open_window: Any, seeded: Seeded,  # noqa: F811
                                              fresh_account: tuple[str, str]) -> None:
    owner, _ = fresh_account
    alerting_account(seeded.url, *fresh_account, events=1)
    headers = auth(seeded.url, owner)
    alert = http(f"{seeded.url}/api/v1/alerts?limit=1", headers=headers)[1][0]
    assert http(f"{seeded.url}/api/v1/alerts/{alert['id']}", "PATCH", {"status": "false_positive",
                                                                         "note": "test data"}, headers)[0] == 200
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    presenter = window.shell.activity
    with qtbot.waitSignal(presenter.page_changed, timeout=WAIT):
        window.show_page("activity")
    model = presenter.model
    row = next(r for r in range(model.rowCount()) if model.item(r).action == "alert.false_positive")
    assert model.index(row, ActivityColumn.ACTOR).data() == owner
    assert model.index(row, ActivityColumn.ACTION).data() == "marked an alert a false positive"
    assert model.index(row, ActivityColumn.DETAILS).data() == "note: test data"
