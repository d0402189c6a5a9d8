"""A sidecar stopped the moment it says it listens still stops gracefully (its signal handlers come first)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT


def test_sigterm_right_after_listening_is_a_graceful_stop(tmp_path: Path) -> None:
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "sidecar", "serve", "--port", "0", "--first-run-hint",
                                 "--data-dir", str(tmp_path / f"data-{attempt}")],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert proc.stdout is not None
        with proc.stdout:
            for line in proc.stdout:
                if " listening on " in line:
                    proc.send_signal(signal.SIGTERM)  # while it still prints the first-run hint
                    break
            rest = proc.stdout.read()
        assert proc.wait(timeout=30) == 0, rest
        assert "AgentAudit sidecar stopping: finishing queued writes" in rest
