"""Billing over HTTP: checkout through the real stripe library against the local fake, signed webhooks, plans."""

from __future__ import annotations

from sidecar.billing_fake import FakeStripe
from tests.helpers import Account, ApiClient
from tests.sidecar.billing.conftest import BUSINESS, PRO, post_events, query


async def _checkout(api: ApiClient, account: Account, fake: FakeStripe, price: str = PRO) -> str:
    reply = await api.post("billing/checkout", json={"priceId": price}, headers=account.jwt)
    assert reply.status == 200, reply.body
    assert reply.body["url"] == f"{fake.public_url}/checkout/{reply.body['sessionId']}"
    return str(reply.body["sessionId"])


async def _subscription(api: ApiClient, account: Account) -> dict:
    reply = await api.get("billing/subscription", headers=account.jwt)
    assert reply.status == 200, reply.body
    return reply.body


async def test_without_billing_the_install_is_self_hosted_and_unlimited(api: ApiClient, owner: Account) -> None:
    assert (await api.post("audit-logs/batch", json=[{"action": "a"}] * 3, headers=owner.api_key)).status == 201
    for i in range(5):  # more agents than any limited plan's free tier
        assert (await api.post("agents", json={"name": f"agent-{i}"}, headers=owner.jwt)).status == 201
    assert await _subscription(api, owner) == {
        "plan": "self_hosted", "status": "not_configured", "currentPeriodEnd": None, "cancelAtPeriodEnd": False,
        "usage": {"logsThisMonth": 3, "quota": None, "agents": 5, "agentLimit": None},
    }
    for method, path, kwargs in [("GET", "billing/prices", {}),
                                 ("POST", "billing/checkout", {"json": {"priceId": "price_x"}, "headers": owner.jwt}),
                                 ("POST", "billing/checkout-session", {"json": {"priceId": "price_x"},
                                                                      "headers": owner.jwt}),
                                 ("POST", "billing/portal", {"headers": owner.jwt}),
                                 ("POST", "billing/portal-session", {"headers": owner.jwt}),
                                 ("POST", "billing/webhook", {"data": b"{}"})]:
        reply = await api.request(method, path, **kwargs)
        assert (reply.status, reply.body["code"]) == (503, "billing_not_configured"), (path, reply.body)
    me = await api.post("auth/login", json={"email": owner.email, "password": "correct-horse-9"})
    assert me.body["organization"]["plan"] == "self_hosted"


async def test_checkout_then_webhook_makes_the_plan_pro_and_raises_the_quota(
        bapi: ApiClient, stripe_fake: FakeStripe) -> None:
    owner = await bapi.new_account("owner@acme.test", name="Acme")
    assert (await bapi.get("billing/prices")).body == {"pro": PRO, "business": BUSINESS}
    before = await _subscription(bapi, owner)
    assert before == {"plan": "free", "status": "active", "currentPeriodEnd": None, "cancelAtPeriodEnd": False,
                      "usage": {"logsThisMonth": 0, "quota": 5000, "agents": 0, "agentLimit": 3}}

    session_id = await _checkout(bapi, owner, stripe_fake)
    customer = stripe_fake.calls[0]
    assert customer[:2] == ("POST", "/v1/customers")
    assert customer[2] == {"email": "owner@acme.test", "name": "Acme", "metadata": {"orgId": owner.org_id}}
    method, path, params = stripe_fake.calls[1]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert params["client_reference_id"] == owner.org_id
    assert params["subscription_data"] == {"metadata": {"orgId": owner.org_id}}
    assert params["line_items"] == [{"price": PRO, "quantity": "1"}] and params["mode"] == "subscription"
    # a second checkout reuses the organisation's customer
    await _checkout(bapi, owner, stripe_fake, BUSINESS)
    assert [c[1] for c in stripe_fake.calls].count("/v1/customers") == 1

    replies = await post_events(bapi, stripe_fake, stripe_fake.complete_checkout(session_id))
    assert [(r.status, r.body) for r in replies] == [(200, {"received": True, "duplicate": False, "handled": True})] * 3
    after = await _subscription(bapi, owner)
    sub_id = stripe_fake.sessions[session_id]["subscription"]
    assert (after["plan"], after["status"], after["cancelAtPeriodEnd"]) == ("pro", "active", False)
    assert after["currentPeriodEnd"] and after["currentPeriodEnd"].endswith("Z")
    assert after["usage"] == {"logsThisMonth": 0, "quota": 50_000, "agents": 0, "agentLimit": 25}
    assert ("GET", f"/v1/subscriptions/{sub_id}", {}) in stripe_fake.calls  # the library asked the fake
    assert query(bapi, "SELECT plan FROM organizations WHERE id = ?", owner.org_id) == [("pro",)]
    assert query(bapi, "SELECT subscription_id, price_id, status FROM billing_accounts WHERE org_id = ?",
                 owner.org_id) == [(sub_id, PRO, "active")]
    kinds = [row[0] for row in query(bapi, "SELECT type FROM outbox_events WHERE org_id = ? ORDER BY created_at, id",
                                     owner.org_id)]
    assert kinds == ["billing.plan_changed", "billing.payment_succeeded"]
    login = await bapi.post("auth/login", json={"email": owner.email, "password": "correct-horse-9"})
    assert login.body["organization"]["plan"] == "pro"
    again = await bapi.post("billing/checkout", json={"priceId": BUSINESS}, headers=owner.jwt)
    assert (again.status, again.body["code"]) == (409, "conflict")  # no second subscription: use the portal

    # upgrade to business through the portal's kind of change: unlimited agents
    await post_events(bapi, stripe_fake, [stripe_fake.change_price(sub_id, BUSINESS)])
    assert (await _subscription(bapi, owner))["usage"]["quota"] == 250_000
    assert (await _subscription(bapi, owner))["usage"]["agentLimit"] is None


