"""GET /audit-logs (filters, paging, cursor), GET /audit-logs/:id and the streamed export."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.helpers import Account, ApiClient

pytestmark = pytest.mark.both_backends


@pytest.fixture
async def seeded(api: ApiClient, owner: Account) -> list[dict]:
    entries = []
    for i in range(30):
        entries.append({
            "action": "llm_call" if i % 3 else "tool_use",
            "agentId": f"agent-{i % 2}",
            "traceId": f"run-{i // 10}",
            "prompt": f"prompt number {i}" + (" with 50% off_sale" if i == 7 else ""),
            "response": "=SUM(A1:A9)" if i == 5 else f"answer {i}",
            "metadata": {"i": i},
        })
    reply = await api.post("audit-logs/batch", json=entries, headers=owner.api_key)
    assert reply.status == 201
    return reply.body["data"]


async def test_newest_first_with_total_and_pages(api: ApiClient, owner: Account, seeded) -> None:
    reply = await api.get("audit-logs", params={"limit": 7}, headers=owner.api_key)
    assert reply.status == 200
    assert [e["sequence"] for e in reply.body["data"]] == list(range(30, 23, -1))
    assert reply.body["pagination"] == {"page": 1, "limit": 7, "offset": 0, "total": 30, "totalPages": 5,
                                        "nextCursor": reply.body["data"][-1]["id"]}
    page3 = await api.get("audit-logs", params={"limit": 7, "page": 3}, headers=owner.api_key)
    assert [e["sequence"] for e in page3.body["data"]] == list(range(16, 9, -1))
    assert page3.body["pagination"]["offset"] == 14
    by_offset = await api.get("audit-logs", params={"limit": 7, "offset": 14}, headers=owner.api_key)
    assert by_offset.body["data"] == page3.body["data"]


async def test_cursor_paging_walks_everything_once(api: ApiClient, owner: Account, seeded) -> None:
    seen, before = [], None
    while True:
        params = {"limit": 8, **({"before": before} if before else {})}
        reply = await api.get("audit-logs", params=params, headers=owner.api_key)
        seen.extend(e["sequence"] for e in reply.body["data"])
        before = reply.body["pagination"].get("nextCursor")
        if not before:
            break
    assert seen == list(range(30, 0, -1))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"agentId": "agent-1"}, [i for i in range(30) if i % 2 == 1]),
        ({"action": "tool_use"}, [i for i in range(30) if i % 3 == 0]),
        ({"traceId": "run-2"}, list(range(20, 30))),
        ({"agentId": "agent-0", "action": "tool_use", "traceId": "run-0"}, [0, 6]),
        ({"q": "50% off_sale"}, [7]),
        ({"q": "PROMPT NUMBER 1"}, [1] + list(range(10, 20))),
        ({"enforcementAction": "allow", "limit": 500}, list(range(30))),
        ({"flagged": "true"}, []),
        ({"flagged": "false"}, list(range(30))),
        ({"agentId": "nobody"}, []),
    ],
)
async def test_filters(api: ApiClient, owner: Account, seeded, params, expected) -> None:
    reply = await api.get("audit-logs", params={"limit": 100, **params}, headers=owner.api_key)
    assert reply.status == 200
    assert sorted(e["metadata"]["i"] for e in reply.body["data"]) == expected
    assert reply.body["pagination"]["total"] == len(expected)


async def test_time_range(api: ApiClient, owner: Account, seeded) -> None:
    later = await api.post("audit-logs", json={"action": "later"}, headers=owner.api_key)
    cut = later.body["createdAt"]
    reply = await api.get("audit-logs", params={"from": cut}, headers=owner.api_key)
    assert [e["action"] for e in reply.body["data"]] == ["later"]
    reply = await api.get("audit-logs", params={"startDate": "2000-01-01", "endDate": "2000-12-31"}, headers=owner.api_key)
    assert reply.body["data"] == [] and reply.body["pagination"]["total"] == 0
    reply = await api.get("audit-logs", params={"to": "2999-01-01T00:00:00Z", "limit": 100}, headers=owner.api_key)
    assert reply.body["pagination"]["total"] == 31


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": "501"}, "limit"), ({"limit": "0"}, "limit"), ({"page": "0"}, "page"), ({"offset": "-1"}, "offset"),
     ({"limit": "ten"}, "limit"), ({"flagged": "maybe"}, "flagged"), ({"from": "last week"}, "from"),
     ({"enforcementAction": "deny"}, "enforcementAction"), ({"startDate": "2026-02-01", "endDate": "2026-01-01"}, "endDate")],
)
async def test_bad_query_parameters(api: ApiClient, owner: Account, params, field) -> None:
    reply = await api.get("audit-logs", params=params, headers=owner.api_key)
    assert reply.status == 400 and reply.body["details"][0]["field"] == field


async def test_unknown_id_is_404(api: ApiClient, owner: Account) -> None:
    reply = await api.get("audit-logs/log_00000000000000000000000000", headers=owner.api_key)
    assert (reply.status, reply.body["error"]) == (404, "audit log log_00000000000000000000000000 not found")


async def test_export_csv_is_quoted_and_formula_safe(api: ApiClient, owner: Account, seeded) -> None:
    reply = await api.get("audit-logs/export", params={"format": "csv", "agentId": "agent-1"}, headers=owner.api_key)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert reply.headers["Content-Disposition"] == 'attachment; filename="audit-logs.csv"'
    rows = list(csv.DictReader(io.StringIO(reply.body.decode())))
    assert len(rows) == 15
    assert [int(r["sequence"]) for r in rows] == sorted(int(r["sequence"]) for r in rows)  # oldest first
    formula = next(r for r in rows if r["sequence"] == "6")
    assert formula["response"] == "'=SUM(A1:A9)"
    assert json.loads(formula["metadata"]) == {"i": 5}
    assert reply.body.decode().startswith('"id","sequence"')


async def test_export_json_and_jsonl(api: ApiClient, owner: Account, seeded) -> None:
    as_json = await api.get("audit-logs/export", params={"format": "json"}, headers=owner.api_key)
    events = as_json.body
    assert [e["sequence"] for e in events] == list(range(1, 31))
    as_lines = await api.get("audit-logs/export", params={"format": "jsonl", "traceId": "run-0"}, headers=owner.api_key)
    lines = [json.loads(line) for line in as_lines.body.decode().splitlines()]
    assert [e["sequence"] for e in lines] == list(range(1, 11))
    empty = await api.get("audit-logs/export", params={"format": "json", "agentId": "x"}, headers=owner.api_key)
    assert empty.body == []
    bad = await api.get("audit-logs/export", params={"format": "xml"}, headers=owner.api_key)
    assert bad.status == 400 and bad.body["details"] == [{"field": "format", "message": "must be csv, json or jsonl"}]


async def test_export_streams_more_than_one_chunk(api: ApiClient, owner: Account) -> None:
    for _ in range(25):
        reply = await api.post("audit-logs/batch", json=[{"action": "bulk"}] * 50, headers=owner.api_key)
        assert reply.status == 201
    reply = await api.get("audit-logs/export", params={"format": "jsonl"}, headers=owner.api_key)
    sequences = [json.loads(line)["sequence"] for line in reply.body.decode().splitlines()]
    assert sequences == list(range(1, 1251))
    assert reply.headers["X-Request-Id"]  # a streamed answer carries its request id too

