"""What the sync and async clients share: configuration, resources, the background sender and tracing."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from agentaudit._buffer import BufferedSender
from agentaudit._models import SenderStats
from agentaudit._compat import LegacyMethods
from agentaudit._config import Config
from agentaudit._errors import ConfigError
from agentaudit._events import batch_entries, iso, metadata_object, normalise_entry, problem, snapshot
from agentaudit._http import Transport
from agentaudit._management import Policies, Reports
from agentaudit._resources import Agents, Alerts, Logs, Packs, Rules, Send, Traces
from agentaudit._tracing import Tracer, in_trace, join_span

log = logging.getLogger("agentaudit")


class ClientCore(Tracer, LegacyMethods):
    """Resources (``logs``, ``traces``, ``alerts``, ``agents``, ``rules``, ``packs``, ``policies``, ``reports``),
    background delivery and tracing; subclasses supply ``send`` and the waited calls.

    Background options (used on the first ``wait=False`` event):
        buffer_size: events held in memory before the oldest are dropped.
        batch_size: events per request (at most 50). flush_interval: longest wait of a lone event, seconds.
        workers: sender threads. window: batches each sender keeps in flight at once when more are waiting.
        spill_path: file that holds events while the sidecar is down.
        close_timeout: how long close() and the exit hook wait for delivery.
    """

    def __init__(self, config: Config, send: Send, *, buffer_size: int = 10_000, batch_size: int = 50,
                 flush_interval: float = 0.1, workers: int = 1, window: int = 16, spill_path: str | None = None,
                 close_timeout: float = 5.0) -> None:
        if not 1 <= batch_size <= 50:
            raise ConfigError(f"batch_size must be 1 to 50, got {batch_size}")
        if buffer_size < 1 or workers < 1 or window < 1 or flush_interval <= 0:
            raise ConfigError("buffer_size, workers and window must be at least 1 and flush_interval positive")
        self.config = config
        self._default_agent = config.agent_id
        self._sender_options: dict[str, Any] = dict(max_buffer=buffer_size, batch_size=batch_size,
                                                    flush_interval=flush_interval, workers=workers, window=window,
                                                    spill_path=spill_path, close_timeout=close_timeout)
        self._close_timeout = close_timeout
        self._sender: BufferedSender | None = None
        self._sender_lock = threading.Lock()
        self._closed = False
        self._warned_background = False
        self.logs = Logs(send)
        self.traces = Traces(send)
        self.alerts = Alerts(send)
        self.agents = Agents(send)
        self.rules = Rules(send)
        self.packs = Packs(send)
        self.policies = Policies(send)
        self.reports = Reports(send)
        if spill_path is not None:
            self._background()  # start now: events parked by an earlier run are replayed without waiting for a log

    @property
    def agent_id(self) -> str | None:
        return self._default_agent

    @property
    def api_key(self) -> str:
        return self.config.api_key

    @property
    def base_url(self) -> str:
        return self.config.base_url

    # -- background -----------------------------------------------------------------------------------------------
    def _background(self) -> BufferedSender:
        sender = self._sender
        if sender is None:
            with self._sender_lock:
                if self._sender is None:
                    self._sender = BufferedSender(Transport(self.config), **self._sender_options)
                sender = self._sender
        return sender

    def _queue(self, action: str, prompt: str | None, response: str | None, metadata: Mapping[str, Any] | None,
               agent_id: str | None, trace_id: str | None, parent_span_id: str | None, span_id: str | None,
               started_at: Any, ended_at: Any, extra: Mapping[str, Any]) -> None:
        """The hot path of ``log(..., wait=False)``: build the body (a copy of ``metadata`` as it is now), stamp the
        time, append. Never raises: an event that cannot be sent is counted as rejected, with one warning."""
        try:
            body: dict[str, Any] = {"action": action}
            if prompt is not None:
                body["prompt"] = prompt
            if response is not None:
                body["response"] = response
            if metadata is not None:
                body["metadata"] = snapshot(metadata if type(metadata) is dict else metadata_object(metadata))
            agent = agent_id or self._default_agent
            if agent is not None:
                body["agentId"] = agent
            trace_id, parent_span_id = in_trace(trace_id, parent_span_id)
            if trace_id is not None:
                body["traceId"] = trace_id
            if parent_span_id is not None:
                body["parentSpanId"] = parent_span_id
            if span_id is not None:
                body["spanId"] = span_id
            if started_at is None and ended_at is None:
                body["startedAt"] = body["endedAt"] = time.time()  # formatted by the sender thread
            else:
                if started_at is not None:
                    body["startedAt"] = started_at if isinstance(started_at, (str, float)) else iso(started_at)
                if ended_at is not None:
                    body["endedAt"] = ended_at if isinstance(ended_at, (str, float)) else iso(ended_at)
            if extra:
                body.update(snapshot(extra))
            (self._sender or self._background()).enqueue(body)
        except Exception as exc:  # bad metadata, a structure that contains itself, ...
            self._reject(1, exc)

    def _queue_batch(self, entries: Any) -> None:
        """The background path of ``log_batch``: each entry checked, copied as it is now and queued. Never raises:
        ``entries`` that is no list counts as one rejected event, an entry that cannot be sent as one."""
        try:
            items = batch_entries(entries)
        except Exception as exc:
            self._reject(1, exc)
            return
        now = time.time()
        for index, entry in enumerate(items):
            try:
                body = join_span(normalise_entry(entry, self._default_agent, index, copy=True))
                if "startedAt" not in body and "endedAt" not in body:
                    body["startedAt"] = body["endedAt"] = now
                (self._sender or self._background()).enqueue(body)
            except Exception as exc:
                self._reject(1, exc)

    def _reject(self, count: int, reason: BaseException) -> None:
        """Count events that could not be queued as rejected, with one warning (background mode never raises)."""
        try:
            (self._sender or self._background()).reject(count, problem(reason))
        except Exception:
            if not self._warned_background:
                self._warned_background = True
                log.warning("agentaudit: could not queue an event", exc_info=True)

    def _emit_span(self, body: dict[str, Any]) -> None:
        if self._default_agent is not None:
            body.setdefault("agentId", self._default_agent)
        try:
            if body.get("metadata") is not None:
                body["metadata"] = snapshot(body["metadata"])  # as it is when the span ends
            (self._sender or self._background()).enqueue(body)
        except Exception as exc:
            self._reject(1, exc)

    @property
    def stats(self) -> SenderStats:
        """Background delivery counters (sent, dropped, rejected, spilled, ...)."""
        if self._sender is None:
            return SenderStats(0, 0, 0, 0, 0, 0, 0, 0, 0)
        return self._sender.stats

    def _flush_background(self, timeout: float | None) -> bool:
        return True if self._sender is None else self._sender.flush(timeout)

    def _close_background(self, timeout: float | None) -> bool:
        self._closed = True
        return True if self._sender is None else self._sender.close(timeout)
