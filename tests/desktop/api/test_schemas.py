"""Wire schemas and the SSE parser: pure values, tolerant of fields added later."""

from __future__ import annotations

from datetime import UTC, datetime

from desktop.api import schemas
from desktop.api.errors import ApiError
from desktop.api.sse import SseParser

EVENT = {
    "id": "log_1", "action": "llm_call", "agentId": "bot", "prompt": "SSN 123-45-6789", "response": None,
    "metadata": {"model": "gpt-4o"}, "traceId": "t1", "spanId": "s1", "parentSpanId": None,
    "startedAt": "2026-01-15T10:00:00.000Z", "endedAt": "2026-01-15T10:00:01.250Z",
    "createdAt": "2026-01-15T10:00:01.300Z", "complianceFlags": ["CRITICAL_pii_detect_SSN Detection"],
    "enforcementAction": "flag", "sequence": 7, "hash": "ab" * 32,
    "violationDetails": [{"ruleId": "rule_1", "policyId": None, "name": "SSN Detection", "ruleType": "pii_detect",
                          "severity": "critical", "action": "flag",
                          "matches": [{"field": "prompt", "start": 4, "end": 15, "detector": "ssn"}]}],
    "someFieldAddedLater": {"x": 1},
}


def test_event_from_json_reads_every_field_and_ignores_new_ones() -> None:
    event = schemas.LogEvent.from_json(EVENT)
    assert (event.id, event.action, event.agent_id, event.trace_id, event.sequence) == ("log_1", "llm_call", "bot", "t1", 7)
    assert event.created_at == datetime(2026, 1, 15, 10, 0, 1, 300000, tzinfo=UTC)
    assert event.duration_ms == 1250
    assert event.flagged and event.enforcement_action == "flag"
    [violation] = event.violations
    assert violation.matches == (schemas.Match("prompt", 4, 15, "ssn"),)
    assert event.prompt is not None and event.prompt[4:15] == "123-45-6789"


def test_event_from_json_survives_missing_and_wrong_typed_fields() -> None:
    event = schemas.LogEvent.from_json({"id": "log_2", "action": "x", "sequence": "seven", "violationDetails": "?",
                                        "createdAt": "not a time"})
    assert (event.sequence, event.violations, event.created_at, event.enforcement_action) == (0, (), None, "allow")


def test_log_page_cursor_and_total() -> None:
    page = schemas.LogPage.from_json({"data": [EVENT], "pagination": {"total": 40, "limit": 1, "nextCursor": "log_1"}})
    assert (page.total, page.next_cursor, len(page.items)) == (40, "log_1", 1)
    last = schemas.LogPage.from_json({"data": [EVENT], "pagination": {"total": 1, "limit": 20}})
    assert last.next_cursor is None


def test_alert_status_falls_back_to_is_resolved() -> None:
    assert schemas.Alert.from_json({"id": "a", "isResolved": True}).status == "resolved"
    alert = schemas.Alert.from_json({"id": "a", "severity": "critical", "status": "false_positive", "note": "test"})
    assert alert.is_resolved and alert.note == "test"


def test_log_filter_query_leaves_out_empty_fields() -> None:
    flt = schemas.LogFilter(agent_id="bot", flagged=True, start=datetime(2026, 1, 15, 10, tzinfo=UTC), text="")
    assert flt.to_query() == {"agentId": "bot", "flagged": "true", "from": "2026-01-15T10:00:00.000Z"}
    assert schemas.LogFilter().is_empty


def test_api_error_from_the_json_error_body() -> None:
    body = (b'{"error": "invalid request", "status": 400, "code": "validation_error", "requestId": "r1",'
            b' "details": [{"field": "name", "message": "must not be empty"}]}')
    error = ApiError.from_response(400, body, {"x-request-id": "r0"})
    assert (error.status, error.code, error.message, error.request_id) == (400, "validation_error", "invalid request", "r1")
    assert error.details[0].field == "name"
    plain = ApiError.from_response(502, b"<html>bad gateway</html>", {"retry-after": "3"})
    assert (plain.code, plain.retry_after, plain.message) == ("server_error", 3, "the sidecar answered HTTP 502")


def test_sse_parser_handles_split_chunks_comments_and_crlf() -> None:
    parser = SseParser()
    assert parser.feed(b": keep-alive\n\nevent: log.cre") == []
    assert parser.feed(b"ated\r\ndata: {\"id\":") == []
    [event] = parser.feed(b" \"log_1\"}\r\n\r\nretry: 5000\n")
    assert (event.name, event.data) == ("log.created", '{"id": "log_1"}')
    assert parser.retry_ms == 5000
    [second] = parser.feed(b"data: a\ndata: b\n\n")
    assert (second.name, second.data) == ("message", "a\nb")


def test_stream_event_unwraps_log_and_alert() -> None:
    assert schemas.StreamEvent("log.created", EVENT).log == schemas.LogEvent.from_json(EVENT)
    wrapped = schemas.StreamEvent("alert.created", {"alert": {"id": "alert_1", "severity": "critical"}})
    assert wrapped.alert is not None and wrapped.alert.id == "alert_1"
    assert schemas.StreamEvent("alert.created", None).alert is None
