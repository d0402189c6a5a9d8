"""``agentaudit verify``, run as a real process, finds every kind of tampering with the SQLite file.

A real sidecar (child process) stores 40 events (some flagged by the HIPAA pack) with a checkpoint every 10
and is stopped gracefully. Each test copies that data dir, edits the database file directly as an attacker
would (dropping the append-only triggers first), and runs ``agentaudit verify``: it must name the sequence
and the kind of the first break and exit 1.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sidecar.clock import utc_now
from sidecar.ledger import (
    GENESIS_HASH,
    canonical_event,
    format_timestamp,
    generate_private_key,
    link_hash,
    public_key_b64,
    sign_checkpoint,
)
from sidecar.store.ledger import ChainReader, open_read_only
from tests.e2e.conftest import bootstrap, call
from tests.helpers import SidecarProcess
from tests.sidecar.ledger_integration.conftest import agentaudit

SSN_PROMPT = "Patient intake: SSN 123-45-6789, please file the claim."
FLAGGED = (5, 18, 33)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir with 40 events and checkpoints at 10, 20, 30 and 40, written by a real sidecar."""
    data_dir = tmp_path_factory.mktemp("pristine") / "data"
    sidecar = SidecarProcess(data_dir, env={"AGENTAUDIT_CHECKPOINT_EVENTS": "10",
                                            "AGENTAUDIT_CHECKPOINT_SECONDS": "3600"})
    sidecar.start()
    try:
        token, key = bootstrap(sidecar.url)
        status, _ = call(f"{sidecar.url}/api/v1/compliance-rules/packs", "POST", {"packId": "hipaa"},
                         {"Authorization": f"Bearer {token}"})
        assert status == 201
        for start in range(1, 41, 10):
            batch = [{"action": "llm_call", "prompt": SSN_PROMPT if seq in FLAGGED else f"step {seq}",
                      "metadata": {"seq": seq}} for seq in range(start, start + 10)]
            status, body = call(f"{sidecar.url}/api/v1/audit-logs/batch", "POST", batch, {"X-API-Key": key})
            assert status == 201
            assert [e["enforcementAction"] != "allow" for e in body["data"]] == [  # type: ignore[index]
                seq in FLAGGED for seq in range(start, start + 10)]
        assert sidecar.stop() == 0
    finally:
        sidecar.kill()
    with sqlite3.connect(data_dir / "agentaudit.db") as conn:
        sequences = [row[0] for row in conn.execute("SELECT seq FROM ledger_checkpoints ORDER BY seq")]
    assert sequences[-1] == 40 and {10, 20, 30, 40} <= set(sequences)
    yield data_dir


