"""Delivering one batch of background events: an attempt, what the answer means, retries, the spill file.

Delivery is at least once, on purpose. Waited calls never send a POST again once it may have reached the sidecar
(they raise, and the caller decides); here nobody could be told, so a batch whose answer is lost (a read timeout,
a connection dropped after the request was written, a 500 or 502/504) is sent again, and may then be stored twice.
An audit trail with a rare duplicate (same content, same ``startedAt``) is better than one with a silent gap.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from typing import Any

from agentaudit._errors import APIConnectionError
from agentaudit._events import problem
from agentaudit._http import Response, Transport, encode, encode_events
from agentaudit._retry import RetryPolicy, retry_after_seconds
from agentaudit._spill import SpillFile

log = logging.getLogger("agentaudit")
_INDEX = re.compile(r"^\[(\d+)\]")


class BatchDelivery:
    """The per-batch half of :class:`~agentaudit._buffer.BufferedSender`, which sets up the state below."""

    _transport: Transport
    _target: str
    _batch_size: int
    _lock: threading.Lock
    _idle: threading.Condition
    _closing: threading.Event
    _deadline: float
    _c: dict[str, int]
    _warned: set[str]
    _retry: RetryPolicy
    _spill: SpillFile | None
    _spill_after: int
    _down: bool
    _next_probe: float
    _probe_gap: float
    _probes: int

    def _encodable(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The events that can be encoded as JSON; the others are counted as rejected, with one warning."""
        good = []
        for event in events:
            try:
                encode(event)
            except Exception as exc:
                with self._lock:
                    self._c["rejected"] += 1
                self._warn_once("unsendable", "agentaudit: dropped an event that cannot be sent as JSON: %s "
                                "(see client.stats.rejected)", problem(exc))
                continue
            good.append(event)
        return good

    def _deliver(self, events: list[dict[str, Any]],
                 first: tuple[list[dict[str, Any]], float | None] | None = None) -> None:
        """Send ``events`` until they are stored, refused, spilled or given up (``first``: the outcome of a first
        attempt already made)."""
        attempt = 0
        while events:
            if first is None and self._spill is not None and self._down and time.monotonic() < self._next_probe:
                self._to_spill(events)
                return
            if first is not None:
                (events, retry_after), first = first, None
                if events and self._spill is not None and self._down:  # a batch beside it found the sidecar down
                    self._to_spill(events)
                    return
            else:
                events, retry_after = self._attempt(events)
            if not events:
                self._mark_up()
                return
            attempt += 1
            if self._spill is not None and (attempt >= self._spill_after or self._closing.is_set()):
                self._mark_down()
                self._to_spill(events)
                return
            pause = self._retry.delay(attempt - 1, retry_after)
            if self._closing.is_set():
                left = self._deadline - time.monotonic()
                if left <= 0:
                    with self._lock:
                        self._c["lost"] += len(events)
                    return
                pause = min(pause, left)
            with self._lock:
                self._c["retries"] += 1
            time.sleep(pause)

    def _attempt(self, events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], float | None]:
        """One POST of ``events``; returns the events to try again (429, 5xx, no answer) and ``Retry-After``.

        Refused events (400 naming them, 401, 402, 403, ...) are counted and not tried again. A 413 splits the batch.
        """
        try:
            body = encode_events(events)
        except Exception:  # a value that cannot be encoded (replayed from an older spill file): drop it alone
            events = self._encodable(events)
            if not events:
                return [], None
            body = encode_events(events)
        try:
            response: Response | APIConnectionError = self._transport.request("POST", self._target, body)
        except APIConnectionError as exc:
            response = exc
        return self._judge(events, response)

    def _judge(self, events: list[dict[str, Any]],
               response: Response | APIConnectionError) -> tuple[list[dict[str, Any]], float | None]:
        """What an answer (or no answer) means for ``events``: those to try again, and ``Retry-After``."""
        if isinstance(response, APIConnectionError):
            self._warn_once("down", "agentaudit: cannot reach the sidecar (%s); retrying in the background", response)
            return events, None
        status = response.status
        if status < 300:
            with self._lock:
                self._c["sent"] += len(events)
            return [], None
        if status == 429 or status >= 500:
            return events, retry_after_seconds(response.headers)
        if status in (400, 422) and len(events) > 1:
            return self._without_bad(events, _json_or_none(response.body))
        if status == 413 and len(events) > 1:
            half = len(events) // 2
            first, wait1 = self._attempt(events[:half])
            second, wait2 = self._attempt(events[half:])
            return first + second, wait1 if wait1 is not None else wait2
        with self._lock:
            self._c["rejected"] += len(events)
        self._warn_once(f"status-{status}", "agentaudit: the sidecar refused %d event(s) with %d: %s",
                        len(events), status, response.body[:300].decode("utf-8", "replace"))
        return [], None

    def _without_bad(self, events: list[dict[str, Any]], body: Any) -> tuple[list[dict[str, Any]], float | None]:
        """A 400 names the bad entries as ``[i].field``: refuse those, send the rest; else try one by one."""
        bad = set()
        details = body.get("details") if isinstance(body, dict) else None
        for detail in details or []:
            found = _INDEX.match(str(detail.get("field", ""))) if isinstance(detail, dict) else None
            if found:
                bad.add(int(found.group(1)))
        if not bad:
            again: list[dict[str, Any]] = []
            wait = None
            for event in events:
                left, w = self._attempt([event])
                again += left
                wait = w if w is not None else wait
            return again, wait
        with self._lock:
            self._c["rejected"] += len(bad)
        self._warn_once("status-400", "agentaudit: the sidecar refused %d invalid event(s): %s", len(bad), details)
        rest = [e for i, e in enumerate(events) if i not in bad]
        return self._attempt(rest) if rest else ([], None)

    # -- down, spill and replay ----------------------------------------------------------------------------------
    def _mark_down(self) -> None:
        self._down = True
        self._next_probe = time.monotonic() + self._probe_gap
        self._probe_gap = min(self._probe_gap * 2, 5.0)

    def _mark_up(self) -> None:
        if self._down:
            self._down, self._probe_gap = False, 0.25
            self._warned.discard("down")

    def _to_spill(self, events: list[dict[str, Any]]) -> None:
        assert self._spill is not None
        written = self._spill.append(events)
        with self._lock:
            self._c["spilled"] += written
            self._c["lost"] += len(events) - written

    def _replay(self) -> None:
        assert self._spill is not None

        def deliver(batch: list[dict[str, Any]]) -> bool:
            left, _ = self._attempt(batch)
            if left:
                return False
            with self._lock:
                self._c["replayed"] += len(batch)
            return True

        self._spill.replay(deliver, self._batch_size)
        if self._spill.size:
            self._mark_down()
        else:
            self._mark_up()
        with self._idle:
            self._probes += 1
            self._idle.notify_all()

    def _warn_once(self, kind: str, message: str, *args: Any, exc_info: bool = False) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            log.warning(message, *args, exc_info=exc_info)


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
