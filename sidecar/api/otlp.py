"""``POST /v1/traces``: OTLP/HTTP trace export (protobuf or JSON, optionally gzip) into audit events.

Decoding uses the official ``opentelemetry-proto`` messages. OTLP/JSON writes trace and span ids
as hex (not protobuf-JSON's base64), so they are converted before parsing. The answer is an
``ExportTraceServiceResponse`` in the request's encoding, with ``partialSuccess`` counting spans
that could not be taken.

A NUL character (U+0000) in a span's name, attributes (keys and values), events, status message or scope is
replaced by U+FFFD, where the REST API refuses it with a 400: PostgreSQL cannot store U+0000 in text, and
an OTLP exporter cannot fix its data (most drop a batch on a 400), so refusing would lose every other span of
the export from the audit trail. The replacement is visible in the stored event.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import orjson
from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from sidecar.api.keys import PRINCIPAL, SERVICES, SETTINGS
from sidecar.api.schemas import _shape_problem
from sidecar.api.middlewares import requires
from sidecar.errors import FieldError, InvalidInput
from sidecar.services import principal as perms
from sidecar.services.ingest import EventInput
from sidecar.services.otel import Span, to_event

MAX_DECOMPRESSED = 16 * 1024 * 1024
MAX_SPANS = 10_000
_ID_KEYS = ("traceId", "spanId", "parentSpanId")


async def _read(request: web.Request) -> bytes:
    """The body, within the API's body limit however it arrives (with a Content-Length over it the middleware
    has refused it already; chunked, it is counted here). A compressed body (which aiohttp inflates as it
    reads) may grow to :data:`MAX_DECOMPRESSED` once inflated: exporters gzip batches of up to 512 spans."""
    compressed = request.headers.get("Content-Encoding", "").lower() not in ("", "identity")
    limit = MAX_DECOMPRESSED if compressed else request.app[SETTINGS].max_body_bytes
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
        chunks.append(chunk)


def _body(raw: bytes, encoding: str) -> bytes:
    """aiohttp inflates gzip bodies itself; inflate here only what still looks compressed."""
    if encoding in ("", "identity") or not raw.startswith(b"\x1f\x8b"):
        return raw
    if encoding != "gzip":
        raise InvalidInput(f"unsupported Content-Encoding {encoding!r}; send gzip or none",
                           [FieldError("Content-Encoding", "must be gzip or identity")])
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, MAX_DECOMPRESSED)
    except zlib.error:
        raise InvalidInput("the gzip body is corrupt", [FieldError("body", "invalid gzip")]) from None
    if inflater.unconsumed_tail:
        raise InvalidInput(f"the decompressed body is larger than {MAX_DECOMPRESSED // 1024 // 1024} MiB",
                           [FieldError("body", "too large")])
    return out


def _hex_ids_to_base64(node: Any) -> None:
    """OTLP/JSON ids are hex; protobuf's JSON parser wants base64 for bytes fields."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key in _ID_KEYS and isinstance(value, str) and value:
                    try:
                        item[key] = base64.b64encode(bytes.fromhex(value)).decode()
                    except ValueError:
                        raise InvalidInput(f"{key} {value!r} is not hex", [FieldError(key, "must be hex")]) from None
                else:
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def decode(raw: bytes, content_type: str) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    if content_type.startswith("application/json"):
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"the body is not valid JSON: {exc.msg}", [FieldError("body", "invalid JSON")]) from None
        if not isinstance(document, dict):
            raise InvalidInput("not an OTLP trace export: the JSON body must be an object",
                               [FieldError("body", "must be a JSON object")])
        _hex_ids_to_base64(document)
        try:
            json_format.ParseDict(document, request, ignore_unknown_fields=True)
        except json_format.ParseError as exc:
            raise InvalidInput(f"not an OTLP trace export: {exc}"[:300], [FieldError("body", "invalid OTLP")]) from None
        return request
    if content_type.startswith("application/x-protobuf") or content_type.startswith("application/protobuf"):
        try:
            request.ParseFromString(raw)
        except DecodeError:
            raise InvalidInput("the body is not an OTLP protobuf message", [FieldError("body", "invalid OTLP")]) from None
        return request
    raise InvalidInput("send application/x-protobuf or application/json",
                       [FieldError("Content-Type", "must be application/x-protobuf or application/json")])


