"""Names for the ids an alert carries: its rule, its event and the person who resolved it.

Rules and people are each one listing, asked for once and kept; an event is asked for once, when an alert that
points at it is shown, and kept. Nothing is asked per row of the queue.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from desktop.api import schemas
from desktop.api.client import Call, SidecarClient
from desktop.api.errors import ApiError
from desktop.models import timefmt


class AlertFacts(QObject):
    """Resolves an alert's ids to what a person reads; answers what it knows now and asks for the rest.

    Signals:
        changed(): a listing or an event arrived; ask again for the names.
    """

    changed = Signal()

    def __init__(self, client: SidecarClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._rules: dict[str, str] | None = None
        self._people: dict[str, str] | None = None
        self._events: dict[str, schemas.LogEvent | None] = {}  # None: asked for, not (or not yet) loaded
        self._lost: set[str] = set()  # events that could not be loaded (deleted by retention, say)
        self._calls: dict[Call, str] = {}  # in flight -> what it loads ("rules", "people" or an event id)

    def clear(self) -> None:
        """Forget everything (logout, or another organisation)."""
        self._rules, self._people, self._events, self._lost, self._calls = None, None, {}, set(), {}

    def rule_name(self, alert: schemas.Alert) -> str:
        """The rule's current name; the name the alert recorded while the rules load or if it was deleted."""
        if not alert.rule_id:
            return "—"
        if self._rules is None:
            self._ask("rules", self._client.list_rules)
        recorded = alert.details.get("ruleName") if isinstance(alert.details, dict) else None
        return (self._rules or {}).get(alert.rule_id) or (recorded if isinstance(recorded, str) and recorded
                                                          else alert.rule_id)

    def event_text(self, alert: schemas.Alert) -> str:
        """``llm_call by billing-bot at 2026-11-26 07:36:03``, once the event has loaded."""
        log_id = alert.audit_log_id
        if not log_id:
            return "—"
        if log_id not in self._events:
            self._events[log_id] = None
            self._ask(log_id, lambda: self._client.get_log(log_id))
        event = self._events[log_id]
        if event is None:
            action = alert.details.get("eventAction") if isinstance(alert.details, dict) else None
            if isinstance(action, str):
                return f"{action} by {alert.agent_id or 'an unnamed agent'}"
            return "Could not load the event" if log_id in self._lost else "Loading…"
        when = timefmt.local(event.started_at or event.created_at)
        return f"{event.action} by {event.agent_id or 'an unnamed agent'} at {when}"

    def person(self, user_id: str | None) -> str:
        """``Ana Ruiz <ana@acme.test>`` or the email; "you" for the signed-in user. The people listing is for
        owners and admins: for anyone else, other people stay ids."""
        if not user_id:
            return ""
        me = self._client.user
        if me is not None and me.id == user_id:
            return f"you ({me.email})" if me.email else "you"
        if self._people is None:
            self._ask("people", self._client.list_users)
        return (self._people or {}).get(user_id, user_id)

    def _ask(self, what: str, start: Callable[[], Call]) -> None:
        if what in self._calls.values():
            return
        call = start()
        self._calls[call] = what
        call.done.connect(self._loaded)  # bound methods: see Call
        call.failed.connect(self._failed)

    def _loaded(self, value: object) -> None:
        what = self._calls.pop(self.sender(), None)  # type: ignore[call-overload]
        if what is None:
            return  # cleared meanwhile
        if what == "rules" and isinstance(value, schemas.Listing):
            self._rules = {rule.id: rule.name for rule in value.items if rule.name}
        elif what == "people" and isinstance(value, schemas.Listing):
            self._people = {user.id: (f"{user.name} <{user.email}>" if user.name and user.name != user.email
                                      else user.email) for user in value.items}
        elif isinstance(value, schemas.LogEvent):
            self._events[what] = value
        self.changed.emit()

    def _failed(self, _error: ApiError) -> None:
        what = self._calls.pop(self.sender(), None)  # type: ignore[call-overload]
        if what == "rules":
            self._rules = {}  # keep the recorded names; do not ask again for every alert shown
        elif what == "people":
            self._people = {}
        elif what is not None:
            self._lost.add(what)  # shown with its recorded action and agent, and not asked for again
        if what is not None:
            self.changed.emit()
