"""Trace helpers: nesting, ids and times, exceptions, the decorator, threads and asyncio tasks."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import agentaudit
from agentaudit import AgentAuditClient, current_span


def spans_by_action(client: AgentAuditClient, trace_id: str) -> dict[str, agentaudit.AuditLog]:
    assert client.flush(10) is True
    return {s.action: s for s in client.traces.get(trace_id).spans}


def test_nested_spans_set_ids_times_and_parents(client: AgentAuditClient) -> None:
    with client.trace("run", agent_id="planner", metadata={"user": "ana"}) as run:
        assert current_span() is run
        with run.span("llm_call", prompt="plan the trip") as llm:
            llm.set(response="1. book 2. pack", tokens=42)
        with client.span("tool_use", metadata={"tool": "search"}) as tool:
            assert tool.parent_span_id == run.span_id
            client.log("note", prompt="inside the tool")  # joins the trace, child of the current span
        assert current_span() is run
    assert current_span() is None
    spans = spans_by_action(client, run.trace_id)
    assert set(spans) == {"run", "llm_call", "tool_use", "note"}
    assert spans["run"].parent_span_id is None and spans["run"].span_id == run.span_id
    assert spans["run"].metadata == {"user": "ana"}
    assert (spans["llm_call"].parent_span_id, spans["llm_call"].response, spans["llm_call"].metadata) == (
        run.span_id, "1. book 2. pack", {"tokens": 42})
    assert spans["tool_use"].parent_span_id == run.span_id
    assert spans["note"].parent_span_id == tool.span_id
    assert [spans[a].agent_id for a in ("run", "llm_call", "tool_use", "note")] == ["planner"] * 3 + [None]
    for name in ("llm_call", "tool_use"):
        assert spans["run"].started_at <= spans[name].started_at <= spans[name].ended_at <= spans["run"].ended_at  # type: ignore[operator]
    tree = client.traces.get(run.trace_id).tree
    assert len(tree) == 1 and tree[0]["id"] == spans["run"].id


def test_batches_inside_a_span_join_it_unless_an_entry_names_its_own_trace(client: AgentAuditClient) -> None:
    with client.trace("run") as run:
        stored = client.log_batch([{"action": "waited"}, {"action": "own", "traceId": "elsewhere"}], wait=True)
        assert stored is not None
        client.log_batch([{"action": "queued"}], wait=False)
    spans = spans_by_action(client, run.trace_id)
    assert set(spans) == {"run", "waited", "queued"}
    assert spans["waited"].parent_span_id == run.span_id and spans["queued"].parent_span_id == run.span_id
    assert [s.trace_id for s in stored.data] == [run.trace_id, "elsewhere"]


def test_an_escaping_exception_is_recorded_and_reraised(client: AgentAuditClient) -> None:
    with pytest.raises(KeyError):
        with client.trace("run") as run:
            with run.span("tool_use"):
                raise KeyError("missing-field")
    spans = spans_by_action(client, run.trace_id)
    for name in ("run", "tool_use"):
        assert spans[name].metadata == {"status": "error", "error": {"type": "KeyError", "message": "'missing-field'"}}


def test_traced_decorator_on_functions_and_coroutines(client: AgentAuditClient) -> None:
    @client.traced("lookup", capture_args=True, capture_result=True)
    def lookup(city: str, *, days: int) -> dict[str, int]:
        return {city: days}

    @client.traced()
    async def fetch() -> str:
        await asyncio.sleep(0)
        assert current_span() is not None and current_span().action.endswith("fetch")  # type: ignore[union-attr]
        return "ok"

    @client.traced("fails")
    def fails() -> None:
        raise ValueError("bad input")

    with client.trace("run") as run:
        assert lookup("Lisbon", days=3) == {"Lisbon": 3}
        assert asyncio.run(fetch()) == "ok"
        with pytest.raises(ValueError):
            fails()
    assert lookup.__name__ == "lookup"
    spans = spans_by_action(client, run.trace_id)
    assert (spans["lookup"].prompt, spans["lookup"].response) == ("'Lisbon', days=3", "{'Lisbon': 3}")
    fetch_span = next(s for a, s in spans.items() if a.endswith("fetch"))
    assert fetch_span.parent_span_id == run.span_id
    assert spans["fails"].metadata["error"]["type"] == "ValueError"  # type: ignore[index]
    # outside any trace a decorated call starts its own
    lookup("Porto", days=1)
    client.flush(10)
    own = client.logs.list(action="lookup", limit=1).items[0]
    assert own.trace_id != run.trace_id and own.parent_span_id is None


def test_concurrent_asyncio_tasks_keep_their_own_current_span(client: AgentAuditClient) -> None:
    async def branch(n: int) -> str:
        with client.span(f"branch_{n}") as span:
            await asyncio.sleep(0.01 * (3 - n))
            with client.span(f"leaf_{n}") as leaf:
                await asyncio.sleep(0.005)
                assert current_span() is leaf
            assert current_span() is span
            return span.span_id

    async def main() -> tuple[str, list[str]]:
        with client.trace("fan_out") as root:
            ids = await asyncio.gather(*(branch(n) for n in range(3)))
            return root.trace_id, list(ids)

    trace_id, branch_ids = asyncio.run(main())
    spans = spans_by_action(client, trace_id)
    for n in range(3):
        assert spans[f"branch_{n}"].span_id == branch_ids[n]
        assert spans[f"branch_{n}"].parent_span_id == spans["fan_out"].span_id
        assert spans[f"leaf_{n}"].parent_span_id == branch_ids[n]


def test_context_wrap_carries_the_trace_into_pool_workers_and_threads(client: AgentAuditClient) -> None:
    @client.traced("lookup", capture_args=True)
    def lookup(city: str) -> str:
        with client.span("fetch", prompt=city):
            return city.upper()

    with client.trace("threads") as run:
        with ThreadPoolExecutor(max_workers=2) as pool:
            assert list(pool.map(agentaudit.context_wrap(lookup), ["lisbon", "porto", "faro"])) == [
                "LISBON", "PORTO", "FARO"]
            plain = pool.submit(lookup, "braga").result()  # not wrapped: a trace of its own
        thread = threading.Thread(target=agentaudit.context_wrap(lookup), args=("evora",))
        thread.start()
        thread.join()
    assert plain == "BRAGA"
    assert client.flush(10) is True
    spans = client.traces.get(run.trace_id).spans
    lookups = {s.prompt: s for s in spans if s.action == "lookup"}
    assert set(lookups) == {"'lisbon'", "'porto'", "'faro'", "'evora'"}
    assert {s.parent_span_id for s in lookups.values()} == {run.span_id}
    fetches = {s.prompt: s for s in spans if s.action == "fetch"}
    for city in ("lisbon", "porto", "faro", "evora"):
        assert fetches[city].parent_span_id == lookups[repr(city)].span_id  # concurrent calls stay apart
    alone = client.logs.list(action="lookup", limit=5).items
    braga = next(s for s in alone if s.prompt == "'braga'")
    assert braga.trace_id != run.trace_id and braga.parent_span_id is None
    assert agentaudit.context_wrap(lookup).__name__ == "lookup"


def test_threads_continue_a_trace_through_the_span_or_a_copied_context(client: AgentAuditClient) -> None:
    seen_in_plain_thread: list[object] = []
    with client.trace("run") as run:
        def explicit(n: int) -> None:
            seen_in_plain_thread.append(current_span())  # a new thread starts without a current span
            with run.span(f"worker_{n}"):
                with client.span(f"inner_{n}"):
                    pass

        threads = [threading.Thread(target=explicit, args=(n,)) for n in range(2)]
        ctx = contextvars.copy_context()
        threads.append(threading.Thread(target=ctx.run, args=(lambda: client.span("copied").end(),)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert seen_in_plain_thread == [None, None]
    spans = spans_by_action(client, run.trace_id)
    for n in range(2):
        assert spans[f"worker_{n}"].parent_span_id == run.span_id
        assert spans[f"inner_{n}"].parent_span_id == spans[f"worker_{n}"].span_id
    assert spans["copied"].parent_span_id == run.span_id
