"""The table models over a real sidecar: lazy cursor paging, stale answers dropped, checked by qtmodeltester."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.api import schemas
from desktop.api.client import SidecarClient
from desktop.models.alerts import AlertTableModel
from desktop.models.json_tree import JsonTreeModel
from desktop.models.keys import ApiKeyTableModel
from desktop.models.logs import LogTableModel, preview
from desktop.models.roles import JsonRole, KeyColumn, LogColumn, LogRole
from tests.desktop.conftest import Seeded, alerts_available, wait_call


def test_log_model_pages_to_the_end_with_the_cursor(qtbot: Any, qtmodeltester: Any, client: SidecarClient) -> None:
    total = wait_call(qtbot, client.count_logs(schemas.LogFilter()))
    model = LogTableModel(client, page_size=60)
    model.fetchMore()  # what a view does when it first shows the table
    qtbot.waitUntil(lambda: model.rowCount() == 60, timeout=10_000)
    assert model.total == total
    pages = 1
    while model.canFetchMore():
        before = model.rowCount()
        model.fetchMore()
        model.fetchMore()  # views call it again while a page is in flight: no second request
        qtbot.waitUntil(lambda: model.rowCount() > before or model.exhausted, timeout=10_000)
        pages += 1
    assert model.rowCount() == total and pages == -(-total // 60)
    ids = [model.data(model.index(row, 0), LogRole.ID) for row in range(model.rowCount())]
    assert len(set(ids)) == total and ids == sorted(ids, reverse=True)
    qtmodeltester.check(model)


def test_log_model_filters_and_drops_answers_for_an_old_filter(qtbot: Any, qtmodeltester: Any,
                                                              client: SidecarClient) -> None:
    model = LogTableModel(client, page_size=500)
    model.set_filter(schemas.LogFilter(agent_id="research-agent"))
    model.set_filter(schemas.LogFilter(agent_id="billing-bot"))  # before the first answer arrives
    qtbot.waitUntil(lambda: model.rowCount() > 0 and not model.loading, timeout=10_000)
    agents = {model.data(model.index(row, LogColumn.AGENT)) for row in range(model.rowCount())}
    assert agents == {"billing-bot"}
    expected = wait_call(qtbot, client.count_logs(schemas.LogFilter(agent_id="billing-bot")))
    assert model.rowCount() == model.total == expected
    qtmodeltester.check(model)


def test_log_model_shows_event_text_as_given(qtbot: Any, client: SidecarClient) -> None:
    model = LogTableModel(client, page_size=500)
    model.set_filter(schemas.LogFilter(text="<img src="))
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=10_000)
    assert model.data(model.index(0, LogColumn.PROMPT)) == "<b>x</b><img src=https://example.com/a.png>"
    assert preview("a\n\n  b" + "c" * 300, 10) == "a bcccccc…"


def test_api_key_model(qtbot: Any, qtmodeltester: Any, client: SidecarClient) -> None:
    model = ApiKeyTableModel(client)
    with qtbot.waitSignal(model.loading_changed, timeout=10_000, check_params_cb=lambda busy: not busy):
        model.reload()
    names = {model.data(model.index(row, KeyColumn.NAME)) for row in range(model.rowCount())}
    assert {"demo agents", "nightly export (CI)", "ops admin"} <= names
    assert all(str(model.data(model.index(row, KeyColumn.PREFIX))).startswith("aa_")
               for row in range(model.rowCount()))
    qtmodeltester.check(model)


def test_json_tree_model() -> None:
    model = JsonTreeModel()
    model.set_value({"model": "gpt-4o", "usage": {"tokens": [1, 2, {"deep": None}]}, "ok": True})
    assert model.rowCount() == 3
    usage = model.index(1, 0)
    tokens = model.index(0, 0, usage)
    deep = model.index(2, 0, tokens)
    assert model.data(deep, JsonRole.PATH) == "usage.tokens[2]"
    assert model.data(model.index(0, 1, deep)) == "null"
    assert model.data(model.index(2, 1)) == "true"
    from pytestqt.modeltest import ModelTester  # the fixture's checker, used without a qtbot
    ModelTester(None).check(model)


def test_json_tree_shows_floats_in_plain_decimals() -> None:
    model = JsonTreeModel()
    model.set_value({"cost": 6e-05, "tiny": -3.5e-07, "huge": 1e20, "temperature": 0.7, "latency": 2350.0,
                     "tokens": 411, "bad": float("nan")})
    shown = {model.data(model.index(row, 0)): model.data(model.index(row, 1)) for row in range(model.rowCount())}
    assert shown == {"cost": "0.00006", "tiny": "-0.00000035", "huge": "100000000000000000000",
                     "temperature": "0.7", "latency": "2350.0", "tokens": "411", "bad": "NaN"}
    assert float(shown["cost"]) == 6e-05 and float(shown["tiny"]) == -3.5e-07  # nothing rounded away


def test_alert_model(qtbot: Any, qtmodeltester: Any, client: SidecarClient, seeded: Seeded) -> None:
    if not alerts_available(seeded.url):
        pytest.skip("this sidecar does not serve /api/v1/alerts yet")
    model = AlertTableModel(client, page_size=5)
    model.set_filter(schemas.AlertFilter(status=None))
    qtbot.waitUntil(lambda: model.rowCount() >= 5 or (not model.loading and model.rowCount() > 0), timeout=10_000)
    while model.canFetchMore():
        before = model.rowCount()
        model.fetchMore()
        qtbot.waitUntil(lambda: not model.loading, timeout=10_000)
        assert model.rowCount() >= before
    assert model.rowCount() == model.total > 0
    ranks = [{"critical": 0, "warning": 1, "info": 2}[model.alert(row).severity] for row in range(model.rowCount())]
    assert ranks == sorted(ranks)  # critical first
    qtmodeltester.check(model)
