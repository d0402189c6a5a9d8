"""Who is calling, and what each kind of operation requires of them."""

from __future__ import annotations

from dataclasses import dataclass

from sidecar.errors import Forbidden

ROLES = ("owner", "admin", "analyst", "auditor")
SCOPES = ("logs:write", "logs:read", "admin")
DEFAULT_KEY_SCOPES = ("logs:write", "logs:read")


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a user (by JWT) or an API key, always inside one organisation."""

    org_id: str
    kind: str  # "user" or "key"
    user_id: str | None = None
    role: str | None = None
    key_id: str | None = None
    scopes: tuple[str, ...] = ()
    session_id: str | None = None
    #: When the access token expires (epoch seconds); None for an API key.
    expires_at: int | None = None

    @property
    def actor(self) -> str:
        """The id recorded as having done something."""
        return self.user_id or self.key_id or "system"


@dataclass(frozen=True, slots=True)
class Permission:
    """What an operation needs: an API key scope (None: keys may not) and the user roles allowed."""

    name: str
    key_scope: str | None
    roles: frozenset[str]

    def check(self, principal: Principal) -> None:
        """Raise Forbidden, naming the missing scope or role."""
        if principal.kind == "key":
            if self.key_scope is None:
                raise Forbidden("this operation needs a user login (Bearer token); API keys cannot do it")
            if self.key_scope not in principal.scopes and "admin" not in principal.scopes:
                raise Forbidden(f"this API key lacks the '{self.key_scope}' scope")
            return
        if principal.role not in self.roles:
            allowed = ", ".join(sorted(self.roles))
            raise Forbidden(f"your role '{principal.role}' cannot do this (needs one of: {allowed})")


_ALL = frozenset(ROLES)
_WRITERS = frozenset({"owner", "admin", "analyst"})
_MANAGERS = frozenset({"owner", "admin"})

INGEST = Permission("ingest", "logs:write", _WRITERS)
READ = Permission("read", "logs:read", _ALL)
TRIAGE = Permission("triage", "admin", _WRITERS)
MANAGE = Permission("manage", "admin", _MANAGERS)
ACCOUNT = Permission("account", None, _ALL)
USERS = Permission("users", None, _MANAGERS)
KEYS = Permission("keys", None, _MANAGERS)
ACTIVITY = Permission("activity", "admin", frozenset({"owner", "admin", "auditor"}))
#: Reading the organisation's own settings (notifications): managers, and auditors, who read everything.
SETTINGS_READ = Permission("settings", "admin", frozenset({"owner", "admin", "auditor"}))
#: Changing the organisation's settings (notifications, retention, which purges history) or sending test
#: notifications: a person who manages the organisation. No key scope: the ``admin`` scope covers agents,
#: policies, rules, packs, alert triage and reports, not settings.
SETTINGS_WRITE = Permission("settings_write", None, _MANAGERS)
