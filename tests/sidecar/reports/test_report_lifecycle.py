"""Report lifecycle: status transitions, 409 before ready, failures, deletion, listing, validation,
permissions, isolation, the live stream, retention, and restart with a report left running."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
import time

import pytest

from sidecar.api.app import create_app
from sidecar.api.keys import SERVICES
from sidecar.services import report_content
from sidecar.settings import Settings
from tests.helpers import PASSWORD, Account, ApiClient, TestDb, open_db
from tests.sidecar.reports.conftest import Seeded, build, seed, wait_ready

pytestmark = pytest.mark.both_backends


def _db(settings: Settings) -> TestDb:
    return open_db(settings)


def _services(api: ApiClient):  # noqa: ANN202 - the app's Services
    return api.client.app[SERVICES]


async def _until(predicate, timeout: float = 10.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_pending_running_ready_and_409_before_ready(api: ApiClient, seeded: Seeded, settings: Settings) -> None:
    services = _services(api)
    gate = threading.Event()
    occupied = asyncio.ensure_future(services.reports._builder.run(gate.wait, 10))  # hold the builder thread
    try:
        created = await api.post("reports", json={"type": "compliance_summary", "format": "pdf",
                                                  "dateRangeStart": seeded.start, "dateRangeEnd": seeded.end},
                                 headers=seeded.account.jwt)
        assert created.status == 202 and created.headers["Location"] == f"/api/v1/reports/{created.body['id']}"
        assert {k: created.body[k] for k in ("status", "type", "format", "progress", "sizeBytes", "sha256")} == {
            "status": "pending", "type": "compliance_summary", "format": "pdf", "progress": 0, "sizeBytes": None,
            "sha256": None}
        assert created.body["createdAt"].endswith("Z") and created.body["from"] == seeded.start
        report_id = created.body["id"]

        async def running() -> bool:
            return (await api.get(f"reports/{report_id}", headers=seeded.account.jwt)).body["status"] == "running"

        await _until(running)
        early = await api.get(f"reports/{report_id}/download", headers=seeded.account.jwt)
        assert (early.status, early.body["code"]) == (409, "conflict")
        assert early.body["error"] == f"report {report_id} is running, not ready"
        with _db(settings) as conn:
            row = conn.execute("SELECT status, started_at, attempts, file_path FROM reports WHERE id = ?",
                               (report_id,)).fetchone()
        assert row[0] == "running" and row[1] is not None and row[2] == 1 and row[3] is None
    finally:
        gate.set()
        await occupied
    report = await wait_ready(api, seeded.account, report_id)
    assert (report["status"], report["progress"], report["downloadUrl"]) == (
        "ready", 100, f"/api/v1/reports/{report_id}/download")
    path = settings.data_dir / "reports" / seeded.account.org_id / f"{report_id}.pdf"
    assert path.is_file() and path.stat().st_size == report["sizeBytes"]
    assert not list(path.parent.glob("*.part"))
    with _db(settings) as conn:
        row = conn.execute("SELECT status, sha256, file_path, finished_at FROM reports WHERE id = ?",
                           (report_id,)).fetchone()
    assert row[:3] == ("ready", report["sha256"], str(path)) and row[3] is not None


async def test_a_failing_build_is_marked_failed(api: ApiClient, seeded: Seeded, monkeypatch) -> None:
    def broken(db, ctx):  # noqa: ANN001, ANN202
        raise RuntimeError("the disk caught fire")

    monkeypatch.setitem(report_content._BUILDERS, "alert_summary", broken)
    created = await api.post("reports", json={"type": "alert_summary", "format": "csv"}, headers=seeded.account.jwt)
    report = await wait_ready(api, seeded.account, created.body["id"])
    assert (report["status"], report["error"], report["sizeBytes"]) == (
        "failed", "RuntimeError: the disk caught fire", None)
    download = await api.get(f"reports/{report['id']}/download", headers=seeded.account.jwt)
    assert download.status == 409 and download.body["error"].endswith("is failed, not ready: RuntimeError: the disk "
                                                                      "caught fire")


async def test_list_and_delete(api: ApiClient, seeded: Seeded, settings: Settings) -> None:
    first, _ = await build(api, seeded, "agent_activity", "json")
    second, _ = await build(api, seeded, "alert_summary", "csv")
    listed = await api.get("reports", headers=seeded.account.jwt)
    assert listed.status == 200 and listed.headers["X-Total-Count"] == "2"
    assert [r["id"] for r in listed.body] == [second["id"], first["id"]]  # newest first
    only = await api.get("reports", params={"type": "agent_activity"}, headers=seeded.account.jwt)
    assert [r["id"] for r in only.body] == [first["id"]]
    bad = await api.get("reports", params={"status": "done"}, headers=seeded.account.jwt)
    assert bad.status == 400 and bad.body["details"][0]["field"] == "status"

    path = settings.data_dir / "reports" / seeded.account.org_id / f"{first['id']}.json"
    assert path.is_file()
    assert (await api.delete(f"reports/{first['id']}", headers=seeded.account.jwt)).status == 204
    assert not path.exists()
    assert (await api.get(f"reports/{first['id']}", headers=seeded.account.jwt)).status == 404
    assert (await api.delete(f"reports/{first['id']}", headers=seeded.account.jwt)).status == 404
    assert [r["id"] for r in (await api.get("reports", headers=seeded.account.jwt)).body] == [second["id"]]
    activity = await api.get("activity", params={"targetType": "report"}, headers=seeded.account.jwt)
    assert [a["action"] for a in activity.body][:2] == ["report.delete", "report.create"]


async def test_delete_while_building_stops_the_build(api: ApiClient, seeded: Seeded, settings: Settings) -> None:
    services = _services(api)
    gate = threading.Event()
    occupied = asyncio.ensure_future(services.reports._builder.run(gate.wait, 10))
    created = await api.post("reports", json={"type": "audit_log_export", "format": "csv"}, headers=seeded.account.jwt)
    report_id = created.body["id"]

    async def running() -> bool:
        return (await api.get(f"reports/{report_id}", headers=seeded.account.jwt)).body["status"] == "running"

    await _until(running)
    assert (await api.delete(f"reports/{report_id}", headers=seeded.account.jwt)).status == 204
    gate.set()
    await occupied

    async def idle() -> bool:
        return not services.reports._building

    await _until(idle)
    folder = settings.data_dir / "reports" / seeded.account.org_id
    assert not folder.exists() or not list(folder.iterdir())
    with _db(settings) as conn:
        assert conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 0


async def test_validation(api: ApiClient, owner: Account) -> None:
    cases = [
        ({}, {"type", "format"}),
        ({"type": "weekly", "format": "pdf"}, {"type"}),
        ({"type": "compliance_summary", "format": "docx"}, {"format"}),
        ({"type": "compliance_summary", "format": "pdf", "from": "yesterday"}, {"from"}),
        ({"type": "compliance_summary", "format": "pdf", "from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
         {"to"}),
        ({"type": "trace", "format": "pdf"}, {"traceId"}),
        ({"type": "compliance_summary", "format": "pdf", "showSensitive": "yes"}, {"showSensitive"}),
        ({"type": "compliance_summary", "format": "pdf", "policyId": "pol_nope"}, {"policyId"}),
        ({"type": "trace", "format": "json", "traceId": "no-such-trace"}, {"traceId"}),
    ]
    for body, fields in cases:
        reply = await api.post("reports", json=body, headers=owner.jwt)
        assert reply.status == 400, (body, reply.body)
        assert {d["field"] for d in reply.body["details"]} == fields, (body, reply.body)
    malformed = await api.post("reports", data=b"{", headers={**owner.jwt, "Content-Type": "application/json"})
    assert malformed.status == 400
    with_extra = await api.post("reports", json={"type": "agent_activity", "format": "json", "checkType": "x"},
                                headers=owner.jwt)
    assert with_extra.status == 202  # unknown keys are ignored
    assert (await api.get("reports/report_nope", headers=owner.jwt)).status == 404
    assert (await api.get("reports/report_nope/download", headers=owner.jwt)).status == 404


async def test_permissions(api: ApiClient, seeded: Seeded) -> None:
    owner = seeded.account
    created = await api.post("reports", json={"type": "agent_activity", "format": "csv"}, headers=owner.api_key)
    assert (created.status, created.body["error"]) == (403, "this API key lacks the 'admin' scope")
    report = await wait_ready(api, owner, (await api.post("reports", json={"type": "agent_activity", "format": "csv"},
                                                          headers=owner.jwt)).body["id"])
    reader = await api.get(f"reports/{report['id']}/download", headers=owner.api_key)  # logs:read may download
    assert reader.status == 200 and reader.body.startswith(b'"agentId"')
    user = await api.post("users", json={"email": "audit@acme.test", "name": "Aud", "password": PASSWORD,
                                         "role": "auditor"}, headers=owner.jwt)
    assert user.status == 201
    login = await api.post("auth/login", json={"email": "audit@acme.test", "password": PASSWORD})
    auditor = {"Authorization": f"Bearer {login.body['accessToken']}"}
    denied = await api.post("reports", json={"type": "agent_activity", "format": "csv"}, headers=auditor)
    assert denied.status == 403 and "auditor" in denied.body["error"]
    assert (await api.delete(f"reports/{report['id']}", headers=auditor)).status == 403
    assert (await api.get(f"reports/{report['id']}", headers=auditor)).body["status"] == "ready"
    assert (await api.post("report-schedules", json={"type": "agent_activity", "format": "csv", "cron": "0 6 * * *"},
                           headers=auditor)).status == 403


async def test_another_organisation_sees_nothing(api: ApiClient, seeded: Seeded, other: Account) -> None:
    report, _ = await build(api, seeded, "compliance_summary", "json")
    schedule = await api.post("report-schedules", json={"type": "compliance_summary", "format": "pdf",
                                                        "cron": "0 6 * * 1"}, headers=seeded.account.jwt)
    assert schedule.status == 201
    for headers in (other.jwt, other.api_key):
        for path in (f"reports/{report['id']}", f"reports/{report['id']}/download",
                     f"report-schedules/{schedule.body['id']}"):
            reply = await api.get(path, headers=headers)
            assert reply.status == 404, (path, reply.body)
        assert (await api.get("reports", headers=headers)).body == []
        assert (await api.get("report-schedules", headers=headers)).body == []
    assert (await api.delete(f"reports/{report['id']}", headers=other.jwt)).status == 404
    assert (await api.delete(f"report-schedules/{schedule.body['id']}", headers=other.jwt)).status == 404
    # the other organisation's own report covers only its own (empty) data
    theirs, download = await build(api, Seeded(other, seeded.start, seeded.end, [], [], {}), "compliance_summary",
                                   "json")
    assert download.body["kpis"]["eventsAudited"] == 0 and download.body["violationsByRule"] == []
    assert (await api.get(f"reports/{report['id']}", headers=seeded.account.jwt)).status == 200


async def test_ready_and_failed_reach_the_live_stream(api: ApiClient, seeded: Seeded) -> None:
    hub = _services(api).hub
    subscriber = hub.subscribe(seeded.account.org_id)
    try:
        report, _ = await build(api, seeded, "agent_activity", "json")
        seen = []
        while not subscriber.queue.empty():
            event = subscriber.queue.get_nowait()
            if event is not None and event.kind.startswith("report."):
                seen.append((event.kind, event.data["id"], event.data["sha256"]))
        assert seen == [("report.ready", report["id"], report["sha256"])]
    finally:
        hub.unsubscribe(subscriber)


async def test_retention_removes_old_reports_and_stray_files(api: ApiClient, seeded: Seeded, settings: Settings) -> None:
    old, _ = await build(api, seeded, "agent_activity", "csv")
    fresh, _ = await build(api, seeded, "agent_activity", "json")
    folder = settings.data_dir / "reports" / seeded.account.org_id
    stray = folder / "report_left_by_a_crash.pdf.part"
    stray.write_bytes(b"%PDF-")
    with _db(settings) as conn:
        conn.execute("UPDATE reports SET created_at = created_at - ? WHERE id = ?", (91 * 86_400_000, old["id"]))
    removed = await _services(api).reports.purge_expired()
    assert removed == 1
    assert (await api.get(f"reports/{old['id']}", headers=seeded.account.jwt)).status == 404
    assert sorted(p.name for p in folder.iterdir()) == [f"{fresh['id']}.json"]


@pytest.mark.sqlite_only
async def test_report_files_are_private(api: ApiClient, seeded: Seeded, settings: Settings) -> None:
    """Report files hold prompt text: 0600 like the rest of the data dir, in 0700 directories, even where an
    older version left the directory 0755."""
    reports = settings.data_dir / "reports"
    folder = reports / seeded.account.org_id
    folder.mkdir(parents=True, mode=0o755)
    os.chmod(reports, 0o755)
    os.chmod(folder, 0o755)
    report, download = await build(api, seeded, "audit_log_export", "csv")
    assert download.status == 200
    path = folder / f"{report['id']}.csv"
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in (reports, folder, path)}
    assert modes == {reports: 0o700, folder: 0o700, path: 0o600}


async def test_restart_resumes_or_fails_reports_left_running(aiohttp_client, settings: Settings) -> None:
    first = ApiClient(await aiohttp_client(create_app(settings)))
    owner = await first.new_account("owner@acme.test", name="Acme")
    data = await seed(first, owner)
    report, _ = await build(first, data, "compliance_summary", "csv")
    services = _services(first)
    gate = threading.Event()
    occupied = asyncio.ensure_future(services.reports._builder.run(gate.wait, 10))
    interrupted = (await first.post("reports", json={"type": "audit_log_export", "format": "json"},
                                    headers=owner.jwt)).body["id"]

    async def running() -> bool:
        return (await first.get(f"reports/{interrupted}", headers=owner.jwt)).body["status"] == "running"

    await _until(running)
    threading.Timer(0.3, gate.set).start()  # the stop waits for the builder, which then abandons the build
    await first.client.close()
    await occupied
    with _db(settings) as conn:
        assert conn.execute("SELECT status FROM reports WHERE id = ?", (interrupted,)).fetchone() == ("running",)
        # a report that was already interrupted once before: this is its second interruption
        conn.execute("UPDATE reports SET status = 'running', attempts = 2 WHERE id = ?", (report["id"],))
    assert not list((settings.data_dir / "reports" / owner.org_id).glob("*.part"))

    second = ApiClient(await aiohttp_client(create_app(settings)))
    login = await second.post("auth/login", json={"email": owner.email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.body['accessToken']}"}
    resumed = await wait_ready(second, Account(owner.org_id, owner.email, login.body["accessToken"], "", "", ""),
                               interrupted)
    assert resumed["status"] == "ready" and resumed["sizeBytes"] > 0
    download = await second.get(f"reports/{interrupted}/download", headers=headers)
    assert len(download.body["events"]) == 9
    failed = (await second.get(f"reports/{report['id']}", headers=headers)).body
    assert failed["status"] == "failed" and "stopped while this report was being built" in failed["error"]
    with _db(settings) as conn:
        assert conn.execute("SELECT COUNT(*) FROM reports WHERE status = 'running'").fetchone()[0] == 0
        assert conn.execute("SELECT attempts FROM reports WHERE id = ?", (interrupted,)).fetchone() == (2,)



@pytest.mark.sqlite_only
async def test_report_files_from_before_the_upgrade_become_private_at_start(aiohttp_client, tmp_path,
                                                                            caplog) -> None:
    """Files and directories an older version left 0644/0755 are tightened once at start, and logged."""
    reports = tmp_path / "data" / "reports"
    folder = reports / "org_old"
    folder.mkdir(parents=True)
    old = [folder / "report_1.csv", folder / "report_2.pdf"]
    for path in old:
        path.write_text("prompt text")
        os.chmod(path, 0o644)
    for directory in (reports, folder):
        os.chmod(directory, 0o755)
    caplog.set_level("INFO", logger="agentaudit.jobs")
    await aiohttp_client(create_app(Settings(data_dir=tmp_path / "data", port=0)))
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (reports, folder, *old)}
    assert modes == {"reports": 0o700, "org_old": 0o700, "report_1.csv": 0o600, "report_2.pdf": 0o600}
    assert [r.getMessage() for r in caplog.records if "private (files 0600" in r.getMessage()] == [
        "made 4 report files and directories private (files 0600, directories 0700)"]
