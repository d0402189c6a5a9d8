"""Monthly quotas: counted by the writer in the events' own transaction, exact under concurrency."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest

from sidecar.api.keys import SERVICES
from sidecar.services import plans
from sidecar.store.usage import month_of
from sidecar.store.writer import PendingEvent
from tests.helpers import ApiClient
from tests.sidecar.billing.conftest import query

pytestmark = pytest.mark.both_backends


@pytest.fixture
def small_free_plan(monkeypatch: pytest.MonkeyPatch) -> plans.Plan:
    small = plans.Plan("free", 100, 3)
    monkeypatch.setitem(plans.PLANS, "free", small)
    return small


def _next_month_iso() -> str:
    end = month_of(int(time.time() * 1000))[2]
    return datetime.fromtimestamp(end / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def test_exactly_the_quota_is_stored_under_concurrent_ingest(bapi: ApiClient, small_free_plan: plans.Plan) -> None:
    owner = await bapi.new_account("owner@acme.test", name="Acme")
    other = await bapi.new_account("owner@globex.test", name="Globex")
    replies = await asyncio.gather(*[
        bapi.post("audit-logs", json={"action": f"step-{i}"}, headers=owner.api_key) for i in range(150)
    ], *[bapi.post("audit-logs", json={"action": "neighbour"}, headers=other.api_key) for _ in range(20)])
    mine, theirs = replies[:150], replies[150:]
    assert sorted(r.status for r in mine) == [201] * 100 + [402] * 50
    assert all(r.status == 201 for r in theirs)  # refusals in a group leave the other jobs alone
    refused = next(r for r in mine if r.status == 402)
    assert refused.body["code"] == "quota_exceeded" and refused.body["resetsAt"] == _next_month_iso()
    assert "monthly quota of 100 events is used up" in refused.body["error"]
    assert query(bapi, "SELECT COUNT(*), MAX(seq) FROM audit_logs WHERE org_id = ?", owner.org_id) == [(100, 100)]
    period = month_of(int(time.time() * 1000))[0]
    assert query(bapi, "SELECT events FROM usage_counts WHERE org_id = ? AND period = ?", owner.org_id, period) == [(100,)]
    usage = (await bapi.get("billing/subscription", headers=owner.jwt)).body["usage"]
    assert (usage["logsThisMonth"], usage["quota"]) == (100, 100)
    listed = await bapi.get("audit-logs?limit=1", headers=owner.api_key)
    assert listed.body["pagination"]["total"] == 100


async def test_a_batch_over_the_quota_stores_nothing_of_it(bapi: ApiClient, small_free_plan: plans.Plan) -> None:
    owner = await bapi.new_account("owner@acme.test", name="Acme")
    assert (await bapi.post("audit-logs/batch", json=[{"action": "a"}] * 50, headers=owner.api_key)).status == 201
    assert (await bapi.post("audit-logs/batch", json=[{"action": "b"}] * 45, headers=owner.api_key)).status == 201
    reply = await bapi.post("audit-logs/batch", json=[{"action": "c"}] * 10, headers=owner.api_key)
    assert (reply.status, reply.body["code"]) == (402, "quota_exceeded")
    assert "5 left, 10 sent" in reply.body["error"]
    assert query(bapi, "SELECT action, COUNT(*) FROM audit_logs GROUP BY action ORDER BY action") == [("a", 50), ("b", 45)]
    # what still fits is taken
    assert (await bapi.post("audit-logs/batch", json=[{"action": "d"}] * 5, headers=owner.api_key)).status == 201
    assert (await bapi.post("audit-logs", json={"action": "e"}, headers=owner.api_key)).status == 402
    assert query(bapi, "SELECT COUNT(*), MAX(seq) FROM audit_logs") == [(100, 100)]


async def test_a_plan_change_applies_to_the_next_event(bapi: ApiClient, small_free_plan: plans.Plan,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await bapi.new_account("owner@acme.test", name="Acme")
    assert (await bapi.post("audit-logs/batch", json=[{"action": "a"}] * 50, headers=owner.api_key)).status == 201
    assert (await bapi.post("audit-logs/batch", json=[{"action": "a"}] * 50, headers=owner.api_key)).status == 201
    assert (await bapi.post("audit-logs", json={"action": "over"}, headers=owner.api_key)).status == 402
    services = bapi.client.server.app[SERVICES]

    def upgrade() -> None:  # what a verified Stripe event does, on the writer thread
        from sidecar.store import billing as store

        store.set_plan(owner.org_id, "pro", 0)
        services.writer.meter.forget(owner.org_id)

    await services.writer.run(upgrade)
    assert (await bapi.post("audit-logs", json={"action": "fits"}, headers=owner.api_key)).status == 201
    assert (await bapi.get("billing/subscription", headers=owner.jwt)).body["usage"]["logsThisMonth"] == 101


async def test_without_billing_usage_is_counted_but_never_enforced(api: ApiClient, small_free_plan: plans.Plan) -> None:
    owner = await api.new_account("owner@acme.test", name="Acme")
    for _ in range(3):
        assert (await api.post("audit-logs/batch", json=[{"action": "a"}] * 50, headers=owner.api_key)).status == 201
    usage = (await api.get("billing/subscription", headers=owner.jwt)).body["usage"]
    assert (usage["logsThisMonth"], usage["quota"]) == (150, None)


def test_month_boundaries_are_utc_calendar_months() -> None:
    def ms(*args: int) -> int:
        return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)

    assert month_of(ms(2026, 1, 31, 23, 59, 59)) == ("2026-01", ms(2026, 1, 1), ms(2026, 2, 1))
    assert month_of(ms(2026, 12, 1)) == ("2026-12", ms(2026, 12, 1), ms(2027, 1, 1))


async def test_the_writer_refuses_one_job_and_stores_its_neighbours_in_the_same_group(
        bapi: ApiClient, small_free_plan: plans.Plan) -> None:
    owner = await bapi.new_account("owner@acme.test", name="Acme")
    other = await bapi.new_account("owner@globex.test", name="Globex")
    writer = bapi.client.server.app[SERVICES].writer
    commits = writer.commits

    def batch(org: str, n: int) -> list[PendingEvent]:
        return [PendingEvent(org_id=org, action="x") for _ in range(n)]

    release = threading.Event()
    blocker = asyncio.ensure_future(writer.run(release.wait, 5))
    await asyncio.sleep(0.05)  # the writer is busy: what follows queues up and forms one group
    jobs = [asyncio.ensure_future(writer.ingest(batch(org, n)))
            for org, n in ((owner.org_id, 60), (owner.org_id, 60), (other.org_id, 60), (owner.org_id, 40))]
    await asyncio.sleep(0.01)
    release.set()
    results = await asyncio.gather(*jobs, return_exceptions=True)
    assert await blocker is True
    assert writer.commits - commits == 2  # the blocker's, then one group for the four jobs
    assert [type(r).__name__ if isinstance(r, Exception) else len(r) for r in results] == [60, "QuotaExceeded", 60, 40]
    assert query(bapi, "SELECT org_id, COUNT(*) FROM audit_logs GROUP BY org_id ORDER BY org_id") == sorted(
        [(owner.org_id, 100), (other.org_id, 60)])
