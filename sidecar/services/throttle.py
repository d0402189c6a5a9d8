"""Login throttling: after a few failures for an email (or from a client), each further try waits longer."""

from __future__ import annotations

import time
from collections.abc import Callable

_FREE_FAILURES = 5
_WINDOW_SECONDS = 900.0
_MAX_WAIT = 900


class LoginThrottle:
    """Counts failed logins per email and per client address in a sliding 15-minute window.

    After five failures the next try must wait 2, 4, 8 … seconds (at most 15 minutes);
    a success clears the email's count.
    """

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

    def retry_after(self, email: str, client: str) -> int:
        """Seconds the caller must still wait (0: may try now)."""
        wait = 0.0
        for key in (f"email:{email}", f"client:{client}"):
            times = self._recent(key)
            limit = _FREE_FAILURES if key.startswith("email:") else _FREE_FAILURES * 4
            if len(times) >= limit:
                delay = min(_MAX_WAIT, 2 ** (len(times) - limit + 1))
                wait = max(wait, times[-1] + delay - self._clock())
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, email: str, client: str) -> None:
        now = self._clock()
        if len(self._failures) > 50_000:
            self._failures.clear()
        for key in (f"email:{email}", f"client:{client}"):
            self._failures.setdefault(key, []).append(now)

    def succeeded(self, email: str, client: str) -> None:
        self._failures.pop(f"email:{email}", None)
