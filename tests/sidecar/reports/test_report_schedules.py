"""Report schedules: the API, a firing (direct and by the real scheduler), the email hand-off."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sidecar.api.app import JOBS
from sidecar.api.keys import SERVICES
from sidecar.clock import parse_iso
from tests.helpers import Account, ApiClient
from tests.sidecar.reports.conftest import Seeded, wait_ready

pytestmark = pytest.mark.both_backends


class RecordingMailer:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_report(self, *, org_id: str, recipients, subject: str, body: str, attachment: Path,  # noqa: ANN001
                          filename: str, content_type: str) -> None:
        self.sent.append({"orgId": org_id, "recipients": list(recipients), "subject": subject, "body": body,
                          "bytes": attachment.read_bytes(), "filename": filename, "contentType": content_type})


async def test_schedule_crud_and_validation(api: ApiClient, owner: Account) -> None:
    created = await api.post("report-schedules", json={
        "type": "compliance_summary", "format": "pdf", "cron": "0 6 * * 1", "timezone": "Europe/Paris",
        "emailRecipients": ["ciso@acme.test"], "name": "Weekly HIPAA"}, headers=owner.jwt)
    assert created.status == 201, created.body
    body = created.body
    assert body["id"].startswith("sched_")
    assert {k: body[k] for k in ("type", "format", "cron", "timezone", "emailRecipients", "name", "lastRunAt")} == {
        "type": "compliance_summary", "format": "pdf", "cron": "0 6 * * 1", "timezone": "Europe/Paris",
        "emailRecipients": ["ciso@acme.test"], "name": "Weekly HIPAA", "lastRunAt": None}
    next_run = datetime.fromtimestamp(parse_iso(body["nextRunAt"]) / 1000, UTC)
    assert next_run.weekday() == 0 and next_run.hour in (4, 5) and next_run.minute == 0  # Monday 06:00 in Paris
    listed = await api.get("report-schedules", headers=owner.api_key)
    assert [s["id"] for s in listed.body] == [body["id"]] and listed.headers["X-Total-Count"] == "1"
    assert (await api.get(f"report-schedules/{body['id']}", headers=owner.jwt)).body["cron"] == "0 6 * * 1"

    bad = [
        ({"type": "compliance_summary", "format": "pdf"}, {"cron"}),
        ({"type": "compliance_summary", "format": "pdf", "cron": "61 * * * *"}, {"cron"}),
        ({"type": "compliance_summary", "format": "pdf", "cron": "0 6 * *"}, {"cron"}),
        ({"type": "compliance_summary", "format": "pdf", "cron": "0 6 * * *", "timezone": "Mars/Olympus"}, {"timezone"}),
        ({"type": "trace", "format": "pdf", "cron": "0 6 * * *"}, {"type"}),
        ({"type": "alert_summary", "format": "csv", "cron": "0 6 * * *", "emailRecipients": ["not-an-email"]},
         {"emailRecipients"}),
    ]
    for request, fields in bad:
        reply = await api.post("report-schedules", json=request, headers=owner.jwt)
        assert reply.status == 400 and {d["field"] for d in reply.body["details"]} == fields, (request, reply.body)

    assert (await api.delete(f"report-schedules/{body['id']}", headers=owner.jwt)).status == 204
    assert (await api.get("report-schedules", headers=owner.jwt)).body == []
    assert (await api.get(f"report-schedules/{body['id']}", headers=owner.jwt)).status == 404
    jobs = api.client.app[JOBS]
    assert jobs.scheduler.get_job(f"schedule:{body['id']}") is None


async def test_a_firing_builds_keeps_and_emails_the_report(api: ApiClient, seeded: Seeded) -> None:
    owner = seeded.account
    mailer = api.client.app[SERVICES].reports.mailer = RecordingMailer()
    created = await api.post("report-schedules", json={
        "type": "compliance_summary", "format": "csv", "cron": "0 6 * * *", "timezone": "UTC",
        "emailRecipients": ["ciso@acme.test", "dpo@acme.test"]}, headers=owner.jwt)
    schedule_id = created.body["id"]
    jobs = api.client.app[JOBS]
    assert jobs.scheduler.get_job(f"schedule:{schedule_id}") is not None
    fired = datetime.now(UTC) + timedelta(minutes=1)
    await jobs.fire(schedule_id, fired)
    reports = (await api.get("reports", headers=owner.jwt)).body
    assert len(reports) == 1 and reports[0]["scheduleId"] == schedule_id and reports[0]["status"] == "ready"
    report = reports[0]
    assert report["to"] == fired.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert parse_iso(report["to"]) - parse_iso(report["from"]) == 86_400_000  # a daily schedule covers a day
    download = await api.get(f"reports/{report['id']}/download", headers=owner.jwt)
    assert b'"eventsAudited","Events audited","9"' in download.body
    assert len(mailer.sent) == 1
    mail = mailer.sent[0]
    assert mail["recipients"] == ["ciso@acme.test", "dpo@acme.test"] and mail["bytes"] == download.body
    assert mail["filename"] == report["fileName"] and mail["contentType"] == "text/csv; charset=utf-8"
    assert report["sha256"] in mail["body"] and mail["subject"].startswith("AgentAudit compliance summary report")
    schedule = (await api.get(f"report-schedules/{schedule_id}", headers=owner.jwt)).body
    assert (schedule["lastReportId"], schedule["lastRunAt"]) == (report["id"], report["to"])

    await jobs.fire(schedule_id, fired)  # the same firing again (a second process, a late misfire): no duplicate
    assert len((await api.get("reports", headers=owner.jwt)).body) == 1
    later = fired + timedelta(days=1)
    await jobs.fire(schedule_id, later)
    newest = (await api.get("reports", headers=owner.jwt)).body[0]
    assert parse_iso(newest["from"]) == parse_iso(report["to"]) + 1  # continues where the last one ended
    assert len(mailer.sent) == 2


async def test_the_scheduler_fires_on_time(api: ApiClient, owner: Account) -> None:
    created = await api.post("report-schedules", json={"type": "agent_activity", "format": "json",
                                                      "cron": "* * * * * *"}, headers=owner.jwt)  # every second
    assert created.status == 201
    deadline = time.monotonic() + 15
    while True:
        reports = (await api.get("reports", headers=owner.jwt)).body
        if reports and reports[-1]["status"] == "ready":
            break
        assert time.monotonic() < deadline, reports
        await asyncio.sleep(0.1)
    assert (await api.delete(f"report-schedules/{created.body['id']}", headers=owner.jwt)).status == 204
    first = reports[-1]
    assert first["scheduleId"] == created.body["id"] and first["type"] == "agent_activity"
    assert parse_iso(first["to"]) - parse_iso(first["from"]) == 1000  # a per-second schedule covers a second
    done = await wait_ready(api, owner, first["id"])
    assert done["sizeBytes"] > 0


async def test_scheduled_report_is_emailed_over_smtp(api: ApiClient, seeded: Seeded, smtp) -> None:  # noqa: ANN001
    owner = seeded.account
    reply = await api.patch("notifications/settings", headers=owner.jwt, json={
        "allowPrivateWebhookTargets": True,  # the SMTP server runs on loopback
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "security": "none", "from": "AgentAudit <audit@acme.test>"}})
    assert reply.status == 200
    created = await api.post("report-schedules", json={
        "type": "compliance_summary", "format": "pdf", "cron": "0 6 * * 1", "name": "Weekly summary",
        "emailRecipients": ["ciso@acme.test"]}, headers=owner.jwt)
    await api.client.app[JOBS].fire(created.body["id"], datetime.now(UTC) + timedelta(minutes=1))
    report = (await api.get("reports", headers=owner.jwt)).body[0]
    assert report["status"] == "ready" and report["name"] == "Weekly summary"
    download = await api.get(f"reports/{report['id']}/download", headers=owner.jwt)
    deadline = time.monotonic() + 10
    while not smtp.inbox.messages:
        assert time.monotonic() < deadline, "no email arrived"
        await asyncio.sleep(0.05)
    recipients, message = smtp.inbox.messages[0]
    assert recipients == ["ciso@acme.test"] and message["From"] == "AgentAudit <audit@acme.test>"
    attachments = [part for part in message.walk() if part.get_filename()]
    assert [a.get_filename() for a in attachments] == ["Weekly-summary.pdf"]
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_payload(decode=True) == download.body
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert report["sha256"] in text and report["id"] in text
