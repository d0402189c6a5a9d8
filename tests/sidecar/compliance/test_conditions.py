"""Policy conditions: time windows across midnight and timezones, weekdays, agent types, metadata."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from sidecar.compliance.conditions import policy_applies, validate_conditions
from sidecar.compliance.types import InvalidRule


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def applies(conditions: dict | None, now: datetime, agent_type: str | None = None, metadata: object = None) -> bool:
    return policy_applies(conditions, now=now, agent_type=agent_type, metadata=metadata)


def test_no_conditions_always_apply() -> None:
    assert applies(None, utc(2024, 1, 1)) and applies({}, utc(2024, 1, 1))


def test_office_hours_in_policy_timezone() -> None:
    cond = {"timeOfDay": {"start": "09:00", "end": "17:00", "timezone": "America/New_York"}}
    assert applies(cond, utc(2024, 6, 11, 13, 0))  # 09:00 EDT
    assert not applies(cond, utc(2024, 6, 11, 12, 59))  # 08:59 EDT
    assert not applies(cond, utc(2024, 6, 11, 21, 0))  # 17:00 EDT, end is exclusive
    assert applies(cond, utc(2024, 1, 11, 14, 0))  # 09:00 EST in winter


def test_window_crossing_midnight() -> None:
    cond = {"timeOfDay": {"start": "22:00", "end": "06:00", "timezone": "Europe/Paris"}}
    assert applies(cond, utc(2024, 6, 11, 20, 30))  # 22:30 CEST
    assert applies(cond, utc(2024, 6, 12, 3, 59))  # 05:59 CEST
    assert not applies(cond, utc(2024, 6, 12, 4, 0))  # 06:00 CEST
    assert not applies(cond, utc(2024, 6, 11, 12, 0))


def test_equal_start_and_end_is_all_day() -> None:
    assert applies({"timeOfDay": {"start": "00:00", "end": "00:00"}}, utc(2024, 6, 11, 3))


def test_days_of_week_in_policy_timezone() -> None:
    # 2024-06-10 is a Monday. 23:30 UTC Monday is already Tuesday in Tokyo.
    cond = {"daysOfWeek": ["tue"], "timeOfDay": {"start": "00:00", "end": "00:00", "timezone": "Asia/Tokyo"}}
    assert applies(cond, utc(2024, 6, 10, 23, 30))
    assert not applies({"daysOfWeek": ["tue"]}, utc(2024, 6, 10, 23, 30))
    assert applies({"daysOfWeek": [0, 6]}, utc(2024, 6, 10, 12))
    assert applies({"daysOfWeek": ["Saturday", "sun"]}, utc(2024, 6, 16, 12))


def test_agent_types_and_metadata_are_anded() -> None:
    cond = {"agentTypes": ["support"], "metadata": [{"key": "user.region", "operator": "eq", "value": "eu"}]}
    meta = {"user": {"region": "eu"}}
    assert applies(cond, utc(2024, 1, 1), "support", meta)
    assert not applies(cond, utc(2024, 1, 1), "coding", meta)
    assert not applies(cond, utc(2024, 1, 1), "support", {"user": {"region": "us"}})
    assert not applies(cond, utc(2024, 1, 1), None, meta)


def test_naive_now_is_utc() -> None:
    cond = {"timeOfDay": {"start": "09:00", "end": "10:00", "timezone": "UTC"}}
    assert applies(cond, datetime(2024, 1, 1, 9, 30))


def test_validate_normalises() -> None:
    assert validate_conditions(None) == {}
    assert validate_conditions({"daysOfWeek": ["fri", 0, "monday"], "timeOfDay": {"start": "22:00", "end": "06:00"}}) == {
        "daysOfWeek": [0, 4], "timeOfDay": {"start": "22:00", "end": "06:00", "timezone": "UTC"}}


@pytest.mark.parametrize(
    ("conditions", "field"),
    [
        ([], "conditions"),
        ({"timeOfDay": {"start": "9:00", "end": "17:00"}}, "conditions.timeOfDay.start"),
        ({"timeOfDay": {"start": "09:00", "end": "24:00"}}, "conditions.timeOfDay.end"),
        ({"timeOfDay": {"start": "09:00", "end": "17:00", "timezone": "Mars/Olympus"}}, "conditions.timeOfDay.timezone"),
        ({"timeOfDay": "9-5"}, "conditions.timeOfDay"),
        ({"daysOfWeek": [7]}, "conditions.daysOfWeek"),
        ({"daysOfWeek": ["funday"]}, "conditions.daysOfWeek"),
        ({"daysOfWeek": []}, "conditions.daysOfWeek"),
        ({"agentTypes": "support"}, "conditions.agentTypes"),
        ({"metadata": [{"key": "", "operator": "eq", "value": 1}]}, "conditions.metadata[0].key"),
        ({"metadata": [{"key": "a", "operator": "like", "value": 1}]}, "conditions.metadata[0].operator"),
        ({"metadata": [{"key": "a", "operator": "eq"}]}, "conditions.metadata[0].value"),
        ({"hours": 3}, "conditions.hours"),
    ],
)
def test_invalid_conditions(conditions: object, field: str) -> None:
    with pytest.raises(InvalidRule) as caught:
        validate_conditions(conditions)
    assert caught.value.field == field
