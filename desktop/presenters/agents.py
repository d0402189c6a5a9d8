"""Agents: the registered ones (register, edit, delete), each with its recent activity, attached policies and
recent violations; and agent ids seen in events that no registered agent answers to, registered in one click."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop.api import schemas
from desktop.api.client import Call, SidecarClient
from desktop.models.policies import AgentModel, EventModel, SeenAgentModel
from desktop.presenters.policies import can_edit, say

RECENT = 50


class AgentsPresenter(QObject):
    """Signals:
        agent_changed(object): the selected :class:`schemas.AgentDetail` as last loaded, or None.
        registered(object): an agent was registered (the new :class:`schemas.AgentDetail`).
        editable_changed(bool): the user's role allows (or no longer allows) changes.
        message(str), failed(str): sentences for the page.
    """

    agent_changed = Signal(object)
    registered = Signal(object)
    editable_changed = Signal(bool)
    message = Signal(str)
    failed = Signal(str)

    def __init__(self, client: SidecarClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self.agents = AgentModel(self)
        self.seen = SeenAgentModel(self)
        self.events = EventModel(self)
        self.violations = EventModel(self)
        self.current: schemas.AgentDetail | None = None
        self.selected_id: str | None = None
        self._detail_call: Call | None = None
        self._event_calls: dict[Call, tuple[EventModel, dict[str, schemas.LogEvent]]] = {}
        client.session_changed.connect(lambda: self.editable_changed.emit(self.can_edit))

    @property
    def can_edit(self) -> bool:
        return can_edit(self._client)

    def refresh(self) -> None:
        call = self._client.list_agent_details()
        call.done.connect(self._agents_loaded)
        call.failed.connect(lambda error: self.failed.emit(f"Could not list the agents: {say(error)}"))
        seen = self._client.unregistered_agents()
        seen.done.connect(lambda listing: self.seen.set_rows(listing.items))
        seen.failed.connect(lambda error: self.failed.emit(f"Could not list unregistered agent ids: {say(error)}"))

    def _agents_loaded(self, listing: schemas.Listing) -> None:
        self.agents.set_rows(sorted(listing.items, key=lambda a: a.name.lower()))
        if self.selected_id is not None and self.agents.find(lambda a: a.id == self.selected_id) < 0:
            self.select(None)

    def select(self, agent_id: str | None) -> None:
        """Show one agent: its details and policies, its recent events and its recent violations."""
        self.selected_id = agent_id
        self._event_calls.clear()
        self.events.set_rows([])
        self.violations.set_rows([])
        if agent_id is None:
            self.current = None
            self.agent_changed.emit(None)
            return
        call = self._client.get_agent(agent_id)
        self._detail_call = call
        call.done.connect(self._detail_loaded)
        call.failed.connect(lambda error: self.failed.emit(f"Could not load the agent: {say(error)}"))

    def _detail_loaded(self, agent: schemas.AgentDetail) -> None:
        if self.sender() is not self._detail_call or agent.id != self.selected_id:
            return
        self.current = agent
        self.agent_changed.emit(agent)
        # events name an agent by its id or by its name: ask for both and merge
        for model, flagged in ((self.events, None), (self.violations, True)):
            found: dict[str, schemas.LogEvent] = {}
            for name in dict.fromkeys((agent.name, agent.id)):
                call = self._client.list_logs(schemas.LogFilter(agent_id=name, flagged=flagged), limit=RECENT)
                self._event_calls[call] = (model, found)
                call.done.connect(self._events_loaded)
                call.failed.connect(lambda error: self.failed.emit(f"Could not load the agent's events: {say(error)}"))

    def _events_loaded(self, page: schemas.LogPage) -> None:
        target = self._event_calls.pop(self.sender(), None)  # type: ignore[call-overload]
        if target is None:
            return  # an answer for an agent no longer selected
        model, found = target
        found.update((event.id, event) for event in page.items)
        newest = sorted(found.values(), key=lambda e: (e.created_at is not None, e.created_at, e.sequence),
                        reverse=True)
        model.set_rows(newest[:RECENT])

    # -- changes -------------------------------------------------------------------------------------

    def register(self, name: str, type: str = "", description: str = "") -> None:
        if not name.strip():
            self.failed.emit("Give the agent a name: the agentId its events carry, e.g. support-bot.")
            return
        call = self._client.create_agent(name.strip(), type.strip(), description.strip())
        call.done.connect(self._registered)
        call.failed.connect(lambda error: self.failed.emit(f"Could not register the agent: {say(error)}"))

    def register_seen(self, agent_id: str) -> None:
        """Register an agent id found in events under that name, so its events are matched to it."""
        self.register(agent_id, "custom", "Registered from the agent ids seen in events.")

    def _registered(self, agent: schemas.AgentDetail) -> None:
        self.message.emit(f"Registered “{agent.name}”. Policies can now be attached to it.")
        self.registered.emit(agent)
        self.selected_id = agent.id
        self.refresh()
        self.select(agent.id)

    def update(self, agent_id: str, changes: Mapping[str, Any]) -> None:
        call = self._client.update_agent(agent_id, changes)
        call.done.connect(self._updated)
        call.failed.connect(lambda error: self.failed.emit(f"Could not save the agent: {say(error)}"))

    def _updated(self, agent: schemas.AgentDetail) -> None:
        self.message.emit(f"Saved “{agent.name}”.")
        self.refresh()
        self.select(agent.id)

    def delete(self, agent_id: str) -> None:
        call = self._client.delete_agent(agent_id)
        call.done.connect(lambda _none: self._deleted(agent_id))
        call.failed.connect(lambda error: self.failed.emit(f"Could not delete the agent: {say(error)}"))

    def _deleted(self, agent_id: str) -> None:
        self.message.emit("Agent deleted. Its events stay in the audit log.")
        if self.selected_id == agent_id:
            self.select(None)
        self.refresh()
