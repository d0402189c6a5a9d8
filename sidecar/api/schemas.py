"""Request validation: JSON bodies and query strings into typed inputs, or InvalidInput naming each bad field.

Hand-written on purpose: ingest validates every event on the hot path, and these
checks cost microseconds where a schema library costs tens of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from sidecar.clock import parse_iso
from sidecar.errors import FieldError, InvalidInput, UnsupportedMediaType
from sidecar.services.ingest import EventInput
from sidecar.services.principal import ROLES, SCOPES
from sidecar.store.logs import LogFilter
from sidecar.store.traces import TraceFilter

MAX_TEXT = 100_000
MAX_ID = 200
MAX_BATCH = 50
MAX_METADATA_DEPTH = 32
MAX_METADATA_NODES = 10_000
ENFORCEMENT_ACTIONS = ("allow", "log", "flag", "block")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}")
#: PostgreSQL cannot store U+0000 in text; it is refused on every backend alike, naming the field.
NUL_MESSAGE = "must not contain NUL characters (\\u0000)"


def require_json(request: web.Request) -> None:
    """A JSON body sent without a credential must say so: ``Content-Type: application/json`` (a charset
    parameter may follow). Any other type is refused before the body is read, so a cross-site form or
    ``text/plain`` POST, which a browser sends without asking (no CORS preflight), cannot reach a public route
    (register, login, refresh). A request carrying ``X-API-Key`` or ``Authorization`` cannot come from such a
    page (either header needs a preflight, which the sidecar never grants; the sidecar asks for no HTTP auth a
    browser would cache), so its body is parsed as JSON whatever type it declares, as clients written for the
    hosted API expect (``curl -d``, ``urllib`` with ``data=``). Raises UnsupportedMediaType (415)."""
    if "X-API-Key" in request.headers or "Authorization" in request.headers:
        return
    declared = request.headers.get("Content-Type", "")
    if declared.split(";", 1)[0].strip().lower() != "application/json":
        got = f"got {declared[:100]!r}" if declared else "none was given"
        raise UnsupportedMediaType(f"send the body as JSON with Content-Type: application/json ({got})")


async def json_body(request: web.Request) -> Any:
    """The parsed JSON body. Raises UnsupportedMediaType unless it is declared JSON, InvalidInput for an empty or
    malformed body (413 comes from aiohttp)."""
    require_json(request)
    raw = await request.read()
    if not raw.strip():
        raise InvalidInput("the request body is empty; send JSON", [FieldError("body", "required")])
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the request body is not valid JSON: {exc.msg}", [FieldError("body", "invalid JSON")]) from None


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__)


class Fields:
    """Collects field errors while reading one object, so a 400 lists them all."""

    def __init__(self, body: Any, prefix: str = "") -> None:
        self.prefix = prefix
        self.errors: list[FieldError] = []
        if not isinstance(body, dict):
            self.errors.append(FieldError(prefix.rstrip(".") or "body", f"must be a JSON object, got {_type_name(body)}"))
            body = {}
        self.body: dict[str, Any] = body

    def bad(self, name: str, message: str) -> None:
        self.errors.append(FieldError(f"{self.prefix}{name}", message))

    def string(self, name: str, *, required: bool = False, min_len: int = 0, max_len: int = MAX_TEXT,
               strip: bool = False) -> str | None:
        value = self.body.get(name)
        if value is None:
            if required:
                self.bad(name, "is required")
            return None
        if not isinstance(value, str):
            self.bad(name, f"must be a string, got {_type_name(value)}")
            return None
        if "\x00" in value:
            self.bad(name, NUL_MESSAGE)
            return None
        if strip:
            value = value.strip()
        if len(value) < min_len:
            self.bad(name, "must not be empty" if min_len == 1 else f"must be at least {min_len} characters")
            return None
        if len(value) > max_len:
            self.bad(name, f"must be at most {max_len:,} characters (got {len(value):,})")
            return None
        return value

    def timestamp(self, name: str) -> int | None:
        value = self.body.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            self.bad(name, f"must be an ISO 8601 timestamp string, got {_type_name(value)}")
            return None
        try:
            return parse_iso(value)
        except ValueError:
            self.bad(name, "must be an ISO 8601 timestamp such as 2026-01-15T10:00:00.000Z")
            return None

    def choice(self, name: str, options: tuple[str, ...], *, required: bool = False) -> str | None:
        value = self.string(name, required=required, max_len=100)
        if value is not None and value not in options:
            self.bad(name, f"must be one of {', '.join(options)}")
            return None
        return value

    def string_list(self, name: str, *, options: tuple[str, ...] | None = None) -> list[str] | None:
        value = self.body.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.bad(name, "must be an array of strings")
            return None
        if any("\x00" in v for v in value):
            self.bad(name, NUL_MESSAGE)
            return None
        if options is not None:
            unknown = [v for v in value if v not in options]
            if unknown:
                self.bad(name, f"unknown value {unknown[0]!r}; allowed: {', '.join(options)}")
                return None
        return list(dict.fromkeys(value))

    def json_object(self, name: str) -> Any:
        value = self.body.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.bad(name, f"must be a JSON object, got {_type_name(value)}")
            return None
        problem = _shape_problem(value)
        if problem:
            self.bad(name, problem)
            return None
        return value

    def done(self) -> None:
        if self.errors:
            raise InvalidInput.fields(self.errors)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _has_nul(values: Any) -> bool:
    return any(type(v) is str and "\x00" in v for v in values)


def contains_nul(value: Any) -> bool:
    """Whether a JSON value holds U+0000 in any key or string (walked without recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            if "\x00" in item:
                return True
        elif kind is dict:
            if _has_nul(item):
                return True
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
    return False


def _shape_problem(value: Any) -> str | None:
    """Reject metadata nested too deeply or too large, or holding a NUL character in a key or string. Walks one
    level at a time (no recursion on hostile input), so a value's depth is its level's and each level is counted
    in one step."""
    if type(value) is dict and len(value) <= MAX_METADATA_NODES and _SCALARS.issuperset(map(type, value.values())):
        if _has_nul(value) or _has_nul(value.values()):
            return NUL_MESSAGE
        return None  # the common case: one flat object of plain values
    level = [value]
    nodes = 0
    depth = 1
    while level:
        nodes += len(level)
        if nodes > MAX_METADATA_NODES:
            return f"has more than {MAX_METADATA_NODES:,} values"
        if depth > MAX_METADATA_DEPTH:
            return f"is nested more than {MAX_METADATA_DEPTH} levels deep"
        below: list[Any] = []
        for item in level:
            kind = type(item)
            if kind is dict:
                if _has_nul(item):
                    return NUL_MESSAGE
                below += item.values()
            elif kind is list:
                below += item
            elif kind is str and "\x00" in item:
                return NUL_MESSAGE
        level = below
        depth += 1
    return None


# -- audit events ----------------------------------------------------------------------------------

def _event(fields: Fields) -> EventInput | None:
    action = fields.string("action", required=True, min_len=1, max_len=200, strip=True)
    event = EventInput(
        action=action or "",
        prompt=fields.string("prompt"),
        response=fields.string("response"),
        agent_id=fields.string("agentId", min_len=1, max_len=MAX_ID),
        trace_id=fields.string("traceId", min_len=1, max_len=MAX_ID),
        span_id=fields.string("spanId", min_len=1, max_len=MAX_ID),
        parent_span_id=fields.string("parentSpanId", min_len=1, max_len=MAX_ID),
        started_at=fields.timestamp("startedAt"),
        ended_at=fields.timestamp("endedAt"),
        metadata=fields.json_object("metadata"),
    )
    if event.started_at is not None and event.ended_at is not None and event.ended_at < event.started_at:
        fields.bad("endedAt", "must not be before startedAt")
    return event


def _id_ok(value: Any) -> bool:
    return value is None or (type(value) is str and 0 < len(value) <= MAX_ID)


def _text_ok(value: Any) -> bool:
    return value is None or (type(value) is str and len(value) <= MAX_TEXT)


def _valid_event(body: Any) -> EventInput | None:
    """The event when ``body`` is valid, read in one go (the ingest hot path); None when anything is off, and
    then :func:`_event` reads it again field by field to name every problem. The rules are those of
    :func:`_event` (a test holds the two to the same answers)."""
    if type(body) is not dict:
        return None
    get = body.get
    action, metadata = get("action"), get("metadata")
    if type(action) is not str or not 0 < len(action := action.strip()) <= 200:
        return None
    prompt, response = get("prompt"), get("response")
    agent_id, trace_id, span_id, parent = get("agentId"), get("traceId"), get("spanId"), get("parentSpanId")
    if not (_text_ok(prompt) and _text_ok(response) and _id_ok(agent_id) and _id_ok(trace_id) and _id_ok(span_id)
            and _id_ok(parent)):
        return None
    if "\x00" in action or _has_nul((prompt, response, agent_id, trace_id, span_id, parent)):
        return None
    if metadata is not None and (type(metadata) is not dict or _shape_problem(metadata)):
        return None
    started, ended = get("startedAt"), get("endedAt")
    try:
        started_ms = None if started is None else parse_iso(started)
        ended = started_ms if ended == started else None if ended is None else parse_iso(ended)  # SDKs send both
        started = started_ms
    except (ValueError, TypeError, OverflowError):
        return None
    if started is not None and ended is not None and ended < started:
        return None
    return EventInput(action=action, prompt=prompt, response=response, agent_id=agent_id, trace_id=trace_id,
                      span_id=span_id, parent_span_id=parent, started_at=started, ended_at=ended, metadata=metadata)


def audit_event(body: Any) -> EventInput:
    """One ``POST /audit-logs`` body."""
    event = _valid_event(body)
    if event is not None:
        return event
    fields = Fields(body)
    event = _event(fields)
    fields.done()
    assert event is not None
    return event


def audit_batch(body: Any) -> list[EventInput]:
    """A ``POST /audit-logs/batch`` body: 1 to 50 events, all valid or the whole batch is refused."""
    if isinstance(body, dict) and isinstance(body.get("logs"), list):
        body = body["logs"]  # also accept {"logs": [...]}
    if not isinstance(body, list):
        raise InvalidInput(f"the batch must be a JSON array of events, got {_type_name(body)}",
                           [FieldError("body", "must be an array")])
    if not 1 <= len(body) <= MAX_BATCH:
        raise InvalidInput(f"a batch holds 1 to {MAX_BATCH} events, got {len(body)}",
                           [FieldError("body", f"must hold 1 to {MAX_BATCH} entries")])
    events: list[EventInput] = []
    problems: list[FieldError] = []
    for index, item in enumerate(body):
        valid = _valid_event(item)
        if valid is not None:
            events.append(valid)
            continue
        fields = Fields(item, prefix=f"[{index}].")
        event = _event(fields)
        if fields.errors:
            problems.extend(fields.errors)
        elif event is not None:
            events.append(event)
    if problems:
        first = problems[0].field.split(".")[0].strip("[]")
        raise InvalidInput(f"entry {first} is invalid: {problems[0].field}: {problems[0].message}", problems)
    return events


# -- query strings ---------------------------------------------------------------------------------

def _query_int(query: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput.fields([FieldError(name, "must be an integer")]) from None
    if not low <= value <= high:
        raise InvalidInput.fields([FieldError(name, f"must be between {low} and {high}")])
    return value


def paging(query: Mapping[str, str]) -> tuple[int, int, int]:
    """``(limit, offset, page)`` from ``limit`` and ``offset`` or 1-based ``page``."""
    limit = _query_int(query, "limit", 20, low=1, high=500)
    page = _query_int(query, "page", 1, low=1, high=10**7)  # checked even when offset wins
    if query.get("offset") not in (None, ""):
        offset = _query_int(query, "offset", 0, low=0, high=10**9)
        return limit, offset, offset // limit + 1
    return limit, (page - 1) * limit, page


def _query_time(query: Mapping[str, str], *names: str) -> int | None:
    """The first of ``names`` given (``startDate`` or its alias ``from``); every one given must be a timestamp,
    so a bad alias is not silently ignored beside a good one."""
    found: int | None = None
    for name in names:
        raw = query.get(name)
        if raw:
            try:
                value = parse_iso(raw)
            except ValueError:
                raise InvalidInput.fields([FieldError(name, "must be an ISO 8601 timestamp")]) from None
            found = value if found is None else found
    return found


def _query_bool(query: Mapping[str, str], name: str) -> bool | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise InvalidInput.fields([FieldError(name, "must be true or false")])


def _query_choice(query: Mapping[str, str], name: str, options: tuple[str, ...]) -> str | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in options:
        raise InvalidInput.fields([FieldError(name, f"must be one of {', '.join(options)}")])
    return raw


def log_filter(query: Mapping[str, str]) -> LogFilter:
    start = _query_time(query, "startDate", "from")
    end = _query_time(query, "endDate", "to")
    if start is not None and end is not None and end < start:
        raise InvalidInput.fields([FieldError("endDate", "must not be before startDate")])
    text = query.get("q") or None
    if text is not None and len(text) > 500:
        raise InvalidInput.fields([FieldError("q", "must be at most 500 characters")])
    return LogFilter(
        agent_id=query.get("agentId") or None,
        action=query.get("action") or None,
        trace_id=query.get("traceId") or None,
        enforcement=_query_choice(query, "enforcementAction", ENFORCEMENT_ACTIONS),
        flagged=_query_bool(query, "flagged"),
        start_ms=start,
        end_ms=end,
        text=text,
    )


def trace_filter(query: Mapping[str, str]) -> TraceFilter:
    flt = log_filter(query)
    return TraceFilter(agent_id=flt.agent_id, action=flt.action, enforcement=flt.enforcement, flagged=flt.flagged,
                       start_ms=flt.start_ms, end_ms=flt.end_ms, trace_id=flt.trace_id, text=flt.text)


# -- accounts --------------------------------------------------------------------------------------

def _email(fields: Fields, name: str = "email") -> str | None:
    value = fields.string(name, required=True, min_len=3, max_len=320, strip=True)
    if value is not None and not _EMAIL.fullmatch(value):
        fields.bad(name, "must be an email address")
        return None
    return value


def _password(fields: Fields, name: str = "password", *, required: bool = True) -> str | None:
    value = fields.body.get(name)
    if value is None and not required:
        return None
    return fields.string(name, required=True, min_len=8, max_len=128)


def register(body: Any) -> tuple[str, str, str]:
    fields = Fields(body)
    name = fields.string("name", required=True, min_len=1, max_len=200, strip=True)
    email = _email(fields)
    password = _password(fields)
    fields.done()
    return name or "", email or "", password or ""


def login(body: Any) -> tuple[str, str]:
    fields = Fields(body)
    email = fields.string("email", required=True, min_len=1, max_len=320, strip=True)
    password = fields.string("password", required=True, min_len=1, max_len=1024)
    fields.done()
    return email or "", password or ""


def refresh(body: Any) -> str:
    fields = Fields(body)
    token = fields.string("refreshToken", required=True, min_len=1, max_len=4096)
    fields.done()
    return token or ""


def update_me(body: Any) -> tuple[str | None, str | None, str | None]:
    fields = Fields(body)
    name = fields.string("name", min_len=1, max_len=200, strip=True)
    password = _password(fields, required=False)
    current = fields.string("currentPassword", max_len=1024)
    fields.done()
    return name, password, current


def new_user(body: Any) -> tuple[str, str, str, str]:
    fields = Fields(body)
    email = _email(fields)
    name = fields.string("name", required=True, min_len=1, max_len=200, strip=True)
    password = _password(fields)
    role = fields.choice("role", ROLES, required=True)
    fields.done()
    return email or "", name or "", password or "", role or ""


def user_change(body: Any) -> tuple[str | None, str | None]:
    fields = Fields(body)
    name = fields.string("name", min_len=1, max_len=200, strip=True)
    role = fields.choice("role", ROLES)
    if name is None and role is None and not fields.errors:
        fields.bad("body", "send name and/or role")
    fields.done()
    return name, role


def new_api_key(body: Any) -> tuple[str, list[str] | None]:
    fields = Fields(body)
    name = fields.string("name", required=True, min_len=1, max_len=200, strip=True)
    scopes = fields.string_list("scopes", options=SCOPES)
    if scopes is not None and not scopes:
        fields.bad("scopes", "must name at least one scope")
    fields.done()
    return name or "", scopes
