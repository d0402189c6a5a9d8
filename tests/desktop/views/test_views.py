"""The window end to end against a real sidecar: log in, dashboard, filter, open an event, plain text, alert
triage with a shortcut, API keys, and a sidecar that dies and comes back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox

from desktop.models.roles import AlertColumn, KeyColumn, LogColumn
from desktop.sidecar_process import SidecarState
from desktop.views.main_window import MainWindow
from tests.desktop.conftest import (
    FixedPortSidecar,
    Seeded,
    alerting_account,
    free_port,
    http,
    make_shell,
)
from tests.helpers import PASSWORD

MARKUP = "<b>x</b><img src=https://example.com/a.png>"


@pytest.fixture
def open_window(qtbot: Any) -> Iterator[Callable[[str], MainWindow]]:
    """Build the window (as desktop.app does) against a URL; stop its timers and feed afterwards."""
    windows: list[MainWindow] = []

    def build(url: str) -> MainWindow:
        window = MainWindow(make_shell(url), tray=False)
        qtbot.addWidget(window)
        window.show()
        window.shell.sidecar.start()
        qtbot.waitUntil(lambda: window.shell.sidecar.status.state is SidecarState.UP, timeout=10_000)
        windows.append(window)
        return window
    yield build
    for window in windows:
        window.shell.live.stop()
        window.shell.sidecar.shutdown()


def log_in(qtbot: Any, window: MainWindow, email: str, password: str) -> None:
    welcome = window.welcome
    welcome.tabs.setCurrentIndex(0)
    qtbot.keyClicks(welcome.email, email)
    qtbot.keyClicks(welcome.password, password)
    with qtbot.waitSignal(window.shell.dashboard.snapshot_changed, timeout=15_000):
        qtbot.mouseClick(welcome.login_button, Qt.MouseButton.LeftButton)
    assert window.root_stack.currentIndex() == 1


def test_log_in_filter_and_open_an_event(qtbot: Any, open_window: Any, seeded: Seeded) -> None:
    window = open_window(seeded.url)
    log_in(qtbot, window, seeded.email, seeded.password)
    assert window.pages.currentWidget() is window.dashboard
    assert [item.text() for item in window.sidebar.selectedItems()] == ["Dashboard"]  # highlighted, not only current
    snap = window.shell.dashboard.snapshot
    assert window.dashboard.events_card.value.text() == f"{snap.kpis.events_today:,}"
    assert window.dashboard.recent.rowCount() == 8

    window.show_page("logs")
    model = window.shell.logs.model
    qtbot.waitUntil(lambda: model.rowCount() > 0, timeout=10_000)
    view = window.logs
    qtbot.keyClicks(view.agent, "billing-bot")
    qtbot.keyClick(view.agent, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: model.filter.agent_id == "billing-bot" and not model.loading and model.rowCount() > 0,
                    timeout=10_000)
    assert {model.data(model.index(r, LogColumn.AGENT)) for r in range(model.rowCount())} == {"billing-bot"}
    assert view.count.text().startswith(f"{model.total:,} event")

    with qtbot.waitSignal(window.shell.logs.event_loaded, timeout=10_000) as blocker:
        view.table.selectRow(0)
    event = blocker.args[0]
    assert event.agent_id == "billing-bot"
    assert view.detail.prompt.toPlainText() == (event.prompt or "")
    assert view.detail.facts["Event id"].text() == event.id
    assert view.detail.hash.text() == event.hash and len(event.hash) == 64


def test_event_text_is_always_plain_text(qtbot: Any, open_window: Any, seeded: Seeded) -> None:
    window = open_window(seeded.url)
    log_in(qtbot, window, seeded.email, seeded.password)
    window.show_page("logs")
    view, model = window.logs, window.shell.logs.model
    qtbot.keyClicks(view.text, "<img src=")
    qtbot.keyClick(view.text, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: model.filter.text == "<img src=" and model.rowCount() == 1, timeout=10_000)
    assert model.data(model.index(0, LogColumn.PROMPT)) == MARKUP
    with qtbot.waitSignal(window.shell.logs.event_loaded, timeout=10_000):
        view.table.selectRow(0)
    assert view.detail.prompt.toPlainText() == MARKUP  # the characters, not a bold x and an image
    assert view.detail.prompt.document().toPlainText() == MARKUP
    for label in view.detail.findChildren(QLabel) + window.dashboard.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText, label.text()


def test_resolve_an_alert_with_a_shortcut_and_see_the_dashboard_change(qtbot: Any, open_window: Any, seeded: Seeded,
                                                                       fresh_account: tuple[str, str]) -> None:
    alerting_account(seeded.url, *fresh_account, events=2)
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    assert window.dashboard.alerts_card.value.text() == "2"
    window.show_page("alerts")
    view, model = window.alerts, window.shell.triage.model
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=10_000)
    assert model.data(model.index(0, AlertColumn.SEVERITY)) == "critical"
    target = model.alert(0)
    view.table.setFocus()
    view.table.selectRow(0)
    qtbot.keyClicks(view.note, "false alarm from the test form")
    view.table.setFocus()
    with qtbot.waitSignal(window.shell.triage.triaged, timeout=10_000):
        qtbot.keyClick(view.table, Qt.Key.Key_R)
    assert model.rowCount() == 1 and model.row_of(target.id) == -1
    assert view.feedback.text() == "1 alert resolved."
    with qtbot.waitSignal(window.shell.dashboard.snapshot_changed, timeout=10_000):
        window.shell.dashboard.refresh()
    assert window.dashboard.alerts_card.value.text() == "1"

    view.table.selectRow(0)
    with qtbot.waitSignal(window.shell.logs.event_loaded, timeout=10_000) as blocker:
        qtbot.keyClick(view.table, Qt.Key.Key_Return)  # jump to the alert's event
    assert blocker.args[0].id == model.alert(0).audit_log_id
    assert window.pages.currentWidget() is window.logs


def test_create_and_revoke_an_api_key(qtbot: Any, open_window: Any, seeded: Seeded, fresh_account: tuple[str, str]) -> None:
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    window.show_page("keys")
    view, model = window.keys, window.shell.keys.model
    qtbot.waitUntil(lambda: model.loaded, timeout=10_000)
    assert model.rowCount() == 0 and view.stack.currentIndex() == 1  # the empty state
    window.shell.keys.create("ci exporter", ["logs:read"])
    qtbot.waitUntil(lambda: view.created_dialog is not None and model.rowCount() == 1, timeout=10_000)
    dialog = view.created_dialog
    secret = dialog.key.text()
    assert secret.startswith("aa_live_")
    assert secret in dialog.snippets["Python SDK"].toPlainText() and secret in dialog.snippets["curl"].toPlainText()
    assert f"{seeded.url}/api/v1" in dialog.snippets["Python SDK"].toPlainText()
    assert model.data(model.index(0, KeyColumn.SCOPES)) == "logs:read"
    assert http(f"{seeded.url}/api/v1/audit-logs?limit=1", headers={"X-API-Key": secret})[0] == 200
    dialog.accept()

    view.table.selectRow(0)
    view.confirm_revoke()
    box = view.revoke_box
    assert isinstance(box, QMessageBox) and "ci exporter" in box.text()
    revoke = next(b for b in box.buttons() if b.text() == "Revoke")
    with qtbot.waitSignal(window.shell.keys.revoked, timeout=10_000):
        qtbot.mouseClick(revoke, Qt.MouseButton.LeftButton)
    assert model.rowCount() == 0
    assert http(f"{seeded.url}/api/v1/audit-logs?limit=1", headers={"X-API-Key": secret})[0] == 401


@pytest.mark.slow
def test_the_window_shows_a_dead_sidecar_and_recovers_when_it_returns(qtbot: Any, open_window: Any, tmp_path: Path) -> None:
    sidecar = FixedPortSidecar(tmp_path / "data", free_port())
    sidecar.start()
    try:
        http(f"{sidecar.url}/api/v1/auth/register", "POST", {"name": "Acme", "email": "ops@acme.test",
                                                              "password": PASSWORD})
        window = open_window(sidecar.url)
        log_in(qtbot, window, "ops@acme.test", PASSWORD)
        assert window.banner.isHidden()
        sidecar.kill()
        qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10_000)
        assert window.banner.title.text() == "The sidecar is not reachable."
        assert window.sidecar_label.text().startswith("Sidecar unreachable")
        before = window.shell.dashboard.snapshot.taken_at
        sidecar.start()
        qtbot.waitUntil(lambda: window.banner.isHidden(), timeout=15_000)
        qtbot.waitUntil(lambda: window.shell.dashboard.snapshot.taken_at > before, timeout=10_000)
        assert window.shell.client.logged_in  # the session survived the restart
    finally:
        sidecar.stop()


def test_screenshot_mode_saves_each_view(seeded: Seeded, tmp_path: Path) -> None:
    """``agentaudit desktop --screenshot DIR`` in its own process: logs in, saves a PNG per view, exits 0."""
    import subprocess
    import sys

    from PySide6.QtGui import QImage

    from tests.helpers import ROOT

    done = subprocess.run([sys.executable, "-m", "desktop", "--url", seeded.url, "--no-start", "--screenshot",
                           str(tmp_path), "--email", seeded.email, "--password", seeded.password],
                          cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("welcome", "dashboard", "logs", "alerts", "keys", "users", "traces", "policies", "policy-versions",
                 "policy-analytics", "agents", "reports", "billing", "settings", "activity", "dashboard-dark"):
        image = QImage(str(tmp_path / f"{name}.png"))
        assert (image.width(), image.height()) == (1280, 800), name
