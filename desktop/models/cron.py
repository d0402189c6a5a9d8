"""The cron helper behind the schedule form: presets, a human description of a crontab line, and its checks.

Pure Python. The description comes from ``cron-descriptor``; the checks here catch what that library lets
through (values out of range) so the form can say what is wrong before the sidecar is asked. The sidecar
still validates every schedule it stores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cron_descriptor import FormatError, MissingFieldError, Options, WrongArgumentError, get_description

#: (label, crontab line) for the form's preset menu; the last entry is the free-form one.
PRESETS: tuple[tuple[str, str], ...] = (
    ("Daily at 07:00", "0 7 * * *"),
    ("Weekdays at 07:00", "0 7 * * 1-5"),
    ("Weekly, Monday at 07:00", "0 7 * * 1"),
    ("Monthly, on the 1st at 07:00", "0 7 1 * *"),
    ("Hourly", "0 * * * *"),
    ("Custom", ""),
)

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
_NUMBER = re.compile(r"\d+")
_NAMES = re.compile(r"^[\d*,/\-A-Za-z?LW#]+$")


@dataclass(frozen=True, slots=True)
class CronCheck:
    """The verdict on one crontab line: ``ok`` with a ``description``, or an ``error`` sentence."""

    ok: bool
    description: str
    error: str = ""


def _options() -> Options:
    options = Options()
    options.use_24hour_time_format = True
    options.day_of_week_start_index_zero = True
    return options


def check(line: str) -> CronCheck:
    """Check a five-field crontab line (minute hour day-of-month month day-of-week; Sunday is 0 or 7)."""
    fields = line.split()
    if len(fields) != 5:
        return CronCheck(False, "", f"a crontab line has 5 fields (minute hour day month weekday), not {len(fields)}")
    for value, (name, low, high) in zip(fields, _FIELDS, strict=True):
        if not _NAMES.match(value):
            return CronCheck(False, "", f"the {name} field {value!r} has characters cron does not use")
        steps = value.split("/", 1)
        for number in _NUMBER.findall(steps[0]):
            if not low <= int(number) <= high:
                return CronCheck(False, "", f"the {name} must be from {low} to {high}, not {number}")
        if len(steps) == 2 and (not steps[1].isdigit() or int(steps[1]) == 0):
            return CronCheck(False, "", f"the {name} step {steps[1]!r} must be a whole number above 0")
    try:
        text = get_description(" ".join(fields), _options())
    except (FormatError, MissingFieldError, WrongArgumentError, ValueError, IndexError, KeyError) as exc:
        return CronCheck(False, "", str(exc).removeprefix("Error: ").strip() or "not a valid crontab line")
    return CronCheck(True, text)


def preset_of(line: str) -> int:
    """The index in :data:`PRESETS` of a line, or that of "Custom"."""
    normalised = " ".join(line.split())
    return next((n for n, (_label, cron) in enumerate(PRESETS) if cron and cron == normalised), len(PRESETS) - 1)
