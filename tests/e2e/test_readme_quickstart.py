"""The README's quickstart curl, exactly as written there, stores an event that comes back by traceId."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess

import pytest

from tests.e2e.conftest import bootstrap, call
from tests.helpers import ROOT, SidecarProcess


def _quickstart_curl() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Quickstart"):]
    block = re.search(r"```bash\n(curl -X POST .*?)```", section, re.S)
    assert block, "the README has no quickstart curl"
    return block.group(1)


def test_readme_curl_returns_201_and_the_event_comes_back(sidecar: SidecarProcess) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed (sudo apt-get install curl)")
    _, key = bootstrap(sidecar.url)
    command = _quickstart_curl().replace("http://127.0.0.1:8731", sidecar.url).replace("aa_live_your_key_here", key)
    args = shlex.split(command.replace("\\\n", " "))
    result = subprocess.run(args + ["-s", "-w", "\n%{http_code}"], capture_output=True, text=True, timeout=30)
    body, status = result.stdout.rsplit("\n", 1)
    assert status == "201", result.stdout
    stored = json.loads(body)
    assert stored["action"] == "llm_call" and stored["metadata"] == {"model": "gpt-4o", "tokens": 340}
    status, page = call(f"{sidecar.url}/api/v1/audit-logs?traceId={stored['traceId']}", headers={"X-API-Key": key})
    assert status == 200 and [e["id"] for e in page["data"]] == [stored["id"]]  # type: ignore[index]
