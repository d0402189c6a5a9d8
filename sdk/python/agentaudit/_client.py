"""The synchronous client, ``AgentAuditClient`` (alias ``AgentAudit``), and ``BufferedClient``."""

from __future__ import annotations

import builtins
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any

from agentaudit._base import ClientCore
from agentaudit._config import Config
from agentaudit._errors import (AgentAuditError, APIConnectionError, APIStatusError, APITimeoutError, ConfigError,
                                ValidationError)
from agentaudit._events import batch_entries, event_body, normalise_entry
from agentaudit._http import Call, Transport, encode_events
from agentaudit._models import AuditLog, BatchResult, GuardrailResult, Report
from agentaudit._resources import one
from agentaudit._tracing import in_trace, join_span

MAX_BATCH = 50


class ReportTimeoutError(APITimeoutError, builtins.TimeoutError):
    """``wait_for_report`` ran out of time: an ``agentaudit.TimeoutError`` (so an ``AgentAuditError``) and, for code
    that caught it before, also the built-in ``TimeoutError``."""


def report_timeout(report: Report, timeout: float) -> ReportTimeoutError:
    return ReportTimeoutError(f"report {report.id} still {report.status or 'not ready'} after {timeout:g}s")


def guardrail_body(action: str, prompt: str | None, response: str | None, metadata: Mapping[str, Any] | None,
                   agent_id: str | None, trace_id: str | None, parent_span_id: str | None) -> dict[str, Any]:
    trace_id, parent_span_id = in_trace(trace_id, parent_span_id)
    return event_body(action, prompt=prompt, response=response, metadata=metadata, agent_id=agent_id,
                      trace_id=trace_id, parent_span_id=parent_span_id, extra={"checkType": "realtime"})


def evaluate_body(prompt: str | None, response: str | None, metadata: Mapping[str, Any] | None,
                  agent_id: str | None, policy_id: str | None, rule: Mapping[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": prompt, "response": response, "metadata": metadata, "agentId": agent_id,
                            "policyId": policy_id, "rule": rule}
    return {k: v for k, v in body.items() if v is not None}


def cannot_answer(exc: AgentAuditError) -> bool:
    """Whether a guardrail's ``on_error`` applies: the sidecar is unreachable, overloaded, failing or out of quota.
    A refusal of the call itself (a bad key, a missing scope, invalid input) is raised whatever ``on_error``
    says: failing open there would hide a misconfiguration for good."""
    return isinstance(exc, APIConnectionError) or (
        isinstance(exc, APIStatusError) and (exc.status >= 500 or exc.status in (402, 429)))


ON_ERROR = ("raise", "allow", "block")


def check_on_error(on_error: object) -> None:
    """Raise ConfigError unless ``on_error`` is one of ``ON_ERROR`` (a typo must not fail closed, or open, silently)."""
    if not (isinstance(on_error, str) and on_error in ON_ERROR):
        raise ConfigError(f"on_error must be 'raise', 'allow' or 'block', got {on_error!r}")


def fallback_verdict(on_error: str, exc: Exception) -> GuardrailResult:
    """The verdict a guardrail gives when the sidecar cannot answer and the caller chose fail-open or fail-closed."""
    action = "allow" if on_error == "allow" else "block"
    return GuardrailResult(raw={"error": str(exc)}, allowed=action == "allow", action=action)


def chunks(entries: list[dict[str, Any]]) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """The requests of a long batch: (index of the first entry, up to 50 entries)."""
    for i in range(0, len(entries), MAX_BATCH):
        yield i, entries[i:i + MAX_BATCH]


def batch_requests(entries: Any, default_agent: str | None) -> list[tuple[int, bytes]]:
    """The requests of a waited ``log_batch``: (index of the first entry, encoded body of up to 50 entries). Every
    entry is checked and encoded before the first request is sent.

    Raises:
        ValidationError: ``entries`` is no list of dicts, or an entry cannot be sent; named by its index.
    """
    bodies = [join_span(normalise_entry(e, default_agent, i)) for i, e in enumerate(batch_entries(entries))]
    requests = []
    for start, part in chunks(bodies):
        try:
            requests.append((start, encode_events(part)))
        except ValidationError as exc:
            raise batch_error(exc, start, []) from None
    return requests


def batch_error(exc: AgentAuditError, start: int, stored: list[AuditLog]) -> AgentAuditError:
    """The error of the request of a long batch that began at entry ``start``, told in the caller's indexes, with
    the events the requests before it stored (``error.stored``)."""
    if isinstance(exc, APIStatusError) and start:
        def shift(text: str) -> str:
            text = re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + start}]", text)
            return re.sub(r"\bentry (\d+)\b", lambda m: f"entry {int(m.group(1)) + start}", text)

        details = [{**d, "field": shift(str(d.get("field", "")))} if isinstance(d, dict) else d for d in exc.details]
        exc = type(exc)(exc.status, shift(exc.message), code=exc.code, request_id=exc.request_id, details=details,
                        body=exc.body, retry_after=exc.retry_after)
    if stored:
        exc.args = (f"{exc.args[0] if exc.args else exc} (entries 0 to {len(stored) - 1} were stored: "
                    "see error.stored)", *exc.args[1:])
    exc.stored = stored
    return exc


