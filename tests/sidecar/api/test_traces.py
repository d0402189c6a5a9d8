"""Traces: list, tree, summary, spans page, subtree and ancestors, with and without traceId."""

from __future__ import annotations

import pytest

from tests.helpers import Account, ApiClient

pytestmark = pytest.mark.both_backends

T0 = "2026-03-01T12:00:00.000Z"


def at(ms: int) -> str:
    return f"2026-03-01T12:00:{ms // 1000:02d}.{ms % 1000:03d}Z"


@pytest.fixture
async def run(api: ApiClient, owner: Account) -> dict[str, dict]:
    """root -> (plan -> search, answer) with spans named by the client, plus a span pointing at a stored id."""
    spans = [
        {"action": "agent_run", "spanId": "root", "startedAt": at(0), "endedAt": at(9000), "agentId": "planner",
         "metadata": {"tokens": 10, "cost": 0.01}},
        {"action": "plan", "spanId": "plan", "parentSpanId": "root", "startedAt": at(100), "endedAt": at(2000),
         "agentId": "planner", "metadata": {"token_usage": {"total_tokens": 90}}},
        {"action": "tool_use", "spanId": "search", "parentSpanId": "plan", "startedAt": at(500), "endedAt": at(1500),
         "agentId": "searcher", "metadata": {"cost": 0.02}},
        {"action": "answer", "spanId": "answer", "parentSpanId": "root", "startedAt": at(3000), "endedAt": at(8000)},
    ]
    reply = await api.post("audit-logs/batch", json=[{**s, "traceId": "run-1"} for s in spans], headers=owner.api_key)
    assert reply.status == 201
    stored = {e["spanId"]: e for e in reply.body["data"]}
    late = await api.post("audit-logs", headers=owner.api_key, json={
        "action": "followup", "traceId": "run-1", "parentSpanId": stored["answer"]["id"], "startedAt": at(8500),
        "endedAt": at(8600)})
    stored["followup"] = late.body
    other = await api.post("audit-logs", json={"action": "solo", "traceId": "run-2"}, headers=owner.api_key)
    assert other.status == 201
    return stored


async def test_trace_tree_and_summary(api: ApiClient, owner: Account, run) -> None:
    reply = await api.get("traces/run-1", headers=owner.api_key)
    assert reply.status == 200
    body = reply.body
    assert [s["action"] for s in body["spans"]] == ["agent_run", "plan", "tool_use", "answer", "followup"]
    ids = {name: run[name]["id"] for name in run}
    assert body["tree"] == [{"id": ids["root"], "children": [
        {"id": ids["plan"], "children": [{"id": ids["search"], "children": []}]},
        {"id": ids["answer"], "children": [{"id": ids["followup"], "children": []}]},
    ]}]
    summary = body["summary"]
    assert (summary["spanCount"], summary["rootAction"], summary["durationMs"]) == (5, "agent_run", 9000)
    assert (summary["startedAt"], summary["endedAt"]) == (T0, at(9000))
    assert summary["agentIds"] == ["planner", "searcher"]
    assert (summary["totalTokens"], summary["totalCost"]) == (100, 0.03)


async def test_trace_list(api: ApiClient, owner: Account, run) -> None:
    reply = await api.get("traces", headers=owner.api_key)
    assert reply.status == 200
    rows = reply.body["data"]
    assert [r["traceId"] for r in rows] == ["run-2", "run-1"]
    row = rows[1]
    assert (row["rootAction"], row["spanCount"], row["flaggedCount"], row["enforcementAction"]) == ("agent_run", 5, 0, "allow")
    assert (row["startedAt"], row["endedAt"], row["durationMs"]) == (T0, at(9000), 9000)
    assert row["agentIds"] == ["planner", "searcher"]
    assert reply.body["pagination"]["total"] == 2
    filtered = await api.get("traces", params={"agentId": "searcher"}, headers=owner.api_key)
    assert [r["traceId"] for r in filtered.body["data"]] == ["run-1"]


