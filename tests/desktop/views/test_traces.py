"""The trace visualizer end to end against a real sidecar: a trace with nested spans is sent through the API,
then opened from the id box, from the recent list and from an event in the log explorer; a nested span is
selected (detail pane, parent chain, roll-ups), searched for, replayed to, and the timeline zoomed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from desktop.api.client import SidecarClient
from desktop.api.transport import Transport
from desktop.models.roles import TraceColumn, TraceRole
from desktop.presenters.shell import PAGES
from desktop.presenters.traces import TracePresenter
from desktop.sidecar_process import SidecarState
from desktop.views.main_window import MainWindow
from desktop.widgets.waterfall import ZOOM_STEP
from tests.desktop.conftest import Seeded, http, make_shell, token_for, wait_call

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TRACE = "trace-visualizer-run"


def at(ms: int) -> str:
    return (T0 + timedelta(milliseconds=ms)).isoformat().replace("+00:00", "Z")


def nested_trace() -> list[dict[str, Any]]:
    """root > plan > (search > summarise), root > intake (blocked: an SSN), root > answer."""
    return [
        {"action": "agent_run", "traceId": TRACE, "spanId": "root", "agentId": "planner", "startedAt": at(0),
         "endedAt": at(9000), "prompt": "Plan the week"},
        {"action": "plan", "traceId": TRACE, "spanId": "plan", "parentSpanId": "root", "startedAt": at(100),
         "endedAt": at(2000), "agentId": "planner"},
        {"action": "tool_use", "traceId": TRACE, "spanId": "search", "parentSpanId": "plan", "startedAt": at(500),
         "endedAt": at(1500), "prompt": "weather in Lisbon", "response": "sunny, 21 C",
         "metadata": {"tool": "web_search", "latency_ms": 1000}},
        {"action": "llm_call", "traceId": TRACE, "spanId": "summarise", "parentSpanId": "search",
         "startedAt": at(1600), "endedAt": at(1900), "prompt": "Summarise the forecast", "response": "Sunny.",
         "metadata": {"model": "gpt-4o", "tokens": 200, "cost": 0.004, "latency_ms": 300}},
        {"action": "llm_call", "traceId": TRACE, "spanId": "intake", "parentSpanId": "root", "startedAt": at(2500),
         "endedAt": at(2900), "prompt": "SSN 123-45-6789 for patient intake",
         "metadata": {"model": "gpt-4o", "tokens": 120, "cost": 0.002}},
        {"action": "answer", "traceId": TRACE, "spanId": "answer", "parentSpanId": "root", "startedAt": at(3000),
         "endedAt": at(8000), "response": "Done."},
    ]


@pytest.fixture(scope="module")
def traced(seeded: Seeded) -> dict[str, Any]:
    """An organisation of its own with the hipaa pack and the nested trace; its stored events by spanId."""
    email = "traces-view@acme.test"
    password = "trace-password-1"
    status, body, _ = http(f"{seeded.url}/api/v1/auth/register", "POST",
                           {"name": "Trace Co", "email": email, "password": password})
    assert status == 201, body
    headers = {"Authorization": f"Bearer {token_for(seeded.url, email, password)}"}
    status, body, _ = http(f"{seeded.url}/api/v1/compliance-rules/packs", "POST", {"packId": "hipaa"}, headers)
    assert status == 201, body
    status, body, _ = http(f"{seeded.url}/api/v1/audit-logs/batch", "POST", nested_trace(), headers)
    assert status == 201, body
    stored = {event["spanId"]: event for event in body["data"]}
    assert stored["intake"]["complianceFlags"], stored["intake"]
    return {"url": seeded.url, "email": email, "password": password, "events": stored}


@pytest.fixture
def open_window(qtbot: Any) -> Iterator[Callable[[str, str, str], MainWindow]]:
    """The window as desktop.app builds it, logged in; its timers and feed stopped afterwards."""
    windows: list[MainWindow] = []

    def build(url: str, email: str, password: str) -> MainWindow:
        win = MainWindow(make_shell(url), tray=False)
        qtbot.addWidget(win)
        win.resize(1280, 800)
        win.show()
        win.shell.sidecar.start()
        qtbot.waitUntil(lambda: win.shell.sidecar.status.state is SidecarState.UP, timeout=10_000)
        with qtbot.waitSignal(win.shell.logged_in, timeout=15_000):
            win.shell.session.login(email, password)
        windows.append(win)
        return win
    yield build
    for win in windows:
        win.shell.traces.stop()
        win.shell.live.stop()
        win.shell.sidecar.shutdown()


@pytest.fixture
def window(open_window: Callable[[str, str, str], MainWindow], traced: dict[str, Any]) -> MainWindow:
    return open_window(traced["url"], traced["email"], traced["password"])


def node_of(presenter: TracePresenter, span_id: str) -> int:
    node = presenter.tree.node_of(span_id)
    assert node is not None
    return node


def test_open_select_search_replay_and_zoom(qtbot: Any, window: MainWindow, traced: dict[str, Any]) -> None:
    presenter, view = window.shell.traces, window.traces
    with qtbot.waitSignal(presenter.recent_changed, timeout=10_000):
        window.show_page("traces")
    assert window.pages.currentWidget() is view
    assert [view.recent.itemData(i) for i in range(view.recent.count())] == [TRACE]
    assert view.recent.itemText(0) == f"agent_run · 6 spans · 1 flagged · {TRACE}"

    qtbot.keyClicks(view.trace_box, TRACE)
    with qtbot.waitSignal(presenter.loaded, timeout=15_000):
        qtbot.keyClick(view.trace_box, Qt.Key.Key_Return)
    tree, model = presenter.tree, presenter.model
    assert len(tree) == 6 and view.stack.currentIndex() == 1
    assert view.subtitle.text() == "6 spans · 9.00 s · 1 with violations · 320 tokens · $0.0060"
    root = model.index(0, 0)
    assert (root.data(), model.rowCount(root)) == ("agent_run", 3)
    assert presenter.current == node_of(presenter, "root")  # the first span is selected on open

    # the nested span: a click on its row in the tree
    search = node_of(presenter, "search")
    index = model.index_of(search)
    assert (index.parent().data(), index.parent().parent().data()) == ("plan", "agent_run")
    rect = view.tree.visualRect(index)
    with qtbot.waitSignal(presenter.span_selected, timeout=5_000) as selected:
        qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert selected.args == [search]
    assert view.detail.action.text() == "tool_use"
    assert view.detail.facts["Span"].text() == "search"
    assert view.detail.facts["Event id"].text() == traced["events"]["search"]["id"]
    assert view.detail.prompt.toPlainText() == "weather in Lisbon"
    assert [b.text() for b in view.breadcrumb.buttons] == ["agent_run", "plan", "tool_use"]
    assert view.rollup.text() == "With its children: 2 spans · 200 tokens · $0.0040 · 1.30 s latency"
    assert model.index_of(node_of(presenter, "plan"), TraceColumn.TOKENS).data() == "200"
    assert model.index_of(node_of(presenter, "root"), TraceColumn.COST).data() == "$0.0060"

    # the parent chain is clickable
    qtbot.mouseClick(view.breadcrumb.buttons[1], Qt.MouseButton.LeftButton)
    assert presenter.current == node_of(presenter, "plan")
    assert view.detail.action.text() == "plan"
    assert view.tree.currentIndex().data() == "plan"

    # the blocked span (the hipaa pack blocks a US SSN): colour, icon and a word; a clean span has none
    intake = model.index_of(node_of(presenter, "intake"))
    assert traced["events"]["intake"]["enforcementAction"] == "block"
    assert intake.data() == "llm_call [blocked]"
    assert intake.data(TraceRole.STATUS) == "blocked"
    assert not intake.data(Qt.ItemDataRole.DecorationRole).pixmap(14, 14).toImage().allGray()
    assert intake.data(Qt.ItemDataRole.ForegroundRole).color().name() == "#c92a2a"
    clean = model.index_of(node_of(presenter, "answer"))
    assert (clean.data(), clean.data(Qt.ItemDataRole.ForegroundRole)) == ("answer", None)

    # search: highlight, select, next/previous
    qtbot.keyClicks(view.search, "LISBON")
    with qtbot.waitSignal(presenter.matches_changed, timeout=5_000):
        qtbot.keyClick(view.search, Qt.Key.Key_Return)
    assert presenter.current == search and view.match_label.text() == "1 of 1"
    assert model.index_of(search).data(TraceRole.MATCH) is True
    assert view.detail.facts["Span"].text() == "search"
    view.search.clear()
    qtbot.keyClicks(view.search, "llm_call")
    with qtbot.waitSignal(presenter.matches_changed, timeout=5_000):
        qtbot.keyClick(view.search, Qt.Key.Key_Return)
    assert view.match_label.text() == "1 of 2"
    first = presenter.current
    qtbot.mouseClick(view.next_match, Qt.MouseButton.LeftButton)
    assert view.match_label.text() == "2 of 2" and presenter.current != first
    qtbot.mouseClick(view.prev_match, Qt.MouseButton.LeftButton)
    assert presenter.current == first
    assert {tree.spans[n].span_id for n in presenter.matches} == {"summarise", "intake"}

    # replay: time order root, plan, search, summarise, intake, answer
    presenter.first()
    assert view.replay_label.text() == "1 / 6"
    qtbot.mouseClick(view.step_forward, Qt.MouseButton.LeftButton)
    assert tree.spans[presenter.current].span_id == "plan"
    view.tree.setFocus()
    qtbot.keyClick(view.tree, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert tree.spans[presenter.current].span_id == "search"
    assert view.detail.facts["Span"].text() == "search"
    qtbot.mouseClick(view.step_back, Qt.MouseButton.LeftButton)
    assert tree.spans[presenter.current].span_id == "plan"
    presenter._player.setInterval(20)
    qtbot.mouseClick(view.play_button, Qt.MouseButton.LeftButton)
    assert view.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: not presenter.playing, timeout=5_000)
    assert tree.spans[presenter.current].span_id == "answer"
    assert view.detail.action.text() == "answer" and view.replay_label.text() == "6 / 6"

    # zoom: buttons and ctrl+wheel change the scale and the axis ticks
    waterfall = view.waterfall
    fitted, ticks = waterfall.scale, waterfall.tick_step_ms
    assert fitted == pytest.approx(waterfall.fit_scale())
    qtbot.mouseClick(view.zoom_in, Qt.MouseButton.LeftButton)
    assert waterfall.scale == pytest.approx(fitted * ZOOM_STEP)
    qtbot.mouseClick(view.zoom_in, Qt.MouseButton.LeftButton)
    assert waterfall.tick_step_ms < ticks
    position = QPointF(waterfall.width() / 2, waterfall.height() / 2)
    wheel = QWheelEvent(position, waterfall.mapToGlobal(position), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    before = waterfall.scale
    QApplication.sendEvent(waterfall, wheel)
    assert waterfall.scale == pytest.approx(before * ZOOM_STEP)
    assert waterfall.hbar.maximum() > 0
    qtbot.mouseClick(view.zoom_fit, Qt.MouseButton.LeftButton)
    assert waterfall.scale == pytest.approx(fitted) and waterfall.hbar.maximum() == 0

    # the waterfall draws exactly the tree's visible rows, at the tree's row positions
    rows = waterfall.visible_nodes()
    assert [node for node, _, _ in rows] == tree.preorder
    offset = waterfall._top()
    assert rows[2][1] - offset == view.tree.visualRect(model.index_of(tree.preorder[2])).top()

    # collapse all keeps the top-level span open; expand all shows every span again
    qtbot.mouseClick(view.collapse_all, Qt.MouseButton.LeftButton)
    assert len(waterfall.visible_nodes()) == 4
    qtbot.mouseClick(view.expand_all, Qt.MouseButton.LeftButton)
    assert len(waterfall.visible_nodes()) == 6


def test_open_in_trace_visualizer_from_an_event(qtbot: Any, window: MainWindow, traced: dict[str, Any]) -> None:
    event = traced["events"]["summarise"]
    window.show_page("logs")
    with qtbot.waitSignal(window.shell.logs.event_loaded, timeout=10_000):
        window.shell.logs.open_event(event["id"])
    button = window.logs.detail.visualize_button
    assert button.isEnabled() and button.text() == "Open in trace visualizer ›"
    presenter = window.shell.traces
    with qtbot.waitSignal(presenter.loaded, timeout=15_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: presenter.current != -1, timeout=5_000)
    assert window.pages.currentIndex() == PAGES.index("traces")
    assert presenter.tree.spans[presenter.current].id == event["id"]
    assert window.traces.detail.facts["Event id"].text() == event["id"]
    assert [b.text() for b in window.traces.breadcrumb.buttons] == ["agent_run", "plan", "tool_use", "llm_call"]
    assert window.traces.tree.currentIndex().data(TraceRole.EVENT_ID) == event["id"]


def test_presenter_pages_through_a_trace_and_reports_a_missing_one(qtbot: Any, qtmodeltester: Any,
                                                                   traced: dict[str, Any]) -> None:
    client = SidecarClient(Transport(traced["url"]))
    wait_call(qtbot, client.login(traced["email"], traced["password"]))
    presenter = TracePresenter(client, page_size=2)
    progress: list[tuple[int, int]] = []
    presenter.loading.connect(lambda _t, received, total: progress.append((received, total)))
    with qtbot.waitSignal(presenter.loaded, timeout=15_000):
        presenter.open(TRACE)
    assert len(presenter.tree) == 6 and progress[0] == (0, 0) and progress[-1] == (6, 6)  # 3 pages of 2
    assert len(progress) in (4, 5)  # a 4th, empty page only when page 0 is still being decoded as page 2 lands
    assert {s.span_id for s in presenter.tree.spans} == {e["spanId"] for e in nested_trace()}
    qtmodeltester.check(presenter.model)

    with qtbot.waitSignal(presenter.failed, timeout=15_000) as failed:
        presenter.open("no-such-trace")
    trace_id, error = failed.args
    assert (trace_id, error.status) == ("no-such-trace", 404)
    presenter.close()


def test_open_from_the_recent_list(qtbot: Any, window: MainWindow, traced: dict[str, Any]) -> None:
    presenter, view = window.shell.traces, window.traces
    with qtbot.waitSignal(presenter.recent_changed, timeout=10_000):
        window.show_page("traces")
    assert view.stack.currentIndex() == 0 and view.message.text().startswith("Open a trace")
    assert not view.tools.isEnabled()
    with qtbot.waitSignal(presenter.loaded, timeout=15_000):
        view.recent.activated.emit(0)  # what a pick in the drop-down sends
    assert view.trace_box.text() == TRACE and len(presenter.tree) == 6
    assert view.tools.isEnabled() and view.detail.action.text() == "agent_run"
    with qtbot.waitSignal(presenter.failed, timeout=15_000):
        view.trace_box.setText("no-such-trace")
        qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    assert view.stack.currentIndex() == 0
    assert view.message.text() == "Could not open trace no-such-trace: trace no-such-trace not found"

    # logging out forgets the trace: the next user may be of another organisation
    with qtbot.waitSignal(presenter.loaded, timeout=15_000):
        presenter.open(TRACE)
    with qtbot.waitSignal(window.shell.logged_out, timeout=10_000):
        window.shell.session.logout()
    assert (presenter.model.rowCount(), presenter.trace_id, view.recent.count()) == (0, "", 0)
    assert view.stack.currentIndex() == 0 and view.trace_box.text() == "" and view.detail.current is None


def test_new_spans_of_the_open_trace_are_counted_and_shown_on_refresh(
        qtbot: Any, open_window: Callable[[str, str, str], MainWindow], fresh_account: tuple[str, str],
        seeded: Seeded) -> None:
    email, password = fresh_account
    headers = {"Authorization": f"Bearer {token_for(seeded.url, email, password)}"}

    def send(body: dict[str, Any]) -> None:
        status, stored, _ = http(f"{seeded.url}/api/v1/audit-logs", "POST", body, headers)
        assert status == 201, stored
    send({"action": "agent_run", "traceId": "live-run", "spanId": "root", "startedAt": at(0), "endedAt": at(900)})
    window = open_window(seeded.url, email, password)
    presenter, view = window.shell.traces, window.traces
    window.show_page("traces")
    with qtbot.waitSignal(presenter.loaded, timeout=15_000):
        presenter.open("live-run")
    assert view.refresh_hint.isHidden()
    qtbot.waitUntil(lambda: window.shell.live.mode.name in ("LIVE", "POLLING"), timeout=10_000)
    with qtbot.waitSignal(presenter.new_spans, timeout=15_000, check_params_cb=lambda n: n == 1):
        send({"action": "elsewhere", "traceId": "another-run"})
        send({"action": "followup", "traceId": "live-run", "spanId": "late", "parentSpanId": "root",
              "startedAt": at(100), "endedAt": at(200)})
    assert view.refresh_hint.text() == "1 new span since this trace was loaded: Refresh shows them"
    with qtbot.waitSignal(presenter.loaded, timeout=15_000):
        presenter.reload()
    assert len(presenter.tree) == 2 and view.refresh_hint.isHidden()
    late = node_of(presenter, "late")
    assert [presenter.tree.spans[n].span_id for n in presenter.tree.ancestors(late)] == ["root", "late"]


def test_an_alerts_trace_opens_in_the_visualizer(qtbot: Any, window: MainWindow, traced: dict[str, Any]) -> None:
    """The alert queue's "Show trace" (T) lands on the visualizer with the alert's event selected."""
    event = traced["events"]["intake"]  # flagged by the HIPAA pack: it raised an alert
    presenter = window.shell.traces
    with qtbot.waitSignal(presenter.loaded, timeout=15_000):
        window.alerts.open_trace_of.emit(event["id"])
    qtbot.waitUntil(lambda: presenter.current != -1, timeout=5_000)
    assert window.pages.currentIndex() == PAGES.index("traces")
    assert presenter.tree.spans[presenter.current].id == event["id"]
