"""A real webhook receiver (aiohttp on 127.0.0.1) that checks signatures, and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from sidecar.settings import Settings


@pytest.fixture
def settings(tmp_path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", port=0, notify_retry_base_ms=50, database_url=database_url)


@dataclass
class Receiver:
    """Collects webhook posts; ``mode`` makes it answer 200, 500, 400 or hang."""

    secret: bytes = b""
    mode: str = "ok"
    received: list[dict] = field(default_factory=list)
    attempts: int = 0
    bad_signatures: int = 0
    url: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def verify(self, header: str, body: bytes) -> bool:
        parts = dict(item.split("=", 1) for item in header.split(","))
        expected = hmac.new(self.secret, f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, parts["v1"])

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        body = await request.read()
        if self.mode == "hang":
            try:
                await asyncio.wait_for(self.release.wait(), 10)
            except asyncio.TimeoutError:
                pass
        if self.mode == "down":
            return web.Response(status=503)
        if self.mode == "reject":
            return web.Response(status=400)
        if not self.verify(request.headers["X-AgentAudit-Signature"], body):
            self.bad_signatures += 1
            return web.Response(status=401)
        payload = json.loads(body)
        payload["_headers"] = dict(request.headers)
        self.received.append(payload)
        self.arrived.set()
        return web.Response(status=204)

    @property
    def unique_ids(self) -> set[str]:
        return {item["id"] for item in self.received}


@pytest.fixture
async def receiver(aiohttp_server) -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    server = await aiohttp_server(app, host="127.0.0.1")
    hook.url = f"http://127.0.0.1:{server.port}/hook"
    yield hook
    hook.release.set()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


@dataclass
class Smtp:
    inbox: _Inbox
    port: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp(inbox, port)
    finally:
        controller.stop()
