"""Billing: prices, checkout, subscription and usage, customer portal, the Stripe webhook."""

from __future__ import annotations

from aiohttp import web

from sidecar.api import schemas, serialize
from sidecar.api.keys import PRINCIPAL, SERVICES
from sidecar.api.middlewares import requires
from sidecar.errors import FieldError, InvalidInput
from sidecar.services.billing import BILLING_MANAGE, BILLING_READ


@requires(None)
async def prices(request: web.Request) -> web.Response:
    return serialize.json(request.app[SERVICES].billing.prices())


@requires(BILLING_MANAGE)
async def checkout(request: web.Request) -> web.Response:
    body = await schemas.json_body(request)
    price_id = body.get("priceId") if isinstance(body, dict) else None
    if not isinstance(price_id, str) or not price_id.strip():
        raise InvalidInput.fields([FieldError("priceId", "required: the Stripe price id of a plan")])
    session_id, url = await request.app[SERVICES].billing.checkout(request[PRINCIPAL], price_id.strip(),
                                                                            origin=_origin(request))
    return serialize.json({"sessionId": session_id, "url": url})


@requires(BILLING_READ)
async def subscription(request: web.Request) -> web.Response:
    view = await request.app[SERVICES].billing.subscription(request[PRINCIPAL])
    return serialize.json(serialize.billing_subscription(view))


@requires(BILLING_MANAGE)
async def portal(request: web.Request) -> web.Response:
    url = await request.app[SERVICES].billing.portal(request[PRINCIPAL], origin=_origin(request))
    return serialize.json({"url": url})


@requires(None)
async def webhook(request: web.Request) -> web.Response:
    """Stripe calls this; the signature (``Stripe-Signature``) is the credential."""
    payload = await request.read()
    result = await request.app[SERVICES].billing.webhook(payload, request.headers.get("Stripe-Signature"))
    return serialize.json(result)


def _origin(request: web.Request) -> str:
    """The address the caller reached us at (the default place for Stripe to send the browser back to)."""
    return f"{request.scheme}://{request.host}"
