"""AsyncAgentAuditClient against a real sidecar: waited calls, resources, errors, background mode, retries."""

from __future__ import annotations

import asyncio
import gc
import warnings

import pytest

import agentaudit
from agentaudit import AsyncAgentAuditClient
from tests.sdk.conftest import Org, ScriptedServer, free_port
from tests.sdk.proxy import TcpProxy


async def test_log_batch_guardrail_and_queries(org: Org) -> None:
    async with AsyncAgentAuditClient(api_key=org.admin_key, base_url=org.base, agent_id="async-agent") as client:
        assert await client.health() == {"status": "ok", "version": "0.1.0", "database": "up"}
        stored = await client.log("llm_call", prompt="hello", metadata={"model": "m"}, trace_id="a-run")
        assert (stored.action, stored.agent_id, stored.metadata) == ("llm_call", "async-agent", {"model": "m"})
        batch = await client.log_batch([{"action": f"s{i}", "trace_id": "a-run"} for i in range(60)])
        assert batch is not None and batch.processed == 60 and batch.data[-1].action == "s59"
        agent = await client.agents.create("intake")
        policy = await client.policies.clone_pack("hipaa", "HIPAA", mode="block")
        await client.policies.attach_agent(policy.id, agent.id)
        verdict = await client.guardrail("prompt", prompt="SSN 123-45-6789", agent_id=agent.id)
        assert (verdict.allowed, verdict.action, verdict.severity) == (False, "block", "critical")
        dry = await client.guardrail("prompt", prompt="all fine", agent_id=agent.id, dry_run=True)
        assert (dry.allowed, dry.audit_log_id) == (True, None)
        page = await client.logs.list(trace_id="a-run", limit=10)
        assert page.total == 61 and len(page) == 10
        assert len([e async for e in client.iter_logs(trace_id="a-run", page_size=25)]) == 61
        trace = await client.traces.get("a-run")
        assert len(trace.spans) == 61
        alerts = await client.alerts.list(agent_id=agent.id)
        assert alerts and (await client.alerts.resolve(alerts[0].id)).is_resolved
        export = await client.logs.export("jsonl", trace_id="a-run")
        assert len(export.content.splitlines()) == 61  # a streamed (chunked) answer
        # the compatibility names return awaitables on this client too
        assert (await client.query_logs(agent_id="async-agent", limit=5))["pagination"]["total"] == 61


async def test_many_concurrent_requests_share_the_connection_pool(org: Org) -> None:
    async with AsyncAgentAuditClient(api_key=org.key, base_url=org.base) as client:
        stored = await asyncio.gather(*(client.log("parallel", metadata={"i": i}) for i in range(40)))
        assert sorted(s.metadata["i"] for s in stored) == list(range(40))  # type: ignore[index]
        assert len(client._transport._idle) <= 8


async def test_errors_and_timeouts_are_typed(org: Org) -> None:
    async with AsyncAgentAuditClient(api_key="aa_live_wrong", base_url=org.base, max_retries=0) as bad:
        with pytest.raises(agentaudit.AuthenticationError):
            await bad.log("x")
    async with AsyncAgentAuditClient(api_key=org.key, base_url=org.base, max_retries=0) as client:
        with pytest.raises(agentaudit.ValidationError) as invalid:
            await client.log("")
        assert [d["field"] for d in invalid.value.details] == ["action"]
        with pytest.raises(agentaudit.NotFoundError):
            await client.logs.get("log_nope")
    dead = AsyncAgentAuditClient(api_key="k", base_url=f"http://127.0.0.1:{free_port()}/api/v1", max_retries=0)
    with pytest.raises(agentaudit.APIConnectionError):
        await dead.log("x")
    assert (await dead.guardrail("p", prompt="x", on_error="allow")).allowed is True
    await dead.aclose()


async def test_background_mode_and_spans_in_tasks(org: Org) -> None:
    async with AsyncAgentAuditClient(api_key=org.admin_key, base_url=org.base) as client:
        assert client.log("queued", wait=False) is None

        @client.traced("step")
        async def step(n: int) -> int:
            await asyncio.sleep(0.001 * n)
            return n

        async with client.trace("async_run") as run:
            assert await asyncio.gather(*(step(n) for n in range(5))) == list(range(5))
        assert await client.flush(10) is True
        spans = (await client.traces.get(run.trace_id)).spans
        assert sorted(s.action for s in spans) == ["async_run"] + ["step"] * 5
        assert {s.parent_span_id for s in spans if s.action == "step"} == {run.span_id}
        assert (await client.logs.list(action="queued")).total == 1
        assert client.stats.sent == 7


async def test_close_is_awaitable_as_on_the_threaded_client(org: Org) -> None:
    client = AsyncAgentAuditClient(api_key=org.key, base_url=org.base)
    assert client.log("closing", wait=False) is None
    assert await client.close(10) is True  # flushed what was queued
    async with AsyncAgentAuditClient(api_key=org.key, base_url=org.base) as reader:
        assert (await reader.logs.list(action="closing")).total == 1


