"""A full disk and a read-only data dir: ingest answers 503 with the JSON error, recovers when the fault
goes, and loses nothing it acknowledged. The data dir lives on a small tmpfs mounted for the test (root only).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import bootstrap, call
from tests.helpers import ROOT, SidecarProcess

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a small tmpfs")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB tmpfs, always unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(mount_point)], check=True)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path) -> Path:
    """Take every free byte of the disk with one file."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def _ingest(url: str, key: str, n: int) -> tuple[int, dict]:
    body = {"action": "fill", "prompt": f"event {n} " + "p" * 8000, "metadata": {"n": n}}
    status, reply = call(f"{url}/api/v1/audit-logs", "POST", body, {"X-API-Key": key})
    return status, reply  # type: ignore[return-value]


def _stored(url: str, key: str) -> dict[str, dict]:
    request = urllib.request.Request(f"{url}/api/v1/audit-logs/export?format=jsonl", headers={"X-API-Key": key})
    with urllib.request.urlopen(request, timeout=60) as response:
        return {e["id"]: e for e in (json.loads(line) for line in response.read().decode().splitlines())}


def _verify(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sidecar", "verify", "--data-dir", str(data_dir)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_disk_full_answers_503_and_recovers(small_disk: Path) -> None:
    data_dir = small_disk / "data"
    sidecar = SidecarProcess(data_dir)
    url = sidecar.start()
    try:
        _, key = bootstrap(url)
        acknowledged: dict[str, dict] = {}
        for n in range(5):
            status, event = _ingest(url, key, n)
            assert status == 201
            acknowledged[event["id"]] = event
        filler = _fill(small_disk)
        refusals = []
        for n in range(5, 3000):  # the WAL's already-allocated pages take a few more; then the disk is full
            status, reply = _ingest(url, key, n)
            if status == 201:
                acknowledged[reply["id"]] = reply
                continue
            refusals.append((status, reply))
            if len(refusals) >= 3:
                break
        assert refusals, "the disk never filled up"
        for status, reply in refusals:
            assert status == 503, reply
            assert reply["code"] == "unavailable" and reply["status"] == 503
            assert "full" in reply["error"] and "Traceback" not in json.dumps(reply)
        health_status, _ = call(f"{url}/health")
        assert health_status in (200, 503)  # health answers either way, quickly, in JSON

        filler.unlink()  # space returns
        deadline = time.monotonic() + 20
        while True:
            status, reply = _ingest(url, key, 9999)
            if status == 201:
                acknowledged[reply["id"]] = reply
                break
            assert time.monotonic() < deadline, reply
            time.sleep(0.2)
        for n in range(10):
            status, reply = _ingest(url, key, 10_000 + n)
            assert status == 201, reply
            acknowledged[reply["id"]] = reply
        stored = _stored(url, key)
        assert [i for i in acknowledged if i not in stored] == []
        assert all(stored[i] == event for i, event in acknowledged.items())
        assert sorted(e["sequence"] for e in stored.values()) == list(range(1, len(stored) + 1))
        sidecar.kill()
        url = sidecar.start()  # and it all survives a crash after the episode
        assert set(_stored(url, key)) == set(stored)
        verified = _verify(data_dir)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        sidecar.stop()
    assert "Traceback" not in "".join(sidecar.output)


def test_read_only_data_dir_is_named_at_start_and_nothing_is_lost(small_disk: Path) -> None:
    """A running process keeps its files open for writing, so Linux will not remount under it (EBUSY): the
    read-only case tested here is the one that happens, a data dir found read-only when the sidecar starts."""
    data_dir = small_disk / "data"
    sidecar = SidecarProcess(data_dir)
    url = sidecar.start()
    _, key = bootstrap(url)
    acknowledged = {}
    for n in range(20):
        status, event = _ingest(url, key, n)
        assert status == 201
        acknowledged[event["id"]] = event
    sidecar.kill()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        with pytest.raises(RuntimeError, match="did not start") as failed:
            sidecar.start(timeout=30)
        assert sidecar.proc is not None and sidecar.proc.wait(timeout=10) == 1
        message = str(failed.value)
        assert f"agentaudit: cannot use the data dir {data_dir}: Read-only file system" in message
        assert "Traceback" not in message and "cannot listen" not in message
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    url = sidecar.start()
    try:
        stored = _stored(url, key)
        assert all(stored[i] == event for i, event in acknowledged.items())
        assert _ingest(url, key, 99)[0] == 201
    finally:
        sidecar.stop()
    verified = _verify(data_dir)
    assert verified.returncode == 0, verified.stdout + verified.stderr
