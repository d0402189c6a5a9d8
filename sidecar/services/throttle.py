"""Login throttling: after a few failures for an email (or from a client), each further try waits longer.

One sidecar counts in memory (:class:`LoginThrottle`); the sidecars on one PostgreSQL database count in the
database (:class:`SharedLoginThrottle`), so a guesser spread over several of them gets no more tries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from sidecar.store import login_failures
from sidecar.store.db import ReadPool
from sidecar.store.writer import Writer

_FREE_FAILURES = 5
_WINDOW_SECONDS = 900.0
_MAX_WAIT = 900


def _keys(email: str, client: str) -> tuple[str, str]:
    return f"email:{email}", f"client:{client}"


def wait_seconds(failures: dict[str, Sequence[float]], now: float) -> int:
    """Seconds still to wait given each key's recent failure times (seconds, oldest first); 0: may try now.

    After five failures for an email (twenty from a client) the next try must wait 2, 4, 8 … seconds after
    the latest, at most 15 minutes.
    """
    wait = 0.0
    for key, times in failures.items():
        limit = _FREE_FAILURES if key.startswith("email:") else _FREE_FAILURES * 4
        if len(times) >= limit:
            delay = min(_MAX_WAIT, 2 ** (len(times) - limit + 1))
            wait = max(wait, times[-1] + delay - now)
    return int(wait) + 1 if wait > 0 else 0


class LoginThrottle:
    """Counts failed logins per email and per client address in a sliding 15-minute window, in memory;
    a success clears the email's count."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, list[float]] = {}

    def _recent(self, key: str) -> list[float]:
        now = self._clock()
        times = [t for t in self._failures.get(key, ()) if now - t < _WINDOW_SECONDS]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    async def retry_after(self, email: str, client: str) -> int:
        return wait_seconds({key: self._recent(key) for key in _keys(email, client)}, self._clock())

    async def failed(self, email: str, client: str) -> None:
        now = self._clock()
        if len(self._failures) > 50_000:
            self._failures.clear()
        for key in _keys(email, client):
            self._failures.setdefault(key, []).append(now)

    async def succeeded(self, email: str, client: str) -> None:
        self._failures.pop(f"email:{email}", None)


class SharedLoginThrottle:
    """The same rules, counted in the database that several sidecars share (wall-clock times)."""

    def __init__(self, writer: Writer, reads: ReadPool, clock: Callable[[], float] = time.time) -> None:
        self._writer = writer
        self._reads = reads
        self._clock = clock

    async def retry_after(self, email: str, client: str) -> int:
        now = self._clock()
        found = await self._reads.run(login_failures.recent, _keys(email, client), int((now - _WINDOW_SECONDS) * 1000))
        return wait_seconds({key: [at / 1000 for at in times] for key, times in found.items()}, now)

    async def failed(self, email: str, client: str) -> None:
        now = self._clock()
        await self._writer.run(login_failures.record, _keys(email, client), int(now * 1000),
                               forget_before_ms=int((now - _WINDOW_SECONDS) * 1000))

    async def succeeded(self, email: str, client: str) -> None:
        await self._writer.run(login_failures.clear, f"email:{email}")
