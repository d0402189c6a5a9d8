"""Reports: requests, background builds, files, schedules, retention.

A build runs on its own thread with its own read-only connection (one build at a time, so a large
export never starves the API's read pool, and the CPU-heavy rendering never runs on the event
loop). It writes ``<data dir>/reports/<org>/<report id>.<ext>`` through a ``.part`` file renamed
when complete, hashes it, and only then marks the report ready.

Scheduling is the jobs layer's business: it registers itself here (:meth:`ReportService.attach`)
so a new report or schedule reaches it, and calls :meth:`build`, :meth:`run_schedule` and
:meth:`purge_expired`. Without it (the CLI), :func:`render_report` builds synchronously.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peewee import Database

from sidecar import log
from sidecar.clock import now_ms, to_iso
from sidecar.errors import Conflict, FieldError, InvalidInput, NotFound
from sidecar.services.events import EventHub
from sidecar.services.principal import Principal
from sidecar.services.report_content import BuildContext, IntegritySource, chain_head_integrity
from sidecar.services.report_files import (CONTENT_TYPES, BuildResult, LoggingMailer, ReportMailer, file_name,
                                           private_directory, render_report, tighten_modes)
from sidecar.store import activity
from sidecar.store import logs as log_store
from sidecar.store import notifications as outbox
from sidecar.store import reports as store
from sidecar.store.db import ReadPool, is_postgres, session_unlock, try_session_lock
from sidecar.store.models import Policy
from sidecar.store.report_queries import tune_for_reports
from sidecar.store.reports import ReportRecord, ScheduleRecord
from sidecar.store.writer import Writer

MAX_ATTEMPTS = 2
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """A validated ``POST /reports`` body."""

    type: str
    format: str
    start_ms: int | None = None
    end_ms: int | None = None
    name: str | None = None
    agent_id: str | None = None
    policy_id: str | None = None
    trace_id: str | None = None
    show_sensitive: bool = False


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    type: str
    format: str
    cron: str
    timezone: str
    email_recipients: tuple[str, ...] = ()
    name: str | None = None
    agent_id: str | None = None
    policy_id: str | None = None
    show_sensitive: bool = False


@dataclass(slots=True)
class _Hooks:
    """What the jobs layer wants to hear about."""

    build: Callable[[str], None] | None = None
    schedule_added: Callable[[ScheduleRecord], None] | None = None
    schedule_removed: Callable[[str], None] | None = None


class _Cancelled(Exception):
    pass


class ReportService:
    def __init__(self, writer: Writer, reads: ReadPool, db: Database, hub: EventHub, *, data_dir: Path,
                 retention_days: int = 90, mailer: ReportMailer | None = None,
                 integrity: IntegritySource = chain_head_integrity, clock: Callable[[], int] = now_ms) -> None:
        self._writer = writer
        self._reads = reads
        self._db = db
        self._hub = hub
        self.directory = data_dir / "reports"
        self.retention_days = retention_days
        self.mailer: ReportMailer = mailer or LoggingMailer()
        self.integrity = integrity
        self._clock = clock
        self._builder = ReadPool(db, threads=1)
        # PostgreSQL: one connection of its own holds the build locks of this process's builds
        self._locks = ReadPool(db, threads=1) if is_postgres(db) else None
        self._hooks = _Hooks()
        self._building: set[str] = set()
        self.on_outbox: Callable[[], None] | None = None  # wakes the notification worker
        self._cancelled: set[str] = set()
        self._stopping = False

    def attach(self, *, build: Callable[[str], None], schedule_added: Callable[[ScheduleRecord], None],
               schedule_removed: Callable[[str], None]) -> None:
        """Called by the jobs layer: where to send new builds and schedule changes."""
        self._hooks = _Hooks(build, schedule_added, schedule_removed)

    # -- requests --------------------------------------------------------------------------------

    async def _check_scope(self, principal: Principal, *, policy_id: str | None, trace_id: str | None) -> None:
        def work() -> list[FieldError]:
            problems = []
            if policy_id is not None and not Policy.select().where(
                    (Policy.id == policy_id) & (Policy.org_id == principal.org_id)).exists():
                problems.append(FieldError("policyId", f"no policy {policy_id} in this organisation"))
            if trace_id is not None and log_store.count_trace_spans(self._db, principal.org_id, trace_id) == 0:
                problems.append(FieldError("traceId", f"no trace {trace_id} in this organisation"))
            return problems

        problems = await self._reads.run(work)
        if problems:
            raise InvalidInput.fields(problems)

    async def create(self, principal: Principal, request: ReportRequest) -> ReportRecord:
        """Record a pending report and hand it to the scheduler. Raises InvalidInput for an unknown policy or trace."""
        await self._check_scope(principal, policy_id=request.policy_id, trace_id=request.trace_id)
        now = self._clock()
        params: dict[str, Any] = {"showSensitive": request.show_sensitive}
        if request.type == "trace":
            params["traceId"] = request.trace_id
        else:
            end = request.end_ms if request.end_ms is not None else now
            params["from"] = request.start_ms if request.start_ms is not None else end - 30 * DAY_MS
            params["to"] = end
        for key, value in (("agentId", request.agent_id), ("policyId", request.policy_id), ("name", request.name)):
            if value is not None:
                params[key] = value

        def unit() -> ReportRecord:
            record = store.create_report(principal.org_id, type=request.type, format=request.format,
                                         name=request.name, params=params, created_by=principal.actor, now=now)
            activity.record(principal.org_id, actor=principal.actor, action="report.create", target_type="report",
                            target_id=record.id, details={"type": request.type, "format": request.format}, now=now)
            return record

        record = await self._writer.run(unit)
        self._dispatch(record.id)
        return record

    def _dispatch(self, report_id: str) -> None:
        if self._hooks.build is not None:
            self._hooks.build(report_id)

    async def get(self, principal: Principal, report_id: str) -> ReportRecord:
        return await self._reads.run(store.get_report, principal.org_id, report_id)

    async def list(self, principal: Principal, *, limit: int, offset: int, status: str | None = None,
                   type: str | None = None) -> tuple[list[ReportRecord], int]:
        return await self._reads.run(store.list_reports, principal.org_id, limit=limit, offset=offset, status=status,
                                     type=type)

    async def delete(self, principal: Principal, report_id: str) -> None:
        """Remove a report (stopping its build if one is running) and its file."""
        now = self._clock()

        def unit() -> ReportRecord:
            record = store.delete_report(principal.org_id, report_id)
            activity.record(principal.org_id, actor=principal.actor, action="report.delete", target_type="report",
                            target_id=report_id, details=None, now=now)
            return record

        record = await self._writer.run(unit)
        if report_id in self._building:
            self._cancelled.add(report_id)
        self._remove_file(record)

    def _remove_file(self, record: ReportRecord) -> None:
        path = self.path_for(record)
        for candidate in (path, path.with_name(path.name + ".part")):
            try:
                candidate.unlink(missing_ok=True)
            except OSError as exc:
                log.jobs.error("could not remove report file %s: %s", candidate, exc)

    def path_for(self, record: ReportRecord) -> Path:
        return self.directory / record.org_id / f"{record.id}.{record.format}"

    async def download(self, principal: Principal, report_id: str) -> tuple[ReportRecord, Path]:
        """The ready report and its file. Raises NotFound, or Conflict while it is not ready."""
        record = await self.get(principal, report_id)
        if record.status != "ready":
            detail = f": {record.error}" if record.status == "failed" and record.error else ""
            raise Conflict(f"report {report_id} is {record.status}, not ready{detail}")
        path = Path(record.file_path) if record.file_path else self.path_for(record)
        if not path.is_file():
            raise NotFound(f"the file of report {report_id} is gone (removed from {path.parent})")
        return record, path

    # -- building --------------------------------------------------------------------------------

    async def build(self, report_id: str) -> ReportRecord | None:
        """Build one pending report: running, then ready or failed. None when it is not pending any more.

        On PostgreSQL this process's lock connection holds the report's advisory lock for the whole build,
        so another sidecar neither builds it too nor, at its start, takes it for interrupted.
        """
        if report_id in self._building:
            return None
        if self._locks is None:
            return await self._build(report_id)
        lock = store.build_lock_name(report_id)
        if not await self._locks.run(try_session_lock, self._db, lock):
            return None  # another sidecar is building it
        try:
            return await self._build(report_id)
        finally:
            try:
                await self._locks.run(session_unlock, self._db, lock)
            except RuntimeError:  # shut down: the lock connection closed, which released the lock
                pass

    async def _build(self, report_id: str) -> ReportRecord | None:
        record = await self._writer.run(store.start, report_id, now=self._clock())
        if record is None:
            return None
        self._building.add(report_id)
        loop = asyncio.get_running_loop()
        last = [0]

        def progress(fraction: float) -> None:  # on the builder thread
            if report_id in self._cancelled:
                raise _Cancelled()
            pct = int(max(0.0, min(1.0, fraction)) * 100)
            if pct >= last[0] + 5:
                last[0] = pct
                try:
                    asyncio.run_coroutine_threadsafe(self._writer.run(store.set_progress, report_id, pct), loop)
                except RuntimeError:  # the loop is closing: the build is being abandoned anyway
                    raise _Cancelled() from None

        ctx = BuildContext(record.id, record.org_id, record.type, record.params, self._clock(), self.integrity, progress)
        log.jobs.info("building report %s (%s, %s)", record.id, record.type, record.format)
        try:
            result = await self._builder.run(self._build_sync, ctx, record.format, self.path_for(record))
        except _Cancelled:
            self._discard_partial(record)
            if self._stopping:
                log.jobs.info("report %s interrupted by shutdown; it resumes at the next start", record.id)
            return None
        except Exception as exc:  # a failed build is recorded on the report and logged once
            log.jobs.exception("report %s failed", record.id)
            message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            failed = await self._writer.run(store.fail, record.id, error=message, now=self._clock())
            if failed is not None:
                self._hub.publish(record.org_id, "report.failed", {"id": record.id, "type": record.type,
                                                                  "status": "failed", "error": message})
            return failed
        finally:
            self._building.discard(report_id)
            self._cancelled.discard(report_id)
        now = self._clock()

        def finish_and_announce() -> ReportRecord | None:
            """Mark it ready and queue the ``report.ready`` webhook in the same transaction."""
            done = store.finish(record.id, size_bytes=result.size, sha256=result.sha256, file_path=str(result.path),
                                now=now)
            if done is not None:
                outbox.enqueue(done.org_id, "report.ready", {
                    "id": done.id, "type": done.type, "format": done.format, "status": "ready",
                    "sizeBytes": done.size_bytes, "sha256": done.sha256}, now)
            return done

        ready = await self._writer.run(finish_and_announce)
        if ready is not None and self.on_outbox is not None:
            self.on_outbox()
        if ready is None:  # deleted while we wrote it
            result.path.unlink(missing_ok=True)
            return None
        log.jobs.info("report %s ready: %d bytes, sha256 %s", ready.id, ready.size_bytes, ready.sha256)
        self._hub.publish(ready.org_id, "report.ready", {"id": ready.id, "type": ready.type, "format": ready.format,
                                                         "status": "ready", "sizeBytes": ready.size_bytes,
                                                         "sha256": ready.sha256})
        if ready.schedule_id is not None:
            await self._email(ready, result.path)
        return ready

    def _build_sync(self, ctx: BuildContext, fmt: str, out: Path) -> BuildResult:
        tune_for_reports(self._db)  # this thread's own connection
        private_directory(self.directory, out.parent)  # reports/ and reports/<org>/: 0700
        with self._db.atomic():  # one read transaction: every figure comes from the same snapshot
            return render_report(self._db, ctx, fmt, out)

    def _discard_partial(self, record: ReportRecord) -> None:
        path = self.path_for(record)
        path.with_name(path.name + ".part").unlink(missing_ok=True)

    async def _email(self, record: ReportRecord, path: Path) -> None:
        schedule = await self._reads.run(store.find_schedule, record.schedule_id or "")
        if schedule is None or not schedule.email_recipients:
            return
        params = record.params
        period = f"{(to_iso(params.get('from')) or '')[:10]} to {(to_iso(params.get('to')) or '')[:10]}"
        subject = f"AgentAudit {record.type.replace('_', ' ')} report, {period}"
        body = (f"The scheduled report {schedule.name or schedule.id} is attached ({record.format.upper()}, "
                f"{record.size_bytes:,} bytes).\nSHA-256: {record.sha256}\nReport ID: {record.id}\n")
        try:
            await self.mailer.send_report(org_id=record.org_id, recipients=schedule.email_recipients, subject=subject,
                                          body=body, attachment=path, filename=file_name(record),
                                          content_type=CONTENT_TYPES[record.format])
        except Exception:  # the report is built and kept; the delivery failure is logged once
            log.jobs.exception("could not email report %s to %s", record.id, ", ".join(schedule.email_recipients))

    async def recover(self) -> tuple[list[str], list[str]]:
        """At start: report files and directories an older version left readable by others become private;
        reports a stopped process left running go back to pending (or fail after
        :data:`MAX_ATTEMPTS`). Returns ``(pending ids to build, failed ids)``."""
        tightened = await asyncio.to_thread(tighten_modes, self.directory)
        if tightened:
            log.jobs.info("made %d report files and directories private (files 0600, directories 0700)", tightened)
        resumed, failed = await self._writer.run(store.recover_interrupted, now=self._clock(), max_attempts=MAX_ATTEMPTS)
        for report_id in resumed:
            log.jobs.warning("report %s was interrupted by a stop; building it again", report_id)
        for report_id in failed:
            log.jobs.error("report %s was interrupted %d times; marked failed", report_id, MAX_ATTEMPTS)
        pending = await self._reads.run(store.pending_ids)
        return pending, failed

    # -- schedules -------------------------------------------------------------------------------

    async def create_schedule(self, principal: Principal, request: ScheduleRequest) -> ScheduleRecord:
        await self._check_scope(principal, policy_id=request.policy_id, trace_id=None)
        now = self._clock()
        params: dict[str, Any] = {"showSensitive": request.show_sensitive}
        for key, value in (("agentId", request.agent_id), ("policyId", request.policy_id)):
            if value is not None:
                params[key] = value

        def unit() -> ScheduleRecord:
            record = store.create_schedule(principal.org_id, name=request.name, type=request.type,
                                           format=request.format, cron=request.cron, timezone=request.timezone,
                                           params=params, email_recipients=list(request.email_recipients),
                                           created_by=principal.actor, now=now)
            activity.record(principal.org_id, actor=principal.actor, action="report_schedule.create",
                            target_type="report_schedule", target_id=record.id,
                            details={"type": request.type, "cron": request.cron, "timezone": request.timezone}, now=now)
            return record

        record = await self._writer.run(unit)
        if self._hooks.schedule_added is not None:
            self._hooks.schedule_added(record)
        return record

    async def list_schedules(self, principal: Principal, *, limit: int, offset: int) -> tuple[list[ScheduleRecord], int]:
        return await self._reads.run(store.list_schedules, principal.org_id, limit=limit, offset=offset)

    async def get_schedule(self, principal: Principal, schedule_id: str) -> ScheduleRecord:
        return await self._reads.run(store.get_schedule, principal.org_id, schedule_id)

    async def delete_schedule(self, principal: Principal, schedule_id: str) -> None:
        now = self._clock()

        def unit() -> None:
            store.delete_schedule(principal.org_id, schedule_id)
            activity.record(principal.org_id, actor=principal.actor, action="report_schedule.delete",
                            target_type="report_schedule", target_id=schedule_id, details=None, now=now)

        await self._writer.run(unit)
        if self._hooks.schedule_removed is not None:
            self._hooks.schedule_removed(schedule_id)

    async def all_schedules(self) -> list[ScheduleRecord]:
        return await self._reads.run(store.all_schedules)

    async def run_schedule(self, schedule_id: str, *, fired_at: int, default_span_ms: int) -> ReportRecord | None:
        """One firing of a schedule: a report over the time since its last run (or ``default_span_ms`` the
        first time), built now. None when the schedule is gone or this firing was already recorded."""
        schedule = await self._reads.run(store.find_schedule, schedule_id)
        if schedule is None:
            return None
        start = schedule.last_run_at + 1 if schedule.last_run_at is not None else fired_at - default_span_ms
        params = {**schedule.params, "from": start, "to": fired_at}
        if schedule.name:
            params["name"] = schedule.name
        try:
            _, record = await self._writer.run(store.schedule_fired, schedule_id, fired_at=fired_at, report=params)
        except (NotFound, Conflict) as exc:
            log.jobs.info("schedule %s not run: %s", schedule_id, exc)
            return None
        log.jobs.info("schedule %s fired: report %s", schedule_id, record.id)
        return await self.build(record.id)

    # -- retention -------------------------------------------------------------------------------

    async def purge_expired(self, *, now: int | None = None) -> int:
        """Remove finished reports (rows and files) older than the retention period, and stray files."""
        now = self._clock() if now is None else now
        before = now - self.retention_days * DAY_MS
        removed = 0
        while True:
            old = await self._reads.run(store.expired, before=before)
            if not old:
                break
            await self._writer.run(store.delete_ids, [r.id for r in old])
            for record in old:
                self._remove_file(record)
            removed += len(old)
        known = await self._reads.run(store.known_files)
        await asyncio.get_running_loop().run_in_executor(None, self._sweep_strays, known, before)
        if removed:
            log.jobs.info("retention removed %d reports older than %d days", removed, self.retention_days)
        return removed

    def _sweep_strays(self, known: set[str], before: int) -> None:
        """Files left by a crash (``.part``) or whose report row is gone, once older than the retention cut."""
        if not self.directory.is_dir():
            return
        building = {f"{report_id}." for report_id in self._building}
        for path in self.directory.glob("*/*"):
            if str(path) in known or any(path.name.startswith(prefix) for prefix in building):
                continue
            try:
                if path.stat().st_mtime * 1000 < before or path.name.endswith(".part"):
                    path.unlink()
            except OSError:
                continue

    async def aclose(self) -> None:
        """Stop running builds at their next step (they stay ``running`` and resume at the next start),
        then close the builder thread without blocking the loop."""
        self._stopping = True
        self._cancelled.update(self._building)
        await asyncio.get_running_loop().run_in_executor(None, self._builder.close)
        if self._locks is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._locks.close)



__all__ = ["CONTENT_TYPES", "BuildResult", "LoggingMailer", "ReportMailer", "ReportRequest", "ReportService",
           "ScheduleRequest", "file_name", "render_report"]
