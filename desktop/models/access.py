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


def can_read_settings(role: str) -> bool:
    """See the notification settings (owner and admin, and auditors, who read everything; secrets never show)."""
    return role in ACTIVITY_READERS


ROLES = ("owner", "admin", "analyst", "auditor")
ROLE_NAMES = {"owner": "Owner", "admin": "Admin", "analyst": "Analyst", "auditor": "Auditor"}
ROLE_TEXT = {
    "owner": "Everything, including adding, changing and removing owners.",
    "admin": "Manages users (not owners), API keys, policies, agents and settings.",
    "analyst": "Triages alerts and builds reports; changes no settings.",
    "auditor": "Read-only: sees everything, changes nothing.",
}


def can_manage_users(role: str) -> bool:
    """See, add, change and remove the organisation's users (owner and admin; ``GET /users`` is 403 for others)."""
    return role in MANAGERS


def assignable_roles(role: str) -> tuple[str, ...]:
    """The roles ``role`` may give someone: only an owner may make (or unmake) an owner."""
    if role == "owner":
        return ROLES
    return tuple(r for r in ROLES if r != "owner") if role in MANAGERS else ()


def can_change_user(my_role: str, their_role: str) -> bool:
    """Whether ``my_role`` may change or remove a user who has ``their_role`` (admins leave owners alone)."""
    return can_manage_users(my_role) and (their_role != "owner" or my_role == "owner")
