"""Reports, billing, settings and activity in the window, end to end against real parts: a sidecar child
process (with the local Stripe fake for billing), a real HTTP receiver for webhooks, a real SMTP server."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from pypdf import PdfReader

from desktop.views import reports as reports_view
from desktop.views.main_window import MainWindow
from tests.desktop.conftest import Seeded, free_port, http, token_for
from tests.desktop.views.test_views import log_in, open_window  # noqa: F401 - open_window is a fixture
from tests.helpers import PASSWORD, SidecarProcess

WAIT = 20_000


class UrlCatcher(QObject):
    """Receives what ``QDesktopServices.openUrl`` is asked to open, as Qt's URL handlers do."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def handle(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.fixture
def opened() -> Iterator[UrlCatcher]:
    catcher = UrlCatcher()
    for scheme in ("file", "http", "https"):
        QDesktopServices.setUrlHandler(scheme, catcher, "handle")
    yield catcher
    for scheme in ("file", "http", "https"):
        QDesktopServices.unsetUrlHandler(scheme)


def auth(url: str, email: str, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(url, email, password)}"}


def page(window: MainWindow, name: str) -> None:
    window.show_page(name)


# -- reports -----------------------------------------------------------------------------------------

def test_request_a_report_follow_its_progress_and_open_it(qtbot: Any, open_window: Any, seeded: Seeded,  # noqa: F811
                                                          opened: UrlCatcher, tmp_path: Path) -> None:
    window = open_window(seeded.url)
    log_in(qtbot, window, seeded.email, seeded.password)
    page(window, "reports")
    view, presenter = window.reports, window.shell.reports
    view.kind.setCurrentIndex(view.kind.findData("compliance_summary"))
    view.fmt.setCurrentIndex(view.fmt.findData("pdf"))
    view.period.setCurrentIndex(view.period.findText("Last 7 days"))
    view.name.setText("Weekly compliance (desktop test)")
    states: list[str] = []
    presenter.building.connect(lambda report: states.append(report.status))
    with qtbot.waitSignal(presenter.finished, timeout=WAIT) as finished:
        view.request_button.click()
    report = finished.args[0]
    assert report.status == "ready", report.error
    assert states[0] == "pending" and states[-1] == "ready"
    assert view.progress.isVisible() and view.progress.value() == 100
    assert view.progress_text.text().startswith("Weekly compliance (desktop test) is ready")
    row = presenter.reports.row_of(report.id)
    assert row >= 0 and view.table.selectionModel().selectedRows()[0].row() == row
    assert view.open_button.isEnabled() and view.save_button.isEnabled()

    with qtbot.waitSignal(presenter.viewable, timeout=WAIT):
        view.open_button.click()
    assert view.opened_path is not None
    pages = len(PdfReader(view.opened_path).pages)
    assert pages >= 2  # a cover page and the summary
    if reports_view.PDF_EMBEDDED:
        assert view.pdf_document.pageCount() == pages and view.pdf_view.isVisible()
        assert view.feedback.text() == f"Weekly compliance (desktop test): {pages} pages."
        assert opened.urls == []
    else:  # no QtPdf in this install: Open falls back to the system viewer
        qtbot.waitUntil(lambda: len(opened.urls) == 1, timeout=5_000)
        opened.urls.clear()
    with qtbot.waitSignal(presenter.viewable, timeout=WAIT):
        view.system_button.click()
    qtbot.waitUntil(lambda: len(opened.urls) == 1, timeout=5_000)
    assert opened.urls[0] == QUrl.fromLocalFile(str(view.opened_path))

    target = tmp_path / "saved.pdf"
    with qtbot.waitSignal(presenter.downloaded, timeout=WAIT):
        presenter.save(report, target)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == report.sha256
    status, stored, _ = http(f"{seeded.url}/api/v1/reports/{report.id}", headers=auth(seeded.url, seeded.email, seeded.password))
    assert (status, stored["status"], stored["name"]) == (200, "ready", "Weekly compliance (desktop test)")


