"""Background delivery: a bounded in-memory buffer drained by worker threads in batches.

The caller's cost is one short locked append (a few microseconds). Workers send up to ``batch_size`` events per
``POST /audit-logs/batch``, retry 429, 5xx and connection errors with backoff (``Retry-After`` wins), drop the
oldest events when the buffer is full (counted, one warning), and, with a spill file, park batches on disk while
the sidecar is down and replay them when it answers again. Nothing here raises into the caller.

This module has the caller's side and the workers' rounds; ``_delivery.py`` delivers each batch (at least once:
see there why).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any

from agentaudit._delivery import BatchDelivery
from agentaudit._events import iso
from agentaudit._http import InFlight, Transport, encode_events
from agentaudit._models import SenderStats
from agentaudit._retry import RetryPolicy
from agentaudit._spill import SpillFile

log = logging.getLogger("agentaudit")


@dataclass
class _Flight:
    """A round of batches whose requests are out and whose answers are not read yet."""

    batches: list[list[dict[str, Any]]]
    handle: InFlight
    count: int


class BufferedSender(BatchDelivery):
    """Sends events in the background.

    Args:
        transport: the HTTP transport (its timeout bounds every network wait).
        max_buffer: events held in memory at most; beyond, the oldest are dropped.
        batch_size: events per request, 1 to 50.
        flush_interval: longest time a lone event waits before it is sent.
        workers: sender threads.
        window: batches each worker keeps in flight at once when more than one is waiting (each on its own
            kept-alive connection), so the sidecar's group commit can take them together.
        spill_path: a file for events while the sidecar is down, or None to keep retrying in memory.
        spill_after: failed attempts of a batch before it goes to the spill file.
        retry: backoff policy.
        close_timeout: how long the atexit hook waits for the buffer to drain.
    """

    def __init__(self, transport: Transport, *, max_buffer: int = 10_000, batch_size: int = 50,
                 flush_interval: float = 0.1, workers: int = 1, window: int = 16, spill_path: str | None = None,
                 spill_after: int = 2, retry: RetryPolicy | None = None, close_timeout: float = 5.0) -> None:
        if not 1 <= batch_size <= 50:
            raise ValueError(f"batch_size must be 1 to 50, got {batch_size}")
        if max_buffer < 1 or workers < 1 or window < 1:
            raise ValueError("max_buffer, workers and window must be at least 1")
        self._transport = transport
        self._target = transport.prefix + "/audit-logs/batch"
        self._max = max_buffer
        self._batch_size = batch_size
        self._window = window
        self._interval = flush_interval
        self._spill = SpillFile(spill_path) if spill_path else None
        self._spill_after = spill_after
        self._retry = retry or RetryPolicy(cap=5.0, max_wait=transport.config.max_retry_wait)
        self._close_timeout = close_timeout
        self._buffer: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._deadline = float("inf")
        self._in_flight = 0
        self._probes = 0
        self._down = False
        self._next_probe = 0.0
        self._probe_gap = 0.25
        self._warned: set[str] = set()
        self._c = dict(queued=0, sent=0, dropped=0, rejected=0, spilled=0, replayed=0, lost=0, retries=0)
        self._threads = [threading.Thread(target=self._run, name=f"agentaudit-sender-{i}", daemon=True)
                         for i in range(workers)]
        for thread in self._threads:
            thread.start()
        ref = weakref.ref(self)

        def at_exit() -> None:
            sender = ref()
            if sender is not None:
                sender.close(sender._close_timeout)

        self._at_exit = at_exit
        atexit.register(at_exit)

    # -- the caller's side ---------------------------------------------------------------------------------------
    def enqueue(self, event: dict[str, Any]) -> None:
        """Queue one event body; never blocks on the network, never raises."""
        if self._closing.is_set():
            with self._lock:
                self._c["lost"] += 1
            self._warn_once("closed", "agentaudit: an event was logged after close(); it is not sent "
                            "(see client.stats.lost)")
            return
        with self._lock:
            if len(self._buffer) >= self._max:
                self._buffer.popleft()
                self._c["dropped"] += 1
            self._buffer.append(event)
            self._c["queued"] += 1
            full = len(self._buffer) >= self._batch_size
        if full and not self._wake.is_set():
            self._wake.set()

    def reject(self, count: int, reason: str) -> None:
        """Count events the caller logged that cannot be sent (no dict, NaN, ...) as queued and rejected; warns
        once. Never raises."""
        with self._lock:
            self._c["queued"] += count
            self._c["rejected"] += count
        self._warn_once("invalid", "agentaudit: dropped an event that cannot be sent: %s (see client.stats.rejected)",
                        reason)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every queued event is sent, refused or spilled; False if ``timeout`` ran out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        probes = self._probes
        self._next_probe = 0.0  # parked events: try the sidecar again now rather than at the next probe
        self._wake.set()
        with self._idle:
            while self._buffer or self._in_flight or self._parked(probes):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._wake.set()
                self._idle.wait(0.05 if left is None else min(left, 0.05))
        return True

    def _parked(self, probes: int) -> bool:
        """Spilled events still to replay, unless a replay tried since ``probes`` found the sidecar down."""
        if self._spill is None or not self._spill.size:
            return False
        return not (self._down and self._probes > probes)

    def close(self, timeout: float | None = 5.0) -> bool:
        """Send what is queued (spilling it if the sidecar is down), then stop the workers. Idempotent.

        Events still undelivered when ``timeout`` runs out are given up (counted in ``lost``) with one warning that
        says how many, also when this runs at exit because the program did not call ``close()``.

        Returns True if nothing was left undelivered.
        """
        if self._closing.is_set():
            return not self._buffer
        atexit.unregister(self._at_exit)
        lost_before = self._c["lost"]
        self._deadline = float("inf") if timeout is None else time.monotonic() + timeout
        self._closing.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(None if timeout is None else max(0.0, self._deadline - time.monotonic()) + 0.5)
        with self._lock:
            leftover = len(self._buffer)
            if leftover:
                events = list(self._buffer)
                self._buffer.clear()
                if self._spill is not None:
                    self._c["spilled"] += self._spill.append([self._prepared(e) for e in events])
                else:
                    self._c["lost"] += leftover
            given_up = self._c["lost"] - lost_before + self._in_flight  # in flight: a worker still waits on them
        self._transport.close()
        if given_up:
            within = "before close() returned" if timeout is None else f"within {timeout:g}s"
            hint = "" if self._spill is not None else (
                "; a spill_path would have kept them on disk for the next run")
            log.warning("agentaudit: gave up on %d event(s) the sidecar did not take %s (see client.stats.lost)%s",
                        given_up, within, hint)
        return not given_up

    @property
    def stats(self) -> SenderStats:
        with self._lock:
            return SenderStats(**self._c, pending=len(self._buffer) + self._in_flight)

    # -- the workers ---------------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self._cycle()
            except Exception:  # a bug here must not kill delivery; log it once per kind
                self._warn_once("bug", "agentaudit: unexpected error in the background sender", exc_info=True)
            if self._closing.is_set() and (not self._buffer or time.monotonic() >= self._deadline):
                return

    def _cycle(self) -> None:
        if self._c["dropped"]:
            self._warn_once("dropped", "agentaudit: the event buffer is full (%d events); dropping the oldest "
                            "(see client.stats.dropped)", self._max)
        if self._spill is not None and self._spill.size and time.monotonic() >= self._next_probe:
            self._replay()
        # pipelined: the next round is encoded while one is in flight, and sent once that one has landed
        flight: _Flight | None = None
        try:
            while True:
                with self._lock:
                    batches = []
                    while len(batches) < self._window and self._buffer:
                        n = min(self._batch_size, len(self._buffer))
                        batches.append([self._buffer.popleft() for _ in range(n)])
                    count = sum(len(batch) for batch in batches)
                    self._in_flight += count
                try:
                    prepared, bodies = self._encoded([[self._prepared(e) for e in batch] for batch in batches])
                    if flight is not None:
                        landing, flight = flight, None
                        self._land(landing)
                    if not batches:
                        return
                    if self._spill is not None and self._down:
                        for batch in prepared:  # one at a time, where each failure is counted or spilled
                            self._deliver(batch)
                        continue
                    if not prepared:  # every event of the round was unsendable (counted as rejected)
                        continue
                    handle = self._transport.start_many("POST", self._target, bodies)
                    flight, count = _Flight(prepared, handle, count), 0
                finally:
                    if count:
                        self._release(count)
        finally:
            if flight is not None:
                self._land(flight)

    def _release(self, count: int) -> None:
        with self._idle:
            self._in_flight -= count
            self._idle.notify_all()

    def _encoded(self, batches: list[list[dict[str, Any]]]) -> tuple[list[list[dict[str, Any]]], list[bytes]]:
        """The batches without their events that cannot be encoded (counted as rejected), and their bodies."""
        kept, bodies = [], []
        for batch in batches:
            try:
                body = encode_events(batch)
            except Exception:
                batch = self._encodable(batch)
                if not batch:
                    continue
                body = encode_events(batch)
            kept.append(batch)
            bodies.append(body)
        return kept, bodies

    def _land(self, flight: _Flight) -> None:
        """Read the answers of a round in flight and finish each batch (retries included)."""
        try:
            answers = self._transport.finish_many(flight.handle)
            for batch, answer in zip(flight.batches, answers):
                self._deliver(batch, first=self._judge(batch, answer))
        finally:
            self._release(flight.count)

    @staticmethod
    def _prepared(event: dict[str, Any]) -> dict[str, Any]:
        for key in ("startedAt", "endedAt"):
            value = event.get(key)
            if isinstance(value, float):
                event[key] = iso(value)
        return event
