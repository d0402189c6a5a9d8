"""The asyncio transport: HTTP/1.1 over ``asyncio`` streams with a small keep-alive pool (standard library only).

Retries follow the rules of ``_retry.py``: a call that is not idempotent is sent again only when it certainly did
not reach the sidecar, or on 429 and 503 with ``Retry-After``.

Kept-alive connections belong to the event loop that opened them. The pool follows the running loop: one client
may serve several loops one after another (``asyncio.run(client.log(...))`` called repeatedly). Its idle
connections are closed as their loop shuts down (``asyncio.run`` and ``asyncio.Runner`` close the loop's async
generators first, and the pool parks one there), and a request on another loop never uses them. Using one client
from two loops running at the same time (in two threads) is not supported.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncGenerator, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

from agentaudit._config import Config
from agentaudit._errors import APIConnectionError, APITimeoutError, status_error
from agentaudit._http import USER_AGENT, Call, Response, _decoded
from agentaudit._retry import (RetryPolicy, mark_unsent, may_retry_status, not_retried, repeatable, retry_after_seconds,
                               unsent)

T = TypeVar("T")
_Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class AsyncTransport:
    """Runs :class:`Call` s on the running event loop; every exchange is bounded by the config's timeout."""

    def __init__(self, config: Config, *, pool_size: int = 8) -> None:
        self.config = config
        parts = urlsplit(config.base_url)
        self._ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if self._ssl else 80)
        self.prefix = parts.path.rstrip("/")
        self._headers = {"Host": f"{self._host}:{self._port}", "User-Agent": USER_AGENT, "Accept": "application/json"}
        if config.api_key:
            self._headers["X-API-Key"] = config.api_key
        self._idle: list[_Conn] = []
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the idle connections belong to
        self._closer: AsyncGenerator[None, None] | None = None
        self._pool_size = pool_size
        self.policy = RetryPolicy(max_wait=config.max_retry_wait)

    async def close(self) -> None:
        if self._closer is not None and self._loop is asyncio.get_running_loop():
            await self._closer.aclose()  # closes the idle connections and waits for them
        self._forget()

    def _forget(self) -> None:
        """Drop the pool of the last loop: its idle connections are closed if that loop can still run their close
        (else the loop is gone, and so are they), and its closer is finished here rather than left to the loop."""
        idle, closer = self._idle, self._closer
        self._idle, self._loop, self._closer = [], None, None
        if closer is not None:
            try:
                closer.aclose().send(None)  # its finally finds nothing to do: the pool is no longer its loop's
            except StopIteration:
                pass
        for _, writer in idle:
            try:
                writer.close()
            except RuntimeError:  # their loop is closed
                pass

    async def _follow_loop(self) -> asyncio.AbstractEventLoop:
        """The running loop; on a loop other than the last one, the idle connections of the last are dropped."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._forget()
            self._loop = loop
            self._closer = self._close_with(loop)
            await self._closer.asend(None)
        return loop

    async def _close_with(self, loop: asyncio.AbstractEventLoop) -> AsyncGenerator[None, None]:
        """Parked on ``loop`` until it shuts down its async generators, then closes the idle connections while the
        loop can still run their close."""
        try:
            yield
        finally:
            if self._loop is loop:
                idle, self._idle, self._loop, self._closer = self._idle, [], None, None
                for _, writer in idle:
                    writer.close()
                for _, writer in idle:
                    try:
                        await asyncio.wait_for(writer.wait_closed(), 1.0)
                    except (OSError, asyncio.TimeoutError):
                        pass

    def _take_idle(self) -> _Conn | None:
        """A kept-alive connection the server has not closed meanwhile, or None."""
        while self._idle:
            reader, writer = conn = self._idle.pop()
            if reader.at_eof() or reader.exception() is not None or writer.is_closing():
                writer.close()  # closed by the server while idle: found before anything is written to it
                continue
            return conn
        return None

    async def _open(self) -> _Conn:
        return await asyncio.open_connection(self._host, self._port, ssl=self._ssl)

    async def request(self, method: str, target: str, body: bytes | None,
                      headers: Mapping[str, str] | None = None, *, idempotent: bool | None = None) -> Response:
        """One exchange (a second try only when a kept-alive connection turns out closed and the call may be sent
        again: idempotent, or not written in full).

        Raises:
            APITimeoutError, APIConnectionError: no answer; ``_retry.unsent`` tells whether the request certainly
                did not reach the server.
        """
        loop = await self._follow_loop()
        head = {**self._headers, **(headers or {})}
        if body is not None:
            head["Content-Type"] = "application/json"
        head["Content-Length"] = str(len(body or b""))
        raw = (f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items()) + "\r\n")
        payload = raw.encode("latin-1") + (body or b"")
        again = repeatable(method, idempotent)
        timeout = self.config.timeout
        for fresh_try in (False, True):
            conn = self._take_idle()
            reused = conn is not None
            if conn is None:
                try:
                    conn = await asyncio.wait_for(self._open(), timeout)
                except asyncio.TimeoutError as exc:
                    raise mark_unsent(APITimeoutError(
                        f"no connection to {self.config.base_url} within {timeout:g}s")) from exc
                except OSError as exc:
                    raise mark_unsent(APIConnectionError(f"cannot reach {self.config.base_url}: {exc}")) from exc
            written = False
            deadline = loop.time() + timeout
            try:
                await asyncio.wait_for(self._write(conn, payload), timeout)
                written = True  # from here on the server may act on it, whatever happens to the answer
                response, keep = await asyncio.wait_for(self._read(conn), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError as exc:
                conn[1].close()
                error: APIConnectionError = APITimeoutError(
                    f"no answer from {self.config.base_url} within {timeout:g}s")
                raise (error if written else mark_unsent(error)) from exc
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn[1].close()
                if reused and not fresh_try and (again or not written):
                    continue
                error = APIConnectionError(f"cannot reach {self.config.base_url}: {exc}")
                raise (error if written else mark_unsent(error)) from exc
            except BaseException:
                conn[1].close()  # cancelled: never leave a half-used connection for the next request
                raise
            if keep and len(self._idle) < self._pool_size and self._loop is loop:
                self._idle.append(conn)
            else:
                conn[1].close()
            return response
        raise AssertionError("unreachable")

    @staticmethod
    async def _write(conn: _Conn, payload: bytes) -> None:
        writer = conn[1]
        writer.write(payload)
        await writer.drain()

    @staticmethod
    async def _read(conn: _Conn) -> tuple[Response, bool]:
        reader = conn[0]
        status_line = await reader.readline()
        if not status_line:
            raise asyncio.IncompleteReadError(b"", None)
        parts = status_line.decode("latin-1").split(" ", 2)
        version, status = parts[0], int(parts[1])
        headers: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            key, _, value = line.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            data = b"".join(chunks)
        elif "content-length" in headers:
            data = await reader.readexactly(int(headers["content-length"]))
        elif status in (204, 304):
            data = b""
        else:
            data = await reader.read()
            return Response(status, headers, data), False
        keep = headers.get("connection", "").lower() != "close" and version != "HTTP/1.0"
        return Response(status, headers, data), keep

    async def send(self, call: Call[T], *, retries: int | None = None) -> T:
        """Run ``call`` with the retries of ``Transport.send``; parse or raise."""
        retries = self.config.max_retries if retries is None else retries
        target = call.target(self.prefix)
        body = call.encoded()
        again = call.repeatable
        attempt = 0
        while True:
            try:
                response = await self.request(call.method, target, body, idempotent=call.idempotent)
            except APIConnectionError as exc:
                if attempt >= retries:
                    raise
                if not (again or unsent(exc)):
                    raise not_retried(exc, call.method, call.path)
                await asyncio.sleep(self.policy.delay(attempt, None))
                attempt += 1
                continue
            if response.status < 400:
                if call.sink is not None:
                    call.sink.write(response.body)
                    response = Response(response.status, response.headers, b"")
                return call.parse(response)
            wait = retry_after_seconds(response.headers)
            if attempt < retries and may_retry_status(response.status, wait, again):
                await asyncio.sleep(self.policy.delay(attempt, wait))
                attempt += 1
                continue
            raise status_error(response.status, _decoded(response), response.headers, wait)


