"""The ledger over HTTP: the signed head, checkpoints, event proofs, the export, and organisation isolation."""

from __future__ import annotations

import asyncio
import copy

import orjson
import pytest

from sidecar.api.keys import SERVICES
from sidecar.ledger import (
    GENESIS_HASH,
    Checkpoint,
    generate_private_key,
    public_key_b64,
    verify_checkpoint,
    verify_event_proof,
    verify_export,
    verify_proof,
)
from sidecar.ledger.keys import decode_b64, encode_b64
from sidecar.services.ledger_keys import trusted_public_keys
from tests.helpers import Account, ApiClient, open_db

pytestmark = pytest.mark.both_backends

_HEAD_EXTRAS = ("currentSequence", "currentHash", "unsignedEvents", "prunedSequence")


def _checkpoint(body: dict) -> Checkpoint:
    return Checkpoint.from_wire({k: v for k, v in body.items() if k not in _HEAD_EXTRAS})


async def _ingest(api: ApiClient, account: Account, count: int, prefix: str = "e", *, batch_size: int = 50) -> list[dict]:
    stored = []
    for start in range(0, count, batch_size):
        batch = [{"action": "llm_call", "prompt": f"{prefix}-{i}", "metadata": {"i": i}}
                 for i in range(start, min(count, start + batch_size))]
        reply = await api.post("audit-logs/batch", json=batch, headers=account.api_key)
        assert reply.status == 201, reply.body
        stored.extend(reply.body["data"])
    return stored


async def _wait_for_checkpoint(api: ApiClient, account: Account, at_least: int) -> list[dict]:
    for _ in range(200):
        reply = await api.get("ledger/checkpoints", params={"limit": 500}, headers=account.api_key)
        if reply.body and reply.body[0]["sequence"] >= at_least:
            return reply.body
        await asyncio.sleep(0.02)
    raise AssertionError(f"no checkpoint at or after {at_least}: {reply.body}")


async def test_head_is_a_valid_signed_checkpoint_of_the_chain(api: ApiClient, owner: Account, settings) -> None:
    stored = await _ingest(api, owner, 5)
    reply = await api.get("ledger/head", headers=owner.api_key)
    assert reply.status == 200
    body = reply.body
    trusted = trusted_public_keys(settings.data_dir)
    assert body["publicKey"] in trusted and len(trusted) == 1
    checkpoint = _checkpoint(body)
    assert verify_checkpoint(checkpoint, trusted)
    assert checkpoint.organization_id == owner.org_id and checkpoint.kind == "head"
    assert 1 <= checkpoint.sequence <= 5
    assert checkpoint.hash == stored[checkpoint.sequence - 1]["hash"]
    assert (body["currentSequence"], body["currentHash"]) == (5, stored[-1]["hash"])
    assert body["unsignedEvents"] == 5 - checkpoint.sequence and body["prunedSequence"] == 0
    assert (await api.get("ledger/head", headers=owner.jwt)).body["publicKey"] == body["publicKey"]


async def test_head_of_an_empty_chain_is_signed_on_demand(api: ApiClient, owner: Account, settings) -> None:
    reply = await api.get("ledger/head", headers=owner.api_key)
    assert reply.status == 200
    assert (reply.body["sequence"], reply.body["hash"], reply.body["currentSequence"]) == (0, GENESIS_HASH, 0)
    assert verify_checkpoint(_checkpoint(reply.body), trusted_public_keys(settings.data_dir))
    listed = await api.get("ledger/checkpoints", headers=owner.api_key)
    assert [c["sequence"] for c in listed.body] == [0]


async def test_the_signer_checkpoints_every_n_events(api: ApiClient, owner: Account, settings) -> None:
    stored = await _ingest(api, owner, 95)
    checkpoints = await _wait_for_checkpoint(api, owner, 86)
    trusted = trusted_public_keys(settings.data_dir)
    sequences = [c["sequence"] for c in checkpoints]
    assert sequences == sorted(sequences, reverse=True)
    assert sequences[-1] >= 1 and all(a - b >= 10 for a, b in zip(sequences, sequences[1:]))
    for body in checkpoints:
        checkpoint = Checkpoint.from_wire(body)
        assert verify_checkpoint(checkpoint, trusted)
        assert checkpoint.hash == stored[checkpoint.sequence - 1]["hash"]
    # fewer than ten unsigned events and an hour to go: nothing more is signed until then
    await asyncio.sleep(0.2)
    again = await api.get("ledger/checkpoints", headers=owner.api_key)
    assert again.body[0]["sequence"] == checkpoints[0]["sequence"]