def test_a_bad_request_says_which_field(qtbot: Any, open_window: Any, seeded: Seeded) -> None:  # noqa: F811
    window = open_window(seeded.url)
    log_in(qtbot, window, seeded.email, seeded.password)
    page(window, "reports")
    view = window.reports
    view.kind.setCurrentIndex(view.kind.findData("trace"))
    assert view.trace_id.isVisible()
    view.request_button.click()
    assert view.feedback.text() == "A trace report needs the trace id."
    view.trace_id.setText("no-such-trace")
    with qtbot.waitSignal(window.shell.reports.failed, timeout=WAIT) as failed:
        view.request_button.click()
    assert failed.args[0] == "Could not request the report: traceId: no trace no-such-trace in this organisation"
    assert view.feedback.text() == failed.args[0] and not window.shell.reports.watching


def test_create_and_delete_a_schedule_with_the_cron_helper(qtbot: Any, open_window: Any, seeded: Seeded,  # noqa: F811
                                                           fresh_account: tuple[str, str]) -> None:
    email, password = fresh_account
    window = open_window(seeded.url)
    log_in(qtbot, window, email, password)
    page(window, "reports")
    view, presenter = window.reports, window.shell.reports
    view.tabs.setCurrentIndex(1)
    view.cron_line.setText("61 * * * *")
    assert view.cron_text.text() == "the minute must be from 0 to 59, not 61"
    assert not view.create_schedule_button.isEnabled()
    view.preset.setCurrentIndex(view.preset.findText("Weekly, Monday at 07:00"))
    assert view.cron_line.text() == "0 7 * * 1"
    assert view.cron_text.text() == "At 07:00, only on Monday"
    view.cron_line.setText("30 6 * * 1-5")
    assert view.preset.currentText() == "Custom" and view.cron_text.text() == "At 06:30, Monday through Friday"
    view.schedule_kind.setCurrentIndex(view.schedule_kind.findData("alert_summary"))
    view.schedule_fmt.setCurrentIndex(view.schedule_fmt.findData("csv"))
    view.timezone.setText("Europe/Paris")
    view.schedule_name.setText("Weekday alerts")
    with qtbot.waitSignal(presenter.schedule_created, timeout=WAIT) as created:
        view.create_schedule_button.click()
    schedule = created.args[0]
    headers = auth(seeded.url, email)
    status, rows, _ = http(f"{seeded.url}/api/v1/report-schedules", headers=headers)
    assert status == 200
    assert [(r["id"], r["cron"], r["timezone"], r["type"], r["format"]) for r in rows] == [
        (schedule.id, "30 6 * * 1-5", "Europe/Paris", "alert_summary", "csv")]
    assert presenter.schedules.rowCount() == 1
    assert presenter.schedules.index(0, 3).data() == "At 06:30, Monday through Friday (Europe/Paris)"

    view.schedule_table.selectRow(0)
    with qtbot.waitSignal(presenter.schedule_deleted, timeout=WAIT):
        view.delete_schedule_button.click()
    assert presenter.schedules.rowCount() == 0
    assert http(f"{seeded.url}/api/v1/report-schedules", headers=headers)[1] == []


# -- billing -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def billing_sidecar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``agentaudit serve`` with the local Stripe fake (the real ``stripe`` library pointed at it)."""
    process = SidecarProcess(tmp_path_factory.mktemp("billing"), env={"AGENTAUDIT_STRIPE_FAKE": "1"})
    url = process.start()
    try:
        yield url
    finally:
        process.stop()


