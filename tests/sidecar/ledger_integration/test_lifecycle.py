"""The signer's life in a real sidecar process: a graceful stop signs the final head; a killed one's head is
signed at the next start. And 100,000 events verify clean."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from sidecar.ledger import Checkpoint, verify_checkpoint
from sidecar.services.ledger_keys import trusted_public_keys
from sidecar.store.ledger import CHECKPOINT_COLUMNS, checkpoint_of
from tests.e2e.conftest import bootstrap, call
from tests.helpers import SidecarProcess
from tests.sidecar.ledger_integration.chain_db import build_ledger
from tests.sidecar.ledger_integration.conftest import agentaudit

RARELY = {"AGENTAUDIT_CHECKPOINT_EVENTS": "100000", "AGENTAUDIT_CHECKPOINT_SECONDS": "3600"}


def _checkpoints(data_dir: Path) -> list[Checkpoint]:
    with sqlite3.connect(data_dir / "agentaudit.db") as conn:
        rows = conn.execute(f"SELECT {CHECKPOINT_COLUMNS} FROM ledger_checkpoints ORDER BY seq, id").fetchall()
    return [checkpoint_of(row) for row in rows]


def _head(data_dir: Path) -> tuple[int, str]:
    with sqlite3.connect(data_dir / "agentaudit.db") as conn:
        return conn.execute("SELECT last_seq, last_hash FROM organizations").fetchone()


def _post_events(url: str, key: str, count: int) -> None:
    for i in range(count):
        status, _ = call(f"{url}/api/v1/audit-logs", "POST", {"action": "step", "prompt": f"p{i}"}, {"X-API-Key": key})
        assert status == 201


def test_graceful_stop_signs_the_final_head(tmp_path: Path) -> None:
    sidecar = SidecarProcess(tmp_path / "data", env=RARELY)
    sidecar.start()
    try:
        _, key = bootstrap(sidecar.url)
        _post_events(sidecar.url, key, 7)
        time.sleep(0.2)
        status, head = call(f"{sidecar.url}/api/v1/ledger/head", headers={"X-API-Key": key})
        assert status == 200 and head["currentSequence"] == 7 and head["sequence"] < 7  # type: ignore[index]
    finally:
        assert sidecar.stop() == 0
    checkpoints = _checkpoints(tmp_path / "data")
    last_seq, last_hash = _head(tmp_path / "data")
    assert (checkpoints[-1].sequence, checkpoints[-1].hash, checkpoints[-1].kind) == (7, last_hash, "head")
    assert last_seq == 7
    trusted = trusted_public_keys(tmp_path / "data")
    assert all(verify_checkpoint(cp, trusted) for cp in checkpoints)
    result = agentaudit("verify", "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 0 and "7 events" in result.stdout, result.stdout


def test_a_killed_sidecars_unsigned_head_is_signed_at_the_next_start(tmp_path: Path) -> None:
    sidecar = SidecarProcess(tmp_path / "data", env=RARELY)
    sidecar.start()
    try:
        _, key = bootstrap(sidecar.url)
        _post_events(sidecar.url, key, 5)
        time.sleep(0.2)
        sidecar.kill()
        assert max(cp.sequence for cp in _checkpoints(tmp_path / "data")) < 5
        sidecar.start()
        status, head = call(f"{sidecar.url}/api/v1/ledger/head", headers={"X-API-Key": key})
        assert status == 200
        assert (head["sequence"], head["currentSequence"], head["unsignedEvents"]) == (5, 5, 0)  # type: ignore[index]
    finally:
        sidecar.stop()


def test_the_key_survives_restarts_and_is_private(tmp_path: Path) -> None:
    sidecar = SidecarProcess(tmp_path / "data", env=RARELY)
    sidecar.start()
    try:
        _, key = bootstrap(sidecar.url)
        first = call(f"{sidecar.url}/api/v1/ledger/head", headers={"X-API-Key": key})[1]["publicKey"]  # type: ignore[index]
        sidecar.stop()
        sidecar.start()
        again = call(f"{sidecar.url}/api/v1/ledger/head", headers={"X-API-Key": key})[1]["publicKey"]  # type: ignore[index]
    finally:
        sidecar.stop()
    key_file = tmp_path / "data" / "secrets" / "ledger.key"
    assert first == again and key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert trusted_public_keys(tmp_path / "data") == [first]


def test_a_rotated_key_keeps_old_checkpoints_verifiable(tmp_path: Path) -> None:
    sidecar = SidecarProcess(tmp_path / "data", env=RARELY)
    sidecar.start()
    try:
        _, key = bootstrap(sidecar.url)
        _post_events(sidecar.url, key, 3)
        sidecar.stop()
        (tmp_path / "data" / "secrets" / "ledger.key").rename(tmp_path / "old-ledger.key")
        sidecar.start()
        _post_events(sidecar.url, key, 3)
    finally:
        sidecar.stop()
    keys = {cp.public_key for cp in _checkpoints(tmp_path / "data")}
    assert len(keys) == 2 and set(trusted_public_keys(tmp_path / "data")) == keys
    result = agentaudit("verify", "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 0 and "6 events" in result.stdout, result.stdout


def test_100000_events_verify_clean_and_one_changed_event_is_found(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    build_ledger(data_dir, events=100_000)
    started = time.perf_counter()
    result = agentaudit("verify", "--data-dir", str(data_dir))
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "100,000 events and 100 checkpoints verified" in result.stdout and "RESULT: intact" in result.stdout
    assert elapsed < 30
    with sqlite3.connect(data_dir / "agentaudit.db") as conn:
        conn.execute("DROP TRIGGER audit_logs_no_update")
        conn.execute("UPDATE audit_logs SET flags = NULL, violations = NULL, enforcement = 'allow' WHERE seq = 77703")
    result = agentaudit("verify", "--data-dir", str(data_dir))
    assert result.returncode == 1
    assert "first break at sequence 77703 (hash_mismatch)" in result.stdout, result.stdout
    assert "77,702 events" in result.stdout