async def test_cancellation_brings_back_the_free_limits(bapi: ApiClient, stripe_fake: FakeStripe) -> None:
    owner = await bapi.new_account("owner@acme.test", name="Acme")
    session_id = await _checkout(bapi, owner, stripe_fake)
    await post_events(bapi, stripe_fake, stripe_fake.complete_checkout(session_id))
    for i in range(5):
        assert (await bapi.post("agents", json={"name": f"a{i}"}, headers=owner.jwt)).status == 201
    sub_id = stripe_fake.sessions[session_id]["subscription"]

    await post_events(bapi, stripe_fake, [stripe_fake.cancel_subscription(sub_id, at_period_end=True)])
    pending = await _subscription(bapi, owner)
    assert (pending["plan"], pending["cancelAtPeriodEnd"]) == ("pro", True)

    await post_events(bapi, stripe_fake, [stripe_fake.cancel_subscription(sub_id)])
    after = await _subscription(bapi, owner)
    assert (after["plan"], after["status"]) == ("free", "canceled")
    assert after["usage"] == {"logsThisMonth": 0, "quota": 5000, "agents": 5, "agentLimit": 3}
    over = await bapi.post("agents", json={"name": "one-more"}, headers=owner.jwt)
    assert (over.status, over.body["code"]) == (402, "quota_exceeded")
    assert "allows 3 agents" in over.body["error"]
    assert query(bapi, "SELECT COUNT(*) FROM agents WHERE org_id = ?", owner.org_id) == [(5,)]


async def test_free_plan_allows_three_agents(bapi: ApiClient) -> None:
    owner = await bapi.new_account("owner@acme.test", name="Acme")
    for i in range(3):
        assert (await bapi.post("agents", json={"name": f"a{i}"}, headers=owner.jwt)).status == 201
    reply = await bapi.post("agents", json={"name": "a3"}, headers=owner.jwt)
    assert (reply.status, reply.body["code"]) == (402, "quota_exceeded")
    assert (await _subscription(bapi, owner))["usage"]["agents"] == 3


async def test_payment_failed_raises_a_critical_alert(bapi: ApiClient, stripe_fake: FakeStripe) -> None:
    owner = await bapi.new_account("owner@acme.test", name="Acme")
    session_id = await _checkout(bapi, owner, stripe_fake)
    await post_events(bapi, stripe_fake, stripe_fake.complete_checkout(session_id))
    sub_id = stripe_fake.sessions[session_id]["subscription"]
    failed = stripe_fake.invoice_event(sub_id, paid=False)

    [reply] = await post_events(bapi, stripe_fake, [failed])
    assert reply.status == 200
    alerts = (await bapi.get("alerts", headers=owner.jwt)).body
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert["severity"], alert["status"], alert["auditLogId"], alert["ruleId"]) == ("critical", "open", None, None)
    invoice_id = failed["data"]["object"]["id"]
    assert alert["message"].startswith(f"Payment failed for the pro plan (invoice {invoice_id}, 49.00 USD)")
    assert alert["details"]["source"] == "billing" and alert["details"]["stripeEventId"] == failed["id"]
    sub = await _subscription(bapi, owner)
    assert (sub["plan"], sub["status"]) == ("pro", "past_due")  # Stripe retries; the plan holds meanwhile
    kinds = [row[0] for row in query(bapi, "SELECT type FROM outbox_events WHERE org_id = ?", owner.org_id)]
    assert kinds.count("billing.payment_failed") == 1 and kinds.count("alert.created") == 1

    # the retry succeeds: the subscription is active again, the alert stays for the record
    await post_events(bapi, stripe_fake, [stripe_fake.invoice_event(sub_id, paid=True)])
    assert (await _subscription(bapi, owner))["status"] == "active"


