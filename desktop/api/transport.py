"""HTTP over QNetworkAccessManager: requests with timeouts, server-sent event streams and streamed downloads.

This is the only module that imports QtNetwork. Everything is asynchronous: a method returns at once with a
QObject whose signals fire later from the Qt event loop, so no call ever blocks the GUI thread.
"""

from __future__ import annotations

import ipaddress
import json
import os
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QByteArray, QObject, QTimer, QUrl, QUrlQuery, Signal
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkProxy, QNetworkReply, QNetworkRequest

from desktop import log

DEFAULT_TIMEOUT_MS = 15_000
_STATUS = QNetworkRequest.Attribute.HttpStatusCodeAttribute


@dataclass(frozen=True)
class Response:
    """What came back. ``status`` is 0 and ``error`` is set when no HTTP answer arrived.

    Attributes:
        status: the HTTP status, or 0.
        headers: the response headers, names in lower case.
        body: the raw body (empty for downloads, which went to a file).
        error: a human description of a network failure, else None.
        timed_out: True when we gave up waiting.
        elapsed_ms: time from sending to the end of the answer.
    """

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None
    timed_out: bool = False
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300

    def json(self) -> Any:
        """The body decoded as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None


def _headers(reply: QNetworkReply) -> dict[str, str]:
    return {bytes(name.data()).decode("latin-1").lower(): bytes(value.data()).decode("latin-1")
            for name, value in reply.rawHeaderPairs()}


def _read_all(reply: QNetworkReply) -> bytes:
    """What is buffered; nothing from an aborted reply (reading a closed device only makes Qt warn)."""
    return bytes(reply.readAll().data()) if reply.isOpen() else b""


def _status(reply: QNetworkReply) -> int:
    value = reply.attribute(_STATUS)
    return int(value) if value is not None else 0


class PendingRequest(QObject):
    """One request in flight.

    Signals:
        finished(Response): emitted once, from the event loop, whatever happened.
    """

    finished = Signal(object)
    ended = Signal()  # for the transport's bookkeeping, after ``finished``

    def __init__(self, reply: QNetworkReply, timeout_ms: int, *, idle: bool = False,
                 destination: Path | None = None) -> None:
        super().__init__()
        self._reply = reply
        self._started = time.perf_counter()
        self._timed_out = False
        self._done = False
        self._destination = destination
        self._part = destination.with_name(destination.name + ".part") if destination else None
        self._file: Any = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timeout)
        if timeout_ms > 0:
            self._timer.start(timeout_ms)
        if idle:
            reply.downloadProgress.connect(lambda *_: self._timer.start(timeout_ms) if timeout_ms > 0 else None)
        if destination is not None:
            reply.readyRead.connect(self._write_chunk)
        reply.finished.connect(self._on_finished)

    def abort(self) -> None:
        """Give up; ``finished`` still fires, with an error."""
        if not self._done:
            self._reply.abort()

    def discard(self) -> None:
        """Abort without ever emitting ``finished`` (the transport is closing)."""
        if not self._done:
            self._done = True
            self._timer.stop()
            self._reply.abort()
            if self._file is not None:
                self._file.close()
                assert self._part is not None
                self._part.unlink(missing_ok=True)

    def _on_timeout(self) -> None:
        self._timed_out = True
        self._reply.abort()

    def _write_chunk(self, *, final: bool = False) -> None:
        if (self._done and not final) or not 200 <= _status(self._reply) < 300:
            return  # an error body: read it whole at the end
        if self._file is None:
            assert self._part is not None
            self._file = open(self._part, "wb")  # noqa: SIM115 - closed in _on_finished
        self._file.write(_read_all(self._reply))

    def _on_finished(self) -> None:
        if self._done:
            return
        self._done = True
        self._timer.stop()
        reply = self._reply
        status, error = _status(reply), None
        if reply.error() != QNetworkReply.NetworkError.NoError and status == 0:
            error = "no answer within the time limit" if self._timed_out else reply.errorString()
        elif self._timed_out:
            error = "no answer within the time limit"
        body = b""
        if self._destination is not None and error is None and 200 <= status < 300:
            self._write_chunk(final=True)
            if self._file is None:  # an empty body
                assert self._part is not None
                self._file = open(self._part, "wb")  # noqa: SIM115
            self._file.close()
            assert self._part is not None
            os.replace(self._part, self._destination)
        else:
            if self._file is not None:
                self._file.close()
                assert self._part is not None
                self._part.unlink(missing_ok=True)
            body = _read_all(reply)
        response = Response(status if error is None else 0, _headers(reply), body, error, self._timed_out,
                            (time.perf_counter() - self._started) * 1000)
        reply.deleteLater()
        self.finished.emit(response)
        self.ended.emit()


class StreamReply(QObject):
    """A long-lived GET whose body arrives in chunks (server-sent events).

    Signals:
        opened(int): the answer's headers arrived with this status.
        chunk(bytes): more of the body.
        closed(Response): the stream ended; ``error`` says why when it was not a clean end.
    """

    opened = Signal(int)
    chunk = Signal(bytes)
    closed = Signal(object)
    ended = Signal()

    def __init__(self, reply: QNetworkReply) -> None:
        super().__init__()
        self._reply = reply
        self._status = 0
        self._done = False
        reply.metaDataChanged.connect(self._on_meta)
        reply.readyRead.connect(self._on_ready)
        reply.finished.connect(self._on_finished)

    def abort(self) -> None:
        if not self._done:
            self._reply.abort()

    def discard(self) -> None:
        """Abort without emitting anything more (the transport is closing)."""
        if not self._done:
            self._done = True
            self._reply.abort()

    def _on_meta(self) -> None:
        if self._status == 0:
            self._status = _status(self._reply)
            if self._status:
                self.opened.emit(self._status)

    def _on_ready(self) -> None:
        if self._done:
            return
        self._on_meta()
        if 200 <= self._status < 300:
            data = _read_all(self._reply)
            if data:
                self.chunk.emit(data)

    def _on_finished(self) -> None:
        if self._done:
            return
        self._done = True
        self._on_ready()
        reply = self._reply
        error = None
        if reply.error() != QNetworkReply.NetworkError.NoError:
            error = reply.errorString()
        response = Response(_status(reply), _headers(reply), _read_all(reply), error)
        reply.deleteLater()
        self.closed.emit(response)
        self.ended.emit()


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Transport(QObject):
    """A QNetworkAccessManager bound to one sidecar base URL (``http://127.0.0.1:8731``).

    Paths are absolute on that server (``/api/v1/audit-logs``). Loopback addresses never go through a proxy.
    """

    def __init__(self, base_url: str, *, timeout_ms: int = DEFAULT_TIMEOUT_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._nam = QNetworkAccessManager(self)
        self._nam.setRedirectPolicy(QNetworkRequest.RedirectPolicy.NoLessSafeRedirectPolicy)
        self._timeout_ms = timeout_ms
        self._inflight: set[PendingRequest | StreamReply] = set()
        self._base_url = ""
        self.set_base_url(base_url)

    @property
    def base_url(self) -> str:
        return self._base_url

    def set_base_url(self, base_url: str) -> None:
        self._base_url = base_url.rstrip("/")
        if _is_loopback(self._base_url):
            self._nam.setProxy(QNetworkProxy(QNetworkProxy.ProxyType.NoProxy))

    def close(self) -> None:
        """Abort every request and stream in flight without delivering anything (on quit, before teardown,
        so that no answer arrives while the objects waiting for it are being destroyed)."""
        for item in list(self._inflight):
            item.discard()
        self._inflight.clear()

    def _keep(self, item: PendingRequest | StreamReply) -> None:
        """Requests are owned here (not by a Qt parent) until one loop turn after they end, then freed by
        Python, never from inside another object's destructor."""
        self._inflight.add(item)
        ref = weakref.ref(item)
        item.ended.connect(lambda: QTimer.singleShot(0, lambda: self._inflight.discard(ref())))  # type: ignore[arg-type]

    def url(self, path: str, query: Mapping[str, object] | None = None) -> QUrl:
        url = QUrl(self._base_url + path)
        if query:
            items = QUrlQuery()
            for key, value in query.items():
                if value is not None and value != "":
                    items.addQueryItem(key, str(value))
            url.setQuery(items)
        return url

    def _request(self, path: str, query: Mapping[str, object] | None, headers: Mapping[str, str] | None,
                 accept: str = "application/json") -> QNetworkRequest:
        request = QNetworkRequest(self.url(path, query))
        request.setRawHeader(b"Accept", accept.encode())
        for name, value in (headers or {}).items():
            request.setRawHeader(name.encode(), value.encode())
        return request

    def request(self, method: str, path: str, *, query: Mapping[str, object] | None = None, body: Any = None,
                headers: Mapping[str, str] | None = None, timeout_ms: int | None = None) -> PendingRequest:
        """Send one request; ``body`` (any JSON value) is sent as JSON. Returns at once."""
        request = self._request(path, query, headers)
        data = QByteArray()
        if body is not None:
            request.setHeader(QNetworkRequest.KnownHeaders.ContentTypeHeader, "application/json")
            data = QByteArray(json.dumps(body).encode())
        verb = method.upper()
        if verb == "GET":
            reply = self._nam.get(request)
        elif verb == "POST":
            reply = self._nam.post(request, data)
        elif body is None and verb == "DELETE":
            reply = self._nam.deleteResource(request)
        else:
            reply = self._nam.sendCustomRequest(request, verb.encode(), data)
        log.http.debug("%s %s", verb, request.url().toString())
        pending = PendingRequest(reply, self._timeout_ms if timeout_ms is None else timeout_ms)
        self._keep(pending)
        return pending

    def download(self, path: str, destination: Path, *, query: Mapping[str, object] | None = None,
                 headers: Mapping[str, str] | None = None, idle_timeout_ms: int = 60_000) -> PendingRequest:
        """GET into a file as the body arrives (a ``.part`` file renamed at the end). Returns at once."""
        reply = self._nam.get(self._request(path, query, headers, accept="*/*"))
        pending = PendingRequest(reply, idle_timeout_ms, idle=True, destination=destination)
        self._keep(pending)
        return pending

    def stream(self, path: str, *, query: Mapping[str, object] | None = None,
               headers: Mapping[str, str] | None = None) -> StreamReply:
        """Open a long-lived GET (``text/event-stream``). Returns at once."""
        request = self._request(path, query, headers, accept="text/event-stream")
        request.setAttribute(QNetworkRequest.Attribute.CacheLoadControlAttribute,
                             QNetworkRequest.CacheLoadControl.AlwaysNetwork)
        stream = StreamReply(self._nam.get(request))
        self._keep(stream)
        return stream
