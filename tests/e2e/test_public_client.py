"""The public ``agentaudit-client`` package (PyPI, import ``agentaudit``) works against our sidecar unchanged.

Our own SDK (``sdk/python``) has the same import name and is the ``agentaudit`` installed in the virtualenv; the
public package is installed apart, in ``<venv>/public-client`` (``make venv`` puts it there with
``pip install --target``). So the outer test run collects only the first test below, which runs this same file
in a child pytest whose PYTHONPATH starts with that directory; in the child, the real tests run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

PUBLIC_CLIENT = Path(sys.prefix) / "public-client"
IN_CHILD = os.environ.get("AGENTAUDIT_PUBLIC_CLIENT_RUN") == "1"

if not IN_CHILD:
    @pytest.mark.timeout(300)
    def test_public_client_suite_passes_in_its_own_environment() -> None:
        assert (PUBLIC_CLIENT / "agentaudit" / "__init__.py").is_file(), \
            f"agentaudit-client is not installed in {PUBLIC_CLIENT}: run make venv"
        env = {**os.environ, "AGENTAUDIT_PUBLIC_CLIENT_RUN": "1",
               "PYTHONPATH": os.pathsep.join([str(PUBLIC_CLIENT), str(ROOT)])}
        child = subprocess.run([sys.executable, "-m", "pytest", "-q", __file__], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=280)
        assert child.returncode == 0, child.stdout[-4000:] + child.stderr[-2000:]
        assert "4 passed" in child.stdout, child.stdout[-2000:]

else:
    import agentaudit

    from tests.e2e.conftest import bootstrap, call
    from tests.helpers import SidecarProcess

    assert Path(agentaudit.__file__).is_relative_to(PUBLIC_CLIENT), agentaudit.__file__

    def test_log_log_batch_and_health_check(sidecar: SidecarProcess) -> None:
        _, key = bootstrap(sidecar.url)
        client = agentaudit.AgentAudit(api_key=key, base_url=f"{sidecar.url}/api/v1", agent_id="writer-agent-1",
                                       max_retries=0)
        assert client.health_check() == {"status": "ok", "version": "0.1.0", "database": "up"}
        logged = client.log(action="llm_call", prompt="Summarise the latest sales report",
                            response="Q1 revenue was $2.4M...", metadata={"model": "gpt-4o", "tokens": 340},
                            trace_id="run-1749300000000")
        assert isinstance(logged, agentaudit.AuditLog)
        assert logged.id.startswith("log_") and logged.agent_id == "writer-agent-1"
        assert (logged.action, logged.compliance_flags, logged.metadata) == ("llm_call", [], {"model": "gpt-4o", "tokens": 340})
        batch = client.log_batch([
            {"action": "llm_start", "traceId": "run-1749300000000", "prompt": "Analyse Q1 data"},
            {"action": "tool_use", "traceId": "run-1749300000000", "parentSpanId": logged.id,
             "metadata": {"tool": "code_interpreter"}},
            {"action": "llm_end", "traceId": "run-1749300000000", "response": "Q1 revenue grew 18% YoY"},
        ])
        assert [entry.action for entry in batch] == ["llm_start", "tool_use", "llm_end"]
        assert all(entry.agent_id == "writer-agent-1" for entry in batch)
        result = client.guardrail(action="prompt_submitted", prompt="hello there")
        assert (result.allowed, result.action, result.violations) == (True, "allow", [])
        page = client.query_logs(agent_id="writer-agent-1", limit=10)
        assert page["pagination"]["total"] == 5
        status, body = call(f"{sidecar.url}/api/v1/audit-logs?traceId=run-1749300000000", headers={"X-API-Key": key})
        assert status == 200
        assert [e["action"] for e in body["data"]] == ["llm_end", "tool_use", "llm_start", "llm_call"]  # type: ignore[index]


    def test_bad_key_raises_the_clients_authentication_error(sidecar: SidecarProcess) -> None:
        client = agentaudit.AgentAudit(api_key="aa_live_wrong", base_url=f"{sidecar.url}/api/v1", max_retries=0)
        try:
            client.log(action="llm_call")
        except agentaudit.AuthenticationError:
            pass
        else:
            raise AssertionError("a wrong key was accepted")


    def test_guardrail_blocks_under_a_block_policy_and_alerts_can_be_resolved(sidecar: SidecarProcess) -> None:
        token, key = bootstrap(sidecar.url)
        jwt = {"Authorization": f"Bearer {token}"}
        base = f"{sidecar.url}/api/v1"
        status, agent = call(f"{base}/agents", "POST", {"name": "intake-agent", "type": "assistant"}, jwt)
        assert status == 201
        status, policy = call(f"{base}/policies/clone-pack", "POST", {"packId": "hipaa", "name": "HIPAA", "mode": "block"}, jwt)
        assert status == 201
        status, _ = call(f"{base}/policies/{policy['id']}/agents", "POST", {"agentId": agent["id"]}, jwt)  # type: ignore[index]
        assert status == 200
        admin_key = call(f"{base}/auth/api-keys", "POST", {"name": "triage", "scopes": ["admin"]}, jwt)[1]["key"]  # type: ignore[index]

        client = agentaudit.AgentAudit(api_key=key, base_url=base, agent_id=agent["id"], max_retries=0)  # type: ignore[index]
        blocked = client.guardrail(action="prompt_submitted", prompt="Patient SSN is 123-45-6789, update the chart.")
        assert (blocked.allowed, blocked.action, blocked.severity) == (False, "block", "critical")
        assert any(flag.startswith("CRITICAL_pii_detect_") for flag in blocked.violations)
        assert blocked.audit_log_id and blocked.audit_log_id.startswith("log_")
        clean = client.guardrail(action="prompt_submitted", prompt="Please summarise today's meeting notes.")
        assert (clean.allowed, clean.action, clean.violations) == (True, "allow", [])

        triage = agentaudit.AgentAudit(api_key=admin_key, base_url=base, max_retries=0)
        open_alerts = triage.get_alerts(is_resolved=False)
        assert [a["auditLogId"] for a in open_alerts] == [blocked.audit_log_id] * len(open_alerts) and open_alerts
        critical = triage.get_alerts(severity="critical")
        assert critical and all(a["severity"] == "critical" for a in critical)
        resolved = triage.resolve_alert(open_alerts[0]["id"])
        assert (resolved["id"], resolved["status"], resolved["isResolved"]) == (open_alerts[0]["id"], "resolved", True)
        remaining = triage.get_alerts(is_resolved=False)
        assert open_alerts[0]["id"] not in [a["id"] for a in remaining]


    def test_graceful_stop_is_prompt_with_an_open_stream(sidecar: SidecarProcess) -> None:
        import http.client
        import time
        from urllib.parse import urlsplit

        token, _ = bootstrap(sidecar.url)
        parts = urlsplit(sidecar.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("GET", "/api/v1/stream", headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        assert response.status == 200 and response.readline().startswith(b"retry:")
        started = time.monotonic()
        assert sidecar.stop() == 0
        assert time.monotonic() - started < 10
        conn.close()