def test_billing_shows_the_plan_and_usage_and_upgrades_through_checkout(qtbot: Any, open_window: Any,  # noqa: F811
                                                                        billing_sidecar: str,
                                                                        opened: UrlCatcher) -> None:
    url, email = billing_sidecar, "owner-billing@acme.test"
    assert http(f"{url}/api/v1/auth/register", "POST", {"name": "Acme", "email": email, "password": PASSWORD})[0] == 201
    headers = auth(url, email)
    for name in ("support-bot", "billing-bot"):
        assert http(f"{url}/api/v1/agents", "POST", {"name": name}, headers)[0] == 201
    for n in range(3):
        assert http(f"{url}/api/v1/audit-logs", "POST", {"action": "llm_call", "prompt": f"hi {n}"}, headers)[0] == 201

    window = open_window(url)
    log_in(qtbot, window, email, PASSWORD)
    presenter, view = window.shell.billing, window.billing
    with qtbot.waitSignal(presenter.changed, timeout=WAIT, check_params_cb=lambda: presenter.prices is not None):
        page(window, "billing")
    assert view.plan.text() == "Free" and not view.notice.isVisible()
    assert view.events.text.text() == "3 of 5,000 (0%)"
    assert (view.agents.bar.value(), view.agents.text.text()) == (67, "2 of 3 (67%)")
    assert view.limits.text() == "5,000 events a month, 3 agents"
    assert sorted(view.upgrade_buttons) == ["business", "pro"]

    with qtbot.waitSignal(presenter.open_url, timeout=WAIT) as checkout:
        view.upgrade_buttons["pro"].click()
    qtbot.waitUntil(lambda: len(opened.urls) == 1, timeout=5_000)
    assert opened.urls[0].toString() == checkout.args[0]
    assert view.last_url == checkout.args[0]
    # the fake's checkout page: paying there sends Stripe's signed events to the sidecar
    status, page_text, _ = http(f"{checkout.args[0]}/pay", "POST")
    assert status == 200 and b"Payment complete" in page_text
    with qtbot.waitSignal(presenter.changed, timeout=WAIT):
        view.refresh_button.click()
    assert view.plan.text() == "Pro"
    assert view.events.text.text() == "3 of 50,000 (0%)" and view.agents.text.text() == "2 of 25 (8%)"
    assert list(view.upgrade_buttons) == ["business"]

    with qtbot.waitSignal(presenter.open_url, timeout=WAIT) as portal:
        view.manage_button.click()
    qtbot.waitUntil(lambda: len(opened.urls) == 2, timeout=5_000)
    assert opened.urls[1].toString() == portal.args[0] != checkout.args[0]


def test_billing_not_configured_is_a_clear_state(qtbot: Any, open_window: Any, seeded: Seeded) -> None:  # noqa: F811
    window = open_window(seeded.url)
    log_in(qtbot, window, seeded.email, seeded.password)
    with qtbot.waitSignal(window.shell.billing.changed, timeout=WAIT):
        page(window, "billing")
    view = window.billing
    assert view.notice.isVisible() and not view.plans_card.isVisible()
    assert view.plan.text() == "Self-hosted"
    assert view.status.text().startswith("Billing is not configured on this sidecar")
    assert view.events.text.text().endswith("(unlimited)")


# -- settings and activity ---------------------------------------------------------------------------

