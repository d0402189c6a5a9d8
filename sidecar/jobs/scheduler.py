"""Background jobs on APScheduler's ``AsyncIOScheduler``: report builds, report schedules, retention.

Jobs are coroutines run on the event loop; each awaits a service, which does its blocking work off
the loop (the report builder thread, the writer, the read pool). Every job has an id and
``max_instances=1``; schedules use a :class:`CronTrigger` in their own time zone.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from sidecar import log
from sidecar.clock import datetime_to_ms
from sidecar.services.reports import ReportService
from sidecar.store.reports import ScheduleRecord

RETENTION_JOB = "reports:retention"


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekdays(field: str) -> str:
    """Crontab weekday numbers (0 or 7 Sunday, 1 Monday) as names: APScheduler 3 counts 0 as Monday."""
    parts = []
    for part in field.split(","):
        body, slash, step = part.partition("/")
        low, dash, high = body.partition("-")
        if not (low.isdigit() and (not dash or high.isdigit())):
            parts.append(part)  # *, names, or something the trigger will reject with a message
            continue
        a, b = int(low), int(high) if dash else None
        if a > 7 or (b is not None and b > 7):
            parts.append(part)
            continue
        if b is None:
            parts.append(_DAYS[a] + (slash + step if slash else ""))
        elif slash:
            parts.append(",".join(_DAYS[d] for d in range(a, b + 1)[:: int(step or 1)]))
        elif a == 0 and b >= 6 or a <= 1 and b == 7:
            parts.append("*")
        else:
            days = sorted({d % 7 for d in range(a, b + 1)})
            parts.append(",".join(_DAYS[d] for d in days))
    return ",".join(parts)


def cron_trigger(cron: str, timezone: str) -> CronTrigger:
    """A trigger for a crontab line in ``timezone``: five fields (minute hour day month weekday), or six
    with seconds first (``*/30 * * * * *``).

    Raises:
        ValueError: the line or the time zone is not valid.
    """
    fields = cron.split()
    if len(fields) == 6:
        second, minute, hour, day, month, weekday = fields
        return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                           day_of_week=_weekdays(weekday), timezone=timezone)
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (or 6 with seconds first), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_weekdays(weekday),
                       timezone=timezone)


def period_of(trigger: CronTrigger, fired_at: datetime) -> timedelta:
    """The schedule's period (the time between two consecutive firings after ``fired_at``): what a
    schedule's first report covers, ending at its firing."""
    first = trigger.get_next_fire_time(None, fired_at + timedelta(microseconds=1))
    second = trigger.get_next_fire_time(first, first + timedelta(microseconds=1)) if first else None
    if first is None or second is None:
        return timedelta(days=1)
    return max(timedelta(seconds=1), second - first)


def scheduled_time(trigger: CronTrigger, now: datetime, grace: timedelta = timedelta(minutes=10)) -> datetime:
    """The firing of ``trigger`` that a run starting at ``now`` belongs to: the latest one at or before ``now``
    (within ``grace``; else ``now``). Every sidecar computes the same value for the same firing, so the
    schedule's ``last_run_at`` lets exactly one of them build the report."""
    found = None
    moment = trigger.get_next_fire_time(None, now - grace)
    while moment is not None and moment <= now:
        found = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(microseconds=1))
    return found.astimezone(UTC) if found is not None else now


class ReportJobs:
    """Owns the scheduler; the report service tells it about new reports and schedules."""

    def __init__(self, reports: ReportService) -> None:
        self.reports = reports
        self.scheduler = AsyncIOScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1,
                                                                      "misfire_grace_time": 600})
        self._triggers: dict[str, CronTrigger] = {}

    async def start(self) -> None:
        """Start the scheduler, recover interrupted builds, register schedules and the retention job."""
        self.scheduler.start()
        self.reports.attach(build=self.submit_build, schedule_added=self.add_schedule,
                            schedule_removed=self.remove_schedule)
        pending, _ = await self.reports.recover()
        for report_id in pending:
            self.submit_build(report_id)
        for schedule in await self.reports.all_schedules():
            self.add_schedule(schedule)
        self.scheduler.add_job(self.retention, CronTrigger(hour=3, minute=17, timezone=UTC), id=RETENTION_JOB,
                               name="retention purge, daily at 03:17 UTC", replace_existing=True)
        self.scheduler.add_job(self.retention, "date", run_date=datetime.now(UTC) + timedelta(seconds=30),
                               id=RETENTION_JOB + ":startup", name="retention purge, 30 s after start",
                               replace_existing=True)

    def submit_build(self, report_id: str) -> None:
        self.scheduler.add_job(self.build, "date", args=[report_id], id=f"build:{report_id}", replace_existing=True,
                               misfire_grace_time=None)

    async def build(self, report_id: str) -> None:
        try:
            await self.reports.build(report_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # the service records failures on the report; this is a bug if reached
            log.jobs.exception("report build %s crashed", report_id)

    def add_schedule(self, schedule: ScheduleRecord) -> None:
        try:
            trigger = cron_trigger(schedule.cron, schedule.timezone)
        except ValueError as exc:
            log.jobs.error("schedule %s has an invalid cron or time zone and is skipped: %s", schedule.id, exc)
            return
        self._triggers[schedule.id] = trigger
        self.scheduler.add_job(self.fire, trigger, args=[schedule.id], id=f"schedule:{schedule.id}",
                               replace_existing=True)

    def remove_schedule(self, schedule_id: str) -> None:
        self._triggers.pop(schedule_id, None)
        try:
            self.scheduler.remove_job(f"schedule:{schedule_id}")
        except JobLookupError:
            pass

    async def fire(self, schedule_id: str, fired_at: datetime | None = None) -> None:
        """One run of a schedule: build its report over the time since its previous run."""
        trigger = self._triggers.get(schedule_id)
        when = fired_at or (scheduled_time(trigger, datetime.now(UTC)) if trigger is not None else datetime.now(UTC))
        span = period_of(trigger, when) if trigger is not None else timedelta(days=1)
        try:
            await self.reports.run_schedule(schedule_id, fired_at=datetime_to_ms(when),
                                            default_span_ms=int(span.total_seconds() * 1000))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.jobs.exception("report schedule %s failed to run", schedule_id)

    async def retention(self) -> None:
        try:
            await self.reports.purge_expired()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.jobs.exception("report retention failed")

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
