"""Report builds and report schedules: sync units of work scoped by organisation.

A report moves ``pending -> running -> ready | failed``. Only the writer changes these rows; the
builder thread reads the data it renders through its own read-only connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from sidecar.errors import Conflict, NotFound
from sidecar.ids import new_id
from sidecar.store.db import try_advisory_xact_lock
from sidecar.store.models import Report, ReportSchedule

STATUSES = ("pending", "running", "ready", "failed")


@dataclass(frozen=True, slots=True)
class ReportRecord:
    id: str
    org_id: str
    type: str
    format: str
    name: str | None
    params: dict[str, Any]
    status: str
    progress: int
    error: str | None
    attempts: int
    size_bytes: int | None
    sha256: str | None
    file_path: str | None
    schedule_id: str | None
    created_by: str | None
    created_at: int
    started_at: int | None
    finished_at: int | None

    @classmethod
    def of(cls, row: Report) -> ReportRecord:
        return cls(row.id, row.org_id, row.type, row.format, row.name, orjson.loads(row.params), row.status,
                   row.progress, row.error, row.attempts, row.size_bytes, row.sha256, row.file_path, row.schedule_id,
                   row.created_by, row.created_at, row.started_at, row.finished_at)


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    id: str
    org_id: str
    name: str | None
    type: str
    format: str
    cron: str
    timezone: str
    params: dict[str, Any]
    email_recipients: tuple[str, ...]
    is_active: bool
    created_by: str | None
    created_at: int
    last_run_at: int | None
    last_report_id: str | None

    @classmethod
    def of(cls, row: ReportSchedule) -> ScheduleRecord:
        recipients = tuple(orjson.loads(row.email_recipients)) if row.email_recipients else ()
        return cls(row.id, row.org_id, row.name, row.type, row.format, row.cron, row.timezone, orjson.loads(row.params),
                   recipients, bool(row.is_active), row.created_by, row.created_at, row.last_run_at,
                   row.last_report_id)


# -- reports ---------------------------------------------------------------------------------------

def create_report(org_id: str, *, type: str, format: str, name: str | None, params: dict[str, Any],
                  created_by: str | None, now: int, schedule_id: str | None = None) -> ReportRecord:
    row = Report.create(id=new_id("report"), org_id=org_id, type=type, format=format, name=name,
                        params=orjson.dumps(params).decode(), status="pending", progress=0, attempts=0,
                        schedule_id=schedule_id, created_by=created_by, created_at=now)
    return ReportRecord.of(row)


def _row(org_id: str, report_id: str) -> Report:
    row = Report.get_or_none((Report.id == report_id) & (Report.org_id == org_id))
    if row is None:
        raise NotFound(f"report {report_id} not found")
    return row


def get_report(org_id: str, report_id: str) -> ReportRecord:
    return ReportRecord.of(_row(org_id, report_id))


def find_report(report_id: str) -> ReportRecord | None:
    """Any organisation's report (for the builder, which acts for the system)."""
    row = Report.get_or_none(Report.id == report_id)
    return ReportRecord.of(row) if row else None


def list_reports(org_id: str, *, limit: int, offset: int, status: str | None = None,
                 type: str | None = None) -> tuple[list[ReportRecord], int]:
    """Newest first."""
    query = Report.select().where(Report.org_id == org_id)
    if status:
        query = query.where(Report.status == status)
    if type:
        query = query.where(Report.type == type)
    total = query.count()
    rows = query.order_by(Report.id.desc()).limit(limit).offset(offset)
    return [ReportRecord.of(row) for row in rows], int(total)


def delete_report(org_id: str, report_id: str) -> ReportRecord:
    """Remove the row; returns it so the caller can remove the file."""
    row = _row(org_id, report_id)
    row.delete_instance()
    return ReportRecord.of(row)


def start(report_id: str, *, now: int) -> ReportRecord | None:
    """``pending -> running``; None when the report is gone or not pending (someone else took it)."""
    changed = (Report.update(status="running", started_at=now, progress=0, error=None,
                             attempts=Report.attempts + 1)
               .where((Report.id == report_id) & (Report.status == "pending")).execute())
    if not changed:
        return None
    return ReportRecord.of(Report.get_by_id(report_id))


def set_progress(report_id: str, progress: int) -> None:
    Report.update(progress=max(0, min(99, progress))).where(
        (Report.id == report_id) & (Report.status == "running")).execute()


def finish(report_id: str, *, size_bytes: int, sha256: str, file_path: str, now: int) -> ReportRecord | None:
    """``running -> ready``; None when the report was deleted meanwhile."""
    changed = (Report.update(status="ready", progress=100, size_bytes=size_bytes, sha256=sha256, file_path=file_path,
                             finished_at=now, error=None)
               .where((Report.id == report_id) & (Report.status == "running")).execute())
    return ReportRecord.of(Report.get_by_id(report_id)) if changed else None


def fail(report_id: str, *, error: str, now: int) -> ReportRecord | None:
    changed = (Report.update(status="failed", error=error[:2000], finished_at=now)
               .where((Report.id == report_id) & (Report.status.in_(("pending", "running")))).execute())
    return ReportRecord.of(Report.get_by_id(report_id)) if changed else None


