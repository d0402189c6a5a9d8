"""HTTP plumbing shared by the sync and async clients: a call description, the retry policy, the sync transport.

Resource methods build a :class:`Call` (method, path, query, body, parser); a transport runs it. The sync
transport below uses ``http.client`` with one keep-alive connection per thread; ``_aio.py`` runs the same calls
on asyncio streams. When a call may be sent again is ``_retry.py``'s business.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Generic, TypeVar
from urllib.parse import quote, urlencode, urlsplit

from agentaudit._version import __version__
from agentaudit._config import Config
from agentaudit._errors import APIConnectionError, APITimeoutError, status_error
from agentaudit._encoding import encode, encode_events  # noqa: F401  (re-exported: the clients import them here)
from agentaudit._retry import (RetryPolicy, mark_unsent, may_retry_status, not_retried, repeatable, retry_after_seconds,
                               unsent)

T = TypeVar("T")
USER_AGENT = f"agentaudit-sdk-python/{__version__}"


@dataclass(frozen=True)
class Response:
    """A decoded HTTP answer: status, lower-cased headers and the raw body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body)


def _json_body(response: Response) -> Any:
    return response.json()


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API request and how to turn its answer into a result.

    ``path`` is relative to the base URL (``/audit-logs``); ``query`` values of None are left out; ``body`` is
    encoded as JSON when the call is sent (bytes: already encoded); ``sink`` is a binary file that receives the
    body instead of memory (downloads); ``idempotent`` says whether sending it twice does no more than sending it
    once (None: decided by the method, so POST and PATCH are not).
    """

    method: str
    path: str
    parse: Callable[[Response], T] = _json_body  # type: ignore[assignment]
    query: Mapping[str, Any] | None = None
    body: Any = None
    sink: IO[bytes] | None = field(default=None, compare=False)
    idempotent: bool | None = None

    def encoded(self) -> bytes | None:
        """The request body as bytes (a body given as bytes is taken as encoded JSON already)."""
        if self.body is None or isinstance(self.body, bytes):
            return self.body
        return encode(self.body)

    @property
    def repeatable(self) -> bool:
        """Whether the call may be sent again after a failure that leaves unknown whether the sidecar acted on it."""
        return repeatable(self.method, self.idempotent)

    def target(self, prefix: str) -> str:
        url = prefix + self.path
        if self.query:
            pairs = [(k, _query_value(v)) for k, v in self.query.items() if v is not None]
            if pairs:
                url += "?" + urlencode(pairs)
        return url


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def path_id(value: str) -> str:
    """Quote a caller-supplied id for use as one path segment."""
    return quote(str(value), safe="")


def dropped(sock: socket.socket | None) -> bool:
    """Whether the server closed an idle kept-alive connection: it is readable although nothing was asked."""
    if sock is None:
        return False
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


@dataclass
class InFlight:
    """Requests :meth:`Transport.start_many` sent whose answers are not read yet."""

    method: str
    target: str
    bodies: list[bytes]
    headers: dict[str, str]
    lanes: list[tuple[http.client.HTTPConnection, bool]]
    results: list[Any]
    sent: list[int]


class Transport:
    """Runs :class:`Call` s over ``http.client``; one keep-alive connection per thread; retries per the config.

    Args:
        config: where and how to connect.
        headers: extra headers for every request.
    """

    def __init__(self, config: Config, *, headers: Mapping[str, str] | None = None) -> None:
        self.config = config
        parts = urlsplit(config.base_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if self._https else 80)
        self.prefix = parts.path.rstrip("/")
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        if config.api_key:
            self.headers["X-API-Key"] = config.api_key
        self.policy = RetryPolicy(max_wait=config.max_retry_wait)
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._all_lock = threading.Lock()

    # -- connections -------------------------------------------------------------------------------------------
    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            if not dropped(conn.sock):
                return conn, conn.sock is not None
            conn.close()  # closed by the server while idle: found before anything is written to it
            return conn, False
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=self.config.timeout)
        self._local.conn = conn
        with self._all_lock:
            self._all.append(conn)
        return conn, False

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()
            with self._all_lock:
                if conn in self._all:
                    self._all.remove(conn)

    def __del__(self) -> None:  # a client dropped without close() leaks no sockets
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    def close(self) -> None:
        """Close every connection this transport opened (in any thread)."""
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()

    # -- one exchange -------------------------------------------------------------------------------------------
    def request(self, method: str, target: str, body: bytes | None, *, sink: IO[bytes] | None = None,
                headers: Mapping[str, str] | None = None, idempotent: bool | None = None) -> Response:
        """One HTTP exchange, no retries except one on a kept-alive connection the server had closed (for a call
        that is not idempotent, only when the request was not written in full).

        Raises:
            APITimeoutError, APIConnectionError: no answer; :func:`unsent` tells whether the request certainly
                did not reach the server.
        """
        all_headers = dict(self.headers)
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        if headers:
            all_headers.update(headers)
        again = repeatable(method, idempotent)
        for fresh_try in (False, True):
            conn, reused = self._connection()
            written = False
            try:
                if conn.sock is None:
                    conn.connect()
                conn.request(method, target, body=body, headers=all_headers)
                written = True  # from here on the server may act on it, whatever happens to the answer
                raw = conn.getresponse()
                resp_headers = {k.lower(): v for k, v in raw.getheaders()}
                if sink is not None and 200 <= raw.status < 300:
                    while chunk := raw.read(65536):
                        sink.write(chunk)
                    data = b""
                else:
                    data = raw.read()
                if raw.will_close:
                    self._drop_connection()
                return Response(raw.status, resp_headers, data)
            except (socket.timeout, TimeoutError) as exc:
                self._drop_connection()
                error: APIConnectionError = APITimeoutError(
                    f"no answer from {self.config.base_url} within {self.config.timeout:g}s")
                raise (error if written else mark_unsent(error)) from exc
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop_connection()
                if reused and not fresh_try and (again or not written):
                    continue  # the server closed an idle kept-alive connection: once more on a new one
                error = APIConnectionError(f"cannot reach {self.config.base_url}: {exc}")
                raise (error if written else mark_unsent(error)) from exc
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection()
                error = APIConnectionError(f"cannot reach {self.config.base_url}: {exc}")
                raise (error if written else mark_unsent(error)) from exc
            except BaseException:
                self._drop_connection()  # never leave a half-used connection for the next request
                raise
        raise AssertionError("unreachable")

    def request_many(self, method: str, target: str, bodies: list[bytes]) -> list[Response | APIConnectionError]:
        """Several exchanges at once, each on its own kept-alive connection of this thread: every request is sent
        before any answer is read, so the server works on them together (one thread, ``len(bodies)`` in flight).

        Returns, per body, its :class:`Response` or the :class:`APIConnectionError` it met (never raises for
        one exchange's failure). A kept-alive connection the server had closed is tried once more, afresh.
        """
        return self.finish_many(self.start_many(method, target, bodies))

    def start_many(self, method: str, target: str, bodies: list[bytes]) -> InFlight:
        """The first half of :meth:`request_many`: send every request and return at once, so the thread can do
        other work while the server answers. Hand the result to :meth:`finish_many` before this thread makes
        any other request."""
        lanes = self._lanes(len(bodies))
        headers = {**self.headers, "Content-Type": "application/json"}
        flight = InFlight(method, target, bodies, headers, lanes, [None] * len(bodies), [])
        for index, ((conn, reused), body) in enumerate(zip(lanes, bodies)):
            try:
                conn.request(method, target, body=body, headers=headers)
                flight.sent.append(index)
            except (OSError, http.client.HTTPException) as exc:
                flight.results[index] = self._lane_failed(index, conn, reused, exc)
        return flight

    def finish_many(self, flight: InFlight) -> list[Response | APIConnectionError]:
        """The second half of :meth:`request_many`: read the answers of :meth:`start_many`'s requests."""
        results = flight.results
        for index in flight.sent:
            conn, reused = flight.lanes[index]
            try:
                results[index] = self._answer(index, conn)
            except (OSError, http.client.HTTPException) as exc:
                results[index] = self._lane_failed(index, conn, reused, exc)
        for index, result in enumerate(results):
            if isinstance(result, _Stale):  # closed while idle: once more, on a new connection
                conn, _ = self._lanes(index + 1)[index]
                try:
                    conn.request(flight.method, flight.target, body=flight.bodies[index], headers=flight.headers)
                    results[index] = self._answer(index, conn)
                except (OSError, http.client.HTTPException) as exc:
                    results[index] = self._lane_failed(index, conn, False, exc)
        return results  # type: ignore[return-value]

    def _answer(self, lane: int, conn: http.client.HTTPConnection) -> Response:
        raw = conn.getresponse()
        resp_headers = {k.lower(): v for k, v in raw.getheaders()}
        data = raw.read()
        if raw.will_close:
            self._drop_lane(lane, conn)
        return Response(raw.status, resp_headers, data)

    def _lanes(self, count: int) -> list[tuple[http.client.HTTPConnection, bool]]:
        """This thread's connections 0..count-1 (lane 0 is the one :meth:`request` uses), opened as needed."""
        first = self._connection()
        lanes = [first]
        extra: list[http.client.HTTPConnection | None] = getattr(self._local, "lanes", None) or []
        self._local.lanes = extra
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        for lane in range(1, count):
            while len(extra) < lane:
                extra.append(None)
            conn = extra[lane - 1]
            if conn is None:
                conn = extra[lane - 1] = cls(self._host, self._port, timeout=self.config.timeout)
                with self._all_lock:
                    self._all.append(conn)
                lanes.append((conn, False))
            else:
                if dropped(conn.sock):
                    conn.close()
                lanes.append((conn, conn.sock is not None))
        return lanes

    def _drop_lane(self, lane: int, conn: http.client.HTTPConnection) -> None:
        if lane == 0:
            self._drop_connection()
            return
        self._local.lanes[lane - 1] = None
        conn.close()
        with self._all_lock:
            if conn in self._all:
                self._all.remove(conn)

    def _lane_failed(self, lane: int, conn: http.client.HTTPConnection, reused: bool, exc: BaseException) -> Any:
        self._drop_lane(lane, conn)
        if reused and isinstance(exc, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)):
            return _Stale()
        return _connection_error(self.config, exc)

    # -- a call, with retries -----------------------------------------------------------------------------------
    def send(self, call: Call[T], *, retries: int | None = None) -> T:
        """Run ``call``, then parse the answer or raise. Retries 429, 5xx and connection errors, except that a call
        that is not idempotent is sent again only when it certainly did nothing (see the module's docstring).

        Raises:
            APIStatusError: an error answer (the subclass for its status).
            APIConnectionError: the sidecar could not be reached after the retries, or the answer was lost.
        """
        retries = self.config.max_retries if retries is None else retries
        target = call.target(self.prefix)
        body = call.encoded()
        again = call.repeatable
        attempt = 0
        while True:
            try:
                response = self.request(call.method, target, body, sink=call.sink, idempotent=call.idempotent)
            except APIConnectionError as exc:
                if attempt >= retries:
                    raise
                if not (again or unsent(exc)):
                    raise not_retried(exc, call.method, call.path)
                time.sleep(self.policy.delay(attempt, None))
                attempt += 1
                continue
            if response.status < 400:
                return call.parse(response)
            wait = retry_after_seconds(response.headers)
            if attempt < retries and may_retry_status(response.status, wait, again):
                time.sleep(self.policy.delay(attempt, wait))
                attempt += 1
                continue
            raise status_error(response.status, _decoded(response), response.headers, wait)


def _decoded(response: Response) -> Any:
    if response.headers.get("content-type", "").startswith("application/json"):
        try:
            return response.json()
        except ValueError:
            pass
    return response.body


class _Stale:
    """A kept-alive connection the server had closed: the exchange is tried once more."""


def _connection_error(config: Config, exc: BaseException) -> APIConnectionError:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return APITimeoutError(f"no answer from {config.base_url} within {config.timeout:g}s")
    return APIConnectionError(f"cannot reach {config.base_url}: {exc}")