def _clean(text: str) -> str:
    """U+0000 replaced by U+FFFD: PostgreSQL cannot store it, and one NUL should not cost a whole export (see the
    module docstring)."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _value(value: AnyValue, depth: int = 0, kind: str | None = None) -> Any:
    kind = kind or value.WhichOneof("value")
    if kind == "string_value":
        return _clean(value.string_value)
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(v, depth + 1) for v in value.array_value.values] if depth < 8 else "…"
    if kind == "kvlist_value":
        return {_clean(kv.key): _value(kv.value, depth + 1) for kv in value.kvlist_value.values} if depth < 8 else "…"
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)


def _attributes(items: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for kv in items:
        value, key = kv.value, kv.key
        text = value.string_value  # most values are non-empty strings: one read, no WhichOneof
        if "\x00" in key:
            key = _clean(key)
        found[key] = (_clean(text) if "\x00" in text else text) if text else _value(value)
    return found


def spans_of(request: ExportTraceServiceRequest) -> tuple[list[Span], int]:
    """The decodable spans, and how many were rejected (no trace or span id, or over the limit)."""
    spans: list[Span] = []
    rejected = 0
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = _clean(scope_spans.scope.name)
            for span in scope_spans.spans:
                trace_id, span_id = span.trace_id, span.span_id
                if len(trace_id) != 16 or len(span_id) != 8 or len(spans) >= MAX_SPANS:
                    rejected += 1
                    continue
                parent, status = span.parent_span_id, span.status
                spans.append(Span(  # enums and times come out of upb as ints already
                    trace_id.hex(), span_id.hex(), parent.hex() if parent else None, _clean(span.name), span.kind,
                    span.start_time_unix_nano, span.end_time_unix_nano, _attributes(span.attributes), status.code,
                    _clean(status.message),
                    [{"name": _clean(e.name), "timeUnixNano": str(e.time_unix_nano),
                      "attributes": _attributes(e.attributes)}
                     for e in span.events[:20]] if span.events else [],
                    resource, scope,
                ))
    return spans, rejected


def _answer(rejected: int, message: str, as_json: bool) -> web.Response:
    response = ExportTraceServiceResponse()
    if rejected:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = message
    if as_json:
        return web.Response(body=json_format.MessageToJson(response).encode(), content_type="application/json")
    return web.Response(body=response.SerializeToString(), content_type="application/x-protobuf")


@requires(perms.INGEST)
async def export_traces(request: web.Request) -> web.Response:
    content_type = request.headers.get("Content-Type", "application/x-protobuf").lower()
    raw = _body(await _read(request), request.headers.get("Content-Encoding", "").lower())
    spans, rejected = spans_of(decode(raw, content_type))
    problems = [f"{rejected} span(s) had no valid trace or span id or exceeded {MAX_SPANS} per request"] if rejected \
        else []
    events, oversized = events_of(spans)
    if oversized:
        rejected += len(oversized)
        problems.append(f"{len(oversized)} span(s) refused: their metadata (attributes, events, resource) "
                        f"{oversized[0][1]}; first: span {oversized[0][0]}")
    if events:
        await request.app[SERVICES].ingest.ingest(request[PRINCIPAL], events)
    return _answer(rejected, "; ".join(problems), content_type.startswith("application/json"))


def events_of(spans: list[Span]) -> tuple[list[EventInput], list[tuple[str, str]]]:
    """The spans as audit events, and ``(span, problem)`` for those whose metadata is over the API's limits
    (the REST API's: 32 levels, 10,000 values); those are refused (OTLP partial success), not stored."""
    events: list[EventInput] = []
    oversized: list[tuple[str, str]] = []
    for span in spans:
        event = to_event(span)
        problem = _shape_problem(event.metadata)
        if problem is None:
            events.append(event)
        else:
            oversized.append((f"{span.name[:100]!r} ({span.span_id})", problem))
    return events, oversized
