"""Reports and schedules as tables, and how their values read (type names, sizes, statuses)."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QObject

from desktop.api import schemas
from desktop.models import timefmt
from desktop.models.cron import check
from desktop.models.listing import Column, ListTableModel

TYPE_NAMES = {
    "compliance_summary": "Compliance summary",
    "audit_log_export": "Audit log export",
    "alert_summary": "Alert summary",
    "agent_activity": "Agent activity",
    "trace": "Trace",
}
FORMAT_NAMES = {"pdf": "PDF", "csv": "CSV", "json": "JSON"}


def size_text(size: int | None) -> str:
    """``812 B``, ``14.2 KB``, ``3.1 MB``; ``—`` when unknown."""
    if size is None:
        return "—"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def status_text(report: schemas.Report) -> str:
    if report.status == "running":
        return f"running {report.progress}%"
    return report.status


def period_text(report: schemas.Report) -> str:
    if report.start is None and report.end is None:
        return "all time"
    start = report.start.astimezone().strftime("%Y-%m-%d") if report.start else "…"
    end = report.end.astimezone().strftime("%Y-%m-%d") if report.end else "now"
    return f"{start} → {end}"


def report_name(report: schemas.Report) -> str:
    return report.name or f"{TYPE_NAMES.get(report.type, report.type)} ({period_text(report)})"


def schedule_when(schedule: schemas.ReportSchedule) -> str:
    verdict = check(schedule.cron)
    when = verdict.description if verdict.ok else schedule.cron
    return f"{when} ({schedule.timezone})" if schedule.timezone != "UTC" else f"{when} UTC"


class ReportTableModel(ListTableModel[schemas.Report]):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__([
            Column("Name", report_name, tooltip=lambda r: r.error or r.file_name or r.id),
            Column("Type", lambda r: TYPE_NAMES.get(r.type, r.type)),
            Column("Format", lambda r: FORMAT_NAMES.get(r.format, r.format)),
            Column("Status", status_text, tooltip=lambda r: r.error or ""),
            Column("Size", lambda r: size_text(r.size_bytes)),
            Column("Requested", lambda r: timefmt.local(r.created_at, seconds=False)),
        ], status=lambda r: r.status, parent=parent)


class ScheduleTableModel(ListTableModel[schemas.ReportSchedule]):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__([
            Column("Name", lambda s: s.name or TYPE_NAMES.get(s.type, s.type)),
            Column("Type", lambda s: TYPE_NAMES.get(s.type, s.type)),
            Column("Format", lambda s: FORMAT_NAMES.get(s.format, s.format)),
            Column("When", schedule_when, tooltip=lambda s: s.cron),
            Column("Next run", lambda s: timefmt.local(s.next_run_at, seconds=False)),
        ], parent=parent)


#: The period menu of the request form: (label, days back from now; None: all time; 0: custom dates).
PERIODS: tuple[tuple[str, int | None], ...] = (
    ("Last 24 hours", 1), ("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90), ("All time", None),
    ("Custom dates", 0),
)


def period(days: int | None, now: datetime) -> tuple[datetime | None, datetime | None]:
    """The (from, to) of a period preset ending ``now``; (None, None) for all time."""
    if days is None:
        return None, None
    return now - timedelta(days=days), now
