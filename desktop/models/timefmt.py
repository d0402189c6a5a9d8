"""How times appear in tables and panes: local time, compact, and "3 min ago" for recent ones."""

from __future__ import annotations

from datetime import datetime, timedelta


def local(value: datetime | None, *, seconds: bool = True) -> str:
    """``2026-01-15 10:00:03`` in local time; ``—`` for no time."""
    if value is None:
        return "—"
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def short(value: datetime) -> str:
    """Compact local time for table cells: ``21:50:29`` today, ``Nov 25 21:50`` this year, else the date."""
    local_value = value.astimezone()
    today = datetime.now().astimezone()
    if local_value.date() == today.date():
        return local_value.strftime("%H:%M:%S")
    if local_value.year == today.year:
        return local_value.strftime("%b %d %H:%M")
    return local_value.strftime("%Y-%m-%d")


def relative(value: datetime | None, now: datetime) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``2 d ago``, or the local date for older times."""
    if value is None:
        return "never"
    delta = now - value
    if delta < timedelta(seconds=45):
        return "just now"
    if delta < timedelta(hours=1):
        return f"{int(delta.total_seconds() // 60) or 1} min ago"
    if delta < timedelta(days=1):
        return f"{int(delta.total_seconds() // 3600)} h ago"
    if delta < timedelta(days=30):
        return f"{delta.days} d ago"
    return value.astimezone().strftime("%Y-%m-%d")
