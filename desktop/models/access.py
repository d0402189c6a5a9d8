"""What each role may change, as the sidecar enforces it (API.md, "Authentication"): the views hide or disable
what the logged-in user cannot do, so nobody is offered an edit that would only be refused."""

from __future__ import annotations

MANAGERS = frozenset({"owner", "admin"})
WRITERS = frozenset({"owner", "admin", "analyst"})
ACTIVITY_READERS = frozenset({"owner", "admin", "auditor"})


def can_manage(role: str) -> bool:
    """Organisation settings: notifications, retention, billing (owner and admin)."""
    return role in MANAGERS


def can_build_reports(role: str) -> bool:
    """Request and delete reports, create and delete schedules (owner, admin, analyst)."""
    return role in WRITERS


def can_read_activity(role: str) -> bool:
    return role in ACTIVITY_READERS
