"""Request validation for reports and report schedules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import available_timezones

from sidecar.api.schemas import Fields, _query_choice
from sidecar.errors import FieldError, InvalidInput
from sidecar.jobs.scheduler import cron_trigger
from sidecar.services.report_content import FORMATS, TYPES
from sidecar.services.reports import ReportRequest, ScheduleRequest
from sidecar.store.reports import STATUSES

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}")
MAX_RECIPIENTS = 20


def _flag(fields: Fields, *names: str) -> bool:
    for name in names:
        value = fields.body.get(name)
        if value is None:
            continue
        if not isinstance(value, bool):
            fields.bad(name, "must be true or false")
            return False
        return value
    return False


def _time(fields: Fields, *names: str) -> int | None:
    """The first of ``names`` present (``from`` or its alias ``dateRangeStart``)."""
    for name in names:
        if fields.body.get(name) is not None:
            return fields.timestamp(name)
    return None


def report_request(body: Any) -> ReportRequest:
    """A ``POST /reports`` body."""
    fields = Fields(body)
    kind = fields.choice("type", TYPES, required=True)
    fmt = fields.choice("format", FORMATS, required=True)
    start = _time(fields, "from", "dateRangeStart", "startDate")
    end = _time(fields, "to", "dateRangeEnd", "endDate")
    if start is not None and end is not None and end < start:
        fields.bad("to", "must not be before from")
    name = fields.string("name", min_len=1, max_len=200, strip=True)
    agent_id = fields.string("agentId", min_len=1, max_len=200)
    policy_id = fields.string("policyId", min_len=1, max_len=40)
    trace_id = fields.string("traceId", min_len=1, max_len=200)
    if kind == "trace" and trace_id is None and not any(e.field == "traceId" for e in fields.errors):
        fields.bad("traceId", "is required for a trace report")
    show = _flag(fields, "showSensitive", "includeSensitive")
    fields.done()
    return ReportRequest(type=kind or "", format=fmt or "", start_ms=start, end_ms=end, name=name, agent_id=agent_id,
                         policy_id=policy_id, trace_id=trace_id, show_sensitive=show)


def report_list_filter(query: Mapping[str, str]) -> tuple[str | None, str | None]:
    return _query_choice(query, "status", STATUSES), _query_choice(query, "type", TYPES)


def schedule_request(body: Any) -> ScheduleRequest:
    """A ``POST /report-schedules`` body."""
    fields = Fields(body)
    kind = fields.choice("type", tuple(t for t in TYPES if t != "trace"), required=True)
    fmt = fields.choice("format", FORMATS, required=True)
    cron = fields.string("cron", required=True, min_len=1, max_len=120, strip=True)
    timezone = fields.string("timezone", min_len=1, max_len=64, strip=True) or "UTC"
    if timezone not in available_timezones() and timezone != "UTC":
        fields.bad("timezone", "must be an IANA time zone such as Europe/Paris or UTC")
    elif cron is not None:
        try:
            cron_trigger(cron, timezone)
        except ValueError as exc:
            fields.bad("cron", f"must be a crontab line (minute hour day month weekday, or seconds first): {exc}")
    recipients = fields.string_list("emailRecipients") or []
    bad = [r for r in recipients if not _EMAIL.fullmatch(r)]
    if bad:
        fields.bad("emailRecipients", f"{bad[0]!r} is not an email address")
    if len(recipients) > MAX_RECIPIENTS:
        fields.bad("emailRecipients", f"at most {MAX_RECIPIENTS} recipients")
    name = fields.string("name", min_len=1, max_len=200, strip=True)
    agent_id = fields.string("agentId", min_len=1, max_len=200)
    policy_id = fields.string("policyId", min_len=1, max_len=40)
    show = _flag(fields, "showSensitive", "includeSensitive")
    fields.done()
    return ScheduleRequest(type=kind or "", format=fmt or "", cron=cron or "", timezone=timezone,
                           email_recipients=tuple(recipients), name=name, agent_id=agent_id, policy_id=policy_id,
                           show_sensitive=show)


__all__ = ["FieldError", "InvalidInput", "report_list_filter", "report_request", "schedule_request"]
