"""The live stream across sidecars that share a PostgreSQL database.

A viewer connected to one sidecar should see events that agents sent to another. Each writer announces its
commits (:mod:`sidecar.store.commit_feed`); this relay hears the other sidecars' announcements and, for an
organisation someone here is watching, reads the announced events and their alerts and publishes them to
the local hub, in sequence order. Nothing is read for organisations no one watches.
"""

from __future__ import annotations

import asyncio
from typing import Any

from peewee import Database

from sidecar import log
from sidecar.services.events import EventHub
from sidecar.services.ingest import announce
from sidecar.store import alerts as alert_store
from sidecar.store import logs as log_store
from sidecar.store.commit_feed import CommitListener, Ranges
from sidecar.store.db import ReadPool

#: The most events one announcement makes the relay read; beyond, viewers are told to reload.
MAX_RELAYED = 1000


class LiveRelay:
    def __init__(self, url: str, hub: EventHub, reads: ReadPool, db: Database, *, origin: str) -> None:
        self._hub = hub
        self._reads = reads
        self._db = db
        self._origin = origin
        self._listener = CommitListener(url, self._heard, self._gap)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tails: dict[str, asyncio.Future[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def listening(self) -> bool:
        return self._listener.listening.is_set()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._listener.start()

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._listener.stop)
        for task in list(self._tasks):
            task.cancel()

    # -- on the listener thread ------------------------------------------------------------------
    def _heard(self, origin: str, ranges: Ranges) -> None:
        if origin == self._origin or self._loop is None:
            return
        try:
            self._loop.call_soon_threadsafe(self._relay, ranges)
        except RuntimeError:  # the loop closed: shutting down
            pass

    def _gap(self) -> None:
        if self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(self._hub.gap)
            except RuntimeError:
                pass

    # -- on the event loop -----------------------------------------------------------------------
    def _relay(self, ranges: Ranges) -> None:
        for org_id, (first, last) in ranges.items():
            if not self._hub.watching(org_id):
                continue
            previous = self._tails.get(org_id)  # one organisation's announcements go out in the order heard
            task = asyncio.ensure_future(self._publish(org_id, first, last, previous))
            self._tails[org_id] = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _publish(self, org_id: str, first: int, last: int, previous: asyncio.Future[None] | None) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])
        if last - first + 1 > MAX_RELAYED:
            self._hub.gap(org_id)
            return

        def read() -> list[tuple[dict[str, Any], list[tuple[Any, ...]]]]:
            events = log_store.logs_in_seq_range(self._db, org_id, first, last)
            rows = alert_store.alert_rows_of_events(self._db, org_id, [e["id"] for e in events])
            by_event: dict[str, list[tuple[Any, ...]]] = {}
            for row in rows:
                by_event.setdefault(row[8], []).append(row)
            return [(event, by_event.get(event["id"], [])) for event in events]

        try:
            events = await self._reads.run(read)
        except Exception as exc:  # the database is away: viewers reload when it is back
            log.store.warning("could not read events another sidecar stored (%s)", exc)
            self._hub.gap(org_id)
            return
        announce(self._hub, org_id, events)
