"""A pure parser for ``text/event-stream`` bodies (the WHATWG server-sent events format)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One dispatched event: its ``event:`` name (``message`` by default), its joined ``data:`` lines, its id."""

    name: str
    data: str
    id: str | None


class SseParser:
    """Feed it bytes as they arrive; it returns the events completed by each chunk.

    Comment lines (``: keep-alive``) are skipped; ``retry:`` is remembered in ``retry_ms``.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._name = ""
        self._data: list[str] = []
        self._id: str | None = None
        self.last_id: str | None = None
        self.retry_ms: int | None = None

    def feed(self, chunk: bytes) -> list[RawEvent]:
        self._buffer += chunk
        events: list[RawEvent] = []
        while True:
            cut = self._next_line_end()
            if cut is None:
                return events
            end, width = cut
            line = self._buffer[:end].decode("utf-8", errors="replace")
            self._buffer = self._buffer[end + width:]
            event = self._line(line)
            if event is not None:
                events.append(event)

    def _next_line_end(self) -> tuple[int, int] | None:
        cr, lf = self._buffer.find(b"\r"), self._buffer.find(b"\n")
        if cr == -1 and lf == -1:
            return None
        if cr != -1 and (lf == -1 or cr < lf):
            if cr == len(self._buffer) - 1:
                return None  # a CR at the end may be the first half of CRLF: wait for more
            return cr, 2 if self._buffer[cr + 1:cr + 2] == b"\n" else 1
        return lf, 1

    def _line(self, line: str) -> RawEvent | None:
        if not line:
            if not self._data:
                self._name = ""
                return None
            event = RawEvent(self._name or "message", "\n".join(self._data), self._id)
            self.last_id = self._id if self._id is not None else self.last_id
            self._name, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._name = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None
