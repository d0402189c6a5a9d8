"""Live events for ``GET /api/v1/stream``: a per-organisation fan-out of what was just committed.

Publishing never blocks and never fails ingest: each subscriber has a bounded queue; a
subscriber that falls behind loses the oldest events and is told so (``stream.overflow``), so it
can reload what it shows.
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
        self._ids = itertools.count(1)
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
        event = LiveEvent(next(self._ids), kind, data)
        for subscriber in subscribers:
            subscriber.offer(event)

    def gap(self, org_id: str | None = None) -> None:
        """Some events could not be delivered live (to one organisation's viewers, or everyone's): each
        viewer hears ``stream.overflow`` and reloads what it shows."""
        groups = [self._subscribers.get(org_id, set())] if org_id is not None else list(self._subscribers.values())
        event = LiveEvent(next(self._ids), "stream.overflow", {"dropped": None})
        for subscribers in groups:
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