async def test_a_replayed_webhook_has_no_second_effect(bapi: ApiClient, stripe_fake: FakeStripe) -> None:
    owner = await bapi.new_account("owner@acme.test", name="Acme")
    session_id = await _checkout(bapi, owner, stripe_fake)
    events = stripe_fake.complete_checkout(session_id)
    await post_events(bapi, stripe_fake, events)
    sub_id = stripe_fake.sessions[session_id]["subscription"]
    failed = stripe_fake.invoice_event(sub_id, paid=False)
    cancel = stripe_fake.cancel_subscription(sub_id)
    await post_events(bapi, stripe_fake, [failed, cancel])
    outbox_before = query(bapi, "SELECT COUNT(*) FROM outbox_events")
    state_before = await _subscription(bapi, owner)
    assert state_before["plan"] == "free"

    replies = await post_events(bapi, stripe_fake, [*events, failed, cancel])  # Stripe redelivers everything
    assert all(r.status == 200 and r.body["duplicate"] is True for r in replies)
    assert await _subscription(bapi, owner) == state_before  # the old checkout did not make it pro again
    assert len((await bapi.get("alerts", headers=owner.jwt)).body) == 1
    assert query(bapi, "SELECT COUNT(*) FROM outbox_events") == outbox_before
    assert query(bapi, "SELECT COUNT(*) FROM stripe_events") == [(5,)]


async def test_a_wrong_signature_is_400_and_changes_nothing(bapi: ApiClient, stripe_fake: FakeStripe) -> None:
    owner = await bapi.new_account("owner@acme.test", name="Acme")
    session_id = await _checkout(bapi, owner, stripe_fake)
    event = stripe_fake.complete_checkout(session_id)[0]
    payload, _ = stripe_fake.signed(event)
    for headers in ({"Stripe-Signature": stripe_fake.signed(event, secret="whsec_wrong")[1]["Stripe-Signature"]},
                    {"Stripe-Signature": "t=1,v1=00"}, {}):
        reply = await bapi.post("billing/webhook", data=payload, headers=headers)
        assert (reply.status, reply.body["code"]) == (400, "validation_error"), reply.body
        assert reply.body["details"] == [{"field": "Stripe-Signature", "message": "does not verify for this payload"}]
    tampered = payload.replace(b'"complete"', b'"open"')
    reply = await bapi.post("billing/webhook", data=tampered, headers=stripe_fake.signed(event)[1])
    assert reply.status == 400
    assert (await _subscription(bapi, owner))["plan"] == "free"
    assert query(bapi, "SELECT COUNT(*) FROM stripe_events") == [(0,)]
    # the genuine delivery still works afterwards (nothing was recorded as processed)
    [ok] = await post_events(bapi, stripe_fake, [event])
    assert ok.body == {"received": True, "duplicate": False, "handled": True}
    assert (await _subscription(bapi, owner))["plan"] == "pro"


async def test_another_organisation_cannot_see_or_change_a_billing_state(
        bapi: ApiClient, stripe_fake: FakeStripe) -> None:
    owner = await bapi.new_account("owner@acme.test", name="Acme")
    other = await bapi.new_account("owner@globex.test", name="Globex")
    session_id = await _checkout(bapi, owner, stripe_fake)
    await post_events(bapi, stripe_fake, stripe_fake.complete_checkout(session_id))
    assert (await _subscription(bapi, owner))["plan"] == "pro"
    assert (await _subscription(bapi, other))["plan"] == "free"
    # the other organisation has no customer: no portal, and it cannot reach the first one's
    reply = await bapi.post("billing/portal", headers=other.jwt)
    assert (reply.status, reply.body["code"]) == (409, "conflict")
    portal = await bapi.post("billing/portal-session", headers=owner.jwt)
    assert portal.status == 200 and portal.body["url"].startswith(f"{stripe_fake.public_url}/portal/")
    # an event for the other organisation's subscription that claims the first one in its metadata
    other_session = await _checkout(bapi, other, stripe_fake)
    events = stripe_fake.complete_checkout(other_session)
    other_sub = stripe_fake.sessions[other_session]["subscription"]
    stripe_fake.subscriptions[other_sub]["metadata"] = {"orgId": owner.org_id}
    await post_events(bapi, stripe_fake, events)
    await post_events(bapi, stripe_fake, [stripe_fake.cancel_subscription(other_sub)])
    assert (await _subscription(bapi, owner))["plan"] == "pro"  # the customer decides whose it is
    assert (await _subscription(bapi, other))["plan"] == "free"
    # API keys cannot start a checkout; an auditor-style read needs the admin scope
    reply = await bapi.post("billing/checkout", json={"priceId": PRO}, headers=owner.api_key)
    assert reply.status == 403
    assert (await bapi.get("billing/subscription", headers=owner.api_key)).status == 403
    admin_key = await bapi.key_with(owner, ["admin"])
    assert (await bapi.get("billing/subscription", headers={"X-API-Key": admin_key})).body["plan"] == "pro"


async def test_checkout_validates_the_price(bapi: ApiClient) -> None:
    owner = await bapi.new_account("owner@acme.test", name="Acme")
    for body in ({}, {"priceId": ""}, {"priceId": 3}, {"priceId": "price_unknown"}):
        reply = await bapi.post("billing/checkout", json=body, headers=owner.jwt)
        assert (reply.status, reply.body["code"]) == (400, "validation_error"), body
        assert reply.body["details"][0]["field"] == "priceId"
