"""Checkpoints: canonical message, signing, verification with and without trusted keys, wire form, policy."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from sidecar.ledger.checkpoint import (
    Checkpoint,
    CheckpointPolicy,
    checkpoint_message,
    format_timestamp,
    parse_timestamp,
    sign_checkpoint,
    verify_checkpoint,
)
from sidecar.ledger.keys import key_id, public_key_b64
from tests.sidecar.ledger.builders import ORG, SIGNED_AT, Keys

HASH = "ab" * 32


def _sign(keys: Keys) -> Checkpoint:
    return sign_checkpoint(keys.ours, organization_id=ORG, sequence=42, hash=HASH, signed_at=SIGNED_AT)


def test_message_is_domain_separated_sorted_json() -> None:
    message = checkpoint_message(ORG, 42, HASH, SIGNED_AT, "head")

    assert message == (
        b"agentaudit-checkpoint-v1\n"
        b'{"hash":"' + HASH.encode() + b'","kind":"head","organizationId":"org_acme",'
        b'"sequence":42,"signedAt":"2026-01-15T10:00:00.000Z"}'
    )


def test_message_quotes_fields_so_they_cannot_run_together() -> None:
    assert checkpoint_message('a","sequence":1', 2, HASH, SIGNED_AT, "head") != checkpoint_message(
        "a", 1, HASH, SIGNED_AT, "head"
    )
    assert (
        orjson.loads(checkpoint_message('a"b', 2, HASH, SIGNED_AT, "head").split(b"\n", 1)[1])["organizationId"]
        == 'a"b'
    )


@pytest.mark.parametrize(
    "fields",
    [
        ("", 1, HASH, SIGNED_AT, "head"),
        (ORG, -1, HASH, SIGNED_AT, "head"),
        (ORG, True, HASH, SIGNED_AT, "head"),
        (ORG, 1, HASH.upper(), SIGNED_AT, "head"),
        (ORG, 1, HASH, "2026-01-15T10:00:00Z", "head"),
        (ORG, 1, HASH, SIGNED_AT, "tail"),
    ],
)
def test_malformed_fields_are_refused(fields: tuple[object, ...]) -> None:
    with pytest.raises(ValueError):
        checkpoint_message(*fields)  # type: ignore[arg-type]


def test_signed_checkpoint_carries_its_key_and_verifies(keys: Keys) -> None:
    checkpoint = _sign(keys)

    assert checkpoint.public_key == public_key_b64(keys.ours)
    assert checkpoint.key_id == key_id(checkpoint.public_key)
    assert (checkpoint.kind, checkpoint.sequence, checkpoint.hash) == ("head", 42, HASH)
    assert verify_checkpoint(checkpoint)
    assert verify_checkpoint(checkpoint, keys.trusted)
    assert verify_checkpoint(checkpoint, [public_key_b64(keys.other), public_key_b64(keys.ours)])


def test_a_key_outside_the_trusted_set_is_a_forgery(keys: Keys) -> None:
    forged = sign_checkpoint(keys.other, organization_id=ORG, sequence=42, hash=HASH, signed_at=SIGNED_AT)

    assert verify_checkpoint(forged)  # self-consistent
    assert not verify_checkpoint(forged, keys.trusted)
    assert not verify_checkpoint(_sign(keys), set())


@pytest.mark.parametrize(
    "change",
    [
        {"organization_id": "org_other"},
        {"sequence": 43},
        {"hash": "cd" * 32},
        {"signed_at": "2026-01-15T10:00:00.001Z"},
        {"kind": "pruned"},
        {"key_id": "0" * 16},
        {"signature": "AAAA"},
        {"signature": "not base64"},
        {"public_key": "AAAA"},
    ],
)
def test_any_changed_field_fails_verification(keys: Keys, change: dict[str, object]) -> None:
    altered = dataclasses.replace(_sign(keys), **change)  # type: ignore[arg-type]

    assert not verify_checkpoint(altered)


def test_a_swapped_public_key_with_its_own_id_fails(keys: Keys) -> None:
    other = public_key_b64(keys.other)
    altered = dataclasses.replace(_sign(keys), public_key=other, key_id=key_id(other))

    assert not verify_checkpoint(altered)


def test_wire_round_trip(keys: Keys) -> None:
    checkpoint = _sign(keys)
    wire = checkpoint.to_wire()

    assert list(wire) == ["organizationId", "sequence", "hash", "signedAt", "kind", "keyId", "signature", "publicKey"]
    assert Checkpoint.from_wire(orjson.loads(orjson.dumps(wire))) == checkpoint


@pytest.mark.parametrize(
    "wire_change",
    [{"sequence": "42"}, {"extra": 1}, {"hash": None}, {"keyId": "XYZ"}, {"signature": 5}],
)
def test_from_wire_refuses_malformed_input(keys: Keys, wire_change: dict[str, object]) -> None:
    wire = {**_sign(keys).to_wire(), **wire_change}

    with pytest.raises(ValueError):
        Checkpoint.from_wire(wire)


def test_from_wire_refuses_missing_keys_and_non_objects(keys: Keys) -> None:
    wire = _sign(keys).to_wire()
    del wire["kind"]
    with pytest.raises(ValueError, match=r"missing \['kind'\]"):
        Checkpoint.from_wire(wire)
    with pytest.raises(ValueError, match="must be a JSON object"):
        Checkpoint.from_wire([])  # type: ignore[arg-type]


NOW = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("events_since", "last", "due"),
    [
        (0, None, False),
        (0, NOW - timedelta(hours=1), False),
        (1, None, True),
        (999, NOW - timedelta(seconds=59), False),
        (1000, NOW - timedelta(seconds=1), True),
        (1, NOW - timedelta(seconds=60), True),
    ],
)
def test_policy_is_due_every_n_seconds_or_m_events(events_since: int, last: datetime | None, due: bool) -> None:
    policy = CheckpointPolicy(every_seconds=60, every_events=1000)

    assert policy.due(NOW, events_since, last) is due


@pytest.mark.parametrize("kwargs", [{"every_seconds": 0}, {"every_events": 0}, {"every_events": 1.5}])
def test_policy_refuses_non_positive_limits(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        CheckpointPolicy(**kwargs)  # type: ignore[arg-type]


def test_timestamps_format_and_parse_like_the_api() -> None:
    moment = datetime(2026, 1, 15, 11, 0, 0, 123999, tzinfo=timezone(timedelta(hours=1)))

    assert format_timestamp(moment) == "2026-01-15T10:00:00.123Z"
    assert format_timestamp(datetime(2026, 1, 15, 10, 0)) == "2026-01-15T10:00:00.000Z"
    assert parse_timestamp("2026-01-15T10:00:00.123Z") == datetime(2026, 1, 15, 10, 0, 0, 123000, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_timestamp("2026-01-15T10:00:00+00:00")
