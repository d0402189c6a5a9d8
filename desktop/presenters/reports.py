"""Reports: request one (type, format, period), follow its build (the live stream's ``report.ready``, with its
status polled as well), list, download, open, delete; report schedules with the cron helper."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from desktop.api import schemas
from desktop.api.client import SidecarClient
from desktop.api.errors import ApiError
from desktop.models import access
from desktop.models.cron import check
from desktop.models.reports import ReportTableModel, ScheduleTableModel, report_name

POLL_MS = 500


def say(error: ApiError) -> str:
    """An error as one sentence, naming each bad field of a 400."""
    if error.details:
        return "; ".join(f"{d.field}: {d.message}" for d in error.details)
    return error.message


class ReportsPresenter(QObject):
    """Signals:
        building(object): a requested report changed (pending, running n %, ready or failed).
        finished(object): a requested report is ready or failed (a :class:`schemas.Report`).
        downloaded(object, object): (report, path) of a saved file.
        viewable(object, object): (report, path) of a file fetched to be opened.
        schedule_created(object), schedule_deleted(str).
        failed(str): a sentence for the user.
    """

    building = Signal(object)
    finished = Signal(object)
    downloaded = Signal(object, object)
    viewable = Signal(object, object)
    schedule_created = Signal(object)
    schedule_deleted = Signal(str)
    failed = Signal(str)

    def __init__(self, client: SidecarClient, *, poll_ms: int = POLL_MS, cache_dir: Path | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self.reports = ReportTableModel(self)
        self.schedules = ScheduleTableModel(self)
        self._watching: set[str] = set()
        self._polling: set[str] = set()
        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self._poll_now)
        self._cache = cache_dir

    @property
    def can_write(self) -> bool:
        user = self._client.user
        return user is not None and access.can_build_reports(user.role)

    @property
    def watching(self) -> frozenset[str]:
        """Ids of the reports being built that this presenter follows."""
        return frozenset(self._watching)

    def cache_dir(self) -> Path:
        """Where files fetched for viewing go: the user's cache dir unless one was given. Not a temporary
        directory: a system viewer may still be reading a file after this app has quit."""
        if self._cache is None:
            base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
            self._cache = Path(base or tempfile.gettempdir()) / "reports"
        self._cache.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self._cache

    # -- lists ---------------------------------------------------------------------------------------

    def refresh(self) -> None:
        reports = self._client.list_reports()
        reports.done.connect(self._reports_loaded)
        reports.failed.connect(lambda error: self.failed.emit(f"Could not list the reports: {say(error)}"))
        schedules = self._client.list_schedules()
        schedules.done.connect(lambda listing: self.schedules.set_rows(listing.items))
        schedules.failed.connect(lambda error: self.failed.emit(f"Could not list the schedules: {say(error)}"))

    def _reports_loaded(self, listing: schemas.Listing) -> None:
        self.reports.set_rows(listing.items)
        for report in listing.items:
            if not report.finished and report.id in self._watching:
                self._start_polling()

    # -- requesting and following --------------------------------------------------------------------

    def request(self, kind: str, fmt: str, *, start: datetime | None, end: datetime | None, name: str = "",
                trace_id: str = "") -> None:
        if kind not in schemas.REPORT_TYPES or fmt not in schemas.REPORT_FORMATS:
            self.failed.emit("Choose a report type and a format.")
            return
        if start is not None and end is not None and end < start:
            self.failed.emit("The period ends before it starts.")
            return
        if kind == "trace" and not trace_id.strip():
            self.failed.emit("A trace report needs the trace id.")
            return
        call = self._client.create_report(kind, fmt, start=start, end=end, name=name, trace_id=trace_id)
        call.done.connect(self._requested)
        call.failed.connect(lambda error: self.failed.emit(f"Could not request the report: {say(error)}"))

    def _requested(self, report: schemas.Report) -> None:
        row = self.reports.row_of(report.id)
        if row >= 0 and self.reports.item(row).finished:  # report.ready came before the answer to the request
            report = self.reports.item(row)
        self._watching.add(report.id)
        self._update(report)
        if report.id in self._watching:
            self._start_polling()

    def on_report_ready(self, report_id: str) -> None:
        """A ``report.ready`` from the live stream: fetch that report now instead of at the next status poll (a
        report followed here finishes at once; one built by a schedule or another user joins the list)."""
        if report_id in self._polling:
            return
        self._polling.add(report_id)
        call = self._client.get_report(report_id)
        call.done.connect(self._polled)
        call.failed.connect(lambda _error: self._polling.discard(report_id))  # deleted meanwhile: nothing to show

    def _start_polling(self) -> None:
        if not self._poll.isActive():
            self._poll.start()

    def _poll_now(self) -> None:
        waiting = [rid for rid in self._watching if rid not in self._polling]
        if not self._watching:
            self._poll.stop()
            return
        for report_id in waiting:
            self._polling.add(report_id)
            call = self._client.get_report(report_id)
            call.done.connect(self._polled)
            call.failed.connect(lambda error, rid=report_id: self._poll_failed(rid, error))

    def _polled(self, report: schemas.Report) -> None:
        self._polling.discard(report.id)
        self._update(report)

    def _poll_failed(self, report_id: str, error: ApiError) -> None:
        self._polling.discard(report_id)
        if not error.is_network:  # gone (deleted elsewhere) or refused: stop following it
            self._watching.discard(report_id)
            self.failed.emit(f"Could not follow the report: {say(error)}")

    def _update(self, report: schemas.Report) -> None:
        self.reports.upsert(report)
        if report.id not in self._watching:  # announced by the live stream: only the list shows it
            return
        self.building.emit(report)
        if report.finished:
            self._watching.discard(report.id)
            if not self._watching:
                self._poll.stop()
            self.finished.emit(report)

    # -- files ---------------------------------------------------------------------------------------

    def save(self, report: schemas.Report, destination: Path) -> None:
        """Download a ready report into ``destination`` (``downloaded`` when written)."""
        call = self._client.download_report(report.id, destination)
        call.done.connect(lambda path: self.downloaded.emit(report, path))
        call.failed.connect(lambda error: self.failed.emit(f"Could not download the report: {say(error)}"))

    def fetch_for_viewing(self, report: schemas.Report) -> None:
        """Download a ready report into the cache (``viewable`` when there)."""
        if report.status != "ready":
            self.failed.emit(f"“{report_name(report)}” is not ready ({report.status}).")
            return
        name = report.file_name or f"{report.id}.{report.format}"
        destination = self.cache_dir() / f"{report.id}-{Path(name).name}"
        call = self._client.download_report(report.id, destination)
        call.done.connect(lambda path: self.viewable.emit(report, path))
        call.failed.connect(lambda error: self.failed.emit(f"Could not fetch the report: {say(error)}"))

    def delete(self, report_id: str) -> None:
        call = self._client.delete_report(report_id)
        call.done.connect(lambda _none: self._deleted(report_id))
        call.failed.connect(lambda error: self.failed.emit(f"Could not delete the report: {say(error)}"))

    def _deleted(self, report_id: str) -> None:
        self._watching.discard(report_id)
        self.reports.remove(report_id)

    # -- schedules -----------------------------------------------------------------------------------

    def create_schedule(self, kind: str, fmt: str, cron: str, timezone: str = "UTC", *, name: str = "",
                        recipients: str = "") -> None:
        verdict = check(cron)
        if not verdict.ok:
            self.failed.emit(f"The schedule's cron line is not valid: {verdict.error}.")
            return
        emails = [part.strip() for part in recipients.replace(";", ",").split(",") if part.strip()]
        call = self._client.create_schedule(kind, fmt, " ".join(cron.split()), timezone.strip() or "UTC",
                                            name=name, email_recipients=emails)
        call.done.connect(self._schedule_created)
        call.failed.connect(lambda error: self.failed.emit(f"Could not create the schedule: {say(error)}"))

    def _schedule_created(self, schedule: schemas.ReportSchedule) -> None:
        self.schedules.upsert(schedule)
        self.schedule_created.emit(schedule)

    def delete_schedule(self, schedule_id: str) -> None:
        call = self._client.delete_schedule(schedule_id)
        call.done.connect(lambda _none: self._schedule_deleted(schedule_id))
        call.failed.connect(lambda error: self.failed.emit(f"Could not delete the schedule: {say(error)}"))

    def _schedule_deleted(self, schedule_id: str) -> None:
        self.schedules.remove(schedule_id)
        self.schedule_deleted.emit(schedule_id)

    def stop(self) -> None:
        """Stop following builds and forget the lists (logout)."""
        self._poll.stop()
        self._watching.clear()
        self._polling.clear()
        self.reports.set_rows([])
        self.schedules.set_rows([])
