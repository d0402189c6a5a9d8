"""Live events for ``GET /api/v1/stream``: a per-organisation fan-out of what was just committed.

Publishing never blocks and never fails ingest: each subscriber has a bounded queue; a
subscriber that falls behind loses the oldest events and is told so (``stream.overflow``), so it
can reload what it shows.

Event ids count per organisation (a viewer's ids run 1, 2, 3 … however busy other organisations are: gaps
would tell one organisation about another's activity). They number this process's live deliveries only; a
reconnecting viewer reloads what it shows (the stream replays nothing, so ``Last-Event-ID`` is not read).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

_QUEUE = 1000


@dataclass(frozen=True, slots=True)
class LiveEvent:
    id: int
    kind: str
    data: dict[str, Any]


#: Queued to an idle viewer when a credential of its organisation ended or changed: "re-check yours now".
RECHECK = LiveEvent(0, "", {})


class Subscriber:
    def __init__(self, org_id: str) -> None:
        self.org_id = org_id
        self.queue: asyncio.Queue[LiveEvent | None] = asyncio.Queue(maxsize=_QUEUE)
        self.dropped = 0

    def offer(self, event: LiveEvent | None) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.queue.get_nowait()  # drop the oldest; the reader hears of it
            self.dropped += 1
            self.queue.put_nowait(event)


class EventHub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._ids: dict[str, itertools.count[int]] = {}
        self.closed = False

    def subscribe(self, org_id: str) -> Subscriber:
        subscriber = Subscriber(org_id)
        self._subscribers.setdefault(org_id, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        found = self._subscribers.get(subscriber.org_id)
        if found is not None:
            found.discard(subscriber)
            if not found:
                del self._subscribers[subscriber.org_id]

    def publish(self, org_id: str, kind: str, data: dict[str, Any]) -> None:
        subscribers = self._subscribers.get(org_id)
        if not subscribers:
            return
        event = LiveEvent(self._next_id(org_id), kind, data)
        for subscriber in subscribers:
            subscriber.offer(event)

    def _next_id(self, org_id: str) -> int:
        ids = self._ids.get(org_id)
        if ids is None:
            ids = self._ids[org_id] = itertools.count(1)
        return next(ids)

    def recheck(self, org_id: str) -> None:
        """A credential of this organisation ended or changed: each of its idle viewers re-checks its own now (a
        busy one re-checks before its next delivery anyway)."""
        for subscriber in self._subscribers.get(org_id, ()):
            if subscriber.queue.empty():
                subscriber.queue.put_nowait(RECHECK)

    def gap(self, org_id: str | None = None) -> None:
        """Some events could not be delivered live (to one organisation's viewers, or everyone's): each
        viewer hears ``stream.overflow`` and reloads what it shows."""
        orgs = [org_id] if org_id is not None else list(self._subscribers)
        for org in orgs:
            subscribers = self._subscribers.get(org)
            if not subscribers:
                continue
            event = LiveEvent(self._next_id(org), "stream.overflow", {"dropped": None})
            for subscriber in subscribers:
                subscriber.offer(event)

    def close(self) -> None:
        """End every stream (at shutdown, so open connections don't hold the stop up)."""
        self.closed = True
        for subscribers in self._subscribers.values():
            for subscriber in subscribers:
                subscriber.offer(None)

    def watching(self, org_id: str) -> bool:
        return bool(self._subscribers.get(org_id))
