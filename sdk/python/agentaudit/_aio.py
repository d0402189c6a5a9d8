"""The asyncio transport: HTTP/1.1 over ``asyncio`` streams with a small keep-alive pool (standard library only)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from typing import TypeVar
from urllib.parse import urlsplit

from agentaudit._config import Config
from agentaudit._errors import APIConnectionError, APITimeoutError, status_error
from agentaudit._http import RETRY_STATUSES, USER_AGENT, Call, Response, RetryPolicy, _decoded, encode, retry_after_seconds

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
        self._pool_size = pool_size
        self.policy = RetryPolicy(max_wait=config.max_retry_wait)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for _, writer in idle:
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 1.0)
            except (OSError, asyncio.TimeoutError):
                pass

    async def _open(self) -> _Conn:
        return await asyncio.open_connection(self._host, self._port, ssl=self._ssl)

    async def request(self, method: str, target: str, body: bytes | None,
                      headers: Mapping[str, str] | None = None) -> Response:
        """One exchange (a second try only when a kept-alive connection turns out closed).

        Raises:
            APITimeoutError, APIConnectionError: no answer.
        """
        head = {**self._headers, **(headers or {})}
        if body is not None:
            head["Content-Type"] = "application/json"
        head["Content-Length"] = str(len(body or b""))
        raw = (f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items()) + "\r\n")
        payload = raw.encode("latin-1") + (body or b"")
        for fresh_try in (False, True):
            reused = bool(self._idle)
            try:
                conn = self._idle.pop() if self._idle else await asyncio.wait_for(self._open(), self.config.timeout)
            except asyncio.TimeoutError as exc:
                raise APITimeoutError(f"no connection to {self.config.base_url} within {self.config.timeout:g}s") from exc
            except OSError as exc:
                raise APIConnectionError(f"cannot reach {self.config.base_url}: {exc}") from exc
            try:
                response, keep = await asyncio.wait_for(self._exchange(conn, payload), self.config.timeout)
            except asyncio.TimeoutError as exc:
                conn[1].close()
                raise APITimeoutError(f"no answer from {self.config.base_url} within {self.config.timeout:g}s") from exc
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn[1].close()
                if reused and not fresh_try:
                    continue
                raise APIConnectionError(f"cannot reach {self.config.base_url}: {exc}") from exc
            if keep and len(self._idle) < self._pool_size:
                self._idle.append(conn)
            else:
                conn[1].close()
            return response
        raise AssertionError("unreachable")

    @staticmethod
    async def _exchange(conn: _Conn, payload: bytes) -> tuple[Response, bool]:
        reader, writer = conn
        writer.write(payload)
        await writer.drain()
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
        """Run ``call`` with retries on 429, 5xx and connection errors; parse or raise (see ``Transport.send``)."""
        retries = self.config.max_retries if retries is None else retries
        target = call.target(self.prefix)
        body = encode(call.body) if call.body is not None else None
        attempt = 0
        while True:
            try:
                response = await self.request(call.method, target, body)
            except APIConnectionError:
                if attempt >= retries:
                    raise
                await asyncio.sleep(self.policy.delay(attempt, None))
                attempt += 1
                continue
            if response.status < 400:
                if call.sink is not None:
                    call.sink.write(response.body)
                    response = Response(response.status, response.headers, b"")
                return call.parse(response)
            wait = retry_after_seconds(response.headers)
            if response.status in RETRY_STATUSES and attempt < retries:
                await asyncio.sleep(self.policy.delay(attempt, wait))
                attempt += 1
                continue
            raise status_error(response.status, _decoded(response), response.headers, wait)


