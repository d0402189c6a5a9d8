"""Ledger exports: written line by line, verified in one pass by a third party."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from sidecar.ledger.chain import GENESIS_HASH
from sidecar.ledger.checkpoint import Checkpoint
from sidecar.ledger.export import ExportHeader, export_lines, verify_export, write_export
from sidecar.ledger.keys import public_key_b64
from sidecar.ledger.verify import Break, BreakKind
from tests.sidecar.ledger.builders import ORG, Keys, build_chain, sign_at


def _export(keys: Keys, events: list[dict[str, Any]], checkpoints: list[Checkpoint]) -> list[bytes]:
    header = ExportHeader(organization_id=ORG, public_keys=(public_key_b64(keys.ours),))
    lines: list[bytes] = []
    assert write_export(lines.append, header, iter(events), checkpoints) == len(lines)
    return lines


def test_export_layout_places_each_checkpoint_after_its_event(keys: Keys) -> None:
    events = build_chain(10)
    checkpoints = [sign_at(keys.ours, events, 10), sign_at(keys.ours, events, 3, kind="pruned")]

    lines = _export(keys, events[3:], checkpoints)

    assert orjson.loads(lines[0]) == {
        "format": "agentaudit-ledger-export",
        "version": 1,
        "organizationId": ORG,
        "publicKeys": [public_key_b64(keys.ours)],
        "startPrevHash": GENESIS_HASH,
        "startSequence": 1,
    }
    assert orjson.loads(lines[1]) == {"checkpoint": checkpoints[1].to_wire()}
    assert orjson.loads(lines[2]) == events[3]
    assert orjson.loads(lines[-1]) == {"checkpoint": checkpoints[0].to_wire()}
    assert orjson.loads(lines[-2]) == events[9]
    assert len(lines) == 1 + 7 + 2
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in lines)


def test_an_export_round_trips_and_verifies(keys: Keys) -> None:
    events = build_chain(60)
    checkpoints = [
        sign_at(keys.ours, events, 20, kind="pruned"),
        sign_at(keys.ours, events, 40),
        sign_at(keys.ours, events, 60),
    ]

    lines = _export(keys, events[20:], checkpoints)
    report = verify_export(iter(lines), trusted_keys=keys.trusted)

    assert report.ok, report.first_break
    assert (report.events_checked, report.checkpoints_checked, report.last_sequence) == (40, 3, 60)
    assert report.last_hash == events[-1]["hash"]
    assert verify_export([line.decode() for line in lines]).ok  # text lines, header keys


def test_an_empty_export_verifies() -> None:
    lines = list(export_lines(ExportHeader(organization_id=ORG), [], []))

    assert len(lines) == 1
    assert verify_export(lines).ok


def test_a_tampered_event_line_is_found(keys: Keys) -> None:
    events = build_chain(30)
    lines = _export(keys, events, [sign_at(keys.ours, events, 30)])
    lines[8] = lines[8].replace(b"refund", b"refunt")  # event 8

    report = verify_export(lines, trusted_keys=keys.trusted)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (8, BreakKind.HASH_MISMATCH)


def test_a_deleted_event_line_is_found(keys: Keys) -> None:
    events = build_chain(30)
    lines = _export(keys, events, [])
    del lines[12]

    report = verify_export(lines)

    assert report.first_break == Break(
        12, BreakKind.SEQUENCE_GAP, "expected sequence 12, found 13: event 12 is missing"
    )


def test_a_truncated_export_is_found(keys: Keys) -> None:
    events = build_chain(30)
    lines = _export(keys, events, [sign_at(keys.ours, events, 30)])
    del lines[25:-1]  # keep the header, events 1..24 and the checkpoint line

    report = verify_export(lines, trusted_keys=keys.trusted)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (25, BreakKind.CHECKPOINT_BEYOND_END)


def test_the_header_keys_are_not_enough_when_trusted_keys_are_given(keys: Keys) -> None:
    events = build_chain(10)
    header = ExportHeader(organization_id=ORG, public_keys=(public_key_b64(keys.other),))
    lines = list(export_lines(header, events, [sign_at(keys.other, events, 10)]))

    assert verify_export(lines).ok
    report = verify_export(lines, trusted_keys=keys.trusted)
    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (10, BreakKind.CHECKPOINT_SIGNATURE)


def test_a_checkpoint_moved_after_later_events_is_malformed(keys: Keys) -> None:
    events = build_chain(10)
    lines = _export(keys, events, [sign_at(keys.ours, events, 5)])
    moved = lines.pop(6)
    lines.append(moved)

    report = verify_export(lines, trusted_keys=keys.trusted)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (5, BreakKind.MALFORMED)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json\n", "line 4 is not JSON"),
        (b"[1, 2]\n", "line 4 is not a JSON object"),
        (b'{"checkpoint": {"sequence": 1}}\n', "line 4: checkpoint keys: missing"),
    ],
)
def test_a_bad_line_is_malformed(line: bytes, message: str, keys: Keys) -> None:
    lines = _export(keys, build_chain(5), [])
    lines.insert(3, line)

    report = verify_export(lines)

    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (3, BreakKind.MALFORMED)
    assert report.first_break.message.startswith(message)
    assert report.events_checked == 2


@pytest.mark.parametrize(
    "first",
    [
        b"",
        b"{}",
        b'{"format": "agentaudit-ledger-export", "version": 2}',
        b'{"format": "agentaudit-ledger-export", "version": 1, "organizationId": "o", "publicKeys": [],'
        b' "startPrevHash": "00", "startSequence": 1}',
    ],
)
def test_a_bad_header_is_malformed(first: bytes) -> None:
    report = verify_export([first] if first else [])

    assert not report.ok
    assert report.first_break is not None
    assert (report.first_break.sequence, report.first_break.kind) == (0, BreakKind.MALFORMED)


def test_header_round_trip() -> None:
    header = ExportHeader(organization_id=ORG, public_keys=("a", "b"), start_prev_hash="f" * 64, start_sequence=7)

    assert ExportHeader.from_wire(orjson.loads(orjson.dumps(header.to_wire()))) == header
