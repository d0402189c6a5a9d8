"""``agentaudit serve --stripe-fake``: the billing demo works end to end in a real child process."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import bootstrap, call
from tests.helpers import ROOT, SidecarProcess


@pytest.mark.timeout(60)
def test_the_demo_checkout_and_portal_change_the_plan(tmp_path: Path) -> None:
    sidecar = SidecarProcess(tmp_path / "data", env={"AGENTAUDIT_STRIPE_FAKE": "1"})
    sidecar.start()
    try:
        token, _ = bootstrap(sidecar.url)
        jwt = {"Authorization": f"Bearer {token}"}
        base = f"{sidecar.url}/api/v1"
        status, prices = call(f"{base}/billing/prices")
        assert (status, prices) == (200, {"pro": "price_fake_pro", "business": "price_fake_business"})
        status, session = call(f"{base}/billing/checkout-session", "POST", {"priceId": "price_fake_pro"}, jwt)
        assert status == 200, session
        # the person pays on the (fake) checkout page; the fake posts the signed events to the sidecar
        with urllib.request.urlopen(urllib.request.Request(f"{session['url']}/pay", method="POST"),  # type: ignore[index]
                                    timeout=15) as page:
            text = page.read().decode()
        assert "Payment complete" in text and f"{sidecar.url}/billing?checkout=success&amp;session_id=" in text
        status, sub = call(f"{base}/billing/subscription", headers=jwt)
        assert (status, sub["plan"], sub["status"], sub["usage"]["quota"]) == (200, "pro", "active", 50_000)  # type: ignore[index]
        # and cancels in the (fake) customer portal
        status, portal = call(f"{base}/billing/portal", "POST", None, jwt)
        assert status == 200
        with urllib.request.urlopen(urllib.request.Request(f"{portal['url']}/cancel", method="POST"),  # type: ignore[index]
                                    timeout=15) as page:
            assert "Subscription cancelled" in page.read().decode()
        status, sub = call(f"{base}/billing/subscription", headers=jwt)
        assert (sub["plan"], sub["status"], sub["usage"]["quota"]) == ("free", "canceled", 5000)  # type: ignore[index]
    finally:
        sidecar.stop()


@pytest.mark.timeout(120)
def test_the_seeded_demo_runs_on_the_free_plan(tmp_path: Path) -> None:
    """``agentaudit demo`` against a sidecar with billing on: the free plan's three agents, the rest of the
    demo's agent ids stay unregistered, and nothing fails."""
    sidecar = SidecarProcess(tmp_path / "data", env={"AGENTAUDIT_STRIPE_FAKE": "1"})
    sidecar.start()
    try:
        done = subprocess.run([sys.executable, "-m", "sidecar", "demo", "--url", sidecar.url], cwd=ROOT,
                              capture_output=True, text=True, timeout=100)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "the plan allows no more: the free plan allows 3 agents" in done.stdout
        token = call(f"{sidecar.url}/api/v1/auth/login", "POST",
                     {"email": "demo@agentaudit.local", "password": "demo-password-2026"})[1]["accessToken"]  # type: ignore[index]
        status, agents = call(f"{sidecar.url}/api/v1/agents", headers={"Authorization": f"Bearer {token}"})
        assert status == 200 and len(agents) == 3  # type: ignore[arg-type]
    finally:
        sidecar.stop()
