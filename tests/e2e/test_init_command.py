"""``agentaudit init`` against a running sidecar: the account, a key with the scopes asked for, and a clear
refusal when there is no password and no terminal to ask for one on."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.e2e.conftest import call
from tests.helpers import PASSWORD, ROOT, SidecarProcess


def _init(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sidecar", "init", "--email", "ops@acme.test", "--url", url, *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_init_without_a_password_or_terminal_says_how_to_give_one(sidecar: SidecarProcess) -> None:
    result = _init(sidecar.url)
    assert result.returncode == 2
    assert result.stderr == ("agentaudit: no password given and no terminal to ask on: pass --password or set "
                             "AGENTAUDIT_PASSWORD\n")
    status, _ = call(f"{sidecar.url}/api/v1/auth/login", "POST", {"email": "ops@acme.test", "password": PASSWORD})
    assert status == 401  # nothing was created


def test_init_makes_a_key_with_the_scopes_asked_for(sidecar: SidecarProcess) -> None:
    result = _init(sidecar.url, "--password", PASSWORD, "--scopes", "logs:write, logs:read,admin")
    assert result.returncode == 0, result.stderr
    found = re.search(r"API key \(shown once, keep it safe\): (aa_live_\S+) \(scopes: logs:write, logs:read, admin\)",
                      result.stdout)
    assert found, result.stdout
    key = {"X-API-Key": found.group(1)}
    status, agent = call(f"{sidecar.url}/api/v1/agents", "POST", {"name": "planner"}, key)  # needs admin
    assert status == 201, agent

    plain = _init(sidecar.url, "--password", PASSWORD, "--key-name", "second")  # the account exists: a new key
    assert plain.returncode == 0, plain.stderr
    second = re.search(r"(aa_live_\S+) \(scopes: logs:write, logs:read\)", plain.stdout)
    assert second, plain.stdout
    status, refused = call(f"{sidecar.url}/api/v1/agents", "POST", {"name": "other"}, {"X-API-Key": second.group(1)})
    assert status == 403 and "admin" in refused["error"]  # type: ignore[index]
