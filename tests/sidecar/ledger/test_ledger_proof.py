"""Event proofs: built from a chain, verified offline, refused when any element is altered."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from sidecar.ledger.chain import GENESIS_HASH, canonical_event
from sidecar.ledger.proof import PROOF_FORMAT, build_proof, proof_problem, verify_event_proof, verify_proof
from tests.sidecar.ledger.builders import Keys, build_chain, sign_at

Proof = dict[str, Any]


@pytest.fixture(scope="module")
def chain() -> list[dict[str, Any]]:
    return build_chain(20)


@pytest.fixture()
def proof(chain: list[dict[str, Any]], keys: Keys) -> Proof:
    """A proof of event 12 against the checkpoint at 16 (4 following events)."""
    return build_proof(chain[11], chain[10]["hash"], chain[12:16], sign_at(keys.ours, chain, 16))


def test_a_proof_verifies_with_the_trusted_key(proof: Proof, chain: list[dict[str, Any]], keys: Keys) -> None:
    assert proof_problem(proof, keys.trusted) is None
    assert verify_proof(orjson.loads(orjson.dumps(proof)), keys.trusted)
    assert proof["format"] == PROOF_FORMAT
    assert [item["sequence"] for item in proof["following"]] == [13, 14, 15, 16]
    assert base64.b64decode(proof["following"][0]["canonical"]) == canonical_event(chain[12])


def test_a_proof_at_the_checkpoint_itself_has_no_following_events(chain: list[dict[str, Any]], keys: Keys) -> None:
    proof = build_proof(chain[0], GENESIS_HASH, [], sign_at(keys.ours, chain, 1))

    assert proof["following"] == []
    assert verify_proof(proof, keys.trusted)


def test_verify_event_proof_matches_the_callers_copy(proof: Proof, chain: list[dict[str, Any]], keys: Keys) -> None:
    api_view = {k: v for k, v in chain[11].items() if k != "organizationId"}

    assert verify_event_proof(api_view, proof, keys.trusted)
    assert not verify_event_proof({**api_view, "prompt": "something else"}, proof, keys.trusted)
    assert not verify_event_proof({**api_view, "sequence": 12.0}, proof, keys.trusted)
    assert not verify_event_proof(chain[12], proof, keys.trusted)


def test_a_proof_signed_with_another_key_is_refused(chain: list[dict[str, Any]], keys: Keys) -> None:
    proof = build_proof(chain[11], chain[10]["hash"], chain[12:16], sign_at(keys.other, chain, 16))

    assert verify_proof(proof)  # self-consistent
    assert proof_problem(proof, keys.trusted) == "the checkpoint's signature is invalid or its key is not trusted"


def _set(path: tuple[Any, ...], value: Any) -> Callable[[Proof], None]:
    def mutate(proof: Proof) -> None:
        target = proof
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return mutate


def _recanonical(proof: Proof) -> None:
    body = orjson.loads(base64.b64decode(proof["following"][1]["canonical"]))
    body["prompt"] = "rewritten"
    proof["following"][1]["canonical"] = base64.b64encode(canonical_event(body)).decode()


ALTERATIONS: dict[str, Callable[[Proof], None]] = {
    "event prompt": _set(("event", "prompt"), "changed"),
    "event flags": _set(("event", "complianceFlags"), ["CRITICAL_pii_detect_SSN Detection"]),
    "event sequence": _set(("event", "sequence"), 13),
    "event hash": _set(("event", "hash"), "1" * 64),
    "event gains org": _set(("event", "organizationId"), "org_other"),
    "prevHash": _set(("prevHash",), "1" * 64),
    "following sequence": _set(("following", 0, "sequence"), 14),
    "following hash": _set(("following", 2, "hash"), "2" * 64),
    "following canonical": _recanonical,
    "following canonical with a newline": lambda p: p["following"][0].update(
        canonical=p["following"][0]["canonical"] + "\n"
    ),
    "following dropped": lambda p: p["following"].pop(),
    "following reordered": lambda p: p["following"].reverse(),
    "following extra key": _set(("following", 0, "note"), "x"),
    "checkpoint hash": _set(("checkpoint", "hash"), "3" * 64),
    "checkpoint sequence": _set(("checkpoint", "sequence"), 17),
    "checkpoint signedAt": _set(("checkpoint", "signedAt"), "2026-01-15T10:00:01.000Z"),
    "checkpoint kind": _set(("checkpoint", "kind"), "pruned"),
    "checkpoint keyId": _set(("checkpoint", "keyId"), "0" * 16),
    "checkpoint org": _set(("checkpoint", "organizationId"), "org_other"),
    "format": _set(("format",), "something-else"),
    "version": _set(("version",), 2),
    "extra key": _set(("extra",), 1),
    "missing event": lambda p: p.pop("event"),
}


@pytest.mark.parametrize("name", sorted(ALTERATIONS))
def test_any_altered_element_fails(name: str, proof: Proof, keys: Keys) -> None:
    altered = copy.deepcopy(proof)
    ALTERATIONS[name](altered)

    assert altered != proof
    assert not verify_proof(altered, keys.trusted)
    assert not verify_proof(altered)


def test_an_altered_signature_fails_even_when_it_decodes_to_the_same_bytes(proof: Proof, keys: Keys) -> None:
    signature = proof["checkpoint"]["signature"]  # 64 bytes: two unused bits before the "=="
    last = signature[-3]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    respelled = signature[:-3] + alphabet[alphabet.index(last) ^ 1] + "=="
    assert base64.b64decode(respelled) == base64.b64decode(signature)
    altered = copy.deepcopy(proof)
    altered["checkpoint"]["signature"] = respelled

    assert not verify_proof(altered, keys.trusted)


def test_build_proof_refuses_inputs_that_do_not_chain(chain: list[dict[str, Any]], keys: Keys) -> None:
    checkpoint = sign_at(keys.ours, chain, 16)
    with pytest.raises(ValueError, match="does not chain from the given previous hash"):
        build_proof(chain[11], chain[9]["hash"], chain[12:16], checkpoint)
    with pytest.raises(ValueError, match="need the 4 events"):
        build_proof(chain[11], chain[10]["hash"], chain[12:15], checkpoint)
    with pytest.raises(ValueError, match="not covered"):
        build_proof(chain[17], chain[16]["hash"], [], checkpoint)
    tampered = [dict(e) for e in chain[12:16]]
    tampered[1]["prompt"] = "x"
    with pytest.raises(ValueError, match="event 14 does not chain"):
        build_proof(chain[11], chain[10]["hash"], tampered, checkpoint)
