"""Commit notices between sidecars that share one PostgreSQL database (LISTEN/NOTIFY).

Each writer says, inside the transaction that stores events, which sequences of which organisations it
stored (``pg_notify``: PostgreSQL delivers a notice when its transaction commits, and never for one rolled
back). Every sidecar listens on a connection of its own and hands each notice from another sidecar to a
callback, so its live stream can show what the others stored. A notice is a few dozen bytes whatever the
group's size; the events themselves are read from the database only by a sidecar with a viewer for them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import orjson

from sidecar import log

CHANNEL = "agentaudit_commits"
NOTIFY_SQL = "SELECT pg_notify(%s, %s)"

#: ``{organisation id: (first sequence, last sequence)}`` of one commit.
Ranges = dict[str, tuple[int, int]]


def notice(origin: str, ranges: Ranges) -> str:
    return orjson.dumps({"o": origin, "r": {org: [first, last] for org, (first, last) in ranges.items()}}).decode()


def parse_notice(payload: str) -> tuple[str, Ranges] | None:
    """``(origin, ranges)``, or None for a payload that is not a notice of ours."""
    try:
        data = orjson.loads(payload)
        ranges = {str(org): (int(bounds[0]), int(bounds[1])) for org, bounds in data["r"].items()}
        return str(data["o"]), ranges
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None


class CommitListener:
    """A thread that listens for commit notices and calls ``on_notice(origin, ranges)`` for each.

    It reconnects (every ``retry_seconds``) when the server drops its connection; notices sent meanwhile are
    missed, and ``on_gap()`` is called once it listens again, so viewers can be told to reload.
    """

    def __init__(self, url: str, on_notice: Callable[[str, Ranges], None], on_gap: Callable[[], None], *,
                 retry_seconds: float = 1.0) -> None:
        self._url = url
        self._on_notice = on_notice
        self._on_gap = on_gap
        self._retry = retry_seconds
        self._stop = threading.Event()
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="commit-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        import psycopg

        failed = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=10,
                                     application_name="agentaudit-listener") as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if failed:
                        failed = False
                        log.store.info("listening for other sidecars' commits again")
                        self._on_gap()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            parsed = parse_notice(note.payload)
                            if parsed is not None:
                                self._on_notice(*parsed)
            except (psycopg.Error, OSError) as exc:
                self.listening.clear()
                if not failed:
                    log.store.warning("stopped hearing other sidecars' commits (%s); reconnecting", exc)
                failed = True
                self._stop.wait(self._retry)