class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox, port = _Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_settings_webhook_email_retention_and_the_activity_they_leave(
        qtbot: Any, open_window: Any, seeded: Seeded, fresh_account: tuple[str, str],  # noqa: F811
        receiver: ThreadingHTTPServer, smtp: tuple[_Inbox, int]) -> None:
    email, password = fresh_account
    inbox, smtp_port = smtp
    window = open_window(seeded.url)
    log_in(qtbot, window, email, password)
    presenter, view = window.shell.settings, window.settings
    with qtbot.waitSignal(presenter.notifications_changed, timeout=WAIT):
        page(window, "settings")
    assert view.webhook_card.isVisible() and not view.role_note.isVisible()

    hook_url = f"http://127.0.0.1:{receiver.server_port}/hook"
    secret = "s3cret-for-the-desktop-test"
    view.webhook_url.setText(hook_url)
    view.webhook_secret.setText(secret)
    view.webhook_on.setChecked(True)
    view.allow_private.setChecked(True)
    with qtbot.waitSignal(presenter.saved, timeout=WAIT):
        view.save_webhook_button.click()
    headers = auth(seeded.url, email)
    stored = http(f"{seeded.url}/api/v1/notifications/settings", headers=headers)[1]
    assert (stored["webhookUrl"], stored["webhookSecretSet"], stored["notifyWebhook"],
            stored["allowPrivateWebhookTargets"]) == (hook_url, True, True, True)
    assert view.webhook_secret.text() == "" and view.webhook_secret.placeholderText().startswith("Set")

    with qtbot.waitSignal(presenter.tested, timeout=WAIT) as tested:
        view.test_webhook_button.click()
    assert tested.args[0] == "webhook" and tested.args[1].ok, tested.args[1]
    assert view.webhook_result.text() == "Test delivered."  # a private target's exact status is not recorded
    assert len(receiver.received) == 1  # type: ignore[attr-defined]
    hook_headers, body = receiver.received[0]  # type: ignore[attr-defined]
    signature = dict(part.split("=", 1) for part in hook_headers["X-AgentAudit-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{signature['t']}.".encode() + body, hashlib.sha256).hexdigest()
    assert signature["v1"] == expected
    assert json.loads(body)["event"] == "test"

    view.smtp_host.setText("127.0.0.1")
    view.smtp_port.setText(str(smtp_port))
    view.smtp_security.setCurrentIndex(view.smtp_security.findData("none"))
    view.smtp_from.setText("AgentAudit <audit@acme.test>")
    view.email_to.setText("secops@acme.test; dpo@acme.test")
    view.email_on.setChecked(True)
    with qtbot.waitSignal(presenter.saved, timeout=WAIT):
        view.save_email_button.click()
    with qtbot.waitSignal(presenter.tested, timeout=WAIT) as tested:
        view.test_email_button.click()
    assert tested.args[1].ok, tested.args[1]
    assert view.email_result.text() == "Test delivered."
    assert len(inbox.messages) == 1
    recipients, content = inbox.messages[0]
    assert recipients == ["secops@acme.test", "dpo@acme.test"]
    assert b"Subject: [AgentAudit] Test notification" in content

    view.min_severity.setCurrentIndex(view.min_severity.findData("critical"))
    view.digest.setValue(45)
    with qtbot.waitSignal(presenter.saved, timeout=WAIT):
        view.save_delivery_button.click()
    stored = http(f"{seeded.url}/api/v1/notifications/settings", headers=headers)[1]
    assert (stored["notifyMinSeverity"], stored["digestMinutes"], stored["smtp"]["port"]) == ("critical", 45, smtp_port)
    qtbot.waitUntil(lambda: "webhook test → delivered" in view.deliveries.text(), timeout=WAIT)

    view.retention.setCurrentIndex(view.retention.findText("90 days"))
    with qtbot.waitSignal(presenter.retention_changed, timeout=WAIT):
        view.save_retention_button.click()
    assert http(f"{seeded.url}/api/v1/settings/retention", headers=headers)[1]["retentionDays"] == 90
    assert view.retention_text.text().startswith("Events older than 90 days are purged")

    # the activity log shows what was just done, newest first, filtered and paged
    activity = window.shell.activity
    activity.page_size = 2
    with qtbot.waitSignal(activity.page_changed, timeout=WAIT):
        page(window, "activity")
    model = activity.model
    assert activity.total == 4  # three notification saves and one retention change
    assert [model.item(r).action for r in range(model.rowCount())] == ["settings.retention", "settings.notifications"]
    assert model.index(0, 1).data() == email
    assert window.activity.status.text() == "1–2 of 4" and window.activity.next_button.isEnabled()
    with qtbot.waitSignal(activity.page_changed, timeout=WAIT):
        window.activity.next_button.click()
    assert window.activity.status.text() == "3–4 of 4" and not window.activity.next_button.isEnabled()
    window.activity.action.setEditText("settings.retention")
    window.activity.actor.setText(email)
    with qtbot.waitSignal(activity.page_changed, timeout=WAIT):
        window.activity.apply_button.click()
    assert activity.total == 1 and model.item(0).action == "settings.retention"
    assert window.activity.status.text() == "1–1 of 1"
    window.activity.actor.setText("someone-else@acme.test")
    with qtbot.waitSignal(activity.page_changed, timeout=WAIT):
        window.activity.apply_button.click()
    assert (activity.total, model.rowCount(), window.activity.status.text()) == (0, 0, "No activity matches.")


def test_an_auditor_sees_no_owner_only_edits(qtbot: Any, open_window: Any, seeded: Seeded,  # noqa: F811
                                             fresh_account: tuple[str, str]) -> None:
    owner, _ = fresh_account
    auditor = "auditor-" + owner
    status, body, _ = http(f"{seeded.url}/api/v1/users", "POST",
                           {"email": auditor, "name": "Ada Auditor", "password": PASSWORD, "role": "auditor"},
                           auth(seeded.url, owner))
    assert status == 201, body
    window = open_window(seeded.url)
    log_in(qtbot, window, auditor, PASSWORD)
    page(window, "reports")
    assert not window.reports.request_card.isVisible() and not window.reports.schedule_form.isVisible()
    with qtbot.waitSignals([window.shell.settings.retention_changed, window.shell.settings.notifications_changed],
                           timeout=WAIT):
        page(window, "settings")
    settings = window.settings  # auditors read everything: the notification settings too, without changing them
    assert settings.webhook_card.isVisible() and settings.email_card.isVisible() and settings.log_card.isVisible()
    assert settings.webhook_url.isReadOnly() and settings.smtp_host.isReadOnly()
    assert not settings.webhook_on.isEnabled() and not settings.min_severity.isEnabled()
    assert not any(button.isVisible() for button in (settings.save_webhook_button, settings.test_webhook_button,
                                                     settings.save_email_button, settings.save_delivery_button,
                                                     settings.save_retention_button))
    assert settings.role_note.isVisible() and settings.role_note.text().startswith("You can read the notification")
    with qtbot.waitSignal(window.shell.billing.changed, timeout=WAIT):
        page(window, "billing")
    assert not window.billing.manage_button.isVisible()
    from desktop.presenters.shell import PAGES
    assert not window.sidebar.item(PAGES.index("activity")).isHidden()  # auditors read the activity log


def test_an_analyst_builds_reports_but_sees_no_settings_or_activity(qtbot: Any, open_window: Any,  # noqa: F811
                                                                    seeded: Seeded,
                                                                    fresh_account: tuple[str, str]) -> None:
    owner, _ = fresh_account
    analyst = "analyst-" + owner
    status, body, _ = http(f"{seeded.url}/api/v1/users", "POST",
                           {"email": analyst, "name": "Ana Analyst", "password": PASSWORD, "role": "analyst"},
                           auth(seeded.url, owner))
    assert status == 201, body
    window = open_window(seeded.url)
    log_in(qtbot, window, analyst, PASSWORD)
    from desktop.presenters.shell import PAGES
    assert window.sidebar.item(PAGES.index("activity")).isHidden()
    page(window, "reports")
    assert window.reports.request_card.isVisible() and window.reports.delete_button.isVisible()
    with qtbot.waitSignal(window.shell.settings.retention_changed, timeout=WAIT):
        page(window, "settings")
    assert not window.settings.webhook_card.isVisible() and window.settings.role_note.isVisible()
    with qtbot.waitSignal(window.shell.activity.failed, timeout=WAIT) as refused:  # e.g. through Ctrl+8
        page(window, "activity")
    assert refused.args[0] == "Your role cannot read the activity log (owners, admins and auditors can)."
    assert window.activity.status.text() == refused.args[0]

    with qtbot.waitSignal(window.shell.logged_out, timeout=WAIT):
        window.shell.session.logout()
    assert window.shell.reports.reports.rowCount() == 0 and window.shell.billing.subscription is None
