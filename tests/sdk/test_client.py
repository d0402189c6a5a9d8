"""Waited calls of the sync client against a real sidecar: log, log_batch, guardrail, evaluate, errors, config."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pytest

import agentaudit
from agentaudit import AgentAuditClient, GuardrailResult
from tests.e2e.conftest import call
from tests.sdk.conftest import Org, free_port
from tests.sdk.proxy import TcpProxy


def test_log_returns_the_stored_event(client: AgentAuditClient) -> None:
    started = dt.datetime(2026, 1, 15, 10, 0, 0, 250000, tzinfo=dt.timezone.utc)
    stored = client.log("llm_call", prompt="Summarise the latest sales report", response="Q1 revenue was $2.4M...",
                        metadata={"model": "gpt-4o", "tokens": 340}, agent_id="writer-agent-1", trace_id="run-1",
                        span_id="s-1", started_at=started, ended_at=started.timestamp() + 1.5)
    assert isinstance(stored, agentaudit.AuditLog)
    assert stored.id.startswith("log_") and stored.sequence == 1 and len(stored.hash or "") == 64
    assert (stored.action, stored.agent_id, stored.trace_id, stored.span_id, stored.metadata) == (
        "llm_call", "writer-agent-1", "run-1", "s-1", {"model": "gpt-4o", "tokens": 340})
    assert (stored.started_at, stored.ended_at) == ("2026-01-15T10:00:00.250Z", "2026-01-15T10:00:01.750Z")
    assert (stored.compliance_flags, stored.enforcement_action, stored.violation_details) == ([], "allow", None)
    assert client.logs.get(stored.id) == stored


def test_log_batch_keeps_order_renames_snake_case_and_splits_past_50(org: Org) -> None:
    with org.client(agent_id="batcher") as client:
        result = client.log_batch([{"action": f"step_{i}", "trace_id": "big", "parentSpanId": "root"}
                                   for i in range(120)])
        assert result is not None and result.processed == 120 and len(result) == 120
        assert [e.action for e in result] == [f"step_{i}" for i in range(120)]
        assert {(e.agent_id, e.trace_id, e.parent_span_id) for e in result} == {("batcher", "big", "root")}
        assert [e.sequence for e in result] == list(range(1, 121))
        assert client.logs.list(trace_id="big").total == 120


def test_guardrail_allows_clean_text_and_blocks_under_a_block_policy(client: AgentAuditClient) -> None:
    agent = client.agents.create("intake-agent", type="assistant")
    policy = client.policies.clone_pack("hipaa", "HIPAA", mode="block")
    client.policies.attach_agent(policy.id, agent.id)
    clean = client.guardrail("prompt_submitted", prompt="Please summarise today's meeting notes.", agent_id=agent.id)
    assert (clean.allowed, clean.action, clean.violations, clean.severity) == (True, "allow", [], None)
    blocked = client.guardrail("prompt_submitted", prompt="Patient SSN is 123-45-6789, update the chart.",
                               agent_id=agent.id)
    assert (blocked.allowed, blocked.action, blocked.severity) == (False, "block", "critical")
    assert blocked.violations and all(f.startswith("CRITICAL_pii_detect_") for f in blocked.violations)
    assert blocked.violation_details[0]["matches"][0]["detector"] == "ssn"
    stored = client.logs.get(blocked.audit_log_id or "")
    assert (stored.action, stored.enforcement_action, stored.raw.get("checkType")) == ("prompt_submitted", "block", None)
    dry = client.guardrail("prompt_submitted", prompt="SSN 123-45-6789", agent_id=agent.id, dry_run=True)
    assert (dry.allowed, dry.action, dry.audit_log_id) == (False, "block", None)
    assert client.logs.list(agent_id=agent.id).total == 2  # the dry run stored nothing


def test_evaluate_a_rule_before_saving_it(client: AgentAuditClient) -> None:
    rule = {"name": "no secrets", "ruleType": "keyword_match", "condition": {"keywords": ["hunter2"]},
            "severity": "warning", "actionOverride": "flag"}
    verdict = client.evaluate(prompt="the password is hunter2", rule=rule)
    assert (verdict.allowed, verdict.action) == (True, "flag")
    assert verdict.violations == ["WARNING_keyword_match_no secrets"]
    assert client.evaluate(prompt="nothing here", rule=rule).violations == []


def test_guardrail_fails_open_or_closed_when_the_sidecar_is_unreachable() -> None:
    from tests.sdk.conftest import free_port

    client = AgentAuditClient(api_key="aa_live_x", base_url=f"http://127.0.0.1:{free_port()}/api/v1", max_retries=0,
                              timeout=2)
    with pytest.raises(agentaudit.APIConnectionError):
        client.guardrail("prompt_submitted", prompt="hi")
    assert client.guardrail("p", prompt="hi", on_error="allow").allowed is True
    closed = client.guardrail("p", prompt="hi", on_error="block")
    assert (closed.allowed, closed.action) == (False, "block") and "error" in closed.raw


def test_guardrail_raises_a_refusal_whatever_on_error_says(org: Org) -> None:
    with org.client(api_key="aa_live_wrong", max_retries=0) as bad:
        with pytest.raises(agentaudit.AuthenticationError):  # a bad key must not pass as "allowed" for good
            bad.guardrail("prompt_submitted", prompt="hi", on_error="allow")
    with org.client(api_key=org.key) as client:
        with pytest.raises(agentaudit.ValidationError):
            client.guardrail("", prompt="hi", on_error="block")


def test_errors_carry_status_code_details_and_request_id(org: Org) -> None:
    with org.client(api_key="aa_live_wrong") as bad:
        with pytest.raises(agentaudit.AuthenticationError) as auth:
            bad.log("llm_call")
    assert (auth.value.status, auth.value.code) == (401, "unauthorized")
    with org.client(api_key=org.key) as client:
        with pytest.raises(agentaudit.ValidationError) as invalid:
            client.log("")
        assert invalid.value.status == 400 and invalid.value.code == "validation_error"
        assert [d["field"] for d in invalid.value.details] == ["action"]
        assert invalid.value.request_id
        with pytest.raises(agentaudit.NotFoundError):
            client.logs.get("log_does_not_exist")
        with pytest.raises(agentaudit.PermissionDeniedError) as denied:
            client.agents.create("needs-admin")
        assert "admin" in denied.value.message
        with pytest.raises(agentaudit.ValidationError) as batch:
            client.log_batch([{"action": "ok"}, {"action": ""}])
        assert batch.value.details[0]["field"].startswith("[1].")


def test_configuration_from_arguments_environment_and_defaults(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTAUDIT_API_KEY", org.key)
    monkeypatch.setenv("AGENTAUDIT_BASE_URL", org.base + "/")
    monkeypatch.setenv("AGENTAUDIT_AGENT_ID", "env-agent")
    with AgentAuditClient() as from_env:
        assert (from_env.api_key, from_env.base_url, from_env.agent_id) == (org.key, org.base, "env-agent")
        assert from_env.health() == {"status": "ok", "version": "0.1.0", "database": "up"}
        assert from_env.log("from_env").agent_id == "env-agent"  # type: ignore[union-attr]
    monkeypatch.delenv("AGENTAUDIT_BASE_URL")
    assert AgentAuditClient(api_key="k").base_url == "http://127.0.0.1:8731/api/v1"
    assert AgentAuditClient(api_key="k", base_url="http://10.0.0.1:9/x").base_url == "http://10.0.0.1:9/x"
    monkeypatch.setenv("AGENTAUDIT_TIMEOUT", "soon")
    with pytest.raises(agentaudit.ConfigError, match="AGENTAUDIT_TIMEOUT"):
        AgentAuditClient(api_key="k")
    with pytest.raises(agentaudit.ConfigError, match="base_url"):
        AgentAuditClient(api_key="k", base_url="127.0.0.1:8731", timeout=1)


def test_results_tolerate_new_and_missing_fields() -> None:
    log = agentaudit.AuditLog.from_json({"id": "log_1", "action": "x", "brandNewField": {"a": 1}})
    assert (log.id, log.action, log.prompt, log.compliance_flags) == ("log_1", "x", None, [])
    assert log["brandNewField"] == {"a": 1} and log.get("missing", 7) == 7
    policy = agentaudit.Policy.from_json({"id": "pol_1", "rules": [{"id": "r1", "ruleType": "regex_match", "x": 1}]})
    assert policy.rules[0].rule_type == "regex_match" and policy.rules[0]["x"] == 1
    verdict = GuardrailResult.from_verdict({"enforcementAction": "flag", "complianceFlags": ["WARNING_k_n"],
                                           "violationDetails": [{"severity": "info"}, {"severity": "warning"}]})
    assert (verdict.allowed, verdict.action, verdict.severity) == (True, "flag", "warning")


def test_retries_honour_retry_after_for_waited_calls(scripted) -> None:  # type: ignore[no-untyped-def]
    scripted.script = [(429, {"Retry-After": "1"}, {"error": "slow down", "status": 429}),
                       (503, {"Retry-After": "0"}, {"error": "busy", "status": 503})]
    client = AgentAuditClient(api_key="k", base_url=scripted.url, max_retries=2)
    stored = client.log("retry_me")
    assert stored is not None and stored.action == "retry_me"
    assert len(scripted.seen) == 3 and scripted.seen[1].at - scripted.seen[0].at >= 0.95
    scripted.script = [(429, {"Retry-After": "0"}, {"error": "slow down", "status": 429, "code": "rate_limited"})] * 2
    with pytest.raises(agentaudit.RateLimitError) as limited:
        AgentAuditClient(api_key="k", base_url=scripted.url, max_retries=1).log("give_up")
    assert (limited.value.status, limited.value.retry_after, limited.value.code) == (429, 0.0, "rate_limited")


def test_raw_http_agrees_with_the_client(org: Org, client: AgentAuditClient) -> None:
    stored = client.log("llm_call", prompt="hello")
    assert stored is not None
    status, body = call(f"{org.base}/audit-logs/{stored.id}", headers={"X-API-Key": org.key})
    assert status == 200 and body == stored.raw


def test_a_refused_entry_of_a_long_batch_is_named_by_its_index_and_the_error_holds_what_was_stored(org: Org) -> None:
    entries: list[dict[str, object]] = [{"action": f"step_{i}", "trace_id": "chunked"} for i in range(120)]
    entries[110] = {"action": "", "trace_id": "chunked"}
    with org.client(api_key=org.key) as client:
        with pytest.raises(agentaudit.ValidationError) as refused:
            client.log_batch(entries)
        error = refused.value
        assert error.message.startswith("entry 110 is invalid: [110].action")
        assert [d["field"] for d in error.details] == ["[110].action"]
        assert [e.action for e in error.stored] == [f"step_{i}" for i in range(100)]
        assert "entries 0 to 99 were stored" in str(error)
        assert client.logs.list(trace_id="chunked").total == 100
        with pytest.raises(agentaudit.ValidationError) as first:
            client.log_batch([{"action": ""}])
        assert (first.value.details[0]["field"], list(first.value.stored)) == ("[0].action", [])


async def test_the_async_client_names_a_refused_entry_of_a_long_batch_by_its_index(org: Org) -> None:
    entries: list[dict[str, object]] = [{"action": "ok"} for _ in range(60)]
    entries[55] = {"action": ""}
    async with agentaudit.AsyncAgentAuditClient(api_key=org.key, base_url=org.base, max_retries=0) as client:
        with pytest.raises(agentaudit.ValidationError) as refused:
            await client.log_batch(entries)
    assert [d["field"] for d in refused.value.details] == ["[55].action"]
    assert len(refused.value.stored) == 50


def _upstream(org: Org) -> str:
    return org.url.removeprefix("http://")


def _stored(org: Org, action: str) -> int:
    with org.client() as reader:
        return reader.logs.list(action=action).total


def test_a_timed_out_post_is_not_sent_again_so_nothing_is_stored_twice(org: Org) -> None:
    with TcpProxy(_upstream(org), delay=1.0) as slow:
        with AgentAuditClient(api_key=org.key, base_url=slow.url, timeout=0.5, max_retries=2) as client:
            with pytest.raises(agentaudit.APITimeoutError) as timed_out:
                client.log("dup-check", prompt="once")
            with pytest.raises(agentaudit.APITimeoutError):
                client.log_batch([{"action": "dup-batch"}, {"action": "dup-batch"}])
            with pytest.raises(agentaudit.APITimeoutError):
                client.guardrail("dup-guard", prompt="hi")
            assert slow.connections == 3  # one attempt each
            with pytest.raises(agentaudit.APITimeoutError):
                client.logs.list(action="dup-check")  # a read is retried: it changes nothing
            assert slow.connections == 6
    assert [_stored(org, a) for a in ("dup-check", "dup-batch", "dup-guard")] == [1, 2, 1]
    assert "not retried: POST /audit-logs may have reached the sidecar" in str(timed_out.value)


def test_a_post_whose_answer_is_lost_is_not_sent_again(org: Org) -> None:
    with TcpProxy(_upstream(org), drop_answers=True) as dropping:
        with AgentAuditClient(api_key=org.key, base_url=dropping.url, max_retries=2) as client:
            with pytest.raises(agentaudit.APIConnectionError) as lost:
                client.log("lost-answer")
        assert dropping.connections == 1
    assert _stored(org, "lost-answer") == 1
    assert "not retried" in str(lost.value)


def test_a_post_is_sent_again_when_it_certainly_did_not_arrive(org: Org) -> None:
    # a kept-alive connection the server closed while idle is noticed before anything is written to it
    with TcpProxy(_upstream(org), close_idle_after=0.05) as closing:
        with AgentAuditClient(api_key=org.key, base_url=closing.url, max_retries=0) as client:
            client.log("after-idle")
            time.sleep(0.3)
            client.log("after-idle")
            time.sleep(0.3)
            client.log_batch([{"action": "after-idle"}])
        assert closing.connections == 3
    # refused connections are retried until the proxy listens
    port = free_port()
    client = AgentAuditClient(api_key=org.key, base_url=f"http://127.0.0.1:{port}/api/v1", max_retries=8)
    proxy = TcpProxy(_upstream(org), port=port)
    timer = threading.Timer(0.3, proxy.__enter__)
    timer.start()
    try:
        assert client.log("after-refused") is not None
    finally:
        timer.join()
        proxy.__exit__()
        client.close()
    assert (_stored(org, "after-idle"), _stored(org, "after-refused")) == (3, 1)


def test_wait_for_report_times_out_with_the_sdks_timeout_error(scripted) -> None:  # type: ignore[no-untyped-def]
    scripted.script = [(200, {}, {"id": "report_1", "status": "running"})] * 50
    with AgentAuditClient(api_key="k", base_url=scripted.url) as client:
        with pytest.raises(agentaudit.TimeoutError) as timed_out:
            client.wait_for_report("report_1", timeout=0.2, interval=0.05)
    assert isinstance(timed_out.value, agentaudit.AgentAuditError) and isinstance(timed_out.value, TimeoutError)
    assert str(timed_out.value) == "report report_1 still running after 0.2s"
    assert {s.path for s in scripted.seen} == {"/api/v1/reports/report_1"} and len(scripted.seen) >= 3


async def test_the_async_wait_for_report_times_out_with_the_sdks_timeout_error(scripted) -> None:  # type: ignore[no-untyped-def]
    scripted.script = [(200, {}, {"id": "report_1", "status": "pending"})] * 50
    async with agentaudit.AsyncAgentAuditClient(api_key="k", base_url=scripted.url) as client:
        with pytest.raises(agentaudit.AgentAuditError, match="report report_1 still pending after 0.2s"):
            await client.wait_for_report("report_1", timeout=0.2, interval=0.05)


def test_a_misspelt_on_error_is_refused_before_anything_is_sent(scripted) -> None:  # type: ignore[no-untyped-def]
    with AgentAuditClient(api_key="k", base_url=f"http://127.0.0.1:{free_port()}/api/v1", max_retries=0) as dead:
        for bad in ("alow", "Allow", None, "", True):
            with pytest.raises(agentaudit.ConfigError, match="on_error must be 'raise', 'allow' or 'block'"):
                dead.guardrail("prompt_submitted", prompt="hi", on_error=bad)  # type: ignore[arg-type]
        assert dead.guardrail("prompt_submitted", prompt="hi", on_error="allow").allowed is True
    with AgentAuditClient(api_key="k", base_url=scripted.url) as client:
        with pytest.raises(agentaudit.ConfigError, match="'alow'"):
            client.guardrail("prompt_submitted", prompt="hi", on_error="alow", dry_run=True)
    assert scripted.seen == []


async def test_the_async_guardrail_refuses_a_misspelt_on_error(scripted) -> None:  # type: ignore[no-untyped-def]
    async with agentaudit.AsyncAgentAuditClient(api_key="k", base_url=scripted.url) as client:
        with pytest.raises(agentaudit.ConfigError, match="got 'Block'"):
            await client.guardrail("prompt_submitted", prompt="hi", on_error="Block")
    assert scripted.seen == []


def test_list_results_take_positions_and_slices_and_keep_their_keys(client: AgentAuditClient) -> None:
    batch = client.log_batch([{"action": "first"}, {"action": "second"}])
    assert batch is not None
    assert (batch[0].action, batch[-1].action, [e.action for e in batch[:1]]) == ("first", "second", ["first"])
    assert (len(batch), batch["processed"], batch.get("errors"), batch.get("nope", 7)) == (2, 2, 0, 7)
    page = client.logs.list()
    assert (page[0], page[1]) == (batch[1], batch[0])  # newest first
    assert page[:1] == [batch[1]] and page[5:] == [] and [e.id for e in page] == [batch[1].id, batch[0].id]
    assert page["pagination"]["total"] == 2 and page.get("pagination") == page["pagination"]
    assert page.get("missing") is None and page.get("missing", 0) == 0
    assert "data" in page and "missing" not in page and batch[0] in page
    with pytest.raises(IndexError):
        page[2]
    with pytest.raises(KeyError):
        page["missing"]


def test_bad_metadata_and_batches_are_refused_by_name_before_anything_is_sent(scripted) -> None:  # type: ignore[no-untyped-def]
    with AgentAuditClient(api_key="k", base_url=scripted.url) as client:
        cases: list[tuple[object, str]] = [
            (lambda: client.log("x", metadata=[1, 2]), "metadata"),  # type: ignore[arg-type]
            (lambda: client.log("x", metadata="abc"), "metadata"),  # type: ignore[arg-type]
            (lambda: client.log("x", metadata={"v": float("nan")}), "metadata.v"),
            (lambda: client.log("x", metadata={"a": {"b": [0, float("inf")]}}), "metadata.a.b[1]"),
            (lambda: client.guardrail("x", metadata={"v": float("-inf")}), "metadata.v"),
            (lambda: client.log_batch(["x"]), "[0]"),  # type: ignore[list-item]
            (lambda: client.log_batch(None), "entries"),  # type: ignore[arg-type]
            (lambda: client.log_batch({"action": "x"}), "entries"),
            (lambda: client.log_batch([{"action": "ok"}, {"action": "y", "metadata": 5}]), "[1].metadata"),
            (lambda: client.log_batch([{"action": "ok"}] * 60 + [{"action": "y", "metadata": {"v": float("nan")}}]),
             "[60].metadata.v"),
        ]
        for attempt, field in cases:
            with pytest.raises(agentaudit.ValidationError) as refused:
                attempt()  # type: ignore[operator]
            assert [d["field"] for d in refused.value.details] == [field], refused.value
            assert refused.value.status == 400 and "nothing was sent" in str(refused.value)
    assert scripted.seen == []


def test_datetimes_sets_and_bytes_in_metadata_are_sent_as_json_values(org: Org) -> None:
    when = dt.datetime(2026, 1, 15, 10, 0, 0, 250000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    metadata = {"when": when, "day": dt.date(2026, 1, 15), "tags": {"b", "a"}, "raw": b"caf\xc3\xa9 \xff",
                "pair": (1, 2), "id": __import__("uuid").UUID(int=1)}
    expected = {"when": "2026-01-15T08:00:00.250Z", "day": "2026-01-15", "tags": ["a", "b"], "raw": "café \ufffd",
                "pair": [1, 2], "id": "00000000-0000-0000-0000-000000000001"}
    with org.client() as client:
        assert client.log("json-values", metadata=metadata).metadata == expected  # type: ignore[union-attr]
        client.log("json-values-bg", metadata=metadata, wait=False)
        client.log_batch([{"action": "json-values-bg", "metadata": metadata}], wait=False)
        assert client.flush(10) is True
        assert [e.metadata for e in client.logs.list(action="json-values-bg")] == [expected, expected]


def test_background_mode_counts_what_it_cannot_send_and_never_raises(org: Org, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="agentaudit")
    with org.client() as client:
        client.log("bad", metadata=[1, 2], wait=False)  # type: ignore[arg-type]
        client.log("bad", metadata="abc", wait=False)  # type: ignore[arg-type]
        client.log("bad", metadata={"v": float("nan")}, wait=False)
        loop: dict[str, object] = {}
        loop["self"] = loop
        client.log("bad", metadata=loop, wait=False)
        assert client.log_batch(["x"], wait=False) is None  # type: ignore[list-item]
        assert client.log_batch(None, wait=False) is None  # type: ignore[arg-type]
        client.log_batch([{"action": "good"}, "x", {"action": "bad", "metadata": {"v": float("inf")}},  # type: ignore[list-item]
                          {"action": "good"}], wait=False)
        assert client.flush(10) is True
        stats = client.stats
        assert (stats.queued, stats.rejected, stats.sent) == (10, 8, 2)
        assert client.logs.list(action="good").total == 2 and client.logs.list(action="bad").total == 0
    messages = [r.getMessage() for r in caplog.records if r.name == "agentaudit"]
    assert len(messages) == 2, messages  # one warning per kind: not a dict or the like, and not encodable as JSON
    assert messages[0].startswith("agentaudit: dropped an event that cannot be sent: metadata must be a JSON object")
    assert messages[1].startswith("agentaudit: dropped an event that cannot be sent as JSON: metadata.v is nan")


def test_a_nul_in_an_event_is_stored_as_u_fffd_waited_and_background(org: Org) -> None:
    binary = "PK\x03\x04\x00\x00tool output"
    stored = "PK\x03\x04\ufffd\ufffdtool output"
    metadata = {"raw\x00key": binary, "nested": [binary], "path": "C:\\u0000"}  # the last is no NUL: kept
    expected = {"raw\ufffdkey": stored, "nested": [stored], "path": "C:\\u0000"}
    with org.client() as client:
        waited = client.log("nul-waited", response=binary, metadata=metadata)
        assert (waited.response, waited.metadata) == (stored, expected)
        batch = client.log_batch([{"action": "nul-batch", "response": binary, "metadata": metadata}])
        assert (batch.data[0].response, batch.data[0].metadata) == (stored, expected)
        client.log("nul-bg", response=binary, metadata=metadata, wait=False)
        client.log_batch([{"action": "nul-bg", "response": binary, "metadata": metadata}], wait=False)
        assert client.flush(10) is True
        assert client.stats.rejected == 0
        assert [(e.response, e.metadata) for e in client.logs.list(action="nul-bg")] == [(stored, expected)] * 2
