"""A second sidecar on a data dir that one already serves refuses to start, says which one holds it, and
changes nothing; the lock goes with its holder, even after ``kill -9``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.helpers import ROOT, SidecarProcess


def _serve(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sidecar", "serve", "--port", "0", "--data-dir", str(data_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _register(url: str) -> int:
    body = json.dumps({"name": "Acme", "email": "o@acme.test", "password": "correct horse battery"}).encode()
    request = urllib.request.Request(f"{url}/api/v1/auth/register", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_a_second_sidecar_on_the_same_database_refuses_to_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = SidecarProcess(data)
    url = first.start()
    try:
        assert _register(url) == 201
        database = data / "agentaudit.db"
        before = database.stat().st_mtime_ns, (data / "agentaudit.db-wal").stat().st_size

        second = _serve(data)
        assert second.returncode == 2
        assert second.stderr.strip().splitlines()[-1] == (
            f"agentaudit: another AgentAudit sidecar (pid {first.proc.pid}, {url}) is already using {database}: "
            "stop it first, or give this one another --data-dir")
        assert "listening on" not in second.stdout
        assert (database.stat().st_mtime_ns, (data / "agentaudit.db-wal").stat().st_size) == before

        migrate = subprocess.run([sys.executable, "-m", "sidecar", "migrate", "--data-dir", str(data)], cwd=ROOT,
                                 capture_output=True, text=True, timeout=60)
        assert migrate.returncode == 2 and "is already using" in migrate.stderr

        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:  # the first one is unharmed
            assert response.status == 200
    finally:
        first.kill()  # no cleanup runs: the kernel drops the lock with the process

    again = SidecarProcess(data)
    url = again.start()
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
            assert response.status == 200
        assert (data / "agentaudit.db.lock").read_text() == f"pid {again.proc.pid}, {url}"
        assert (data / "agentaudit.db.lock").stat().st_mode & 0o777 == 0o600
    finally:
        assert again.stop() == 0
