"""A local fake of the Stripe API endpoints the sidecar calls, for tests and ``agentaudit serve --stripe-fake``.

The real ``stripe`` package is pointed at it (``api_base``) and talks to it as to Stripe: form-encoded
requests with a Bearer secret key, JSON objects back. It keeps customers, checkout sessions, portal
sessions and subscriptions in memory, and can play the customer's side: pay a checkout, cancel or change
a subscription, pay or fail an invoice. Each of those returns the Stripe events that would follow,
signed like Stripe's (``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>">``), and posts
them to ``webhook_url`` when one is set. Browser pages (``/checkout/<id>``, ``/portal/<id>``) let a demo
user click through.

Served endpoints: ``POST /v1/customers``, ``POST /v1/checkout/sessions``, ``POST /v1/billing_portal/sessions``,
``GET /v1/subscriptions/<id>``.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import itertools
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import orjson
from aiohttp import web

from sidecar import log

_KEY_PART = re.compile(r"\[([^\]]*)\]")
API_VERSION = "2025-06-30.basil"
_MONTH = 30 * 86400
_PARAMS = web.RequestKey("params", dict)


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=v``) to nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head = key.split("[", 1)[0]
        parts = [head, *_KEY_PART.findall(key[len(head):])]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        fixed = {k: _listify(v) for k, v in node.items()}
        if fixed and all(k.isdigit() for k in fixed):
            return [fixed[k] for k in sorted(fixed, key=int)]
        return fixed
    return node


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header for ``payload``, made as Stripe makes it."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def _error(status: int, message: str, kind: str = "invalid_request_error") -> web.Response:
    return web.json_response({"error": {"type": kind, "message": message}}, status=status)


class FakeStripe:
    """The fake's state and its aiohttp app.

    Args:
        secret_key: the only API key it accepts.
        webhook_secret: signs the events it sends.
        prices: the price ids it knows (anything else is refused like Stripe does).
        webhook_url: where events are posted (may be set later).
        public_url: how browsers reach the fake (for session urls); set by :meth:`start`.
    """

    def __init__(self, *, secret_key: str, webhook_secret: str, prices: dict[str, int],
                 webhook_url: str = "", public_url: str = "") -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.prices = dict(prices)  # price id -> monthly amount in cents
        self.webhook_url = webhook_url
        self.public_url = public_url
        self.customers: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self._counter = itertools.count(1)
        self._runner: web.AppRunner | None = None

    def _id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._counter):04d}{secrets.token_hex(4)}"

    # -- the API -----------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        app.add_routes([
            web.post("/v1/customers", self._create_customer),
            web.post("/v1/checkout/sessions", self._create_checkout),
            web.post("/v1/billing_portal/sessions", self._create_portal),
            web.get("/v1/subscriptions/{sub_id}", self._get_subscription),
            web.get("/checkout/{session_id}", self._checkout_page),
            web.post("/checkout/{session_id}/pay", self._checkout_pay),
            web.get("/portal/{session_id}", self._portal_page),
            web.post("/portal/{session_id}/cancel", self._portal_cancel),
        ])
        return app

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/v1/"):
            if request.headers.get("Authorization", "") != f"Bearer {self.secret_key}":
                return _error(401, "Invalid API Key provided", "invalid_request_error")
            params = parse_form(await request.text()) if request.method == "POST" else dict(request.query)
            self.calls.append((request.method, request.path, params))
            request[_PARAMS] = params
        return await handler(request)

    async def _create_customer(self, request: web.Request) -> web.Response:
        params = request[_PARAMS]
        customer = {"id": self._id("cus"), "object": "customer", "email": params.get("email"),
                    "name": params.get("name"), "metadata": params.get("metadata") or {}, "created": int(time.time()),
                    "livemode": False}
        self.customers[customer["id"]] = customer
        return web.json_response(customer)

    async def _create_checkout(self, request: web.Request) -> web.Response:
        params = request[_PARAMS]
        items = params.get("line_items") or []
        if params.get("mode") != "subscription" or len(items) != 1:
            return _error(400, "mode must be subscription with one line item")
        price = items[0].get("price")
        if price not in self.prices:
            return _error(400, f"No such price: '{price}'")
        if params.get("customer") not in self.customers:
            return _error(400, f"No such customer: '{params.get('customer')}'")
        session_id = self._id("cs_test")
        session = {
            "id": session_id, "object": "checkout.session", "mode": "subscription", "status": "open",
            "customer": params["customer"], "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {}, "subscription": None, "payment_status": "unpaid",
            "url": f"{self.public_url}/checkout/{session_id}", "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"), "livemode": False,
            "_price": price, "_subscription_metadata": (params.get("subscription_data") or {}).get("metadata") or {},
        }
        self.sessions[session_id] = session
        return web.json_response(_public(session))

    async def _create_portal(self, request: web.Request) -> web.Response:
        params = request[_PARAMS]
        if params.get("customer") not in self.customers:
            return _error(400, f"No such customer: '{params.get('customer')}'")
        session_id = self._id("bps")
        session = {"id": session_id, "object": "billing_portal.session", "customer": params["customer"],
                   "return_url": params.get("return_url"), "url": f"{self.public_url}/portal/{session_id}",
                   "livemode": False}
        self.portal_sessions[session_id] = session
        return web.json_response(session)

    async def _get_subscription(self, request: web.Request) -> web.Response:
        sub = self.subscriptions.get(request.match_info["sub_id"])
        if sub is None:
            return _error(404, f"No such subscription: '{request.match_info['sub_id']}'")
        return web.json_response(sub)

    # -- the customer's side (tests and demo pages) -------------------------------------------------

    def complete_checkout(self, session_id: str) -> list[dict[str, Any]]:
        """The customer pays: a subscription starts. Returns the events Stripe would send, in order."""
        session = self.sessions[session_id]
        now = int(time.time())
        sub_id = self._id("sub")
        price = session["_price"]
        sub = {
            "id": sub_id, "object": "subscription", "customer": session["customer"], "status": "active",
            "cancel_at_period_end": False, "current_period_start": now, "current_period_end": now + _MONTH,
            "metadata": session["_subscription_metadata"], "livemode": False, "created": now,
            "items": {"object": "list", "data": [{
                "id": self._id("si"), "object": "subscription_item", "quantity": 1,
                "current_period_start": now, "current_period_end": now + _MONTH,
                "price": {"id": price, "object": "price", "unit_amount": self.prices[price], "currency": "usd",
                          "recurring": {"interval": "month"}},
            }]},
        }
        self.subscriptions[sub_id] = sub
        session.update(status="complete", payment_status="paid", subscription=sub_id)
        return [self.event("checkout.session.completed", _public(session)),
                self.event("customer.subscription.created", sub),
                self.invoice_event(sub_id, paid=True)]

    def cancel_subscription(self, sub_id: str, *, at_period_end: bool = False) -> dict[str, Any]:
        sub = self.subscriptions[sub_id]
        if at_period_end:
            sub["cancel_at_period_end"] = True
            return self.event("customer.subscription.updated", sub)
        sub.update(status="canceled", canceled_at=int(time.time()))
        return self.event("customer.subscription.deleted", sub)

    def change_price(self, sub_id: str, price: str) -> dict[str, Any]:
        sub = self.subscriptions[sub_id]
        item = sub["items"]["data"][0]
        item["price"] = {**item["price"], "id": price, "unit_amount": self.prices[price]}
        return self.event("customer.subscription.updated", sub)

    def invoice_event(self, sub_id: str, *, paid: bool) -> dict[str, Any]:
        sub = self.subscriptions[sub_id]
        item = sub["items"]["data"][0]
        if not paid:
            sub["status"] = "past_due"
        invoice = {
            "id": self._id("in"), "object": "invoice", "customer": sub["customer"], "subscription": sub_id,
            "parent": {"type": "subscription_details",
                       "subscription_details": {"subscription": sub_id, "metadata": sub["metadata"]}},
            "amount_due": item["price"]["unit_amount"], "amount_paid": item["price"]["unit_amount"] if paid else 0,
            "currency": "usd", "status": "paid" if paid else "open", "attempt_count": 1,
            "next_payment_attempt": None if paid else int(time.time()) + 3 * 86400,
            "hosted_invoice_url": f"{self.public_url}/invoice", "livemode": False,
        }
        return self.event("invoice.payment_succeeded" if paid else "invoice.payment_failed", invoice)

    def event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        return {"id": self._id("evt"), "object": "event", "api_version": API_VERSION, "created": int(time.time()),
                "type": kind, "livemode": False, "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "data": {"object": orjson.loads(orjson.dumps(_public(obj)))}}

    def signed(self, event: dict[str, Any], *, secret: str | None = None) -> tuple[bytes, dict[str, str]]:
        """The event's body and headers as Stripe would post them."""
        payload = orjson.dumps(event)
        return payload, {"Stripe-Signature": sign(payload, secret or self.webhook_secret),
                         "Content-Type": "application/json; charset=utf-8"}

    async def deliver(self, events: list[dict[str, Any]], *, timeout: float = 10.0) -> list[int]:
        """Post events to ``webhook_url`` in order; returns the statuses."""
        statuses = []
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            for event in events:
                payload, headers = self.signed(event)
                try:
                    async with session.post(self.webhook_url, data=payload, headers=headers) as response:
                        statuses.append(response.status)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    log.http.warning("the Stripe fake could not deliver %s: %s", event["type"], exc)
                    statuses.append(0)
        return statuses

    # -- demo pages -------------------------------------------------------------------------------

    async def _checkout_page(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.match_info["session_id"])
        if session is None:
            raise web.HTTPNotFound()
        price = session["_price"]
        page = (f"<h1>Stripe (local fake) checkout</h1><p>Subscribe to <b>{html.escape(price)}</b> for "
                f"${self.prices[price] / 100:.2f} a month.</p>"
                f"<form method='post' action='/checkout/{html.escape(session['id'])}/pay'>"
                "<button>Pay (test card 4242)</button></form>")
        return web.Response(text=page, content_type="text/html")

    async def _checkout_pay(self, request: web.Request) -> web.Response:
        session_id = request.match_info["session_id"]
        if session_id not in self.sessions:
            raise web.HTTPNotFound()
        if self.sessions[session_id]["status"] == "open":
            await self.deliver(self.complete_checkout(session_id))
        target = str(self.sessions[session_id].get("success_url") or "/").replace("{CHECKOUT_SESSION_ID}", session_id)
        page = ("<h1>Payment complete (local fake)</h1><p>The subscription is active; AgentAudit has been told.</p>"
                f"<p><a href='{html.escape(target, quote=True)}'>Return to AgentAudit</a></p>")
        return web.Response(text=page, content_type="text/html")

    async def _portal_page(self, request: web.Request) -> web.Response:
        session = self.portal_sessions.get(request.match_info["session_id"])
        if session is None:
            raise web.HTTPNotFound()
        subs = [s for s in self.subscriptions.values() if s["customer"] == session["customer"] and s["status"] != "canceled"]
        rows = "".join(f"<li>{html.escape(s['id'])}: {html.escape(s['items']['data'][0]['price']['id'])} "
                       f"({html.escape(s['status'])})</li>" for s in subs)
        page = (f"<h1>Stripe (local fake) customer portal</h1><ul>{rows or '<li>no subscription</li>'}</ul>"
                f"<form method='post' action='/portal/{html.escape(session['id'])}/cancel'>"
                "<button>Cancel subscription now</button></form>")
        return web.Response(text=page, content_type="text/html")

    async def _portal_cancel(self, request: web.Request) -> web.Response:
        session = self.portal_sessions.get(request.match_info["session_id"])
        if session is None:
            raise web.HTTPNotFound()
        events = [self.cancel_subscription(s["id"]) for s in list(self.subscriptions.values())
                  if s["customer"] == session["customer"] and s["status"] != "canceled"]
        await self.deliver(events)
        page = ("<h1>Subscription cancelled (local fake)</h1>"
                f"<p><a href='{html.escape(str(session.get('return_url') or '/'), quote=True)}'>Return to AgentAudit</a></p>")
        return web.Response(text=page, content_type="text/html")

    # -- serving ----------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: any free port); returns the base URL (also ``public_url``)."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = getattr(site, "_server", None)
        bound = server.sockets[0].getsockname()[1] if server is not None and server.sockets else port
        self.public_url = f"http://{host}:{bound}"
        return self.public_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without the fake's private bookkeeping (keys starting with ``_``)."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}


#: Settings the demo (``--stripe-fake``) uses unless real ones are given.
DEMO_SECRET_KEY = "sk_test_agentaudit_fake"
DEMO_WEBHOOK_SECRET = "whsec_agentaudit_fake"
DEMO_PRICES = {"price_fake_pro": 4900, "price_fake_business": 19900}