@pytest.fixture
def copy(pristine: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(pristine, target)
    return target


def tamper(data_dir: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Open the file directly, drop the triggers like an attacker would, and run the statements."""
    with sqlite3.connect(data_dir / "agentaudit.db") as conn:
        conn.execute("DROP TRIGGER IF EXISTS audit_logs_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_logs_no_delete")
        for sql, params in statements:
            assert conn.execute(sql, params).rowcount >= 1, sql


def verify(data_dir: Path, *extra: str) -> tuple[int, str]:
    result = agentaudit("verify", "--data-dir", str(data_dir), *extra)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout


def assert_broken(data_dir: Path, sequence: int, kind: str) -> str:
    code, out = verify(data_dir)
    assert code == 1, out
    assert f"first break at sequence {sequence} ({kind})" in out, out
    assert out.rstrip().endswith(f"sequence {sequence}: {kind}"), out
    return out


def test_a_trusted_key_that_is_no_key_is_a_usage_error_not_a_break(copy: Path) -> None:
    for given in ("not base64!!", "f93ea737a99f68de"):  # garbage, and a key's short id instead of the key
        result = agentaudit("verify", "--data-dir", str(copy), "--trusted-key", given)
        assert result.returncode == 2, result.stdout
        assert result.stderr == (f"agentaudit verify: --trusted-key {given!r} is not a public key: give the base64 "
                                 "Ed25519 public key (GET /api/v1/ledger/head names it as publicKey), not its short "
                                 "id\n")
        assert "BROKEN" not in result.stdout


def test_the_untouched_database_verifies(copy: Path) -> None:
    code, out = verify(copy)
    assert code == 0, out
    assert "40 events" in out and "RESULT: intact" in out and "1 organisation(s)" in out


def test_the_fast_path_renders_every_stored_row_as_the_chain_does(pristine: Path) -> None:
    """``verify`` hashes the bytes ``canonical_rows`` builds from the stored JSON text; for rows this sidecar
    wrote (flagged ones with violation details included) they are exactly the canonical event bytes."""
    conn = open_read_only(pristine / "agentaudit.db")
    try:
        with ChainReader(conn) as reader:
            [head] = reader.heads()
            rows = list(reader.canonical_rows(head.org_id, 1))
            events = list(reader.events(head.org_id, 1))
    finally:
        conn.close()
    assert [seq for seq, _, _ in rows] == list(range(1, 41))
    assert [canonical for _, canonical, _ in rows] == [canonical_event(event) for event in events]
    assert all(rows[seq - 1][1].count(b'"violationDetails":[') == 1 for seq in FLAGGED)


def test_rows_stored_in_another_but_equal_json_form_verify_and_tampering_after_them_is_found(copy: Path) -> None:
    """JSON columns rewritten with other spacing and key order (as an older writer or a restore might store
    them) mean the same event: the fast path's bytes miss, the exact check passes, the walk goes on."""
    with sqlite3.connect(copy / "agentaudit.db") as conn:
        violations = json.loads(conn.execute("SELECT violations FROM audit_logs WHERE seq = 18").fetchone()[0])
    reordered = json.dumps([dict(reversed(list(v.items()))) for v in violations], indent=1)
    tamper(copy, ("UPDATE audit_logs SET metadata = '{ \"seq\" : 7 }' WHERE seq = 7", ()),
           ("UPDATE audit_logs SET violations = ? WHERE seq = 18", (reordered,)))
    code, out = verify(copy)
    assert code == 0, out
    assert "40 events" in out and "RESULT: intact" in out
    tamper(copy, ("UPDATE audit_logs SET prompt = 'step 29!' WHERE seq = 29", ()))
    assert_broken(copy, 29, "hash_mismatch")


def test_a_json_column_that_no_longer_parses(copy: Path) -> None:
    tamper(copy, ("UPDATE audit_logs SET metadata = '{\"seq\": ' WHERE seq = 21", ()))
    assert_broken(copy, 21, "hash_mismatch")


def test_a_changed_character_of_a_prompt(copy: Path) -> None:
    tamper(copy, ("UPDATE audit_logs SET prompt = 'step 1X' WHERE seq = 17", ()))
    out = assert_broken(copy, 17, "hash_mismatch")
    assert "does not match its hash" in out


def test_a_changed_compliance_flag(copy: Path) -> None:
    tamper(copy, ("UPDATE audit_logs SET flags = NULL, flagged = 0, enforcement = 'allow', violations = NULL "
                  "WHERE seq = 18", ()))
    assert_broken(copy, 18, "hash_mismatch")


def test_only_the_verdict_changed(copy: Path) -> None:
    tamper(copy, ("UPDATE audit_logs SET enforcement = 'allow' WHERE seq = 33", ()))
    assert_broken(copy, 33, "hash_mismatch")


def test_a_row_deleted_in_the_middle(copy: Path) -> None:
    tamper(copy, ("DELETE FROM audit_logs WHERE seq = 23", ()))
    out = assert_broken(copy, 23, "sequence_gap")
    assert "event 23 is missing" in out


def test_the_newest_rows_deleted_after_a_checkpoint_and_the_head_rewound(copy: Path) -> None:
    conn = sqlite3.connect(copy / "agentaudit.db")
    hash35 = conn.execute("SELECT hash FROM audit_logs WHERE seq = 35").fetchone()[0]
    conn.close()
    tamper(copy, ("DELETE FROM audit_logs WHERE seq > 35", ()),
           ("UPDATE organizations SET last_seq = 35, last_hash = ?", (hash35,)))
    out = assert_broken(copy, 36, "checkpoint_beyond_end")
    assert "events 36..40 are missing" in out


def test_the_newest_rows_deleted_after_the_last_checkpoint(copy: Path) -> None:
    # the checkpoints are deleted too: the organisation's recorded head still tells
    tamper(copy, ("DELETE FROM audit_logs WHERE seq > 36", ()), ("DELETE FROM ledger_checkpoints WHERE seq > 36", ()))
    out = assert_broken(copy, 37, "sequence_gap")
    assert "head records 40" in out


def test_an_event_appended_behind_the_writers_back(copy: Path) -> None:
    with sqlite3.connect(copy / "agentaudit.db") as conn:
        conn.row_factory = sqlite3.Row
        row = dict(conn.execute("SELECT * FROM audit_logs WHERE seq = 40").fetchone())
    row.update(id="log_forged", seq=41, prompt="appended later")
    columns = ", ".join(row)
    tamper(copy, (f"INSERT INTO audit_logs ({columns}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())))
    out = assert_broken(copy, 41, "sequence_order")
    assert "were added" in out


def test_two_rows_swapped(copy: Path) -> None:
    tamper(copy, ("UPDATE audit_logs SET seq = -1 WHERE seq = 12", ()),
           ("UPDATE audit_logs SET seq = 12 WHERE seq = 13", ()),
           ("UPDATE audit_logs SET seq = 13 WHERE seq = -1", ()))
    assert_broken(copy, 12, "hash_mismatch")


def test_two_rows_swapped_with_their_hashes(copy: Path) -> None:
    """Swap the rows' content and hash but keep their places in the sequence."""
    conn = sqlite3.connect(copy / "agentaudit.db")
    rows = {seq: (rowid, h) for rowid, seq, h in conn.execute("SELECT rowid, seq, hash FROM audit_logs "
                                                              "WHERE seq IN (26, 27)")}
    conn.close()
    tamper(copy, ("UPDATE audit_logs SET seq = -1 WHERE rowid = ?", (rows[26][0],)),
           ("UPDATE audit_logs SET seq = 26 WHERE rowid = ?", (rows[27][0],)),
           ("UPDATE audit_logs SET seq = 27 WHERE rowid = ?", (rows[26][0],)))
    assert_broken(copy, 26, "hash_mismatch")


def test_a_checkpoint_forged_with_another_key(copy: Path) -> None:
    with sqlite3.connect(copy / "agentaudit.db") as conn:
        org_id, hash25 = conn.execute("SELECT org_id, hash FROM audit_logs WHERE seq = 25").fetchone()
    forged = sign_checkpoint(generate_private_key(), organization_id=org_id, sequence=25, hash=hash25,
                             signed_at=format_timestamp(utc_now()))
    tamper(copy, ("INSERT INTO ledger_checkpoints (org_id, seq, hash, signed_at, kind, key_id, signature, public_key, "
                  "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                  (org_id, 25, hash25, forged.signed_at, "head", forged.key_id, forged.signature, forged.public_key)))
    out = assert_broken(copy, 25, "checkpoint_signature")
    assert forged.key_id in out


def test_a_rewritten_tail_resigned_with_another_key(copy: Path) -> None:
    """The attacker changes event 22, recomputes every later hash, rewinds nothing, and re-signs the
    checkpoints with a key of their own: the chain is consistent, but the signatures are not ours."""
    attacker = generate_private_key()
    conn = open_read_only(copy / "agentaudit.db")
    with ChainReader(conn) as reader:
        [head] = reader.heads()
        events = list(reader.events(head.org_id, 1))
        checkpoints = [cp for _, cp, _ in reader.checkpoints(head.org_id)]
    conn.close()
    events[21]["prompt"] = "nothing to see here"
    prev = GENESIS_HASH
    statements: list[tuple[str, tuple[object, ...]]] = []
    for event in events:
        prev = link_hash(prev, canonical_event(event))
        if event["sequence"] >= 22:
            statements.append(("UPDATE audit_logs SET prompt = ?, hash = ? WHERE seq = ?",
                               (event["prompt"], prev, event["sequence"])))
        event["hash"] = prev
    statements.append(("UPDATE organizations SET last_hash = ?", (prev,)))
    for checkpoint in checkpoints:
        if checkpoint is not None and checkpoint.sequence >= 22:
            forged = sign_checkpoint(attacker, organization_id=head.org_id, sequence=checkpoint.sequence,
                                     hash=events[checkpoint.sequence - 1]["hash"], signed_at=checkpoint.signed_at)
            statements.append(("UPDATE ledger_checkpoints SET hash = ?, signature = ?, public_key = ?, key_id = ? "
                               "WHERE seq = ?", (forged.hash, forged.signature, forged.public_key, forged.key_id,
                                                 checkpoint.sequence)))
    tamper(copy, *statements)
    assert_broken(copy, 30, "checkpoint_signature")
    # and trusting the attacker's key instead of ours shows nothing wrong: which keys to trust is the point
    code, out = verify(copy, "--trusted-key", public_key_b64(attacker))
    assert code == 1 and "checkpoint_signature" in out  # the untouched checkpoints at 10 and 20 are ours


def test_verify_works_while_the_sidecar_runs(pristine: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "live"
    shutil.copytree(pristine, data_dir)
    sidecar = SidecarProcess(data_dir)
    sidecar.start()
    try:
        code, out = verify(data_dir)
        assert code == 0 and "40 events" in out, out
        request = urllib.request.Request(f"{sidecar.url}/api/v1/health")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["database"] == "up"
    finally:
        assert sidecar.stop() == 0


def test_verify_options(copy: Path) -> None:
    with sqlite3.connect(copy / "agentaudit.db") as conn:
        [(org_id,)] = conn.execute("SELECT id FROM organizations").fetchall()
    code, out = verify(copy, "--org", org_id, "--from", "21")
    assert code == 0 and "events 21..40, 20 events" in out, out
    code, out = verify(copy, "--org", "org_nope")
    assert code == 2
    result = agentaudit("verify", "--data-dir", str(copy / "nowhere"))
    assert result.returncode == 2 and "no database" in result.stderr
    tamper(copy, ("UPDATE audit_logs SET prompt = 'x' WHERE seq = 3", ()))
    code, out = verify(copy, "--from", "10")  # the break lies before the walk's start
    assert code == 0, out
    assert verify(copy)[0] == 1


def test_export_file_verifies_offline(copy: Path, tmp_path: Path) -> None:
    with sqlite3.connect(copy / "agentaudit.db") as conn:
        [(org_id,)] = conn.execute("SELECT id FROM organizations").fetchall()
    out_file = tmp_path / "ledger.jsonl"
    result = agentaudit("export-ledger", "--data-dir", str(copy), "--org", org_id, "--out", str(out_file))
    assert result.returncode == 0, result.stderr
    shutil.rmtree(copy)  # no database from here on
    result = agentaudit("verify", "--export", str(out_file))
    assert result.returncode == 0 and "40 events" in result.stdout and "RESULT: intact" in result.stdout
    header = json.loads(out_file.read_bytes().splitlines()[0])
    [key] = header["publicKeys"]
    assert agentaudit("verify", "--export", str(out_file), "--trusted-key", key).returncode == 0
    other = public_key_b64(generate_private_key())
    result = agentaudit("verify", "--export", str(out_file), "--trusted-key", other)
    assert result.returncode == 1 and "checkpoint_signature" in result.stdout
    lines = out_file.read_bytes().splitlines()
    index = next(i for i, line in enumerate(lines) if b'"sequence":18,' in line and b"checkpoint" not in line)
    lines[index] = lines[index].replace(b'"enforcementAction":"flag"', b'"enforcementAction":"allow"').replace(
        b'"enforcementAction":"block"', b'"enforcementAction":"allow"')
    out_file.write_bytes(b"\n".join(lines) + b"\n")
    result = agentaudit("verify", "--export", str(out_file), "--trusted-key", key)
    assert result.returncode == 1 and "first break at sequence 18 (hash_mismatch)" in result.stdout