def build_lock_name(report_id: str) -> str:
    """The advisory lock a process holds while it builds the report (PostgreSQL; see ``ReportService.build``)."""
    return f"report-build:{report_id}"


def recover_interrupted(*, now: int, max_attempts: int) -> tuple[list[str], list[str]]:
    """At start: reports left ``running`` by a stopped process go back to ``pending`` (to be built again)
    or, after ``max_attempts`` tries, to ``failed``. Returns ``(resumed ids, failed ids)``.

    On PostgreSQL a report that another live sidecar is building (it holds the report's build lock)
    is left alone."""
    resumed, failed = [], []
    db = Report._meta.database
    for row in Report.select().where(Report.status == "running"):
        if not try_advisory_xact_lock(db, build_lock_name(row.id)):
            continue
        if row.attempts >= max_attempts:
            row.status, row.finished_at = "failed", now
            row.error = (f"the sidecar stopped while this report was being built ({row.attempts} attempts); "
                         "request it again")
            failed.append(row.id)
        else:
            row.status, row.progress = "pending", 0
            resumed.append(row.id)
        row.save()
    return resumed, failed


def pending_ids() -> list[str]:
    """Every pending report, oldest first (to build at start)."""
    return [row.id for row in Report.select(Report.id).where(Report.status == "pending").order_by(Report.id)]


def expired(*, before: int, limit: int = 1000) -> list[ReportRecord]:
    """Finished reports created before ``before`` (for retention)."""
    rows = (Report.select().where((Report.created_at < before) & (Report.status.in_(("ready", "failed"))))
            .order_by(Report.id).limit(limit))
    return [ReportRecord.of(row) for row in rows]


def delete_ids(ids: list[str]) -> int:
    if not ids:
        return 0
    return int(Report.delete().where(Report.id.in_(ids)).execute())


def known_files() -> set[str]:
    return {row.file_path for row in Report.select(Report.file_path).where(Report.file_path.is_null(False))}


# -- schedules -------------------------------------------------------------------------------------

def create_schedule(org_id: str, *, name: str | None, type: str, format: str, cron: str, timezone: str,
                    params: dict[str, Any], email_recipients: list[str], created_by: str | None,
                    now: int) -> ScheduleRecord:
    row = ReportSchedule.create(
        id=new_id("sched"), org_id=org_id, name=name, type=type, format=format, cron=cron, timezone=timezone,
        params=orjson.dumps(params).decode(),
        email_recipients=orjson.dumps(email_recipients).decode() if email_recipients else None,
        is_active=True, created_by=created_by, created_at=now)
    return ScheduleRecord.of(row)


def get_schedule(org_id: str, schedule_id: str) -> ScheduleRecord:
    row = ReportSchedule.get_or_none((ReportSchedule.id == schedule_id) & (ReportSchedule.org_id == org_id))
    if row is None:
        raise NotFound(f"report schedule {schedule_id} not found")
    return ScheduleRecord.of(row)


def find_schedule(schedule_id: str) -> ScheduleRecord | None:
    row = ReportSchedule.get_or_none(ReportSchedule.id == schedule_id)
    return ScheduleRecord.of(row) if row else None


def list_schedules(org_id: str, *, limit: int, offset: int) -> tuple[list[ScheduleRecord], int]:
    query = ReportSchedule.select().where(ReportSchedule.org_id == org_id)
    total = query.count()
    rows = query.order_by(ReportSchedule.id.desc()).limit(limit).offset(offset)
    return [ScheduleRecord.of(row) for row in rows], int(total)


def all_schedules() -> list[ScheduleRecord]:
    """Every active schedule of every organisation (to register with the scheduler at start)."""
    return [ScheduleRecord.of(row) for row in
            ReportSchedule.select().where(ReportSchedule.is_active == True).order_by(ReportSchedule.id)]  # noqa: E712


def delete_schedule(org_id: str, schedule_id: str) -> ScheduleRecord:
    row = ReportSchedule.get_or_none((ReportSchedule.id == schedule_id) & (ReportSchedule.org_id == org_id))
    if row is None:
        raise NotFound(f"report schedule {schedule_id} not found")
    row.delete_instance()
    return ScheduleRecord.of(row)


def schedule_fired(schedule_id: str, *, fired_at: int, report: dict[str, Any]) -> tuple[ScheduleRecord, ReportRecord]:
    """Record a run of the schedule and create its report in one transaction.

    Raises:
        NotFound: the schedule was deleted.
        Conflict: this run was already recorded (a second process or a late misfire).
    """
    query = ReportSchedule.select().where(ReportSchedule.id == schedule_id)
    if ReportSchedule._meta.database.for_update:  # PostgreSQL: other sidecars fire the same schedule
        query = query.for_update()
    row = query.first()
    if row is None:
        raise NotFound(f"report schedule {schedule_id} not found")
    if row.last_run_at is not None and row.last_run_at >= fired_at:
        raise Conflict(f"report schedule {schedule_id} already ran for {fired_at}")
    created = create_report(row.org_id, type=row.type, format=row.format, name=row.name, params=report,
                            created_by=row.created_by, now=fired_at, schedule_id=row.id)
    row.last_run_at, row.last_report_id = fired_at, created.id
    row.save()
    return ScheduleRecord.of(row), created
