"""What a client method returns: a :class:`Call` (one request) or an :class:`EventStream` (the live stream)."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop import log
from desktop.api import schemas
from desktop.api.errors import ApiError
from desktop.api.sse import SseParser
from desktop.api.transport import Response, StreamReply


class Call(QObject):
    """One API call in flight.

    Signals:
        done(object): the parsed answer (a ``schemas`` value, a list, a number or None).
        failed(object): an :class:`ApiError`.

    Never connect a slot that captures the call itself (``lambda v: self._loaded(call, v)``): the C++
    connection makes a cycle that Python's collector cannot see, and the call and its result would never be
    freed. Connect a bound method and compare ``self.sender()`` instead.

    Attributes:
        what: a short description for messages and logs (``"list alerts"``).
        result, error: filled in when the call ends; ``finished`` says whether it has.
    """

    done = Signal(object)
    failed = Signal(object)

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what
        self.finished = False
        self.result: Any = None
        self.error: ApiError | None = None

    def _succeed(self, value: Any) -> None:
        self.finished, self.result = True, value
        self.done.emit(value)

    def _fail(self, error: ApiError) -> None:
        self.finished, self.error = True, error
        log.http.info("%s failed: %s (%s)", self.what, error.message, error.code)
        self.failed.emit(error)


class EventStream(QObject):
    """The live ``GET /api/v1/stream`` connection.

    Signals:
        opened(): the sidecar accepted the stream.
        received(object): a :class:`schemas.StreamEvent`.
        closed(object): an :class:`ApiError`, or None when the sidecar ended the stream cleanly.
    """

    opened = Signal()
    received = Signal(object)
    closed = Signal(object)

    def __init__(self, reply: StreamReply) -> None:
        super().__init__()
        self._reply = reply
        self._parser = SseParser()
        self.is_open = False
        reply.opened.connect(self._on_opened)
        reply.chunk.connect(self._on_chunk)
        reply.closed.connect(self._on_closed)

    def close(self) -> None:
        if self._reply is not None:
            self._reply.abort()

    def _on_opened(self, status: int) -> None:
        if 200 <= status < 300:
            self.is_open = True
            self.opened.emit()

    def _on_chunk(self, data: bytes) -> None:
        for raw in self._parser.feed(data):
            try:
                payload = json.loads(raw.data) if raw.data else None
            except ValueError:
                log.live.warning("ignoring a stream event whose data is not JSON: %r", raw.data[:80])
                continue
            name = raw.name
            if name == "message" and isinstance(payload, dict) and isinstance(payload.get("event"), str):
                name = payload["event"]  # a sidecar that sends the name inside the data
            self.received.emit(schemas.StreamEvent(name, payload))

    def _on_closed(self, response: Response) -> None:
        self.is_open = False
        self._reply = None  # type: ignore[assignment]
        if response.error is not None and response.status == 0:
            error: ApiError | None = ApiError.network(response.error)
        elif response.status >= 400:
            error = ApiError.from_response(response.status, response.body, dict(response.headers))
        else:
            error = None
        self.closed.emit(error)
