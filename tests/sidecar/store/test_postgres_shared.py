"""What several sidecars decide once through PostgreSQL: schedule firings, report builds, deliveries, rate limits.

Each test uses two connections to one real PostgreSQL database (two threads: Peewee keeps a connection per
thread, so they are two sessions, as two sidecars are) and makes them race on purpose.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
from peewee import Database

from sidecar.errors import Conflict, RateLimited
from sidecar.services.rate_limits import SharedRateLimiter
from sidecar.store import notifications, reports
from sidecar.store.db import ReadPool, open_database, session_unlock, try_session_lock
from sidecar.store.models import Delivery, Organization, Report, database_proxy
from tests.postgres import TEMPLATE, PostgresServer


@pytest.fixture
def db(postgres_server: PostgresServer) -> Iterator[Database]:
    url = postgres_server.create_database(TEMPLATE)
    database = open_database(url)
    database_proxy.initialize(database)
    with database.connection_context():
        Organization.insert(id="org_a", name="A", email="a@a.test", created_at=1, updated_at=1).execute()
    yield database
    database.close()
    postgres_server.drop_database(url)


def _in_thread(fn) -> threading.Thread:  # noqa: ANN001
    """Run ``fn`` on a thread of its own (its own connection), closing the connection after."""
    def body() -> None:
        try:
            fn()
        finally:
            database_proxy.obj.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def test_a_schedule_firing_makes_one_report_when_two_sidecars_fire_it(db: Database) -> None:
    with db.connection_context():
        schedule = reports.create_schedule("org_a", name="daily", type="compliance_summary", format="csv",
                                           cron="0 3 * * *", timezone="UTC", params={}, email_recipients=[],
                                           created_by=None, now=1)
    first_done, outcomes = threading.Event(), {}

    def first() -> None:
        with db.atomic():
            outcomes["first"] = reports.schedule_fired(schedule.id, fired_at=1_000, report={"from": 0, "to": 1_000})
            first_done.set()
            time.sleep(0.3)  # the second sidecar's firing arrives while this one has not committed yet

    def second() -> None:
        first_done.wait(10)
        try:
            with db.atomic():
                reports.schedule_fired(schedule.id, fired_at=1_000, report={"from": 0, "to": 1_000})
            outcomes["second"] = "created"
        except Conflict:
            outcomes["second"] = "conflict"

    threads = [_in_thread(first), _in_thread(second)]
    for thread in threads:
        thread.join(20)
    assert outcomes["second"] == "conflict"
    with db.connection_context():
        assert Report.select().count() == 1


def test_a_report_being_built_elsewhere_is_not_taken_for_interrupted(db: Database) -> None:
    with db.connection_context():
        record = reports.create_report("org_a", type="compliance_summary", format="csv", name=None, params={},
                                       created_by=None, now=1)
        assert reports.start(record.id, now=2) is not None
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def builder() -> None:  # another sidecar, building the report: it holds the build lock
        assert try_session_lock(db, reports.build_lock_name(record.id))
        locked.set()
        release.wait(10)
        session_unlock(db, reports.build_lock_name(record.id))
        done.set()

    thread = _in_thread(builder)
    assert locked.wait(10)
    with db.connection_context():
        with db.atomic():
            assert reports.recover_interrupted(now=3, max_attempts=2) == ([], [])
        assert Report.get_by_id(record.id).status == "running"
        release.set()
        assert done.wait(10)
        with db.atomic():
            assert reports.recover_interrupted(now=4, max_attempts=2) == ([record.id], [])
        assert Report.get_by_id(record.id).status == "pending"
    thread.join(10)


def test_two_sidecars_never_claim_the_same_delivery(db: Database) -> None:
    with db.connection_context():
        for i in range(10):
            Delivery.insert(id=f"dlv_{i:02d}", org_id="org_a", event_id=f"evt_{i}", event_type="alert.created",
                            channel="webhook", target="http://127.0.0.1:9/hook", status="pending",
                            next_attempt_at=100, created_at=100).execute()
    claimed_first, claims = threading.Event(), {}

    def first() -> None:
        with db.atomic():
            claims["first"] = notifications.claim_due(200, 200 + 120_000, limit=6)
            claimed_first.set()
            time.sleep(0.3)  # still in its transaction: the rows stay locked

    def second() -> None:
        claimed_first.wait(10)
        with db.atomic():
            claims["second"] = notifications.claim_due(200, 200 + 120_000)

    threads = [_in_thread(first), _in_thread(second)]
    for thread in threads:
        thread.join(20)
    first_ids = {d.id for d in claims["first"]}
    second_ids = {d.id for d in claims["second"]}
    assert len(first_ids) == 6 and len(second_ids) == 4
    assert not first_ids & second_ids
    with db.connection_context():
        assert notifications.claim_due(200, 300) == []  # leased: nothing is due again until the lease ends
        assert {d.id for d in notifications.claim_due(200 + 120_000, 400_000)} == first_ids | second_ids


async def test_two_sidecars_share_one_rate_limit(db: Database) -> None:
    pools = [ReadPool(db, threads=2), ReadPool(db, threads=2)]
    wall = [1_000_000]
    limiters = [SharedRateLimiter({"ingest": (10, 20)}, pool, db, wall_ms=lambda: wall[0]) for pool in pools]
    try:
        granted = refused = 0
        for i in range(60):
            try:
                await limiters[i % 2].acquire("ingest", "key_a")
                granted += 1
            except RateLimited as exc:
                refused += 1
                assert exc.retry_after >= 1
        assert granted == 20 and refused == 40  # one burst for both sidecars, not one each
        await limiters[0].acquire("ingest", "key_b")  # another caller has a bucket of its own
        wall[0] += 500  # half a second: five tokens back, for either sidecar
        for i in range(5):
            await limiters[i % 2].acquire("ingest", "key_a")
        with pytest.raises(RateLimited):
            await limiters[1].acquire("ingest", "key_a")
    finally:
        for pool in pools:
            await asyncio.get_running_loop().run_in_executor(None, pool.close)
