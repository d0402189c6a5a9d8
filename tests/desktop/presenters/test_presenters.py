"""Presenters against a real sidecar: dashboard figures, triage, live updates, sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from desktop.api import schemas
from desktop.api.client import SidecarClient
from desktop.api.transport import Transport
from desktop.presenters.dashboard import DashboardPresenter, TimeRange, start_of_today
from desktop.presenters.live import LiveFeed, LiveMode
from desktop.presenters.reports import ReportsPresenter
from desktop.presenters.session import SessionPresenter
from desktop.presenters.triage import Triage, TriagePresenter
from tests.desktop.conftest import Seeded, alerting_account, http, token_for, wait_call
from tests.helpers import PASSWORD, SidecarProcess


def logged_in(qtbot: Any, url: str, email: str, password: str) -> SidecarClient:
    api = SidecarClient(Transport(url))
    wait_call(qtbot, api.login(email, password))
    return api


def snapshot_of(qtbot: Any, presenter: DashboardPresenter) -> Any:
    with qtbot.waitSignal(presenter.snapshot_changed, timeout=15_000) as blocker:
        presenter.refresh()
    return blocker.args[0]


def test_dashboard_figures_match_the_sidecar(qtbot: Any, client: SidecarClient, seeded: Seeded) -> None:
    snap = snapshot_of(qtbot, DashboardPresenter(client))
    today = schemas.format_time(start_of_today(datetime.now(UTC)))
    headers = {"Authorization": f"Bearer {token_for(seeded.url, seeded.email, seeded.password)}"}
    _, events, _ = http(f"{seeded.url}/api/v1/audit-logs?limit=1&from={today}", headers=headers)
    _, flagged, _ = http(f"{seeded.url}/api/v1/audit-logs?limit=1&flagged=true&from={today}", headers=headers)
    assert snap.kpis.events_today == events["pagination"]["total"] > 0
    assert snap.kpis.flagged_today == flagged["pagination"]["total"]
    assert snap.kpis.active_agents == 5
    assert len(snap.series) == 24 and sum(b.events for b in snap.series) == snap.kpis.events_today
    assert [e.id for e in snap.recent] == sorted((e.id for e in snap.recent), reverse=True) and len(snap.recent) == 8
    if snap.kpis.flagged_today:
        assert {label for label, _ in snap.by_pack} & {"HIPAA", "GDPR", "Finance / PCI", "Secrets"}
        assert sum(count for _, count in snap.by_agent) >= snap.kpis.flagged_today


def test_dashboard_breakdowns_count_every_violation(qtbot: Any, seeded: Seeded,
                                                    fresh_account: tuple[str, str]) -> None:
    """More flagged events than a page holds: the breakdowns still count each violation of the range."""
    email, password = fresh_account
    alerting_account(seeded.url, email, password, events=1)  # installs the hipaa pack
    headers = {"Authorization": f"Bearer {token_for(seeded.url, email, password)}"}
    for n in range(14):  # 700 events with a US SSN (one violation each), 500 of them from one agent
        batch = [{"action": "llm_call", "agentId": "intake" if n < 10 else "billing",
                  "prompt": f"SSN 123-45-6789 for patient {n}.{i}"} for i in range(50)]
        status, body, _ = http(f"{seeded.url}/api/v1/audit-logs/batch", "POST", batch, headers)
        assert status == 201, body
    status, export, _ = http(f"{seeded.url}/api/v1/audit-logs/export?format=json", headers=headers)
    assert status == 200
    truth: dict[str, int] = {}
    for event in export:
        truth[event["agentId"]] = truth.get(event["agentId"], 0) + len(event["violationDetails"] or [])
    assert truth["intake"] >= 500 and truth["billing"] >= 200

    snap = snapshot_of(qtbot, DashboardPresenter(logged_in(qtbot, seeded.url, email, password)))
    assert dict(snap.by_agent) == {agent: count for agent, count in truth.items() if count}
    assert dict(snap.by_pack) == {"HIPAA": sum(truth.values())}
    assert not snap.breakdown_cut


def test_time_ranges_have_aligned_contiguous_buckets() -> None:
    now = datetime(2026, 3, 10, 15, 42, tzinfo=UTC)
    for time_range, count in ((TimeRange.DAY, 24), (TimeRange.WEEK, 28), (TimeRange.MONTH, 30)):
        buckets = time_range.buckets(now)
        assert len(buckets) == count
        assert all(a[1] == b[0] for a, b in zip(buckets, buckets[1:], strict=False))
        assert buckets[-1][0] <= now < buckets[-1][1]
    assert TimeRange.DAY.buckets(now)[-1][0] == datetime(2026, 3, 10, 15, tzinfo=UTC)
    assert TimeRange.WEEK.buckets(now)[0][1] - TimeRange.WEEK.buckets(now)[0][0] == timedelta(hours=6)


def test_resolving_an_alert_lowers_the_dashboards_open_count(qtbot: Any, seeded: Seeded,
                                                             fresh_account: tuple[str, str]) -> None:
    alerting_account(seeded.url, *fresh_account, events=2)
    api = logged_in(qtbot, seeded.url, *fresh_account)
    dashboard = DashboardPresenter(api)
    before = snapshot_of(qtbot, dashboard).kpis.open_alerts
    assert before is not None and before["critical"] >= 2
    triage = TriagePresenter(api)
    triage.set_filter("open", "critical", None)
    qtbot.waitUntil(lambda: triage.model.rowCount() == before["critical"], timeout=10_000)
    target = triage.model.alert(0)
    with qtbot.waitSignal(triage.triaged, timeout=10_000) as blocker:
        triage.act(Triage.RESOLVE, [target.id], "rotated the intake form")
    assert blocker.args[0].count == 1 and not blocker.args[0].errors
    assert triage.model.row_of(target.id) == -1  # left the open queue
    after = snapshot_of(qtbot, dashboard).kpis.open_alerts
    assert after is not None and after["critical"] == before["critical"] - 1
    stored = wait_call(qtbot, api.get_alert(target.id))
    assert (stored.status, stored.note) == ("resolved", "rotated the intake form")


def test_triage_acknowledge_false_positive_and_bulk_resolve(qtbot: Any, seeded: Seeded,
                                                           fresh_account: tuple[str, str]) -> None:
    alerting_account(seeded.url, *fresh_account, events=3)
    api = logged_in(qtbot, seeded.url, *fresh_account)
    triage = TriagePresenter(api)
    triage.set_filter(None, None, None)
    qtbot.waitUntil(lambda: triage.model.rowCount() >= 3 and not triage.model.loading, timeout=10_000)
    first, second, *rest = [triage.model.alert(row) for row in range(triage.model.rowCount())]
    for action, alert, status in ((Triage.ACKNOWLEDGE, first, "acknowledged"),
                                  (Triage.FALSE_POSITIVE, second, "false_positive")):
        with qtbot.waitSignal(triage.triaged, timeout=10_000):
            triage.act(action, [alert.id], "checked")
        row = triage.model.row_of(alert.id)
        assert triage.model.alert(row).status == status  # "any status": the row stays, updated
    with qtbot.waitSignal(triage.triaged, timeout=10_000) as blocker:
        triage.act(Triage.RESOLVE, [a.id for a in rest])
    assert blocker.args[0].count == len(rest) and not blocker.args[0].errors
    qtbot.waitUntil(lambda: not triage.model.loading, timeout=10_000)
    statuses = {wait_call(qtbot, api.get_alert(a.id)).status for a in rest}
    assert statuses == {"resolved"}


class NoStreamTransport(Transport):
    """The real transport, with the stream path pointed at a route the sidecar does not have (a 404)."""

    def stream(self, path: str, **kwargs: Any) -> Any:
        return super().stream(path + "-missing", **kwargs)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "polling"])
def test_live_feed_announces_new_events_and_alerts(qtbot: Any, seeded: Seeded, fresh_account: tuple[str, str],
                                                   stream: bool) -> None:
    alerting_account(seeded.url, *fresh_account, events=1)
    transport = Transport(seeded.url) if stream else NoStreamTransport(seeded.url)
    api = SidecarClient(transport)
    wait_call(qtbot, api.login(*fresh_account))
    feed = LiveFeed(api, poll_ms=300)
    expected = LiveMode.LIVE if stream else LiveMode.POLLING
    with qtbot.waitSignal(feed.mode_changed, timeout=10_000, check_params_cb=lambda mode: mode is expected):
        feed.start()
    logs: list[schemas.LogEvent] = []
    alerts: list[schemas.Alert] = []
    feed.log_created.connect(logs.append)
    feed.alert_created.connect(alerts.append)
    qtbot.wait(400)  # the baseline: what existed before start is not announced
    assert logs == [] and alerts == []
    [new_id] = alerting_account(seeded.url, *fresh_account, events=1)
    qtbot.waitUntil(lambda: any(e.id == new_id for e in logs) and bool(alerts), timeout=5_000)
    assert [e.id for e in logs] == [new_id]
    assert {a.audit_log_id for a in alerts} == {new_id} and alerts[0].severity == "critical"
    feed.stop()
    assert feed.mode is LiveMode.OFF


def test_live_feed_fetches_what_the_stream_says_it_missed(qtbot: Any, seeded: Seeded,
                                                         fresh_account: tuple[str, str]) -> None:
    """``stream.overflow`` (a viewer fell behind, or a sidecar could not relay another's events): the feed fetches
    what it missed, each event once."""
    api = logged_in(qtbot, seeded.url, *fresh_account)
    feed = LiveFeed(api, poll_ms=60_000)  # no periodic poll: only the overflow can bring the event
    with qtbot.waitSignal(feed.mode_changed, timeout=10_000, check_params_cb=lambda mode: mode is LiveMode.LIVE):
        feed.start()
    logs: list[schemas.LogEvent] = []
    feed.log_created.connect(logs.append)
    qtbot.wait(400)
    feed._stream.received.disconnect(feed._received)  # the stream loses what comes next  # noqa: SLF001
    [missed] = alerting_account(seeded.url, *fresh_account, events=1)
    qtbot.wait(500)
    assert logs == []
    feed._received(schemas.StreamEvent("stream.overflow", {"dropped": None}))  # noqa: SLF001
    qtbot.waitUntil(lambda: [e.id for e in logs] == [missed], timeout=5_000)
    qtbot.wait(300)
    assert [e.id for e in logs] == [missed]
    feed.stop()


def test_live_feed_reopens_the_stream_at_once_when_its_token_expires(qtbot: Any, tmp_path: Any) -> None:
    """The sidecar ends a stream whose access token expired with ``stream.closed`` (401): the feed refreshes the
    session and reopens the stream at once, not after its reconnection delay."""
    process = SidecarProcess(tmp_path / "sidecar", env={"AGENTAUDIT_ACCESS_TOKEN_SECONDS": "2"})
    url = process.start()
    try:
        status, body, _ = http(f"{url}/api/v1/auth/register", "POST",
                               {"name": "Acme", "email": "expiry@acme.test", "password": PASSWORD})
        assert status == 201, body
        api = logged_in(qtbot, url, "expiry@acme.test", PASSWORD)
        feed = LiveFeed(api, poll_ms=60_000, reconnect_ms=60_000)
        modes: list[LiveMode] = []
        with qtbot.waitSignal(feed.mode_changed, timeout=10_000, check_params_cb=lambda mode: mode is LiveMode.LIVE):
            feed.start()
        feed.mode_changed.connect(modes.append)
        first_refresh = api.refresh_token
        qtbot.waitUntil(lambda: modes == [LiveMode.POLLING, LiveMode.LIVE], timeout=8_000)
        assert api.refresh_token != first_refresh  # reopened with a refreshed session
        feed.stop()
    finally:
        process.stop()


def test_session_creates_an_organisation_and_logs_in(qtbot: Any, seeded: Seeded) -> None:
    session = SessionPresenter(SidecarClient(Transport(seeded.url)))
    errors: list[str] = []
    session.error.connect(errors.append)
    session.create_organisation("Globex", "owner@globex.test", "short", "short")
    session.create_organisation("Globex", "owner@globex.test", "long-enough-1", "long-enough-2")
    assert errors == ["The password needs at least 8 characters.", "The two passwords differ."]
    with qtbot.waitSignal(session.logged_in, timeout=10_000) as blocker:
        session.create_organisation("Globex", "owner@globex.test", "long-enough-1", "long-enough-1")
    assert blocker.args[0].organization.name == "Globex"
    with qtbot.waitSignal(session.error, timeout=10_000) as failure:
        session.create_organisation("Globex", "owner@globex.test", "long-enough-1", "long-enough-1")
    assert failure.args[0] == "An account with that email already exists. Log in instead."


def test_session_loads_the_demo_and_logs_in_to_it(qtbot: Any, seeded: Seeded) -> None:
    session = SessionPresenter(SidecarClient(Transport(seeded.url)))
    lines: list[str] = []
    session.demo_output.connect(lines.append)
    with qtbot.waitSignal(session.logged_in, timeout=30_000) as blocker:
        session.load_demo()
    assert blocker.args[0].organization.name == "Northwind Health (demo)"
    assert any("already has" in line for line in lines)  # the session's sidecar was seeded once


def test_notifier_counts_unread_critical_alerts_and_notifies_new_ones(qtbot: Any, seeded: Seeded,
                                                                      fresh_account: tuple[str, str]) -> None:
    from desktop.presenters.notifier import AlertNotifier

    alerting_account(seeded.url, *fresh_account, events=2)
    api = logged_in(qtbot, seeded.url, *fresh_account)
    notifier = AlertNotifier(api)
    with qtbot.waitSignal(notifier.unread_changed, timeout=10_000) as blocker:
        notifier.start()
    assert blocker.args == [2]
    feed = LiveFeed(api, poll_ms=300)
    feed.alert_created.connect(notifier.on_alert)
    with qtbot.waitSignal(feed.mode_changed, timeout=10_000):
        feed.start()
    qtbot.wait(300)
    with qtbot.waitSignal(notifier.notify, timeout=10_000) as note:
        alerting_account(seeded.url, *fresh_account, events=1)
    title, message = note.args
    assert title == "Critical alert (intake-0)" and message.startswith("SSN Detection")
    assert notifier.unread == 3
    notifier.mark_read()
    assert notifier.unread == 0
    feed.stop()


def test_reports_finish_on_report_ready_and_list_reports_built_elsewhere(qtbot: Any, seeded: Seeded,
                                                                        fresh_account: tuple[str, str]) -> None:
    """With the live stream open a requested report is seen ready when ``report.ready`` arrives, not at the next
    status poll (none within this test), and one requested elsewhere joins the list without a refresh."""
    api = logged_in(qtbot, seeded.url, *fresh_account)
    feed = LiveFeed(api, poll_ms=60_000)
    reports = ReportsPresenter(api, poll_ms=60_000)
    feed.report_ready.connect(reports.on_report_ready)
    with qtbot.waitSignal(feed.mode_changed, timeout=10_000, check_params_cb=lambda mode: mode is LiveMode.LIVE):
        feed.start()
    building: list[str] = []
    reports.building.connect(lambda report: building.append(report.id))
    with qtbot.waitSignal(reports.finished, timeout=20_000) as finished:
        reports.request("compliance_summary", "pdf", start=None, end=None, name="live")
    mine = finished.args[0]
    assert mine.status == "ready" and reports.watching == frozenset()

    headers = {"Authorization": f"Bearer {token_for(seeded.url, *fresh_account)}"}
    status, other, _ = http(f"{seeded.url}/api/v1/reports", "POST",
                            {"type": "alert_summary", "format": "csv", "name": "elsewhere"}, headers)
    assert status == 202, other
    qtbot.waitUntil(lambda: reports.reports.row_of(other["id"]) >= 0, timeout=20_000)
    listed = reports.reports.item(reports.reports.row_of(other["id"]))
    assert (listed.status, listed.name) == ("ready", "elsewhere")
    assert set(building) == {mine.id}  # a report this view did not request shows in the list only
    feed.stop()