async def test_checkpoint_listing_pages_and_filters(api: ApiClient, owner: Account) -> None:
    for round_ in range(4):
        await _ingest(api, owner, 11, prefix=f"r{round_}")
        await _wait_for_checkpoint(api, owner, 11 * round_ + 10)
    everything = await api.get("ledger/checkpoints", headers=owner.api_key)
    total = int(everything.headers["X-Total-Count"])
    assert total == len(everything.body) >= 3
    page = await api.get("ledger/checkpoints", params={"limit": 1, "offset": 1}, headers=owner.api_key)
    assert page.body == everything.body[1:2]
    assert 'rel="next"' in page.headers["Link"] and 'rel="prev"' in page.headers["Link"]
    heads = await api.get("ledger/checkpoints", params={"kind": "head"}, headers=owner.api_key)
    assert heads.body == everything.body
    pruned = await api.get("ledger/checkpoints", params={"kind": "pruned"}, headers=owner.api_key)
    assert (pruned.status, pruned.body, pruned.headers["X-Total-Count"]) == (200, [], "0")
    bad = await api.get("ledger/checkpoints", params={"kind": "forged"}, headers=owner.api_key)
    assert (bad.status, bad.body["code"], bad.body["details"]) == (
        400, "validation_error", [{"field": "kind", "message": "must be head or pruned"}])
    bad = await api.get("ledger/checkpoints", params={"limit": 0}, headers=owner.api_key)
    assert bad.status == 400 and bad.body["details"][0]["field"] == "limit"
    assert (await api.get("ledger/checkpoints")).status == 401


async def test_event_proof_verifies_offline_and_tampering_is_rejected(api: ApiClient, owner: Account,
                                                                      settings) -> None:
    stored = await _ingest(api, owner, 25)
    await _wait_for_checkpoint(api, owner, 20)
    trusted = trusted_public_keys(settings.data_dir)
    event = (await api.get(f"audit-logs/{stored[2]['id']}", headers=owner.api_key)).body
    reply = await api.get(f"audit-logs/{event['id']}/proof", headers=owner.api_key)
    assert reply.status == 200
    proof = reply.body
    assert proof["format"] == "agentaudit-event-proof" and proof["event"]["sequence"] == 3
    assert proof["checkpoint"]["sequence"] >= 3 and len(proof["following"]) == proof["checkpoint"]["sequence"] - 3
    assert verify_event_proof(event, proof, trusted)

    changed_event = {**event, "prompt": event["prompt"] + "!"}
    assert not verify_event_proof(changed_event, proof, trusted)
    for tamper in (_tamper_event, _tamper_following, _tamper_signature, _tamper_prev):
        forged = copy.deepcopy(proof)
        tamper(forged)
        assert not verify_proof(forged, trusted), tamper.__name__
    assert not verify_event_proof(event, proof, [public_key_b64(generate_private_key())])  # someone else's key


def _tamper_event(proof: dict) -> None:
    proof["event"]["complianceFlags"] = ["CRITICAL_pii_SSN"]


def _tamper_following(proof: dict) -> None:
    body = orjson.loads(decode_b64(proof["following"][0]["canonical"]))
    body["prompt"] = "rewritten"
    proof["following"][0]["canonical"] = encode_b64(orjson.dumps(body, option=orjson.OPT_SORT_KEYS))


def _tamper_signature(proof: dict) -> None:
    signature = bytearray(decode_b64(proof["checkpoint"]["signature"]))
    signature[0] ^= 1
    proof["checkpoint"]["signature"] = encode_b64(bytes(signature))


def _tamper_prev(proof: dict) -> None:
    proof["prevHash"] = "f" * 64


async def test_proof_of_an_event_newer_than_every_checkpoint_signs_one(api: ApiClient, owner: Account,
                                                                        settings) -> None:
    await _ingest(api, owner, 3)
    await _wait_for_checkpoint(api, owner, 1)
    newest = (await _ingest(api, owner, 4, prefix="late"))[-1]
    before = await api.get("ledger/checkpoints", headers=owner.api_key)
    assert before.body[0]["sequence"] < newest["sequence"]
    reply = await api.get(f"audit-logs/{newest['id']}/proof", headers=owner.api_key)
    assert reply.status == 200
    assert reply.body["checkpoint"]["sequence"] == newest["sequence"] and reply.body["following"] == []
    assert verify_event_proof(newest, reply.body, trusted_public_keys(settings.data_dir))


