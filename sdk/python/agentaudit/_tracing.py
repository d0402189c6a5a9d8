"""Trace helpers: spans as context managers and a decorator, tracked per thread and per asyncio task.

``with client.trace("run") as t:`` starts a trace (a root span); ``t.span("tool_use")`` or ``client.span(...)``
opens a child of the current span; ``@client.traced("action")`` wraps a function (sync or async) in a span.
A span becomes one audit event when it ends, with ``traceId``, ``spanId``, ``parentSpanId``, ``startedAt``,
``endedAt`` and, if an exception escaped, ``metadata.error``; it is sent in the background, so tracing never
blocks or raises into the traced code. Events logged with ``client.log`` inside a span join its trace.

The current span lives in a ``ContextVar``: asyncio tasks (and ``asyncio.to_thread``) inherit it, but Python
starts a new thread, or a ``ThreadPoolExecutor`` worker, with none, so there ``@client.traced`` would open a new
trace. Wrap the work with :func:`context_wrap` (``pool.map(context_wrap(fn), items)``,
``Thread(target=context_wrap(fn))``) to run it in the trace that was current where it was wrapped, or hand the
span over explicitly (``t.span(...)`` in the thread).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, ParamSpec, Protocol, TypeVar

from agentaudit._events import event_body, new_span_id, new_trace_id

F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")
R = TypeVar("R")
_current: ContextVar[Span | None] = ContextVar("agentaudit_current_span", default=None)


def current_span() -> Span | None:
    """The innermost open span in this thread or task, or None."""
    return _current.get()


class _Emitter(Protocol):
    def _emit_span(self, body: dict[str, Any]) -> None: ...


class Span:
    """One traced step. Use as a context manager (sync or async); ``set()`` adds what it produced.

    Attributes:
        action, trace_id, span_id, parent_span_id, agent_id, prompt, response, metadata: the event's fields.
        started_at, ended_at: epoch seconds (None until entered / ended).
        error: the exception that ended the span, if any.
    """

    def __init__(self, emitter: _Emitter, action: str, *, trace_id: str, parent_span_id: str | None,
                 agent_id: str | None = None, prompt: str | None = None, response: str | None = None,
                 metadata: Mapping[str, Any] | None = None, span_id: str | None = None) -> None:
        self._emitter = emitter
        self.action = action
        self.trace_id = trace_id
        self.span_id = span_id or new_span_id()
        self.parent_span_id = parent_span_id
        self.agent_id = agent_id
        self.prompt = prompt
        self.response = response
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.error: BaseException | None = None
        self._token: Token[Span | None] | None = None

    def __repr__(self) -> str:
        return f"<Span {self.action!r} trace={self.trace_id} span={self.span_id} parent={self.parent_span_id}>"

    def set(self, *, prompt: str | None = None, response: str | None = None, action: str | None = None,
            agent_id: str | None = None, **metadata: Any) -> Span:
        """Record output (``response``), input, or metadata keys (merged) before the span ends."""
        if prompt is not None:
            self.prompt = prompt
        if response is not None:
            self.response = response
        if action is not None:
            self.action = action
        if agent_id is not None:
            self.agent_id = agent_id
        self.metadata.update(metadata)
        return self

    def span(self, action: str, *, prompt: str | None = None, metadata: Mapping[str, Any] | None = None,
             agent_id: str | None = None) -> Span:
        """A child of this span (whatever the current context is: use it to continue a trace in another thread)."""
        return Span(self._emitter, action, trace_id=self.trace_id, parent_span_id=self.span_id,
                    agent_id=agent_id or self.agent_id, prompt=prompt, metadata=metadata)

    def record_exception(self, exc: BaseException) -> None:
        self.error = exc
        self.metadata["status"] = "error"
        self.metadata["error"] = {"type": type(exc).__name__, "message": str(exc)[:2000]}

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def start(self) -> Span:
        if self.started_at is None:
            self.started_at = time.time()
            self._token = _current.set(self)
        return self

    def end(self) -> None:
        """End the span and queue its event (idempotent)."""
        if self.ended_at is not None:
            return
        if self.started_at is None:
            self.started_at = time.time()
        self.ended_at = time.time()
        if self._token is not None:
            try:
                _current.reset(self._token)
            except ValueError:  # ended in another context than it started in
                pass
            self._token = None
        self._emitter._emit_span(self.to_event())

    def to_event(self) -> dict[str, Any]:
        body = event_body(self.action, prompt=self.prompt, response=self.response,
                          metadata=self.metadata or None, agent_id=self.agent_id, trace_id=self.trace_id,
                          span_id=self.span_id, parent_span_id=self.parent_span_id)
        body["startedAt"], body["endedAt"] = self.started_at, self.ended_at  # floats: formatted by the sender
        return body

    def __enter__(self) -> Span:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is not None:
            self.record_exception(exc)
        self.end()

    async def __aenter__(self) -> Span:
        return self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.__exit__(exc_type, exc, tb)


class Tracer:
    """The tracing methods of both clients (mixed in); needs ``_emit_span`` and ``_default_agent``."""

    _default_agent: str | None

    def _emit_span(self, body: dict[str, Any]) -> None:
        raise NotImplementedError

    def trace(self, action: str = "run", *, trace_id: str | None = None, agent_id: str | None = None,
              prompt: str | None = None, metadata: Mapping[str, Any] | None = None) -> Span:
        """A new trace: its root span (``with client.trace("run") as t: ...``)."""
        return Span(self, action, trace_id=trace_id or new_trace_id(), parent_span_id=None,
                    agent_id=agent_id or self._default_agent, prompt=prompt, metadata=metadata)

    def span(self, action: str, *, prompt: str | None = None, metadata: Mapping[str, Any] | None = None,
             agent_id: str | None = None) -> Span:
        """A child of the current span, or the root of a new trace when there is none."""
        parent = _current.get()
        if parent is None:
            return self.trace(action, agent_id=agent_id, prompt=prompt, metadata=metadata)
        return parent.span(action, prompt=prompt, metadata=metadata, agent_id=agent_id)

    def traced(self, action: str | None = None, *, capture_args: bool = False, capture_result: bool = False,
               metadata: Mapping[str, Any] | None = None) -> Callable[[F], F]:
        """Decorate a function or coroutine function so each call is a span (named ``action`` or the function).

        Args:
            capture_args: store ``repr`` of the arguments as the span's prompt.
            capture_result: store ``repr`` of the return value as its response.
        """
        def decorate(fn: F) -> F:
            name = action or fn.__qualname__

            def open_span(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Span:
                prompt = _describe(args, kwargs) if capture_args else None
                return self.span(name, prompt=prompt, metadata=metadata)

            if inspect.iscoroutinefunction(fn):
                @functools.wraps(fn)
                async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                    with open_span(args, kwargs) as span:
                        result = await fn(*args, **kwargs)
                        if capture_result:
                            span.set(response=_clip(repr(result)))
                        return result
                return async_wrapper  # type: ignore[return-value]

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                with open_span(args, kwargs) as span:
                    result = fn(*args, **kwargs)
                    if capture_result:
                        span.set(response=_clip(repr(result)))
                    return result
            return wrapper  # type: ignore[return-value]
        return decorate


def context_wrap(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` bound to the current context: each call, in whatever thread, runs in a copy of the context that was
    current here, so its spans join the trace (and parent) open at this point.

        with client.trace("batch"):
            with ThreadPoolExecutor() as pool:
                results = list(pool.map(agentaudit.context_wrap(lookup), cities))   # each lookup: a child span

    Calls may run at the same time in several threads: each gets its own copy, so spans they open stay apart.
    """
    context = contextvars.copy_context()

    @functools.wraps(fn)
    def run_in_context(*args: P.args, **kwargs: P.kwargs) -> R:
        return context.copy().run(fn, *args, **kwargs)
    return run_in_context


def in_trace(trace_id: str | None, parent_span_id: str | None) -> tuple[str | None, str | None]:
    """Fill a log call's trace fields from the current span when the caller gave none."""
    if trace_id is None and parent_span_id is None:
        span = _current.get()
        if span is not None:
            return span.trace_id, span.span_id
    return trace_id, parent_span_id


def join_span(body: dict[str, Any]) -> dict[str, Any]:
    """A batch entry with no trace fields of its own joins the current span, as a ``log`` call does."""
    if body.get("traceId") is None and body.get("parentSpanId") is None:
        trace_id, parent = in_trace(None, None)
        if trace_id is not None:
            body["traceId"], body["parentSpanId"] = trace_id, parent
    return body


def _describe(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return _clip(", ".join(parts))


def _clip(text: str, limit: int = 10_000) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
