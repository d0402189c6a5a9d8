"""Turning cell values into text and JSON values, the same way for every format."""

from __future__ import annotations

from typing import Any

from sidecar.clock import parse_iso, to_iso
from sidecar.reports.document import Column, TreeLabel


def plain(value: Any, column: Column) -> Any:
    """The JSON value of a cell: times as ISO strings, tree labels as their text."""
    if value is None:
        return None
    if isinstance(value, TreeLabel):
        return value.text
    if column.kind == "time" and isinstance(value, int):
        return to_iso(value)
    return value


def text(value: Any, column: Column) -> str:
    """The display text of a cell (PDF): thousands separators, short times, percentages."""
    if value is None:
        return "—"
    if isinstance(value, TreeLabel):
        return value.text
    if column.labels is not None and isinstance(value, str):
        return column.labels.get(value, value)
    if column.kind == "time" and isinstance(value, int):
        return short_time(value)
    if column.kind == "time" and isinstance(value, str):
        try:
            return short_time(parse_iso(value))
        except ValueError:
            return value
    if column.kind == "pct" and isinstance(value, (int, float)):
        return percent(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def short_time(ms: int) -> str:
    """``2026-01-15 10:00:00 UTC`` style, without milliseconds."""
    iso = to_iso(ms) or ""
    return f"{iso[:10]} {iso[11:19]}"


def period_label(start: int, end: int) -> str:
    """A period for headers: whole days as dates (``2026-01-01 to 2026-01-31``), anything else with its times
    (``2026-01-01 00:00:00 to 2026-01-03 00:00:00``). Both ends are inclusive."""
    first, last = short_time(start), short_time(end)
    if first[11:] == "00:00:00" and last[11:] == "23:59:59":
        return f"{first[:10]} to {last[:10]}"
    return f"{first} to {last}"


def percent(fraction: float) -> str:
    if fraction == 0:
        return "0%"
    if fraction < 0.001:
        return "<0.1%"
    return f"{fraction * 100:.1f}%"
