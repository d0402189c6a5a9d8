"""``agentaudit report``: a report built headless from the data dir, in a child process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sidecar.settings import Settings
from tests.helpers import ROOT, ApiClient
from tests.sidecar.reports.conftest import Seeded, pdf_text

pytestmark = pytest.mark.both_backends


def _run(*args: str, database_url: str = "") -> subprocess.CompletedProcess[str]:
    extra = ["--database-url", database_url] if database_url else []
    return subprocess.run([sys.executable, "-m", "sidecar", "report", *args, *extra], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


async def test_cli_builds_a_pdf_from_the_database(api: ApiClient, seeded: Seeded, settings: Settings, tmp_path) -> None:
    out = tmp_path / "summary.pdf"
    done = _run("--type", "compliance_summary", "--from", seeded.start, "--to", seeded.end, "--format", "pdf",
                "--out", str(out), "--data-dir", str(settings.data_dir), database_url=settings.database_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out} (") and "sha256" in done.stdout
    flat = " ".join(pdf_text(out.read_bytes()).split())
    assert "Compliance summary" in flat and "9 events from 2 agents were audited" in flat and "SSN Detection" in flat

    csv_out = tmp_path / "trace.csv"
    done = _run("--type", "trace", "--trace-id", "claim-7", "--format", "csv", "--out", str(csv_out),
                "--data-dir", str(settings.data_dir), "--org", seeded.account.org_id, database_url=settings.database_url)
    assert done.returncode == 0, done.stderr
    assert csv_out.read_text().count("\n") == 4  # header and three spans


async def test_cli_refuses_bad_arguments(api: ApiClient, seeded: Seeded, other, settings: Settings, tmp_path) -> None:
    data = str(settings.data_dir)
    out = str(tmp_path / "x.pdf")
    several = _run("--type", "compliance_summary", "--out", out, "--data-dir", data, database_url=settings.database_url)
    assert several.returncode == 2 and "holds 2 organisations; choose one with --org" in several.stderr
    assert seeded.account.org_id in several.stderr
    assert _run("--type", "weekly", "--out", out, "--data-dir", data).returncode == 2
    assert "needs --trace-id" in _run("--type", "trace", "--out", out, "--data-dir", data).stderr
    missing = _run("--type", "agent_activity", "--out", out, "--data-dir", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no AgentAudit database" in missing.stderr
    org = ("--org", seeded.account.org_id)
    nope = _run("--type", "trace", "--trace-id", "nope", "--out", out, "--data-dir", data, *org,
                database_url=settings.database_url)
    assert nope.returncode == 2 and nope.stdout == "", nope.stdout
    assert f"no trace nope in organisation {seeded.account.org_id}" in nope.stderr
    policy = _run("--type", "compliance_summary", "--policy-id", "policy_nope", "--out", out, "--data-dir", data,
                  *org, database_url=settings.database_url)
    assert policy.returncode == 2 and "no policy policy_nope in organisation" in policy.stderr
    assert not (tmp_path / "x.pdf").exists()