async def test_retries_honour_retry_after(scripted: ScriptedServer) -> None:
    scripted.script = [(503, {"Retry-After": "1"}, {"error": "busy", "status": 503})]
    async with AsyncAgentAuditClient(api_key="k", base_url=scripted.url, max_retries=1) as client:
        stored = await client.log("retry_me")
    assert stored.action == "retry_me"
    assert len(scripted.seen) == 2 and scripted.seen[1].at - scripted.seen[0].at >= 0.95


async def test_a_timed_out_or_unanswered_post_is_not_sent_again(org: Org) -> None:
    upstream = org.url.removeprefix("http://")
    with TcpProxy(upstream, delay=1.0) as slow, TcpProxy(upstream, drop_answers=True) as dropping:
        async with AsyncAgentAuditClient(api_key=org.key, base_url=slow.url, timeout=0.5, max_retries=2) as client:
            with pytest.raises(agentaudit.APITimeoutError) as timed_out:
                await client.log("async-dup-check")
            with pytest.raises(agentaudit.APITimeoutError):
                await client.log_batch([{"action": "async-dup-batch"}])
            with pytest.raises(agentaudit.APITimeoutError):
                await client.logs.list(action="async-dup-check")  # a read is retried
        async with AsyncAgentAuditClient(api_key=org.key, base_url=dropping.url, max_retries=2) as client:
            with pytest.raises(agentaudit.APIConnectionError) as lost:
                await client.guardrail("async-lost-answer", prompt="hi")
        assert (slow.connections, dropping.connections) == (2 + 3, 1)
    async with AsyncAgentAuditClient(api_key=org.key, base_url=org.base) as reader:
        totals = [(await reader.logs.list(action=a)).total
                  for a in ("async-dup-check", "async-dup-batch", "async-lost-answer")]
    assert totals == [1, 1, 1]
    assert "not retried" in str(timed_out.value) and "not retried" in str(lost.value)


async def test_a_kept_alive_connection_closed_while_idle_is_not_written_to(org: Org) -> None:
    with TcpProxy(org.url.removeprefix("http://"), close_idle_after=0.05) as closing:
        async with AsyncAgentAuditClient(api_key=org.key, base_url=closing.url, max_retries=0) as client:
            for _ in range(3):
                assert (await client.log("async-after-idle")).action == "async-after-idle"
                await asyncio.sleep(0.3)
        assert closing.connections == 3


def test_one_client_serves_one_event_loop_after_another(org: Org) -> None:
    client = AsyncAgentAuditClient(api_key=org.key, base_url=org.base, max_retries=0)  # as a module-level one
    for i in range(3):
        stored = asyncio.run(client.log("loop-hop", metadata={"i": i}))
        assert (stored.action, stored.metadata) == ("loop-hop", {"i": i})
    assert asyncio.run(client.logs.list(action="loop-hop")).total == 3
    with warnings.catch_warnings(record=True) as caught:  # each loop's connections were closed as it ended
        warnings.simplefilter("always")
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    asyncio.run(client.aclose())


async def test_background_log_batch_queues_at_call_time_like_log(org: Org) -> None:
    async with AsyncAgentAuditClient(api_key=org.key, base_url=org.base) as client:
        client.log_batch([{"action": "bg-batch", "metadata": {"i": i}} for i in range(3)], wait=False)
        assert client.log("bg-batch", metadata={"i": 3}, wait=False) is None
        assert client.stats.queued == 4  # queued without any await
        assert await client.flush(10) is True
        page = await client.logs.list(action="bg-batch")
    assert sorted(e.metadata["i"] for e in page) == [0, 1, 2, 3]  # type: ignore[index]


async def test_background_log_batch_may_also_be_awaited_as_before(org: Org) -> None:
    async with AsyncAgentAuditClient(api_key=org.key, base_url=org.base) as client, \
            agentaudit.AgentAuditAsync(org.key, org.base) as legacy:
        assert await client.log_batch([{"action": "bg-awaited", "metadata": {"i": 0}}], wait=False) is None
        queued = client.log_batch([{"action": "bg-awaited", "metadata": {"i": 1}}], wait=False)
        assert client.stats.queued == 2  # queued at call time either way
        assert await queued is None and await queued is None  # awaiting later, even twice, is harmless
        assert await legacy.log_batch([{"action": "bg-awaited", "metadata": {"i": 2}}], wait=False) is None
        legacy.log_batch([{"action": "bg-awaited", "metadata": {"i": 3}}], wait=False)  # no coroutine left unawaited
        assert await client.flush(10) is True and await legacy.flush(10) is True
        page = await client.logs.list(action="bg-awaited")
    assert sorted(e.metadata["i"] for e in page) == [0, 1, 2, 3]  # type: ignore[index]
