"""The ingest use case: evaluate each validated event, hand it to the writer, return what was stored."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from sidecar.services.compliance import alert_payload
from sidecar.services.events import EventHub
from sidecar.services.principal import Principal
from sidecar.store.writer import PendingEvent, Writer


_SUMMARY = ("id", "action", "agentId", "traceId", "spanId", "parentSpanId", "createdAt", "startedAt", "endedAt",
            "complianceFlags", "enforcementAction", "sequence")


@dataclass(slots=True)
class EventInput:
    """One validated event as the client sent it (times in epoch ms, metadata parsed)."""

    action: str
    prompt: str | None = None
    response: str | None = None
    agent_id: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    parent_span_id: str | None = None
    started_at: int | None = None
    ended_at: int | None = None
    metadata: Any = None


class Gate(Protocol):
    """Evaluates an event before it is stored and fills in its verdict (flags, action, violations,
    redacted content, extra rows to write in the same transaction)."""

    async def ensure(self, org_id: str) -> None: ...

    def apply(self, org_id: str, event: PendingEvent) -> None: ...


class AllowAll:
    """The gate used when no compliance rule applies: every event is ``allow``."""

    async def ensure(self, org_id: str) -> None:
        return None

    def apply(self, org_id: str, event: PendingEvent) -> None:
        return None


class IngestService:
    def __init__(self, writer: Writer, gate: Gate | None = None, hub: EventHub | None = None,
                 on_alerts: Callable[[], None] | None = None) -> None:
        self._writer = writer
        self.gate: Gate = gate or AllowAll()
        self.hub = hub or EventHub()
        self._on_alerts = on_alerts

    def prepare(self, org_id: str, item: EventInput) -> PendingEvent:
        """Build the pending event and run the gate on it (CPU only, on the event loop)."""
        pending = PendingEvent(
            org_id=org_id,
            action=item.action,
            agent_id=item.agent_id,
            prompt=item.prompt,
            response=item.response,
            metadata=item.metadata,
            trace_id=item.trace_id,
            span_id=item.span_id,
            parent_span_id=item.parent_span_id,
            started_at=item.started_at,
            ended_at=item.ended_at,
        )
        self.gate.apply(org_id, pending)
        if pending.metadata is not None:
            pending.metadata_json = orjson.dumps(pending.metadata, option=orjson.OPT_SORT_KEYS).decode()
        return pending

    async def ingest(self, principal: Principal, items: Sequence[EventInput]) -> list[dict[str, Any]]:
        """Store the events durably (all or none) and return them in wire form, in order."""
        await self.gate.ensure(principal.org_id)
        pending = [self.prepare(principal.org_id, item) for item in items]
        stored = await self._writer.ingest(pending)
        if self._on_alerts is not None and any(event.produced.get("alerts") for event in pending):
            self._on_alerts()
        if self.hub.watching(principal.org_id):
            self._announce(principal.org_id, pending, stored)
        return stored

    def _announce(self, org_id: str, pending: Sequence[PendingEvent], stored: list[dict[str, Any]]) -> None:
        announce(self.hub, org_id, [(wire, event.produced.get("alerts", ())) for event, wire in
                                    zip(pending, stored, strict=True)])


def announce(hub: EventHub, org_id: str, events: Sequence[tuple[dict[str, Any], Sequence[tuple[Any, ...]]]]) -> None:
    """Tell live viewers what was just committed: a summary of each event (wire form), then its new alerts (rows
    as the writer inserts them)."""
    for wire, alerts in events:
        hub.publish(org_id, "log.created", {key: wire[key] for key in _SUMMARY})
        for row in alerts:
            hub.publish(org_id, "alert.created", alert_payload(row))