class AgentAuditClient(ClientCore):
    """A client of the AgentAudit sidecar.

    Args:
        api_key: the ``aa_…`` key (default ``AGENTAUDIT_API_KEY``).
        base_url: the API root (default ``AGENTAUDIT_BASE_URL``, else ``http://127.0.0.1:8731/api/v1``).
        agent_id: default ``agentId`` of every event.
        timeout: seconds for each network wait. max_retries: extra attempts of waited calls (429, 5xx, no answer).
        **background: options of background delivery (see :class:`ClientCore`).

    ``log()`` waits for the stored event by default; ``log(..., wait=False)`` queues it and returns at once.
    """

    default_wait = True

    def __init__(self, api_key: str | None = None, base_url: str | None = None, agent_id: str | None = None, *,
                 timeout: float | None = None, max_retries: int | None = None, **background: Any) -> None:
        config = Config.resolve(api_key=api_key, base_url=base_url, agent_id=agent_id, timeout=timeout,
                                max_retries=max_retries)
        self._transport = Transport(config)
        super().__init__(config, self._transport.send, **background)

    def __enter__(self) -> AgentAuditClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.config.base_url} agent={self._default_agent!r}>"

    # -- writing events ---------------------------------------------------------------------------------------------
    def log(self, action: str, prompt: str | None = None, response: str | None = None,
            metadata: Mapping[str, Any] | None = None, agent_id: str | None = None, trace_id: str | None = None,
            parent_span_id: str | None = None, *, span_id: str | None = None, started_at: Any = None,
            ended_at: Any = None, wait: bool | None = None, **extra: Any) -> AuditLog | None:
        """Record one event.

        Inside a span (``client.trace``/``client.span``) the event joins that trace unless ``trace_id`` or
        ``parent_span_id`` is given.

        Args:
            metadata: a dict of JSON values; datetimes, sets and bytes are converted (see ``agentaudit._events``).
            wait: True: send now and return the stored :class:`AuditLog` (raises on failure). False: queue a copy
                of the event, taken now, for the background sender and return None at once; nothing is raised (an
                event that cannot be sent is counted in ``stats.rejected``, with one warning). Default: the
                client's.

        Raises:
            ValidationError: only when waiting: ``metadata`` is no dict or holds NaN/infinity (before sending), or
                the sidecar refused the event.
            APIStatusError, APIConnectionError: only when waiting.
        """
        if not (self.default_wait if wait is None else wait):
            self._queue(action, prompt, response, metadata, agent_id, trace_id, parent_span_id, span_id,
                        started_at, ended_at, extra)
            return None
        trace_id, parent_span_id = in_trace(trace_id, parent_span_id)
        body = event_body(action, prompt=prompt, response=response, metadata=metadata,
                          agent_id=agent_id or self._default_agent, trace_id=trace_id, span_id=span_id,
                          parent_span_id=parent_span_id, started_at=started_at, ended_at=ended_at, extra=extra)
        return self._transport.send(Call("POST", "/audit-logs", one(AuditLog), body=encode_events(body)))

    def log_batch(self, entries: Iterable[Mapping[str, Any]], *, wait: bool | None = None) -> BatchResult | None:
        """Record many events (camelCase or snake_case keys); more than 50 go as several requests, in order.

        Returns the stored events when waiting, None when queued (``wait=False``). Queued, it never raises either:
        ``entries`` that is no list, or an entry that is no dict or cannot be sent, is counted in
        ``stats.rejected`` with one warning, and the other entries are queued (copies, taken now).

        Raises:
            ValidationError: only when waiting, before anything is sent: ``entries`` is no list of dicts, or an
                entry cannot be sent (NaN in its metadata, ...). Named by its index: ``[3].metadata.score``.
            APIStatusError, APIConnectionError: only when waiting. The error names a bad entry by its index in
                ``entries``, and its ``stored`` holds the events the requests before it stored.
        """
        if not (self.default_wait if wait is None else wait):
            self._queue_batch(entries)
            return None
        stored: list[AuditLog] = []
        for start, part in batch_requests(entries, self._default_agent):
            try:
                result = self._transport.send(Call("POST", "/audit-logs/batch", one(BatchResult), body=part))
            except AgentAuditError as exc:
                raise batch_error(exc, start, stored) from None
            stored.extend(result.data)
        return BatchResult(raw={"data": [s.raw for s in stored], "processed": len(stored), "errors": 0},
                           data=stored, processed=len(stored))

    def guardrail(self, action: str, prompt: str | None = None, response: str | None = None,
                  metadata: Mapping[str, Any] | None = None, agent_id: str | None = None,
                  trace_id: str | None = None, parent_span_id: str | None = None, *, dry_run: bool = False,
                  policy_id: str | None = None, on_error: str = "raise") -> GuardrailResult:
        """Check content against the rules before acting on it; the event is stored unless ``dry_run``.

        Args:
            dry_run: ask ``POST /compliance/evaluate`` instead: the verdict only, nothing stored.
            policy_id: with ``dry_run``, evaluate against this policy.
            on_error: what to return when the sidecar cannot answer: ``"raise"`` (default), ``"allow"``
                (fail open) or ``"block"`` (fail closed).

        Raises:
            ConfigError: ``on_error`` is none of those (before anything is sent).
        """
        check_on_error(on_error)
        agent = agent_id or self._default_agent
        try:
            if dry_run:
                return self.evaluate(prompt=prompt, response=response, metadata=metadata, agent_id=agent,
                                     policy_id=policy_id)
            body = guardrail_body(action, prompt, response, metadata, agent, trace_id, parent_span_id)
            return self._transport.send(Call("POST", "/audit-logs", lambda r: GuardrailResult.from_verdict(r.json()),
                                             body=encode_events(body)))
        except (APIConnectionError, APIStatusError) as exc:
            if on_error == "raise" or not cannot_answer(exc):
                raise
            return fallback_verdict(on_error, exc)

    def evaluate(self, *, prompt: str | None = None, response: str | None = None,
                 metadata: Mapping[str, Any] | None = None, agent_id: str | None = None,
                 policy_id: str | None = None, rule: Mapping[str, Any] | None = None) -> GuardrailResult:
        """The verdict such an event would get (``POST /compliance/evaluate``); nothing is stored."""
        body = evaluate_body(prompt, response, metadata, agent_id, policy_id, rule)
        return self._transport.send(Call("POST", "/compliance/evaluate",  # stores nothing: safe to send again
                                         lambda r: GuardrailResult.from_verdict(r.json()), body=body, idempotent=True))

    # -- convenience over the resources ---------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """``GET /health``: ``{status, version, database}``."""
        return self._transport.send(Call("GET", "/health"))  # type: ignore[no-any-return]

    def iter_logs(self, *, page_size: int = 200, **filters: Any) -> Iterator[AuditLog]:
        """Every matching event, newest first, following the ``before`` cursor page by page."""
        before = None
        while True:
            page = self.logs.list(limit=page_size, before=before, **filters)
            yield from page.items
            if not page.next_cursor or len(page.items) < page_size:
                return
            before = page.next_cursor

    def wait_for_report(self, report_id: str, *, timeout: float = 60.0, interval: float = 0.25) -> Report:
        """Poll a report until it is ``ready`` or ``failed``.

        Raises:
            agentaudit.TimeoutError: still not done after ``timeout`` seconds (also a built-in ``TimeoutError``).
        """
        deadline = time.monotonic() + timeout
        while True:
            report = self.reports.get(report_id)
            if report.status in ("ready", "failed"):
                return report
            if time.monotonic() >= deadline:
                raise report_timeout(report, timeout)
            time.sleep(interval)

    # -- lifecycle ------------------------------------------------------------------------------------------------
    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until background events are delivered (or spilled); False if ``timeout`` ran out."""
        return self._flush_background(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Deliver what is queued (waiting at most ``timeout``, default ``close_timeout``), then release connections."""
        done = self._close_background(self._close_timeout if timeout is None else timeout)
        self._transport.close()
        return done


class BufferedClient(AgentAuditClient):
    """An :class:`AgentAuditClient` whose ``log()`` and ``log_batch()`` queue by default (``wait=False``)."""

    default_wait = False
