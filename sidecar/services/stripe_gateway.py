"""The Stripe calls we make, through the official ``stripe`` library, off the event loop and bounded in time.

The library's HTTP is blocking: every call runs on a small dedicated thread pool, with the library's own
request timeout and an overall bound on the wait. ``api_base`` points the library at another address
(the local fake in tests and demos).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import stripe

from sidecar import log
from sidecar.errors import InvalidInput, Unavailable

T = TypeVar("T")


def as_dict(obj: Any) -> dict[str, Any]:
    """A Stripe object (or plain mapping) as plain, nested dicts."""
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict()
    return dict(obj)


class StripeGateway:
    """Customers, checkout sessions, portal sessions and subscriptions, as Stripe's API offers them.

    Args:
        secret_key: the Stripe secret key (``sk_…``).
        api_base: the API's address; empty for Stripe's own.
        timeout: seconds each HTTP request may take.
    """

    def __init__(self, *, secret_key: str, api_base: str = "", timeout: float = 15.0) -> None:
        self._timeout = timeout
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")} if api_base else None,  # type: ignore[typeddict-item]
            http_client=stripe.RequestsClient(timeout=timeout),
            max_network_retries=1,
        )
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="stripe")

    async def _call(self, what: str, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._pool, fn), self._timeout * 2 + 1)
        except TimeoutError:
            log.http.error("Stripe did not answer in time (%s)", what)
            raise Unavailable("the payment provider did not answer in time; retry") from None
        except stripe.InvalidRequestError as exc:
            log.http.warning("Stripe refused %s: %s", what, exc.user_message or exc)
            raise InvalidInput(f"the payment provider refused the request: {exc.user_message or exc}") from None
        except stripe.StripeError as exc:
            log.http.error("Stripe failed %s: %s", what, exc)
            raise Unavailable("the payment provider is not reachable or refused our credentials; retry later") from None

    async def create_customer(self, *, email: str, name: str, org_id: str) -> str:
        params = {"email": email, "name": name, "metadata": {"orgId": org_id}}
        customer = await self._call("customer create", lambda: self._client.v1.customers.create(params))  # type: ignore[arg-type]
        return str(customer["id"])

    async def create_checkout(self, *, customer_id: str, price_id: str, org_id: str, success_url: str,
                              cancel_url: str) -> tuple[str, str]:
        """A subscription checkout session for one price; returns ``(session id, url)``."""
        params = {
            "mode": "subscription",
            "customer": customer_id,
            "client_reference_id": org_id,
            "line_items": [{"price": price_id, "quantity": 1}],
            "metadata": {"orgId": org_id},
            "subscription_data": {"metadata": {"orgId": org_id}},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        session = await self._call("checkout session", lambda: self._client.v1.checkout.sessions.create(params))  # type: ignore[arg-type]
        return str(session["id"]), str(session["url"])

    async def create_portal(self, *, customer_id: str, return_url: str) -> str:
        params = {"customer": customer_id, "return_url": return_url}
        session = await self._call("portal session", lambda: self._client.v1.billing_portal.sessions.create(params))  # type: ignore[arg-type]
        return str(session["url"])

    async def subscription(self, subscription_id: str) -> dict[str, Any]:
        sub = await self._call("subscription retrieve", lambda: self._client.v1.subscriptions.retrieve(subscription_id))
        return as_dict(sub)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
