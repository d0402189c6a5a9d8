"""verify_chain: a clean chain verifies; each kind of tampering is found at the right sequence."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from sidecar.ledger.chain import GENESIS_HASH, canonical_event
from sidecar.ledger.checkpoint import sign_checkpoint
from sidecar.ledger.verify import Break, BreakKind, ChainVerifier, VerifyReport, verify_chain
from tests.sidecar.ledger.builders import ORG, Keys, build_chain, chain_events, sign_at, wire_event


def test_clean_chain_verifies_with_its_checkpoints(keys: Keys) -> None:
    events = build_chain(50)
    checkpoints = [sign_at(keys.ours, events, 20), sign_at(keys.ours, events, 50)]

    report = verify_chain(events, checkpoints=checkpoints, trusted_keys=keys.trusted)

    assert report == VerifyReport(
        ok=True,
        events_checked=50,
        checkpoints_checked=2,
        first_break=None,
        last_sequence=50,
        last_hash=events[-1]["hash"],
        organization_id=ORG,
    )


def test_empty_chain_verifies() -> None:
    report = verify_chain([])

    assert (report.ok, report.events_checked, report.last_sequence, report.last_hash) == (True, 0, 0, GENESIS_HASH)


def test_events_are_consumed_lazily() -> None:
    events = build_chain(10)
    events[3]["prompt"] = "changed"
    seen: list[int] = []

    def stream() -> Iterator[dict[str, Any]]:
        for event in events:
            seen.append(event["sequence"])
            yield event

    report = verify_chain(stream())

    assert report.first_break is not None and report.first_break.sequence == 4
    assert seen == [1, 2, 3, 4]


def test_a_changed_prompt_character_is_a_hash_mismatch_at_its_sequence(keys: Keys) -> None:
    events = build_chain(30)
    checkpoints = [sign_at(keys.ours, events, 30)]
    events[16]["prompt"] = events[16]["prompt"].replace("refund", "refunt")

    report = verify_chain(events, checkpoints=checkpoints, trusted_keys=keys.trusted)

    assert not report.ok
    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (17, BreakKind.HASH_MISMATCH)
    assert (report.events_checked, report.checkpoints_checked) == (16, 0)
    assert (report.last_sequence, report.last_hash) == (16, events[15]["hash"])


def test_a_changed_compliance_flag_is_a_hash_mismatch() -> None:
    events = build_chain(30)
    events[8]["complianceFlags"] = []  # sequence 9 was flagged

    report = verify_chain(events)

    assert report.first_break == Break(
        9,
        BreakKind.HASH_MISMATCH,
        f"event 9 (id {events[8]['id']!r}) does not match its hash: a field was changed, "
        "or rows were swapped or rewritten",
    )


def test_a_changed_enforcement_action_and_nested_metadata_are_caught() -> None:
    for field, value in (("enforcementAction", "allow"), ("metadata", {**wire_event(3)["metadata"], "cost": 0})):
        events = build_chain(5)
        events[2][field] = value
        report = verify_chain(events)
        assert report.first_break is not None
        assert (report.first_break.sequence, report.first_break.kind) == (3, BreakKind.HASH_MISMATCH)


def test_a_rewritten_hash_breaks_the_next_event() -> None:
    events = build_chain(10)
    events[4]["prompt"] = "rewritten"
    events[4:5] = chain_events([{k: v for k, v in events[4].items() if k != "hash"}], events[3]["hash"])

    report = verify_chain(events)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (6, BreakKind.HASH_MISMATCH)


def test_a_rewritten_tail_is_caught_by_the_checkpoint(keys: Keys) -> None:
    events = build_chain(10)
    checkpoint = sign_at(keys.ours, events, 10)
    events[4]["prompt"] = "rewritten"
    events[4:] = chain_events([{k: v for k, v in e.items() if k != "hash"} for e in events[4:]], events[3]["hash"])

    report = verify_chain(events, checkpoints=[checkpoint], trusted_keys=keys.trusted)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (10, BreakKind.CHECKPOINT_MISMATCH)
    assert report.events_checked == 10


def test_a_deleted_middle_row_is_a_gap_at_its_sequence() -> None:
    events = build_chain(30)
    del events[11]  # sequence 12

    report = verify_chain(events)

    assert report.first_break == Break(
        12, BreakKind.SEQUENCE_GAP, "expected sequence 12, found 13: event 12 is missing"
    )
    assert report.events_checked == 11


def test_several_deleted_rows_are_named_as_a_range() -> None:
    events = build_chain(30)
    del events[11:14]

    report = verify_chain(events)

    assert report.first_break == Break(
        12, BreakKind.SEQUENCE_GAP, "expected sequence 12, found 15: events 12..14 are missing"
    )


def test_rows_deleted_after_a_checkpoint_are_found(keys: Keys) -> None:
    events = build_chain(40)
    checkpoints = [sign_at(keys.ours, events, 20), sign_at(keys.ours, events, 40)]

    report = verify_chain(events[:35], checkpoints=checkpoints, trusted_keys=keys.trusted)

    assert report.first_break == Break(
        36,
        BreakKind.CHECKPOINT_BEYOND_END,
        "a checkpoint signs sequence 40 but the chain ends at 35: events 36..40 are missing",
    )
    assert (report.events_checked, report.checkpoints_checked, report.last_sequence) == (35, 1, 35)


def test_rows_deleted_and_the_tail_rebuilt_do_not_match_the_checkpoint(keys: Keys) -> None:
    events = build_chain(40)
    checkpoint = sign_at(keys.ours, events, 40)
    # Delete 36..40 and append new rows 36..40 chained onto 35: self-consistent, but not what was signed.
    forged_tail = chain_events([wire_event(s, prompt="other") for s in range(36, 41)], events[34]["hash"])

    report = verify_chain(events[:35] + forged_tail, checkpoints=[checkpoint], trusted_keys=keys.trusted)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (40, BreakKind.CHECKPOINT_MISMATCH)


def test_two_swapped_rows_are_out_of_order() -> None:
    events = build_chain(30)
    events[9], events[14] = events[14], events[9]  # sequences 10 and 15

    report = verify_chain(events)

    assert report.first_break == Break(
        10,
        BreakKind.SEQUENCE_ORDER,
        "expected sequence 10, found 15 and 10 later: rows are out of order",
    )


def test_a_later_row_moved_before_an_earlier_one_is_out_of_order() -> None:
    events = build_chain(10)
    events.insert(7, copy.deepcopy(events[2]))  # a duplicate of sequence 3 after sequence 7

    report = verify_chain(events)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (8, BreakKind.SEQUENCE_ORDER)


def test_rows_swapped_in_place_keeping_sequence_and_hash_are_a_hash_mismatch() -> None:
    events = build_chain(30)
    # What an UPDATE of two rows' contents looks like when read back ORDER BY sequence.
    keep = ("sequence", "hash")
    a, b = events[9], events[14]
    a_content = {k: v for k, v in a.items() if k not in keep}
    a.update({k: v for k, v in b.items() if k not in keep})
    b.update(a_content)

    report = verify_chain(events)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (10, BreakKind.HASH_MISMATCH)


def test_a_checkpoint_signed_with_another_key_is_forged(keys: Keys) -> None:
    events = build_chain(30)
    checkpoints = [sign_at(keys.ours, events, 10), sign_at(keys.other, events, 20), sign_at(keys.ours, events, 30)]

    report = verify_chain(events, checkpoints=checkpoints, trusted_keys=keys.trusted)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (20, BreakKind.CHECKPOINT_SIGNATURE)
    assert (report.events_checked, report.checkpoints_checked) == (20, 1)


def test_without_trusted_keys_a_self_consistent_foreign_checkpoint_passes(keys: Keys) -> None:
    events = build_chain(10)

    report = verify_chain(events, checkpoints=[sign_at(keys.other, events, 10)])

    assert (report.ok, report.checkpoints_checked) == (True, 1)


def test_a_checkpoint_with_an_altered_hash_has_a_bad_signature(keys: Keys) -> None:
    events = build_chain(10)
    good = sign_at(keys.ours, events, 10)
    forged = type(good)(**{**{f: getattr(good, f) for f in good.__slots__}, "hash": "f" * 64})

    report = verify_chain(events, checkpoints=[forged], trusted_keys=keys.trusted)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (10, BreakKind.CHECKPOINT_SIGNATURE)


def test_a_checkpoint_of_another_organisation_is_refused(keys: Keys) -> None:
    events = build_chain(10)
    other_org = sign_at(keys.ours, build_chain(10, org="org_other"), 5, org="org_other")

    report = verify_chain(events, checkpoints=[other_org], trusted_keys=keys.trusted)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (5, BreakKind.ORGANIZATION_MISMATCH)


def test_an_event_of_another_organisation_is_refused() -> None:
    events = build_chain(5)
    intruder = build_chain(5, org="org_other")[3]

    report = verify_chain([*events[:3], intruder, *events[4:]])

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (4, BreakKind.ORGANIZATION_MISMATCH)


def test_a_pruned_range_verifies_from_its_checkpoint(keys: Keys) -> None:
    events = build_chain(100)
    checkpoints = [
        sign_at(keys.ours, events, 30),  # a head checkpoint inside the pruned range: signature only
        sign_at(keys.ours, events, 60, kind="pruned"),
        sign_at(keys.ours, events, 100),
    ]

    report = verify_chain(events[60:], checkpoints=checkpoints, trusted_keys=keys.trusted)

    assert report.ok, report.first_break
    assert (report.events_checked, report.checkpoints_checked, report.last_sequence) == (40, 3, 100)


def test_a_second_prune_anchors_on_the_newest_pruned_checkpoint(keys: Keys) -> None:
    events = build_chain(100)
    checkpoints = [sign_at(keys.ours, events, 40, kind="pruned"), sign_at(keys.ours, events, 70, kind="pruned")]

    report = verify_chain(events[70:], checkpoints=checkpoints, trusted_keys=keys.trusted)

    assert (report.ok, report.events_checked, report.checkpoints_checked) == (True, 30, 2)


def test_a_missing_prefix_without_a_pruned_checkpoint_is_a_gap(keys: Keys) -> None:
    events = build_chain(100)
    checkpoints = [sign_at(keys.ours, events, 60)]  # a head checkpoint does not license deletion

    report = verify_chain(events[60:], checkpoints=checkpoints, trusted_keys=keys.trusted)

    assert report.first_break == Break(
        1,
        BreakKind.SEQUENCE_GAP,
        "expected sequence 1, found 61: events 1..60 are missing; no valid pruned checkpoint at 60 covers them",
    )


def test_rows_deleted_after_the_pruned_range_are_a_gap(keys: Keys) -> None:
    events = build_chain(100)
    checkpoints = [sign_at(keys.ours, events, 60, kind="pruned")]

    report = verify_chain(events[65:], checkpoints=checkpoints, trusted_keys=keys.trusted)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (1, BreakKind.SEQUENCE_GAP)


def test_a_forged_pruned_checkpoint_does_not_anchor(keys: Keys) -> None:
    events = build_chain(100)
    checkpoints = [sign_at(keys.other, events, 60, kind="pruned")]

    report = verify_chain(events[60:], checkpoints=checkpoints, trusted_keys=keys.trusted)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (60, BreakKind.CHECKPOINT_SIGNATURE)


def test_a_pruned_checkpoint_with_the_wrong_hash_breaks_the_first_event(keys: Keys) -> None:
    events = build_chain(100)
    wrong = sign_checkpoint(
        keys.ours, organization_id=ORG, sequence=60, hash="a" * 64, signed_at="2026-01-15T10:00:00.000Z", kind="pruned"
    )

    report = verify_chain(events[60:], checkpoints=[wrong], trusted_keys=keys.trusted)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (61, BreakKind.HASH_MISMATCH)
    assert report.checkpoints_checked == 1


def test_everything_pruned_verifies_on_the_pruned_checkpoint(keys: Keys) -> None:
    events = build_chain(20)
    checkpoints = [sign_at(keys.ours, events, 20, kind="pruned"), sign_at(keys.ours, events, 20)]

    report = verify_chain([], checkpoints=checkpoints, trusted_keys=keys.trusted)

    assert (report.ok, report.checkpoints_checked, report.last_sequence, report.last_hash) == (
        True,
        2,
        20,
        events[-1]["hash"],
    )


def test_every_row_deleted_is_caught_by_the_head_checkpoint(keys: Keys) -> None:
    events = build_chain(20)

    report = verify_chain([], checkpoints=[sign_at(keys.ours, events, 20)], trusted_keys=keys.trusted)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (1, BreakKind.CHECKPOINT_BEYOND_END)


def test_a_partial_walk_starts_from_a_given_hash(keys: Keys) -> None:
    events = build_chain(50)

    report = verify_chain(
        events[19:],
        start_prev_hash=events[18]["hash"],
        start_sequence=20,
        checkpoints=[sign_at(keys.ours, events, 10), sign_at(keys.ours, events, 50)],
        trusted_keys=keys.trusted,
    )

    assert (report.ok, report.events_checked, report.checkpoints_checked) == (True, 31, 2)


def test_a_missing_sequence_field_is_malformed() -> None:
    events = build_chain(5)
    del events[2]["sequence"]

    report = verify_chain(events)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (3, BreakKind.MALFORMED)


@pytest.mark.parametrize(("prev", "start"), [("0" * 63, 1), ("G" * 64, 1), (GENESIS_HASH, 0)])
def test_a_malformed_start_is_refused(prev: str, start: int) -> None:
    with pytest.raises(ValueError):
        verify_chain([], start_prev_hash=prev, start_sequence=start)


def test_the_verifier_takes_events_in_batches_and_checkpoints_as_they_come(keys: Keys) -> None:
    events = build_chain(30)
    verifier = ChainVerifier(trusted_keys=keys.trusted)

    verifier.feed(events[:10])
    verifier.add_checkpoint(sign_at(keys.ours, events, 10))  # at the last verified event: checked now
    verifier.add_checkpoint(sign_at(keys.ours, events, 25))  # ahead: checked when reached
    verifier.feed(iter(events[10:]))
    report = verifier.finish()

    assert (report.ok, report.events_checked, report.checkpoints_checked, report.last_sequence) == (True, 30, 2, 30)
    assert verifier.finish() == report


def test_a_checkpoint_added_after_the_walk_passed_it_is_malformed(keys: Keys) -> None:
    events = build_chain(30)
    verifier = ChainVerifier(trusted_keys=keys.trusted)
    verifier.feed(events[:20])

    verifier.add_checkpoint(sign_at(keys.ours, events, 15))
    verifier.feed(events[20:])  # ignored after the break
    report = verifier.finish()

    assert report.first_break == Break(
        15,
        BreakKind.MALFORMED,
        "checkpoint at sequence 15 came after event 20; it must come before the walk passes its sequence",
    )
    assert report.events_checked == 20


def test_a_checkpoint_inside_the_pruned_range_may_come_late(keys: Keys) -> None:
    events = build_chain(30)
    verifier = ChainVerifier(trusted_keys=keys.trusted)
    verifier.add_checkpoint(sign_at(keys.ours, events, 20, kind="pruned"))
    verifier.feed(events[20:25])

    verifier.add_checkpoint(sign_at(keys.ours, events, 5))  # below the start: signature only
    verifier.add_checkpoint(sign_at(keys.ours, events, 20))  # at the anchor: compared with its hash
    verifier.feed(events[25:])

    assert (verifier.finish().ok, verifier.finish().checkpoints_checked) == (True, 3)


# -- the fast path: feed_canonical gives feed's verdict ----------------------------------------------


def _fast(events: list[dict], rendered: dict[int, bytes] | None = None) -> VerifyReport:
    """Walk ``events`` as a store holds them (ordered by sequence) with ``feed_canonical``: canonical bytes
    per event, where ``rendered`` overrides some, as a renderer would for rows stored in another JSON form."""
    rendered = rendered or {}
    ordered = sorted(events, key=lambda e: e["sequence"])

    def rows(seq: int):
        for event in ordered:
            if event["sequence"] >= seq:
                yield event["sequence"], rendered.get(event["sequence"], canonical_event(event)), event["hash"]

    def exact(seq: int):
        return (event for event in ordered if event["sequence"] >= seq)

    verifier = ChainVerifier(organization_id=ORG)
    verifier.feed_canonical(rows, exact)
    return verifier.finish()


def _exact(events: list[dict]) -> VerifyReport:
    verifier = ChainVerifier(organization_id=ORG)
    verifier.feed(events)
    return verifier.finish()


def test_feed_canonical_agrees_with_feed_on_intact_and_broken_chains() -> None:
    intact = build_chain(30)
    assert _fast(intact) == _exact(intact) and _fast(intact).ok and _fast(intact).events_checked == 30
    changed = [dict(e) for e in intact]
    changed[11]["prompt"] += "!"
    missing = intact[:7] + intact[8:]
    swapped = [dict(e) for e in intact]  # two rows' contents and hashes exchanged, sequences kept
    swapped[4], swapped[5] = {**intact[5], "sequence": 5}, {**intact[4], "sequence": 6}
    for broken in (changed, missing, swapped):
        assert not _exact(broken).ok
        assert _fast(broken) == _exact(broken)


def test_feed_canonical_rechecks_bytes_that_miss_and_goes_on() -> None:
    intact = build_chain(20)
    other_form = {3: b'{"not": "canonical"}', 9: b"", 15: canonical_event(intact[14])}  # 15 gets 14's bytes
    report = _fast(intact, other_form)
    assert report.ok and report.events_checked == 20 and report.last_hash == intact[-1]["hash"]
    tampered = [dict(e) for e in intact]
    tampered[9]["response"] = "Refund denied."
    report = _fast(tampered, other_form)
    assert report == _exact(tampered)
    assert report.first_break is not None and report.first_break.sequence == 10
