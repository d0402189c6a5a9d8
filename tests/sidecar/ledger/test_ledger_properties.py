"""Property tests: any single change to a random chain, export or proof is detected."""

from __future__ import annotations

import copy
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sidecar.ledger.chain import CANONICAL_FIELDS
from sidecar.ledger.export import ExportHeader, export_lines, verify_export
from sidecar.ledger.keys import generate_private_key, public_key_b64
from sidecar.ledger.proof import build_proof, verify_proof
from sidecar.ledger.verify import BreakKind, verify_chain
from tests.sidecar.ledger.builders import ORG, chain_events, sign_at, wire_event

KEY = generate_private_key()
TRUSTED = frozenset({public_key_b64(KEY)})
PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
json_values = st.recursive(
    scalars, lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3), max_leaves=8
)


@st.composite
def chains(draw: st.DrawFn, min_size: int = 1) -> list[dict[str, Any]]:
    """A random chain of 1..25 events with random prompts, metadata, flags and verdicts."""
    count = draw(st.integers(min_size, 25))
    events = [
        wire_event(
            sequence,
            prompt=draw(st.none() | text),
            response=draw(st.none() | text),
            metadata=draw(st.dictionaries(text, json_values, max_size=3)),
            complianceFlags=draw(st.lists(text, max_size=2)),
            enforcementAction=draw(st.sampled_from(["allow", "log", "flag", "block"])),
        )
        for sequence in range(1, count + 1)
    ]
    return chain_events(events)


def _json(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@PROPERTY_SETTINGS
@given(chain=chains(), data=st.data())
def test_any_single_field_change_is_detected_at_its_sequence(chain: list[dict[str, Any]], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(chain) - 1), label="index")
    name = data.draw(st.sampled_from((*CANONICAL_FIELDS, "hash")), label="field")
    old = chain[index].get(name)
    new = data.draw(json_values.filter(lambda value: _json(value) != _json(old)), label="new value")
    checkpoint = sign_at(KEY, chain, len(chain))
    assert verify_chain(chain, checkpoints=[checkpoint], trusted_keys=TRUSTED).ok
    tampered = copy.deepcopy(chain)
    tampered[index][name] = new

    report = verify_chain(tampered, checkpoints=[checkpoint], trusted_keys=TRUSTED, organization_id=ORG)

    assert not report.ok
    assert report.first_break is not None
    assert report.first_break.sequence == index + 1
    assert report.events_checked == index
    if name == "sequence":
        # 1.0 and True equal 1 in Python, so those reach the hash, which serialises them differently
        kinds = {BreakKind.SEQUENCE_GAP, BreakKind.SEQUENCE_ORDER, BreakKind.MALFORMED, BreakKind.HASH_MISMATCH}
        assert report.first_break.kind in kinds
    elif name == "organizationId":
        assert report.first_break.kind is BreakKind.ORGANIZATION_MISMATCH
    else:
        assert report.first_break.kind is BreakKind.HASH_MISMATCH


@PROPERTY_SETTINGS
@given(chain=chains(min_size=2), data=st.data())
def test_any_deleted_or_moved_row_is_detected(chain: list[dict[str, Any]], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(chain) - 1), label="index")
    checkpoint = sign_at(KEY, chain, len(chain))
    tampered = copy.deepcopy(chain)
    row = tampered.pop(index)
    target = data.draw(st.none() | st.integers(0, len(tampered)).filter(lambda t: t != index), label="moved to")
    if target is not None:
        tampered.insert(target, row)

    report = verify_chain(tampered, checkpoints=[checkpoint], trusted_keys=TRUSTED)

    assert report.first_break is not None
    if target is None:  # deleted: a gap, or past the checkpoint when it was the newest row
        kind = BreakKind.SEQUENCE_GAP if index < len(chain) - 1 else BreakKind.CHECKPOINT_BEYOND_END
        assert (report.first_break.sequence, report.first_break.kind) == (index + 1, kind)
    else:
        assert (report.first_break.sequence, report.first_break.kind) == (
            min(index, target) + 1,
            BreakKind.SEQUENCE_ORDER,
        )


@PROPERTY_SETTINGS
@given(chain=chains())
def test_random_chains_export_and_verify(chain: list[dict[str, Any]]) -> None:
    checkpoints = [sign_at(KEY, chain, sequence) for sequence in range(1, len(chain) + 1, 4)]
    lines = list(export_lines(ExportHeader(organization_id=ORG, public_keys=tuple(TRUSTED)), chain, checkpoints))

    report = verify_export(lines, trusted_keys=TRUSTED)

    assert (report.ok, report.events_checked, report.checkpoints_checked) == (True, len(chain), len(checkpoints))
    assert verify_chain(chain, checkpoints=checkpoints, trusted_keys=TRUSTED).last_hash == report.last_hash


def _leaves(value: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a leaf or container in a JSON value (containers count: they can be replaced whole)."""
    paths = [path] if path else []
    if isinstance(value, dict):
        for key, child in value.items():
            paths += _leaves(child, (*path, key))
    elif isinstance(value, list):
        for position, child in enumerate(value):
            paths += _leaves(child, (*path, position))
    return paths


@PROPERTY_SETTINGS
@given(chain=chains(min_size=2), data=st.data())
def test_any_altered_proof_element_fails(chain: list[dict[str, Any]], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(chain) - 2), label="event index")
    prev_hash = chain[index - 1]["hash"] if index else "0" * 64
    proof = build_proof(chain[index], prev_hash, chain[index + 1 :], sign_at(KEY, chain, len(chain)))
    proof = orjson.loads(orjson.dumps(proof))
    assert verify_proof(proof, TRUSTED)
    path = data.draw(st.sampled_from(_leaves(proof)), label="path")
    target = proof
    for step in path[:-1]:
        target = target[step]
    old = target[path[-1]]
    target[path[-1]] = data.draw(json_values.filter(lambda value: _json(value) != _json(old)), label="new value")

    assert not verify_proof(proof, TRUSTED)
