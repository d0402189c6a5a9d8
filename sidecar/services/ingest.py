"""The ingest use case: evaluate each validated event, hand it to the writer, return what was stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from sidecar.services.principal import Principal
from sidecar.store.writer import PendingEvent, Writer


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
    def __init__(self, writer: Writer, gate: Gate | None = None) -> None:
        self._writer = writer
        self.gate: Gate = gate or AllowAll()

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
        return await self._writer.ingest(pending)
