"""A full disk and a read-only data dir: ingest answers 503 with the JSON error, recovers when the fault
goes, and loses nothing it acknowledged. The data dir lives on a small file system mounted for the test (root
only): a tmpfs, or an ext4 image on a loop device for a disk that turns read-only under the running sidecar.
"""

from __future__ import annotations

import json
import os
import shutil
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
    """A data dir found read-only when the sidecar starts: it exits naming the cause, and nothing is lost."""
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


@pytest.fixture
def ext4_disk(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A 64 MB ext4 image on a loop device, mounted ``errors=remount-ro``: (mount point, loop device name)."""
    missing = [tool for tool in ("mkfs.ext4", "losetup", "e2fsck") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"install e2fsprogs and util-linux for {', '.join(missing)}")
    image = tmp_path / "disk.img"
    with image.open("wb") as handle:
        handle.truncate(64 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True)
    attached = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True, text=True)
    if attached.returncode != 0:
        pytest.skip(f"no loop device to attach: {attached.stderr.strip()}")
    device = attached.stdout.strip()
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    try:
        subprocess.run(["mount", "-o", "errors=remount-ro", device, str(mount_point)], check=True)
        yield mount_point, device
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False, capture_output=True)
        subprocess.run(["losetup", "-d", device], check=False, capture_output=True)


def test_disk_turning_read_only_under_the_sidecar(ext4_disk: tuple[Path, str]) -> None:
    """The kernel turns a file system read-only when its disk fails (``errors=remount-ro``): ingest answers 503
    naming the cause, reads go on, and after the disk is repaired and the sidecar restarted everything
    acknowledged is there and verifies."""
    disk, device = ext4_disk
    trigger = Path("/sys/fs/ext4") / Path(device).name / "trigger_fs_error"
    if not trigger.exists():
        pytest.skip(f"this kernel has no {trigger} to fail an ext4 file system on demand")
    data_dir = disk / "data"
    sidecar = SidecarProcess(data_dir)
    url = sidecar.start()
    try:
        _, key = bootstrap(url)
        acknowledged: dict[str, dict] = {}
        for n in range(20):
            status, event = _ingest(url, key, n)
            assert status == 201, event
            acknowledged[event["id"]] = event
        trigger.write_text("1")  # what an I/O error does: the journal aborts, the file system turns read-only
        for n in range(20, 25):
            status, reply = _ingest(url, key, n)
            assert status == 503, reply
            assert reply["code"] == "unavailable" and reply["status"] == 503
            assert "read-only" in reply["error"] and "Traceback" not in json.dumps(reply)
        started = time.monotonic()
        health_status, health = call(f"{url}/health")
        assert health_status in (200, 503) and time.monotonic() - started < 1, health
        stored = _stored(url, key)  # reads go on from the read-only disk
        assert all(stored[i] == event for i, event in acknowledged.items())
        assert len(stored) == len(acknowledged)
    finally:
        sidecar.stop()
    output = "".join(sidecar.output)
    assert "Traceback" not in output, output

    subprocess.run(["umount", str(disk)], check=True)  # the repair an administrator makes
    subprocess.run(["e2fsck", "-f", "-y", device], check=False, capture_output=True)
    subprocess.run(["mount", "-o", "errors=remount-ro", device, str(disk)], check=True)
    url = sidecar.start()
    try:
        stored = _stored(url, key)
        assert all(stored[i] == event for i, event in acknowledged.items())
        status, event = _ingest(url, key, 99)
        assert status == 201, event
    finally:
        sidecar.stop()
    verified = _verify(data_dir)
    assert verified.returncode == 0, verified.stdout + verified.stderr
