"""Retention: who may set it, and a purge that deletes whole old ranges yet leaves a chain that verifies."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from sidecar.api.keys import SERVICES
from sidecar.clock import ms_to_datetime, parse_iso
from sidecar.ledger import Checkpoint, verify_checkpoint, verify_event_proof
from sidecar.services import retention as retention_service
from sidecar.services.ledger_keys import trusted_public_keys
from tests.helpers import PASSWORD, Account, ApiClient, open_db
from tests.sidecar.ledger_integration.conftest import agentaudit, db_args

pytestmark = pytest.mark.both_backends

SSN_PROMPT = "Patient intake: SSN 123-45-6789, please file the claim."


async def test_retention_is_read_by_all_and_set_by_owners_and_admins(api: ApiClient, owner: Account) -> None:
    reply = await api.get("settings/retention", headers=owner.api_key)
    assert reply.status == 200
    assert reply.body == {"retentionDays": None, "prunedSequence": 0, "prunedHash": "0" * 64, "oldestSequence": None}
    changed = await api.patch("settings/retention", json={"retentionDays": 30}, headers=owner.jwt)
    assert (changed.status, changed.body["retentionDays"]) == (200, 30)
    assert (await api.get("settings/retention", headers=owner.jwt)).body["retentionDays"] == 30

    denied = await api.patch("settings/retention", json={"retentionDays": 1}, headers=owner.api_key)
    assert (denied.status, denied.body["error"]) == (
        403, "this operation needs a user login (Bearer token); API keys cannot do it")
    created = await api.post("users", json={"email": "ana@acme.test", "name": "Ana", "password": PASSWORD,
                                            "role": "analyst"}, headers=owner.jwt)
    assert created.status == 201
    login = await api.post("auth/login", json={"email": "ana@acme.test", "password": PASSWORD})
    analyst = {"Authorization": f"Bearer {login.body['accessToken']}"}
    denied = await api.patch("settings/retention", json={"retentionDays": 1}, headers=analyst)
    assert denied.status == 403 and "analyst" in denied.body["error"]
    assert (await api.get("settings/retention", headers=analyst)).body["retentionDays"] == 30
    admin_key = await api.key_with(owner, ["admin"])  # the admin scope does not reach settings: a purge needs a person
    assert (await api.patch("settings/retention", json={"retentionDays": 1},
                            headers={"X-API-Key": admin_key})).status == 403
    assert (await api.get("settings/retention", headers=owner.jwt)).body["retentionDays"] == 30
    assert (await api.patch("settings/retention", json={"retentionDays": None},
                            headers=owner.jwt)).body["retentionDays"] is None

    for body in ({}, {"retentionDays": 0}, {"retentionDays": "30"}, {"retentionDays": True},
                 {"retentionDays": 36501}, {"retentionDays": 1.5}, [30]):
        bad = await api.patch("settings/retention", json=body, headers=owner.jwt)
        assert bad.status == 400, body
        assert bad.body["details"][0]["field"] in ("retentionDays", "body")
    activity = await api.get("activity", params={"action": "settings"}, headers=owner.jwt)
    assert [a["details"]["retentionDays"] for a in activity.body] == [None, 30]


async def test_purge_deletes_old_ranges_and_the_rest_still_verifies(api: ApiClient, owner: Account, settings,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention_service, "PURGE_CHUNK", 7)
    assert (await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)).status == 201
    stored = []
    for i in range(30):
        prompt = SSN_PROMPT if i in (4, 25) else f"step {i}"
        reply = await api.post("audit-logs", json={"action": "llm_call", "prompt": prompt, "traceId": f"t{i // 10}"},
                               headers=owner.api_key)
        stored.append(reply.body)
        await asyncio.sleep(0.002)  # distinct creation times
    assert stored[4]["enforcementAction"] != "allow"
    alerts_before = (await api.get("alerts", params={"limit": 500}, headers=owner.jwt)).body
    assert {a["auditLogId"] for a in alerts_before} == {stored[4]["id"], stored[25]["id"]}
    assert (await api.patch("settings/retention", json={"retentionDays": 1}, headers=owner.jwt)).status == 200

    # purge as if one day after event 20 was created: events 1..19 are older than the cutoff
    cutoff = parse_iso(stored[19]["createdAt"])
    assert parse_iso(stored[18]["createdAt"]) < cutoff
    services = api.client.server.app[SERVICES]
    results = await services.retention.purge(now=ms_to_datetime(cutoff) + timedelta(days=1))
    assert [(r.first, r.last, r.deleted) for r in results] == [(1, 7, 7), (8, 14, 7), (15, 19, 5)]

    listed = await api.get("audit-logs", params={"limit": 500}, headers=owner.api_key)
    assert [e["sequence"] for e in listed.body["data"]] == list(range(30, 19, -1))
    assert listed.body["pagination"]["total"] == 11
    assert (await api.get(f"audit-logs/{stored[0]['id']}", headers=owner.api_key)).status == 404
    retention = (await api.get("settings/retention", headers=owner.api_key)).body
    assert retention == {"retentionDays": 1, "prunedSequence": 19, "prunedHash": stored[18]["hash"],
                         "oldestSequence": 20}
    pruned = (await api.get("ledger/checkpoints", params={"kind": "pruned"}, headers=owner.api_key)).body
    trusted = trusted_public_keys(settings.data_dir)
    assert [(c["sequence"], c["hash"]) for c in pruned] == [(19, stored[18]["hash"]), (14, stored[13]["hash"]),
                                                           (7, stored[6]["hash"])]
    assert all(verify_checkpoint(Checkpoint.from_wire(c), trusted) for c in pruned)
    # alerts stay (their event answers 404 now); violation facts and fully purged trace summaries go
    alerts_after = (await api.get("alerts", params={"limit": 500}, headers=owner.jwt)).body
    assert {a["id"] for a in alerts_after} == {a["id"] for a in alerts_before}
    with open_db(settings) as conn:
        violations = {row[0] for row in conn.execute("SELECT audit_log_id FROM violations").fetchall()}
        traces = [row[0] for row in conn.execute("SELECT trace_id FROM traces ORDER BY trace_id").fetchall()]
    assert violations == {stored[25]["id"]}
    assert traces == ["t1", "t2"]  # t0 (events 1..10) is gone; t1 (11..20) still has event 20

    # ingest continues the same chain, proofs still work, and the whole database verifies
    after = await api.post("audit-logs", json={"action": "after purge"}, headers=owner.api_key)
    assert after.body["sequence"] == 31
    proof = await api.get(f"audit-logs/{after.body['id']}/proof", headers=owner.api_key)
    assert proof.status == 200 and verify_event_proof(after.body, proof.body, trusted)
    proof = await api.get(f"audit-logs/{stored[19]['id']}/proof", headers=owner.api_key)
    assert proof.status == 200 and proof.body["prevHash"] == stored[18]["hash"]
    assert verify_event_proof(stored[19], proof.body, trusted)
    result = await asyncio.to_thread(agentaudit, "verify", *db_args(settings))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "12 events" in result.stdout and "(3 pruned)" in result.stdout and "RESULT: intact" in result.stdout
    activity = await api.get("activity", params={"action": "ledger.purge"}, headers=owner.jwt)
    assert [(a["actor"], a["details"]["last"]) for a in activity.body] == [("system", 19), ("system", 14),
                                                                          ("system", 7)]
    # nothing left that is old enough: a second run purges nothing
    assert await services.retention.purge(now=ms_to_datetime(cutoff) + timedelta(days=1)) == []
    # a late span of a purged trace starts its summary afresh (no summary of the purged spans is remembered)
    late = await api.post("audit-logs", json={"action": "late span", "traceId": "t0"}, headers=owner.api_key)
    assert late.status == 201
    with open_db(settings) as conn:
        [(spans, first_seq)] = conn.execute("SELECT span_count, last_seq FROM traces WHERE trace_id = 't0'").fetchall()
    assert (spans, first_seq) == (1, 32)


async def test_purge_runs_safely_while_events_arrive(api: ApiClient, owner: Account, settings,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention_service, "PURGE_CHUNK", 25)
    first = (await api.post("audit-logs/batch", json=[{"action": "old", "prompt": str(i)} for i in range(50)],
                            headers=owner.api_key)).body["data"]
    await asyncio.sleep(0.01)
    await api.patch("settings/retention", json={"retentionDays": 1}, headers=owner.jwt)
    services = api.client.server.app[SERVICES]
    cutoff = parse_iso(first[-1]["createdAt"]) + 1

    async def ingest() -> list[int]:
        seqs = []
        for i in range(20):
            reply = await api.post("audit-logs/batch", json=[{"action": "new", "prompt": f"{i}-{j}"} for j in range(5)],
                                   headers=owner.api_key)
            assert reply.status == 201
            seqs.extend(e["sequence"] for e in reply.body["data"])
        return seqs

    seqs, results = await asyncio.gather(ingest(), services.retention.purge(now=ms_to_datetime(cutoff) + timedelta(days=1)))
    assert [(r.first, r.last) for r in results] == [(1, 25), (26, 50)]
    assert sorted(seqs) == list(range(51, 151))
    result = await asyncio.to_thread(agentaudit, "verify", *db_args(settings), "--org", owner.org_id)
    assert result.returncode == 0, result.stdout
    assert "100 events" in result.stdout


async def test_purge_refuses_a_range_that_does_not_verify(api: ApiClient, owner: Account, settings) -> None:
    stored = (await api.post("audit-logs/batch", json=[{"action": "old", "prompt": str(i)} for i in range(10)],
                             headers=owner.api_key)).body["data"]
    await api.patch("settings/retention", json={"retentionDays": 1}, headers=owner.jwt)
    with open_db(settings) as conn:  # someone rewrites event 4 behind our back
        conn.execute("DROP TRIGGER audit_logs_no_update" + (" ON audit_logs" if conn.postgres else ""))
        conn.execute("UPDATE audit_logs SET prompt = 'rewritten' WHERE seq = 4")
    services = api.client.server.app[SERVICES]
    cutoff = parse_iso(stored[-1]["createdAt"]) + 1
    assert await services.retention.purge(now=ms_to_datetime(cutoff) + timedelta(days=1)) == []
    listed = await api.get("audit-logs", params={"limit": 500}, headers=owner.api_key)
    assert listed.body["pagination"]["total"] == 10  # the evidence is kept
    assert (await api.get("ledger/checkpoints", params={"kind": "pruned"}, headers=owner.api_key)).body == []


async def test_purging_every_event_leaves_a_chain_that_continues_and_verifies(api: ApiClient, owner: Account,
                                                                              settings) -> None:
    stored = (await api.post("audit-logs/batch", json=[{"action": "old", "prompt": str(i)} for i in range(12)],
                             headers=owner.api_key)).body["data"]
    await api.patch("settings/retention", json={"retentionDays": 1}, headers=owner.jwt)
    services = api.client.server.app[SERVICES]
    cutoff = parse_iso(stored[-1]["createdAt"]) + 1
    [result] = await services.retention.purge(now=ms_to_datetime(cutoff) + timedelta(days=1))
    assert (result.first, result.last, result.checkpoint.hash) == (1, 12, stored[-1]["hash"])
    assert (await api.get("audit-logs", headers=owner.api_key)).body["pagination"]["total"] == 0
    empty = await asyncio.to_thread(agentaudit, "verify", *db_args(settings))
    assert empty.returncode == 0 and "no events" in empty.stdout, empty.stdout
    head = (await api.get("ledger/head", headers=owner.api_key)).body
    assert (head["currentSequence"], head["prunedSequence"]) == (12, 12)
    after = (await api.post("audit-logs", json={"action": "new"}, headers=owner.api_key)).body
    assert after["sequence"] == 13
    result = await asyncio.to_thread(agentaudit, "verify", *db_args(settings))
    assert result.returncode == 0 and "events 13..13, 1 events" in result.stdout, result.stdout


async def test_the_purge_runs_on_its_own_schedule(aiohttp_client, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sidecar.api.app import create_app
    from sidecar.clock import utc_now
    from sidecar.settings import Settings

    monkeypatch.setattr(retention_service, "FIRST_PURGE_DELAY", 0.05)
    settings = Settings(data_dir=tmp_path / "data", port=0, retention_interval_seconds=1)
    api = ApiClient(await aiohttp_client(create_app(settings)))
    owner = await api.new_account("owner@acme.test", name="Acme")
    await api.post("audit-logs/batch", json=[{"action": "old"}] * 5, headers=owner.api_key)
    await api.patch("settings/retention", json={"retentionDays": 1}, headers=owner.jwt)
    services = api.client.server.app[SERVICES]
    later = utc_now() + timedelta(days=2)
    monkeypatch.setattr(services.retention, "_clock", lambda: later)  # two days pass
    for _ in range(300):
        pruned = (await api.get("ledger/checkpoints", params={"kind": "pruned"}, headers=owner.api_key)).body
        if pruned:
            break
        await asyncio.sleep(0.01)
    assert [c["sequence"] for c in pruned] == [5]
    assert (await api.get("settings/retention", headers=owner.api_key)).body["prunedSequence"] == 5
