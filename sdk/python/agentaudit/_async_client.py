"""``AsyncAgentAuditClient``: the same API for asyncio agents; waited calls are awaited, background ones are not."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Generator, Iterable, Mapping
from types import TracebackType
from typing import Any

from agentaudit._aio import AsyncTransport
from agentaudit._base import ClientCore
from agentaudit._client import (batch_error, batch_requests, cannot_answer, check_on_error, evaluate_body,
                                fallback_verdict, guardrail_body, report_timeout)
from agentaudit._config import Config
from agentaudit._errors import AgentAuditError, APIConnectionError, APIStatusError
from agentaudit._events import event_body
from agentaudit._http import Call, encode_events
from agentaudit._models import AuditLog, BatchResult, GuardrailResult, Report
from agentaudit._resources import one
from agentaudit._tracing import in_trace


class Queued:
    """What ``log_batch(..., wait=False)`` returns: the events are queued already, and ``await``-ing it (the form
    that worked before it queued at call time) returns None at once. Awaitable any number of times."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        return
        yield  # a generator that is done at once

    def __repr__(self) -> str:
        return "<agentaudit queued>"


QUEUED = Queued()


class AsyncAgentAuditClient(ClientCore):
    """Like :class:`AgentAuditClient`, for asyncio: ``await client.log(...)``, ``await client.agents.list()``.

    ``client.log(..., wait=False)`` returns None at once (no await needed) and is delivered by the background
    sender thread; ``log_batch(..., wait=False)`` also queues at once, and its result may be awaited or not; spans and ``@client.traced`` work on coroutines, one current span per task.
    Use ``async with AsyncAgentAuditClient(...) as client:`` or ``await client.aclose()``.
    """

    def __init__(self, api_key: str | None = None, base_url: str | None = None, agent_id: str | None = None, *,
                 timeout: float | None = None, max_retries: int | None = None, **background: Any) -> None:
        config = Config.resolve(api_key=api_key, base_url=base_url, agent_id=agent_id, timeout=timeout,
                                max_retries=max_retries)
        self._transport = AsyncTransport(config)
        super().__init__(config, self._transport.send, **background)

    async def __aenter__(self) -> AsyncAgentAuditClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    def log(self, action: str, prompt: str | None = None, response: str | None = None,  # type: ignore[override]
            metadata: Mapping[str, Any] | None = None, agent_id: str | None = None, trace_id: str | None = None,
            parent_span_id: str | None = None, *, span_id: str | None = None, started_at: Any = None,
            ended_at: Any = None, wait: bool = True, **extra: Any) -> Any:
        """``await client.log(...)`` → the stored :class:`AuditLog`; ``client.log(..., wait=False)`` → None, queued."""
        if not wait:
            self._queue(action, prompt, response, metadata, agent_id, trace_id, parent_span_id, span_id,
                        started_at, ended_at, extra)
            return None
        trace_id, parent_span_id = in_trace(trace_id, parent_span_id)
        body = event_body(action, prompt=prompt, response=response, metadata=metadata,
                          agent_id=agent_id or self._default_agent, trace_id=trace_id, span_id=span_id,
                          parent_span_id=parent_span_id, started_at=started_at, ended_at=ended_at, extra=extra)
        return self._transport.send(Call("POST", "/audit-logs", one(AuditLog), body=encode_events(body)))

    def log_batch(self, entries: Iterable[Mapping[str, Any]], *, wait: bool = True) -> Any:
        """``await client.log_batch([...])`` → the stored events (:class:`BatchResult`);
        ``client.log_batch([...], wait=False)`` queues at once, like ``log``, and returns :data:`QUEUED`, which
        needs no await but may be awaited (→ None): ``await client.log_batch([...], wait=False)`` still works."""
        if not wait:
            self._queue_batch(entries)
            return QUEUED
        return self._store_batch(batch_requests(entries, self._default_agent))  # checked now, before any await

    async def _store_batch(self, requests: list[tuple[int, bytes]]) -> BatchResult:
        stored: list[AuditLog] = []
        for start, part in requests:
            try:
                result = await self._transport.send(Call("POST", "/audit-logs/batch", one(BatchResult), body=part))
            except AgentAuditError as exc:
                raise batch_error(exc, start, stored) from None
            stored.extend(result.data)
        return BatchResult(raw={"data": [s.raw for s in stored], "processed": len(stored), "errors": 0},
                           data=stored, processed=len(stored))

    async def guardrail(self, action: str, prompt: str | None = None, response: str | None = None,
                        metadata: Mapping[str, Any] | None = None, agent_id: str | None = None,
                        trace_id: str | None = None, parent_span_id: str | None = None, *, dry_run: bool = False,
                        policy_id: str | None = None, on_error: str = "raise") -> GuardrailResult:
        """See :meth:`AgentAuditClient.guardrail`; a bad ``on_error`` raises ConfigError before anything is sent."""
        check_on_error(on_error)
        agent = agent_id or self._default_agent
        try:
            if dry_run:
                return await self.evaluate(prompt=prompt, response=response, metadata=metadata, agent_id=agent,
                                           policy_id=policy_id)
            body = guardrail_body(action, prompt, response, metadata, agent, trace_id, parent_span_id)
            return await self._transport.send(Call("POST", "/audit-logs",
                                                   lambda r: GuardrailResult.from_verdict(r.json()),
                                                   body=encode_events(body)))
        except (APIConnectionError, APIStatusError) as exc:
            if on_error == "raise" or not cannot_answer(exc):
                raise
            return fallback_verdict(on_error, exc)

    async def evaluate(self, *, prompt: str | None = None, response: str | None = None,
                       metadata: Mapping[str, Any] | None = None, agent_id: str | None = None,
                       policy_id: str | None = None, rule: Mapping[str, Any] | None = None) -> GuardrailResult:
        body = evaluate_body(prompt, response, metadata, agent_id, policy_id, rule)
        return await self._transport.send(Call("POST", "/compliance/evaluate",  # stores nothing
                                               lambda r: GuardrailResult.from_verdict(r.json()), body=body,
                                               idempotent=True))

    async def health(self) -> dict[str, Any]:  # type: ignore[override]
        return await self._transport.send(Call("GET", "/health"))  # type: ignore[no-any-return]

    async def iter_logs(self, *, page_size: int = 200, **filters: Any) -> AsyncIterator[AuditLog]:
        before = None
        while True:
            page = await self.logs.list(limit=page_size, before=before, **filters)  # type: ignore[misc]
            for item in page.items:
                yield item
            if not page.next_cursor or len(page.items) < page_size:
                return
            before = page.next_cursor

    async def wait_for_report(self, report_id: str, *, timeout: float = 60.0, interval: float = 0.25) -> Report:
        """Poll a report until it is ``ready`` or ``failed``; ``agentaudit.TimeoutError`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            report = await self.reports.get(report_id)  # type: ignore[misc]
            if report.status in ("ready", "failed"):
                return report  # type: ignore[no-any-return]
            if time.monotonic() >= deadline:
                raise report_timeout(report, timeout)
            await asyncio.sleep(interval)

    async def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait (in a thread, the loop keeps running) until background events are delivered or spilled."""
        if self._sender is None:
            return True
        return await asyncio.to_thread(self._flush_background, timeout)

    async def close(self, timeout: float | None = None) -> bool:
        """``await client.close()``: the same as :meth:`aclose`, named as on :class:`AgentAuditClient`."""
        return await self.aclose(timeout)

    async def aclose(self, timeout: float | None = None) -> bool:
        done = True
        if self._sender is not None:
            done = await asyncio.to_thread(self._close_background,
                                           self._close_timeout if timeout is None else timeout)
        await self._transport.close()
        return done
