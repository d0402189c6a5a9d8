"""Fixtures for billing: the local Stripe fake on a loopback port and a sidecar app with billing pointed at it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from sidecar.api.app import create_app
from sidecar.api.keys import SERVICES
from sidecar.billing_fake import FakeStripe
from sidecar.settings import Settings
from tests.helpers import ApiClient, query_db

PRO = "price_test_pro"
BUSINESS = "price_test_business"
SECRET = "sk_test_unit"
WEBHOOK_SECRET = "whsec_test_unit"


@pytest.fixture
async def stripe_fake() -> AsyncIterator[FakeStripe]:
    fake = FakeStripe(secret_key=SECRET, webhook_secret=WEBHOOK_SECRET, prices={PRO: 4900, BUSINESS: 19900})
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def billing_settings(settings: Settings, stripe_fake: FakeStripe) -> Settings:
    return dataclasses.replace(settings, stripe_secret_key=SECRET, stripe_webhook_secret=WEBHOOK_SECRET,
                               stripe_price_pro=PRO, stripe_price_business=BUSINESS,
                               stripe_api_base=stripe_fake.public_url, stripe_timeout_seconds=5)


@pytest.fixture
async def bapi(aiohttp_client: Any, billing_settings: Settings) -> AsyncIterator[ApiClient]:
    """A sidecar with billing on (against the fake)."""
    client = await aiohttp_client(create_app(billing_settings))
    yield ApiClient(client)


async def post_events(api: ApiClient, fake: FakeStripe, events: list[dict[str, Any]]) -> list[Any]:
    """Post Stripe events to the webhook, signed as Stripe signs them."""
    replies = []
    for event in events:
        payload, headers = fake.signed(event)
        replies.append(await api.post("billing/webhook", data=payload, headers=headers))
    return replies


def query(api: ApiClient, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read the sidecar's database directly (the stored state, not what the API says)."""
    return query_db(api.client.server.app[SERVICES].settings, sql, *args)
