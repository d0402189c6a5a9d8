"""Rate limits per API key: token buckets, 429 with Retry-After, and the public client backing off."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from sidecar.api.app import create_app
from sidecar.errors import RateLimited
from sidecar.services.rate_limits import RateLimiter
from sidecar.settings import Settings
from tests.e2e.conftest import bootstrap, call
from tests.helpers import ROOT, ApiClient, SidecarProcess

PUBLIC_CLIENT = Path(sys.prefix) / "public-client"


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    now = [100.0]
    limiter = RateLimiter({"ingest": (2, 4), "read": (0, 0)}, clock=lambda: now[0])
    for _ in range(4):
        limiter.check("ingest", "key_a")
    with pytest.raises(RateLimited) as refused:
        limiter.check("ingest", "key_a")
    assert refused.value.retry_after == 1
    limiter.check("ingest", "key_b")  # another key has its own bucket
    now[0] += 0.5  # one token back at 2/s
    limiter.check("ingest", "key_a")
    with pytest.raises(RateLimited):
        limiter.check("ingest", "key_a")
    for _ in range(1000):
        limiter.check("read", "key_a")  # a rate of 0 is no limit
    assert not limiter.enabled("read")


def test_retry_after_is_whole_seconds_until_a_token() -> None:
    now = [0.0]
    limiter = RateLimiter({"auth": (0.25, 1)}, clock=lambda: now[0])  # type: ignore[dict-item]
    limiter.check("auth", "1.2.3.4")
    with pytest.raises(RateLimited) as refused:
        limiter.check("auth", "1.2.3.4")
    assert refused.value.retry_after == 4


def test_settings_read_rates_from_the_environment() -> None:
    settings = Settings.from_env({"AGENTAUDIT_RATE_INGEST_PER_SECOND": "7", "AGENTAUDIT_RATE_READ_PER_SECOND": "0",
                                  "AGENTAUDIT_RATE_AUTH_PER_SECOND": "3", "AGENTAUDIT_RATE_AUTH_BURST": "9"})
    assert (settings.rate_ingest, settings.rate_read, settings.rate_auth) == ((7, 14), (0, 0), (3, 9))
    assert Settings.from_env({}).rate_ingest == (5000, 10000)


@pytest.fixture
async def limited(aiohttp_client: Any, settings: Settings) -> ApiClient:
    limited_settings = dataclasses.replace(settings, rate_ingest=(1, 3), rate_read=(1, 2), rate_auth=(1, 30))
    return ApiClient(await aiohttp_client(create_app(limited_settings)))


@pytest.mark.both_backends
async def test_a_burst_over_the_rate_is_429_with_retry_after(limited: ApiClient) -> None:
    owner = await limited.new_account("owner@acme.test", name="Acme")
    second_key = await limited.key_with(owner, ["logs:write", "logs:read"])
    statuses = [(await limited.post("audit-logs", json={"action": "a"}, headers=owner.api_key)) for _ in range(4)]
    assert [r.status for r in statuses] == [201, 201, 201, 429]
    refused = statuses[-1]
    assert refused.headers["Retry-After"] == "1"
    assert (refused.body["code"], refused.body["status"], refused.body["retryAfter"]) == ("rate_limited", 429, 1)
    # another key is not affected, and reads have their own bucket
    assert (await limited.post("audit-logs", json={"action": "b"}, headers={"X-API-Key": second_key})).status == 201
    assert (await limited.get("audit-logs", headers=owner.api_key)).status == 200
    listed = await limited.get("audit-logs", headers={"X-API-Key": second_key})
    assert listed.body["pagination"]["total"] == 4  # the refused request stored nothing
    # health and the public routes outside /auth are not limited
    for _ in range(5):
        assert (await limited.get("/health")).status == 200


@pytest.mark.both_backends
async def test_the_public_auth_routes_are_limited_per_client_address(aiohttp_client: Any, settings: Settings) -> None:
    api = ApiClient(await aiohttp_client(create_app(dataclasses.replace(settings, rate_auth=(1, 2)))))
    replies = [await api.post("auth/login", json={"email": "x@y.test", "password": "wrong-password"}) for _ in range(3)]
    assert [r.status for r in replies] == [401, 401, 429]
    assert replies[-1].headers["Retry-After"] == "1"


_CLIENT_SCRIPT = textwrap.dedent('''
    import json, sys, time
    import agentaudit
    client = agentaudit.AgentAudit(api_key=sys.argv[2], base_url=sys.argv[1], agent_id="burst-agent",
                                   max_retries=8, retry_backoff=0.1, timeout=10)
    started = time.monotonic()
    ids = [client.log(action=f"step-{i}").id for i in range(8)]
    print(json.dumps({"module": agentaudit.__file__, "ids": ids, "seconds": time.monotonic() - started}))
''')


@pytest.mark.timeout(90)
def test_the_public_client_backs_off_on_429_and_succeeds(tmp_path: Path) -> None:
    if not (PUBLIC_CLIENT / "agentaudit" / "__init__.py").is_file():
        pytest.fail(f"agentaudit-client is not installed in {PUBLIC_CLIENT}: run make venv")
    sidecar = SidecarProcess(tmp_path / "data", env={"AGENTAUDIT_RATE_INGEST_PER_SECOND": "2",
                                                     "AGENTAUDIT_RATE_INGEST_BURST": "2"})
    sidecar.start()
    try:
        _, key = bootstrap(sidecar.url)
        base = f"{sidecar.url}/api/v1"
        # a raw burst shows the limit
        statuses = [call(f"{base}/audit-logs", "POST", {"action": "raw"}, {"X-API-Key": key})[0] for _ in range(4)]
        assert 429 in statuses
        time.sleep(1.1)  # let the bucket refill
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PUBLIC_CLIENT), str(ROOT)])}
        child = subprocess.run([sys.executable, "-c", _CLIENT_SCRIPT, base, key], env=env, capture_output=True,
                               text=True, timeout=60)
        assert child.returncode == 0, child.stderr[-3000:]
        result = json.loads(child.stdout.strip().splitlines()[-1])
        assert result["module"].startswith(str(PUBLIC_CLIENT))  # the public package, not our SDK
        assert len(set(result["ids"])) == 8
        assert result["seconds"] >= 2.0  # 8 events at 2/s (burst 2): it had to wait for Retry-After
        status, page = call(f"{base}/audit-logs?agentId=burst-agent&limit=50", headers={"X-API-Key": key})
        assert status == 200 and page["pagination"]["total"] == 8  # type: ignore[index]
    finally:
        sidecar.stop()