async def test_trace_spans_page(api: ApiClient, owner: Account, run) -> None:
    reply = await api.get("audit-logs/trace/run-1", params={"limit": 2, "page": 2}, headers=owner.api_key)
    assert [s["action"] for s in reply.body["data"]] == ["tool_use", "answer"]
    assert reply.body["pagination"]["total"] == 5
    assert (await api.get("audit-logs/trace/nope", headers=owner.api_key)).status == 404
    assert (await api.get("traces/nope", headers=owner.api_key)).status == 404


async def test_chain_and_ancestors(api: ApiClient, owner: Account, run) -> None:
    chain = await api.get(f"audit-logs/{run['plan']['id']}/chain", headers=owner.api_key)
    assert chain.body["root"]["id"] == run["plan"]["id"]
    assert [e["action"] for e in chain.body["descendants"]] == ["tool_use"]
    whole = await api.get(f"audit-logs/{run['root']['id']}/chain", headers=owner.api_key)
    assert [e["action"] for e in whole.body["descendants"]] == ["plan", "tool_use", "answer", "followup"]
    up = await api.get(f"audit-logs/{run['followup']['id']}/ancestors", headers=owner.api_key)
    assert [e["action"] for e in up.body] == ["answer", "agent_run"]
    assert (await api.get(f"audit-logs/{run['root']['id']}/ancestors", headers=owner.api_key)).body == []


async def test_chain_without_trace_ids(api: ApiClient, owner: Account) -> None:
    root = (await api.post("audit-logs", json={"action": "a"}, headers=owner.api_key)).body
    child = (await api.post("audit-logs", json={"action": "b", "parentSpanId": root["id"], "spanId": "b1"},
                            headers=owner.api_key)).body
    grandchild = (await api.post("audit-logs", json={"action": "c", "parentSpanId": "b1"}, headers=owner.api_key)).body
    chain = await api.get(f"audit-logs/{root['id']}/chain", headers=owner.api_key)
    assert [e["id"] for e in chain.body["descendants"]] == [child["id"], grandchild["id"]]
    up = await api.get(f"audit-logs/{grandchild['id']}/ancestors", headers=owner.api_key)
    assert [e["id"] for e in up.body] == [child["id"], root["id"]]


async def test_cycles_do_not_hang(api: ApiClient, owner: Account) -> None:
    spans = [{"action": "x", "traceId": "loop", "spanId": "a", "parentSpanId": "b"},
             {"action": "y", "traceId": "loop", "spanId": "b", "parentSpanId": "a"}]
    stored = (await api.post("audit-logs/batch", json=spans, headers=owner.api_key)).body["data"]
    reply = await api.get("traces/loop", headers=owner.api_key)
    assert sorted(node["id"] for node in _flatten(reply.body["tree"])) == sorted(e["id"] for e in stored)
    up = await api.get(f"audit-logs/{stored[0]['id']}/ancestors", headers=owner.api_key)
    assert [e["id"] for e in up.body] == [stored[1]["id"]]


def _flatten(nodes: list[dict]) -> list[dict]:
    out = []
    for node in nodes:
        out.append(node)
        out.extend(_flatten(node["children"]))
    return out


async def test_trace_spans_pages_by_cursor(api: ApiClient, owner: Account, run) -> None:
    seen: list[str] = []
    query: dict[str, str | int] = {"limit": 2}
    for _ in range(5):
        reply = await api.get("audit-logs/trace/run-1", params=query, headers=owner.api_key)
        assert reply.status == 200
        seen += [s["action"] for s in reply.body["data"]]
        cursor = reply.body["pagination"].get("nextCursor")
        if cursor is None:
            assert "Link" not in reply.headers
            break
        assert cursor == reply.body["data"][-1]["id"] and reply.body["pagination"]["total"] == 5
        assert reply.headers["Link"].endswith(f'audit-logs/trace/run-1?after={cursor}&limit=2>; rel="next"')
        query = {"limit": 2, "after": cursor}
    assert seen == ["agent_run", "plan", "tool_use", "answer", "followup"]
    bad = await api.get("audit-logs/trace/run-1", params={"after": run["root"]["id"] + "x"}, headers=owner.api_key)
    assert (bad.status, bad.body["code"], bad.body["details"][0]["field"]) == (400, "validation_error", "after")
    other = await api.get("audit-logs/trace/run-2", params={"after": run["root"]["id"]}, headers=owner.api_key)
    assert other.status == 400  # a span of another trace is no cursor here


