"""OTLP ingest keeps the REST API's limits: the body limit however the body arrives, the metadata limits per
span (refused as OTLP partial success), and NUL characters (replaced by U+FFFD, on both backends)."""

from __future__ import annotations

import gzip
import io
from collections.abc import AsyncIterator

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.helpers import Account, ApiClient, query_db

pytestmark = pytest.mark.both_backends

TRACE = bytes.fromhex("5b8efff798038103d269b633813fc60c")
PROTOBUF = "application/x-protobuf"


def _export(*spans: Span, resource: dict[str, str] | None = None) -> bytes:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    for key, value in (resource or {"service.name": "agent"}).items():
        resource_spans.resource.attributes.add(key=key).value.string_value = value
    resource_spans.scope_spans.add().spans.extend(spans)
    return request.SerializeToString()


def _span(span_id: int, name: str, attributes: dict[str, str] | None = None) -> Span:
    span = Span(trace_id=TRACE, span_id=span_id.to_bytes(8, "big"), name=name,
                start_time_unix_nano=1767225600000000000, end_time_unix_nano=1767225601000000000)
    span.attributes.extend(KeyValue(key=k, value={"string_value": v}) for k, v in (attributes or {}).items())
    return span


async def _post(api: ApiClient, owner: Account, body: object, **headers: str) -> tuple[int, bytes]:
    async with api.client.post("/v1/traces", data=body, headers={
            "X-API-Key": owner.key, "Content-Type": PROTOBUF, **headers}) as response:
        return response.status, await response.read()


async def _chunked(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 65536):
        yield body[start:start + 65536]


async def test_the_body_limit_holds_for_chunked_bodies_too(api: ApiClient, owner: Account, settings) -> None:
    big = _export(_span(1, "big", {"input.value": "x" * (settings.max_body_bytes + 10)}))
    assert (await _post(api, owner, io.BytesIO(big)))[0] == 413  # with a Content-Length over the limit
    status, raw = await _post(api, owner, _chunked(big))  # the same bytes, chunked: no Content-Length
    assert status == 413 and b"request body too large" in raw
    fits = _export(_span(2, "fits", {"input.value": "x" * (settings.max_body_bytes // 2)}))
    assert (await _post(api, owner, _chunked(fits)))[0] == 200
    zipped = gzip.compress(_export(_span(3, "zipped", {"input.value": "y" * (settings.max_body_bytes * 3)})))
    assert (await _post(api, owner, _chunked(zipped), **{"Content-Encoding": "gzip"}))[0] == 200  # inflated: 16 MiB
    assert sorted(r[0] for r in query_db(settings, "SELECT action FROM audit_logs")) == ["fits", "zipped"]


async def test_a_span_over_the_metadata_limits_is_refused_alone(api: ApiClient, owner: Account, settings) -> None:
    crowded = _span(1, "crowded", {f"attr.{i}": "v" for i in range(50_000)})
    status, raw = await _post(api, owner, gzip.compress(_export(crowded, _span(2, "fine", {"a": "b"}))),
                              **{"Content-Encoding": "gzip"})
    assert status == 200
    answer = ExportTraceServiceResponse.FromString(raw)
    assert answer.partial_success.rejected_spans == 1
    assert answer.partial_success.error_message == (
        "1 span(s) refused: their metadata (attributes, events, resource) has more than 10,000 values; "
        "first: span 'crowded' (0000000000000001)")
    assert query_db(settings, "SELECT action FROM audit_logs") == [("fine",)]


async def test_nul_characters_become_replacement_characters(api: ApiClient, owner: Account) -> None:
    span = _span(1, "chat\x00x", {"gen_ai.operation.name": "chat", "input.value": "hi\x00there", "k\x00ey": "v\x00"})
    span.status.message = "bad\x00"
    span.events.add(name="ev\x00", time_unix_nano=1767225600500000000)
    status, raw = await _post(api, owner, _export(span, resource={"service.name": "bot\x00"}))
    assert status == 200 and ExportTraceServiceResponse.FromString(raw).partial_success.rejected_spans == 0
    reply = await api.get(f"traces/{TRACE.hex()}", headers=owner.api_key)
    [stored] = reply.body["spans"]
    assert (stored["action"], stored["prompt"], stored["agentId"]) == ("chat", "hi\ufffdthere", "bot\ufffd")
    otel = stored["metadata"]["otel"]
    assert (otel["name"], otel["statusMessage"], otel["events"][0]["name"]) == ("chat\ufffdx", "bad\ufffd", "ev\ufffd")
    assert stored["metadata"]["attributes"] == {"k\ufffdey": "v\ufffd"}
    assert "\x00" not in str(reply.body)
