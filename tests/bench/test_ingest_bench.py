"""The ingest benchmark's patched sidecar (``NO_STORAGE_APP``): it must still start, take the account set-up
(other units of work run), answer an ingest 201 with an event's shape, and store nothing. It reaches into the
writer's private names, so a change there shows up here rather than on the next benchmark run."""

from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
import sys
import urllib.request
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_ingest", ROOT / "bench" / "ingest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_no_storage_sidecar_answers_201_and_stores_nothing(tmp_path: Path) -> None:
    bench = _bench()
    data_dir = tmp_path / "no-storage"
    proc, line = bench.start([sys.executable, "-c", bench.NO_STORAGE_APP, "serve", "--port", "0", "--data-dir",
                              str(data_dir), bench.EVENT["response"], bench.EVENT["prompt"]], "listening on",
                             env=bench.UNLIMITED)
    try:
        url = re.search(r"(http://[\d.]+:\d+)", line).group(1)  # type: ignore[union-attr]
        key, _ = bench.account(url)
        request = urllib.request.Request(f"{url}/api/v1/audit-logs", data=json.dumps(bench.EVENT).encode(),
                                         method="POST", headers={"Content-Type": "application/json", "X-API-Key": key})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
            answer = json.loads(response.read())
        assert answer["action"] == "llm_call" and answer["prompt"] == bench.EVENT["prompt"]
    finally:
        bench.stop(proc)
    with sqlite3.connect(data_dir / "agentaudit.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 1  # the set-up was stored
        assert conn.execute("SELECT COUNT(*) FROM audit_logs").fetchone()[0] == 0
