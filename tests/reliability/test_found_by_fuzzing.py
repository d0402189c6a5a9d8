"""Defects the schema fuzzer and the hostile-load tests found, each pinned by a direct test so they stay fixed."""

from __future__ import annotations

from sidecar.clock import parse_iso, to_iso
from tests.helpers import Account, ApiClient


def test_years_before_1000_are_padded_to_four_digits() -> None:
    assert to_iso(parse_iso("0001-02-16T02:37:22Z")) == "0001-02-16T02:37:22.000Z"
    assert to_iso(parse_iso("0999-12-31T23:59:59.5Z")) == "0999-12-31T23:59:59.500Z"
    assert to_iso(parse_iso("2026-01-15T10:00:00.123Z")) == "2026-01-15T10:00:00.123Z"


async def test_a_report_of_year_one_echoes_a_valid_timestamp(api: ApiClient, owner: Account) -> None:
    reply = await api.post("reports", json={"type": "audit_log_export", "format": "json",
                                            "from": "0001-02-16T02:37:22Z", "to": "2000-01-01T00:00:00Z"},
                           headers=owner.jwt)
    assert reply.status == 202 and reply.body["from"] == "0001-02-16T02:37:22.000Z"


async def test_a_negative_page_is_refused_even_beside_an_offset(api: ApiClient, owner: Account) -> None:
    reply = await api.get("notifications/deliveries", params={"offset": "5", "page": "-3"}, headers=owner.jwt)
    assert (reply.status, reply.body["details"][0]["field"]) == (400, "page")
    assert (await api.get("notifications/deliveries", params={"offset": "5", "page": "2"}, headers=owner.jwt)).status == 200


async def test_bulk_triage_filter_must_be_an_object(api: ApiClient, owner: Account) -> None:
    reply = await api.post("alerts/resolve", json={"ids": [], "filter": [None, None]}, headers=owner.jwt)
    assert (reply.status, reply.body["details"][0]["field"]) == (400, "filter")
    fine = await api.post("alerts/resolve", json={"ids": [], "filter": None}, headers=owner.jwt)
    assert fine.status == 200 and fine.body["updated"] == 0


async def test_otlp_json_must_be_an_object(api: ApiClient, owner: Account) -> None:
    reply = await api.post("/v1/traces", data=b'"AAA"', headers={**owner.api_key, "Content-Type": "application/json"})
    assert (reply.status, reply.body["code"]) == (400, "validation_error")
    empty = await api.post("/v1/traces", data=b"{}", headers={**owner.api_key, "Content-Type": "application/json"})
    assert empty.status == 200


async def test_allow_names_only_the_methods_of_the_path_asked_for(api: ApiClient, owner: Account) -> None:
    expected = {"alerts/counts": "GET,HEAD", "compliance-rules/packs": "GET,HEAD,POST",
                "policies/clone-pack": "POST", "audit-logs": "GET,HEAD,POST", "reports/report_x": "DELETE,GET,HEAD",
                "audit-logs/batch": "POST"}
    for path, allow in expected.items():
        reply = await api.request("OPTIONS", path, headers=owner.jwt)
        assert (reply.status, reply.headers["Allow"]) == (405, allow), path


async def test_a_repeated_query_parameter_is_refused(api: ApiClient, owner: Account) -> None:
    reply = await api.get("ledger/checkpoints?kind=&kind=junk", headers=owner.jwt)
    assert (reply.status, reply.body["details"]) == (400, [{"field": "kind", "message": "given more than once"}])
    assert (await api.get("ledger/checkpoints?kind=", headers=owner.jwt)).status == 200
    assert (await api.get("no/such/route?a=1&a=2", headers=owner.jwt)).status == 404


async def test_an_oversized_declared_body_is_refused_before_it_is_sent(api: ApiClient, owner: Account) -> None:
    """Found by the hostile-bodies test: aiohttp read a whole megabyte of each oversized body before its 413."""
    import asyncio

    reader, writer = await asyncio.open_connection(api.client.server.host, api.client.server.port)
    try:
        writer.write(b"POST /api/v1/audit-logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"X-API-Key: " + owner.key.encode() + b"\r\nContent-Length: 50000000\r\n\r\n")
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)  # no body was sent at all
        assert status_line.startswith(b"HTTP/1.1 413"), status_line
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)).decode()
        length = int(next(line.split(":")[1] for line in head.split("\r\n") if line.lower().startswith("content-length")))
        body = await asyncio.wait_for(reader.readexactly(length), timeout=5)
        assert b'"code":"payload_too_large"' in body and b'"status":413' in body
    finally:
        writer.close()


async def test_a_bad_date_alias_is_refused_beside_a_good_one(api: ApiClient, owner: Account) -> None:
    for path in ("audit-logs", "audit-logs/export?format=json", "traces", "alerts"):
        joiner = "&" if "?" in path else "?"
        reply = await api.get(f"{path}{joiner}endDate=2030-01-01T00:00:00Z&to=garbage", headers=owner.jwt)
        assert (reply.status, reply.body["details"][0]["field"]) == (400, "to"), path
        fine = await api.get(f"{path}{joiner}endDate=2030-01-01T00:00:00Z&to=2029-01-01T00:00:00Z", headers=owner.jwt)
        assert fine.status == 200, path
