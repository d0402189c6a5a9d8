"""A seeded organisation for report tests: packs, a policy, agents, flagged and clean events, triaged alerts.

Everything goes through the real HTTP API of a real sidecar app.
"""

from __future__ import annotations

import asyncio
import io
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from tests.helpers import Account, ApiClient

SSN = "123-45-6789"
CARD = "4111 1111 1111 1111"
EMAIL = "jane.doe@example.com"


@dataclass
class Seeded:
    account: Account
    start: str
    end: str
    events: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    policy: dict[str, Any]
    trace_id: str = "claim-7"
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["complianceFlags"]]


async def seed(api: ApiClient, owner: Account) -> Seeded:
    start = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert (await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)).status == 201
    custom = await api.post("compliance-rules", json={"name": "Customer email", "ruleType": "pii_detect",
                                                      "condition": {"patterns": ["email"]}, "severity": "warning",
                                                      "actionOverride": "flag"}, headers=owner.jwt)
    assert custom.status == 201, custom.body  # no redaction: the value is stored, reports mask it
    agent = await api.post("agents", json={"name": "billing-bot", "type": "assistant"}, headers=owner.jwt)
    assert agent.status == 201
    policy = await api.post("policies/clone-pack", json={"packId": "finance", "name": "Card handling", "mode": "block"},
                            headers=owner.jwt)
    assert policy.status == 201, policy.body
    attach = await api.post(f"policies/{policy.body['id']}/agents", json={"agentId": agent.body["id"]},
                            headers=owner.jwt)
    assert attach.status == 200, attach.body
    batch = [
        {"action": "intake", "agentId": "claims-bot", "traceId": "claim-7", "spanId": "root",
         "prompt": "Start claim intake for the new patient."},
        {"action": "llm_call", "agentId": "claims-bot", "traceId": "claim-7", "spanId": "lookup", "parentSpanId": "root",
         "prompt": f"Patient SSN {SSN}, please verify coverage.", "response": "Coverage verified."},
        {"action": "tool_use", "agentId": "claims-bot", "traceId": "claim-7", "spanId": "file", "parentSpanId": "lookup",
         "prompt": f"File claim for SSN {SSN}", "metadata": {"tool": "claims_api"}},
        {"action": "llm_call", "agentId": "claims-bot", "prompt": "Summarise the policy wording.",
         "response": "The policy covers outpatient care."},
        {"action": "send_email", "agentId": "claims-bot", "prompt": f"Send the claim summary to {EMAIL} today.",
         "metadata": {"to": EMAIL, "cc": ["team@example.org"]}},
        {"action": "llm_call", "agentId": "billing-bot", "prompt": f"Charge card {CARD} for the co-pay.",
         "response": "Charged."},
        {"action": "llm_call", "agentId": "billing-bot", "prompt": f"Refund to card {CARD} please."},
        {"action": "llm_call", "agentId": "billing-bot", "prompt": "=HYPERLINK(\"http://evil.test\",\"click\")"},
        {"action": "guardrail_check", "prompt": "Is this request allowed?", "response": "Yes."},
    ]
    stored = await api.post("audit-logs/batch", json=batch, headers=owner.api_key)
    assert stored.status == 201, stored.body
    events = stored.body["data"]
    assert sum(1 for e in events if e["complianceFlags"]) == 5, [e["complianceFlags"] for e in events]
    alerts = (await api.get("alerts", params={"limit": "100"}, headers=owner.jwt)).body
    assert len(alerts) == 5
    ack = await api.patch(f"alerts/{alerts[0]['id']}", json={"status": "acknowledged", "note": "checking"},
                          headers=owner.jwt)
    assert ack.status == 200
    resolved = await api.patch(f"alerts/{alerts[1]['id']}/resolve", json={"note": "test data"}, headers=owner.jwt)
    assert resolved.status == 200
    alerts = (await api.get("alerts", params={"limit": "100"}, headers=owner.jwt)).body
    end = (datetime.now(UTC) + timedelta(minutes=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Seeded(owner, start, end, events, alerts, policy.body)


@pytest.fixture
async def seeded(api: ApiClient, owner: Account) -> Seeded:
    return await seed(api, owner)


async def wait_ready(api: ApiClient, account: Account, report_id: str, *, timeout: float = 30.0) -> dict[str, Any]:
    """Poll until the report leaves pending/running; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        reply = await api.get(f"reports/{report_id}", headers=account.jwt)
        assert reply.status == 200, reply.body
        if reply.body["status"] in ("ready", "failed"):
            return reply.body
        assert time.monotonic() < deadline, f"report {report_id} still {reply.body['status']} after {timeout}s"
        await asyncio.sleep(0.05)


async def build(api: ApiClient, data: Seeded, kind: str, fmt: str, **extra: Any) -> tuple[dict[str, Any], Any]:
    """Request a report over the seeded period, wait for it, download it. Returns (report, download reply)."""
    body = {"type": kind, "format": fmt, "from": data.start, "to": data.end, **extra}
    created = await api.post("reports", json=body, headers=data.account.jwt)
    assert created.status == 202, created.body
    assert created.body["status"] == "pending" and created.body["id"].startswith("report_")
    report = await wait_ready(api, data.account, created.body["id"])
    assert report["status"] == "ready", report
    download = await api.get(f"reports/{report['id']}/download", headers=data.account.jwt)
    assert download.status == 200
    return report, download


def pdf_text(raw: bytes) -> str:
    reader = PdfReader(io.BytesIO(raw))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


from tests.sidecar.notifications.conftest import smtp  # noqa: E402,F401 - a real SMTP server (aiosmtpd) fixture