async def test_trace_list_filters_by_trace_id_and_text(api: ApiClient, owner: Account, run) -> None:
    await api.post("audit-logs", json={"action": "chat", "traceId": "run-3", "prompt": "Where is 50% of my_order?"},
                   headers=owner.api_key)
    by_id = await api.get("traces", params={"traceId": "run-1"}, headers=owner.api_key)
    assert [r["traceId"] for r in by_id.body["data"]] == ["run-1"] and by_id.body["pagination"]["total"] == 1
    by_text = await api.get("traces", params={"q": "50% of my_order"}, headers=owner.api_key)
    assert [r["traceId"] for r in by_text.body["data"]] == ["run-3"]
    wildcard = await api.get("traces", params={"q": "5_% of"}, headers=owner.api_key)  # % and _ are literal
    assert wildcard.body["data"] == [] and wildcard.body["pagination"]["total"] == 0
    both = await api.get("traces", params={"q": "order", "traceId": "run-1"}, headers=owner.api_key)
    assert both.body["data"] == []


async def test_trace_list_pages_by_cursor(api: ApiClient, owner: Account, run) -> None:
    for name in ("run-3", "run-4"):
        assert (await api.post("audit-logs", json={"action": "x", "traceId": name}, headers=owner.api_key)).status == 201
    seen: list[str] = []
    query: dict[str, str | int] = {"limit": 3}
    while True:
        reply = await api.get("traces", params=query, headers=owner.api_key)
        assert reply.status == 200 and reply.body["pagination"]["total"] == 4
        seen += [r["traceId"] for r in reply.body["data"]]
        cursor = reply.body["pagination"].get("nextCursor")
        if cursor is None:
            break
        query = {"limit": 3, "before": cursor}
    assert seen == ["run-4", "run-3", "run-2", "run-1"]
    unknown = await api.get("traces", params={"before": "no-such-trace"}, headers=owner.api_key)
    assert unknown.status == 200 and unknown.body["data"] == []
    by_trace = await api.get("traces", params={"before": "run-3"}, headers=owner.api_key)  # a trace id as cursor
    assert [r["traceId"] for r in by_trace.body["data"]] == ["run-2", "run-1"]


async def test_a_trace_that_moves_to_the_top_does_not_restart_the_next_page(api: ApiClient, owner: Account,
                                                                            run) -> None:
    for name in ("run-3", "run-4"):
        assert (await api.post("audit-logs", json={"action": "x", "traceId": name}, headers=owner.api_key)).status == 201
    first = await api.get("traces", params={"limit": 2}, headers=owner.api_key)
    assert [r["traceId"] for r in first.body["data"]] == ["run-4", "run-3"]
    # the last trace of the page is still running: a new span moves it back to the top
    assert (await api.post("audit-logs", json={"action": "y", "traceId": "run-3"}, headers=owner.api_key)).status == 201
    second = await api.get("traces", params={"limit": 2, "before": first.body["pagination"]["nextCursor"]},
                           headers=owner.api_key)
    assert [r["traceId"] for r in second.body["data"]] == ["run-2", "run-1"]  # no repeat, nothing skipped


async def test_trace_spans_page_backwards_by_before(api: ApiClient, owner: Account, run) -> None:
    reply = await api.get("audit-logs/trace/run-1", params={"limit": 2, "before": run["followup"]["id"]},
                          headers=owner.api_key)
    assert reply.status == 200 and [s["action"] for s in reply.body["data"]] == ["tool_use", "answer"]
    first = await api.get("audit-logs/trace/run-1", params={"limit": 2, "before": run["plan"]["id"]},
                          headers=owner.api_key)
    assert [s["action"] for s in first.body["data"]] == ["agent_run"]
    bad = await api.get("audit-logs/trace/run-1", params={"before": "log_nope"}, headers=owner.api_key)
    assert (bad.status, bad.body["details"][0]["field"]) == (400, "before")
    both = await api.get("audit-logs/trace/run-1", params={"before": run["plan"]["id"], "after": run["plan"]["id"]},
                         headers=owner.api_key)
    assert both.status == 400 and both.body["details"][0]["field"] == "before"
