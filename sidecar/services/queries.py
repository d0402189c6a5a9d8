"""Reading audit logs and traces: lists, single events, exports, trace trees, ancestry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sidecar.errors import FieldError, InvalidInput, NotFound
from sidecar.services.principal import Principal
from sidecar.services.tree import ancestors, build_forest, descendants, summarize
from sidecar.store import logs as log_store
from sidecar.store import traces as trace_store
from sidecar.store.db import ReadPool
from sidecar.store.logs import LogFilter, Page
from sidecar.store.traces import TraceFilter


@dataclass(frozen=True, slots=True)
class TraceView:
    trace_id: str
    spans: list[dict[str, Any]]
    tree: list[dict[str, Any]]
    summary: dict[str, Any]


class QueryService:
    def __init__(self, reads: ReadPool, db: Any) -> None:
        self._reads = reads
        self._db = db

    async def list_logs(self, principal: Principal, flt: LogFilter, *, limit: int, offset: int,
                        before: str | None) -> Page:
        return await self._reads.run(log_store.list_logs, self._db, principal.org_id, flt, limit=limit, offset=offset,
                                     before_id=before)

    async def get_log(self, principal: Principal, event_id: str) -> dict[str, Any]:
        event = await self._reads.run(log_store.get_log, self._db, principal.org_id, event_id)
        if event is None:
            raise NotFound(f"audit log {event_id} not found")
        return event

    async def export(self, principal: Principal, flt: LogFilter) -> AsyncIterator[list[dict[str, Any]]]:
        """Chunks of events, oldest first, each read on the pool; the caller streams them out."""
        chunks = log_store.iter_logs(self._db, principal.org_id, flt)
        while True:
            chunk = await self._reads.run(next, chunks, None)
            if chunk is None:
                return
            yield chunk

    async def list_traces(self, principal: Principal, flt: TraceFilter, *, limit: int, offset: int,
                          before: str | None = None) -> tuple[list[dict[str, Any]], int, str | None]:
        """``(rows, total, next cursor)``, most recently active first."""
        return await self._reads.run(trace_store.list_traces, self._db, principal.org_id, flt, limit=limit,
                                     offset=offset, before=before)

    async def trace(self, principal: Principal, trace_id: str) -> TraceView:
        spans = await self._reads.run(log_store.trace_spans, self._db, principal.org_id, trace_id)
        if not spans:
            raise NotFound(f"trace {trace_id} not found")
        return TraceView(trace_id, spans, build_forest(spans), summarize(trace_id, spans))

    async def trace_page(self, principal: Principal, trace_id: str, *, limit: int, offset: int,
                         after: str | None = None, before: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """A page of a trace's spans, oldest first: at ``offset``, or just after or just before the span
        ``after`` or ``before`` (cursors)."""
        def work() -> tuple[list[dict[str, Any]] | None, int]:
            if after is not None:
                spans = log_store.trace_spans_after(self._db, principal.org_id, trace_id, after, limit=limit)
            elif before is not None:
                spans = log_store.trace_spans_before(self._db, principal.org_id, trace_id, before, limit=limit)
            else:
                spans = log_store.trace_spans(self._db, principal.org_id, trace_id, limit=limit, offset=offset)
            return spans, log_store.count_trace_spans(self._db, principal.org_id, trace_id)

        spans, total = await self._reads.run(work)
        if total == 0:
            raise NotFound(f"trace {trace_id} not found")
        if spans is None:
            raise InvalidInput.fields([FieldError("after" if after is not None else "before",
                                                  "is not the id of a span of this trace")])
        return spans, total

    async def _family(self, principal: Principal, event_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The event and the spans it can be related to (its trace), in one or two indexed reads."""
        def work() -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
            event = log_store.get_log(self._db, principal.org_id, event_id)
            if event is None or event["traceId"] is None:
                return event, []
            return event, log_store.trace_spans(self._db, principal.org_id, event["traceId"])

        event, spans = await self._reads.run(work)
        if event is None:
            raise NotFound(f"audit log {event_id} not found")
        return event, spans

    async def chain(self, principal: Principal, event_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The event and its whole subtree (descendants in time order)."""
        event, spans = await self._family(principal, event_id)
        if event["traceId"] is not None:
            return event, descendants(event, spans)
        found: list[dict[str, Any]] = []
        frontier = [event]
        seen = {event["id"]}
        while frontier:  # trace-less events: one indexed query per generation
            refs = sorted({ref for e in frontier for ref in (e["id"], e["spanId"])})
            children = await self._reads.run(log_store.untraced_children, self._db, principal.org_id, refs)
            frontier = [c for c in children if c["id"] not in seen]
            seen.update(c["id"] for c in frontier)
            found.extend(frontier)
        found.sort(key=lambda e: (e["startedAt"], e["sequence"]))
        return event, found

    async def ancestors(self, principal: Principal, event_id: str) -> list[dict[str, Any]]:
        """The parent chain from the event's parent up to its root, nearest first."""
        event, spans = await self._family(principal, event_id)
        if event["traceId"] is not None:
            return ancestors(event, spans)
        chain: list[dict[str, Any]] = []
        seen = {event["id"]}
        current = event
        while current["parentSpanId"] is not None and len(chain) < 10_000:
            parent = await self._reads.run(log_store.untraced_by_span, self._db, principal.org_id,
                                           current["parentSpanId"])
            if parent is None or parent["id"] in seen:
                break
            seen.add(parent["id"])
            chain.append(parent)
            current = parent
        return chain