async def test_proof_is_not_found_for_unknown_or_foreign_events(api: ApiClient, owner: Account,
                                                                other: Account) -> None:
    [event] = await _ingest(api, owner, 1)
    for headers in (other.api_key, other.jwt):
        reply = await api.get(f"audit-logs/{event['id']}/proof", headers=headers)
        assert (reply.status, reply.body["error"]) == (404, f"audit log {event['id']} not found")
    reply = await api.get("audit-logs/log_nope/proof", headers=owner.api_key)
    assert (reply.status, reply.body["code"]) == (404, "not_found")
    assert (await api.get(f"audit-logs/{event['id']}/proof")).status == 401


async def test_checkpoints_are_isolated_per_organisation(api: ApiClient, owner: Account, other: Account) -> None:
    await _ingest(api, owner, 30)
    await _ingest(api, other, 2, prefix="globex")
    await _wait_for_checkpoint(api, owner, 21)
    await _wait_for_checkpoint(api, other, 1)
    theirs = await api.get("ledger/checkpoints", params={"limit": 500}, headers=other.api_key)
    assert theirs.body and {c["organizationId"] for c in theirs.body} == {other.org_id}
    assert max(c["sequence"] for c in theirs.body) <= 2
    head = await api.get("ledger/head", headers=other.jwt)
    assert (head.body["organizationId"], head.body["currentSequence"]) == (other.org_id, 2)
    ours = await api.get("ledger/checkpoints", params={"limit": 500}, headers=owner.api_key)
    assert {c["organizationId"] for c in ours.body} == {owner.org_id}
    export = await api.get("ledger/export", headers=other.api_key)
    assert owner.org_id.encode() not in export.body


async def test_export_verifies_offline_and_shows_a_changed_line(api: ApiClient, owner: Account, settings) -> None:
    for first in (0, 11, 22):  # three commits of eleven events: a checkpoint after each
        batch = [{"action": "llm_call", "prompt": f"e-{i}", "metadata": {"i": i}} for i in range(first, first + 11)]
        assert (await api.post("audit-logs/batch", json=batch, headers=owner.api_key)).status == 201
        await _wait_for_checkpoint(api, owner, first + 10)
    reply = await api.get("ledger/export", headers=owner.api_key)
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("application/x-ndjson")
    lines = reply.body.splitlines()
    trusted = trusted_public_keys(settings.data_dir)
    report = verify_export(lines, trusted)
    assert report.ok and report.events_checked == 33 and report.checkpoints_checked >= 3
    index = next(i for i, line in enumerate(lines) if b'"sequence":7,' in line and b'"checkpoint"' not in line)
    lines[index] = lines[index].replace(b'"prompt":"e-6"', b'"prompt":"e-7"')
    report = verify_export(lines, trusted)
    assert not report.ok and (report.first_break.sequence, report.first_break.kind) == (7, "hash_mismatch")


async def test_store_refuses_to_change_or_delete_audit_logs(api: ApiClient, owner: Account, settings) -> None:
    [event] = await _ingest(api, owner, 1)
    services = api.client.server.app[SERVICES]
    for statement in ("UPDATE audit_logs SET prompt = 'rewritten'", "DELETE FROM audit_logs",
                      "UPDATE audit_logs SET seq = seq + 1"):
        try:
            await services.writer.run(lambda s=statement: services.db.execute_sql(s))
        except Exception as exc:  # noqa: BLE001 - the database's own refusal
            assert "audit logs are append-only" in str(exc)
        else:
            raise AssertionError(f"{statement} was allowed")
    try:
        with open_db(settings) as conn:
            conn.execute("DELETE FROM audit_logs WHERE id = ?", (event["id"],))
    except Exception as exc:  # noqa: BLE001 - the database's own refusal (sqlite3 or psycopg)
        assert "only the retention purge deletes events" in str(exc)
    else:
        raise AssertionError("a direct DELETE was allowed")
    again = await api.get(f"audit-logs/{event['id']}", headers=owner.api_key)
    assert again.status == 200 and again.body == {k: v for k, v in event.items()}
