"""Policy conditions: when a policy's rules apply to an event.

``{timeOfDay: {start: "HH:MM", end: "HH:MM", timezone: IANA}, daysOfWeek: [...],
agentTypes: [...], metadata: [{key, operator, value}]}``; every part is optional and they are
ANDed. Time and weekday are read in the policy's timezone (``timeOfDay.timezone``, UTC when
absent). ``start`` is inclusive and ``end`` exclusive; a window whose end is before its start
crosses midnight (``22:00``-``06:00``), and ``start == end`` means all day. Days are 0-6 with
0 = Monday (Python's ``weekday()``) or the names ``mon`` … ``sun``; for a window that crosses
midnight the day is the calendar day of the event (Tuesday 02:00 is Tuesday).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sidecar.compliance import metadata as md
from sidecar.compliance.types import InvalidRule

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LONG_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_KEYS = ("timeOfDay", "daysOfWeek", "agentTypes", "metadata")


def _clock(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise InvalidRule(field, "must be HH:MM (24-hour)")
    hours, minutes = value[:2], value[3:]
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise InvalidRule(field, "must be HH:MM (24-hour)")
    return value


def _zone(name: Any) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise InvalidRule("conditions.timeOfDay.timezone", "must be an IANA timezone name such as Europe/Paris")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRule("conditions.timeOfDay.timezone", f"unknown timezone {name!r}") from None


def _day(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in DAY_NAMES:
            return DAY_NAMES.index(lowered)
        if lowered in _LONG_DAYS:
            return _LONG_DAYS.index(lowered)
    raise InvalidRule("conditions.daysOfWeek", "days are 0-6 (0 = Monday) or mon, tue, wed, thu, fri, sat, sun")


def validate_conditions(conditions: Any) -> dict[str, Any]:
    """Check a policy's ``conditions`` and return them normalised (days as sorted ints,
    timezone defaulted to UTC). None or ``{}`` means "always".

    Raises:
        InvalidRule: ``field`` is ``conditions`` or ``conditions.<key>[.<sub>]``.
    """
    if conditions is None:
        return {}
    if not isinstance(conditions, dict):
        raise InvalidRule("conditions", "conditions must be an object")
    for key in conditions:
        if key not in _KEYS:
            raise InvalidRule(f"conditions.{key}", f"unknown key {key!r}; expected {', '.join(_KEYS)}")
    out: dict[str, Any] = {}
    window = conditions.get("timeOfDay")
    if window is not None:
        if not isinstance(window, dict):
            raise InvalidRule("conditions.timeOfDay", "timeOfDay must be an object {start, end, timezone}")
        start = _clock(window.get("start"), "conditions.timeOfDay.start")
        end = _clock(window.get("end"), "conditions.timeOfDay.end")
        zone_name = window.get("timezone") or "UTC"
        _zone(zone_name)
        out["timeOfDay"] = {"start": start, "end": end, "timezone": zone_name}
    days = conditions.get("daysOfWeek")
    if days is not None:
        if not isinstance(days, list) or not days:
            raise InvalidRule("conditions.daysOfWeek", "daysOfWeek must be a non-empty list")
        out["daysOfWeek"] = sorted({_day(d) for d in days})
    types = conditions.get("agentTypes")
    if types is not None:
        if not isinstance(types, list) or not types or not all(isinstance(t, str) and t for t in types):
            raise InvalidRule("conditions.agentTypes", "agentTypes must be a non-empty list of strings")
        out["agentTypes"] = list(dict.fromkeys(types))
    checks = conditions.get("metadata")
    if checks is not None:
        if not isinstance(checks, list):
            raise InvalidRule("conditions.metadata", "metadata must be a list of {key, operator, value}")
        out["metadata"] = [_metadata_check(item, i) for i, item in enumerate(checks)]
    return out


def _metadata_check(item: Any, index: int) -> dict[str, Any]:
    field = f"conditions.metadata[{index}]"
    if not isinstance(item, dict):
        raise InvalidRule(field, "must be an object {key, operator, value}")
    key = item.get("key")
    try:
        md.parse_path(key)
    except md.PathError:
        raise InvalidRule(f"{field}.key", "key must be a dotted path such as user.tier") from None
    operator = item.get("operator", "eq")
    if operator not in md.OPERATORS:
        raise InvalidRule(f"{field}.operator", f"operator must be one of {', '.join(md.OPERATORS)}")
    if "value" not in item:
        raise InvalidRule(f"{field}.value", "value is required")
    return {"key": key, "operator": operator, "value": item["value"]}


def _minutes(clock: str) -> int:
    return int(clock[:2]) * 60 + int(clock[3:])


def _in_window(local: datetime, start: str, end: str) -> bool:
    now_min, start_min, end_min = local.hour * 60 + local.minute, _minutes(start), _minutes(end)
    if start_min == end_min:
        return True
    if start_min < end_min:
        return start_min <= now_min < end_min
    return now_min >= start_min or now_min < end_min


def policy_applies(
    conditions: dict[str, Any] | None, *, now: datetime, agent_type: str | None, metadata: Any
) -> bool:
    """True when every present condition holds for an event at ``now`` (aware; naive is read
    as UTC) from an agent of ``agent_type`` with ``metadata``. Conditions are assumed
    validated; malformed ones raise InvalidRule."""
    if not conditions:
        return True
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    window = conditions.get("timeOfDay")
    zone = _zone(window.get("timezone") or "UTC") if window else ZoneInfo("UTC")
    local = now.astimezone(zone)
    if window and not _in_window(local, _clock(window.get("start"), "conditions.timeOfDay.start"),
                                 _clock(window.get("end"), "conditions.timeOfDay.end")):
        return False
    days = conditions.get("daysOfWeek")
    if days and local.weekday() not in {_day(d) for d in days}:
        return False
    types = conditions.get("agentTypes")
    if types and agent_type not in types:
        return False
    for check in conditions.get("metadata") or ():
        value = md.get_path(metadata, md.parse_path(check["key"]))
        if not md.compare(value, check.get("operator", "eq"), check.get("value")):
            return False
    return True


__all__ = ["DAY_NAMES", "policy_applies", "validate_conditions"]
