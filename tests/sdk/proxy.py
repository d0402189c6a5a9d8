"""A TCP proxy in front of a real server that can be slow, drop answers or close idle connections (SDK tests)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field


@dataclass
class TcpProxy:
    """Relays bytes to ``upstream`` (``host:port``) on its own event loop thread.

    Attributes:
        delay: seconds the first byte of each answer is held back (the request reaches the server at once).
        drop_answers: the server's answer is never relayed: the client's connection is reset instead.
        close_idle_after: seconds after relaying an answer at which the client's connection is closed, as a
            server's keep-alive timeout does (None: kept open).
        port: the port to listen on (0: any free one).
        connections: client connections accepted so far.
    """

    upstream: str
    delay: float = 0.0
    drop_answers: bool = False
    close_idle_after: float | None = None
    port: int = 0
    connections: int = 0
    url: str = ""
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        host, port = self.upstream.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))

        async def to_server() -> None:
            while chunk := await reader.read(65536):
                up_writer.write(chunk)
                await up_writer.drain()
            up_writer.close()

        async def to_client() -> None:
            while chunk := await up_reader.read(65536):
                if self.drop_answers:
                    writer.transport.abort()
                    return
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(chunk)
                await writer.drain()
                if self.close_idle_after is not None:
                    await asyncio.sleep(self.close_idle_after)
                    writer.close()
                    return
            writer.close()

        tasks = [asyncio.ensure_future(to_server()), asyncio.ensure_future(to_client())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            writer.close()
            up_writer.close()

    def _spawn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._client(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def __enter__(self) -> TcpProxy:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

        async def start() -> asyncio.AbstractServer:
            return await asyncio.start_server(self._spawn, "127.0.0.1", self.port)

        self._server = asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
