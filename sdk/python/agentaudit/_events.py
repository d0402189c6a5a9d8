"""Building event bodies: snake_case arguments to the API's camelCase keys, timestamps, ids, and JSON values.

Metadata (and any other field) may hold values JSON has no type for; they are sent as :func:`json_value` says: a
datetime as ISO 8601 UTC with milliseconds and ``Z`` (like every time the SDK sends), a date or time in ISO
format, a set as a list (sorted when its items allow), bytes as UTF-8 text (undecodable bytes become U+FFFD), any
list or tuple (a namedtuple too) as an array, any other mapping as an object, anything else as its ``str()``; the
same in background mode, where :func:`snapshot` copies them. NaN and infinities have no JSON form: they are refused
(:class:`~agentaudit.ValidationError` naming the field) rather than sent as invalid JSON.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from collections.abc import Mapping
from typing import Any

from agentaudit._errors import ValidationError


_KEYS = {
    "agent_id": "agentId", "trace_id": "traceId", "span_id": "spanId", "parent_span_id": "parentSpanId",
    "started_at": "startedAt", "ended_at": "endedAt",
}


def iso(value: dt.datetime | float | str) -> str:
    """ISO 8601 UTC with milliseconds and ``Z`` from a datetime, an epoch float or a string (kept as is)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        value = value.timestamp()
    whole = int(value)
    millis = int(round((value - whole) * 1000))
    if millis == 1000:
        whole, millis = whole + 1, 0
    prefix = _SECONDS.get(whole)
    if prefix is None:  # events come in bursts within a second: format each second once
        if len(_SECONDS) >= 256:
            _SECONDS.clear()
        prefix = _SECONDS[whole] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    return f"{prefix}.{millis:03d}Z"


_SECONDS: dict[int, str] = {}  # whole epoch seconds -> formatted; single get/set are atomic across threads


_ATOMIC = frozenset({str, int, float, bool, type(None)})


def json_value(value: Any) -> Any:
    """A value JSON can hold for one it has no type for (``json.dumps``'s ``default``); see the module docstring."""
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


def snapshot(value: Any) -> Any:
    """``value`` as it is now, for an event sent later: dicts and lists are copied all the way down, other values
    converted at once by :func:`json_value` (so later changes by the caller don't reach the sidecar).

    The caller's cost is a copy of the containers (a dict of a few numbers and strings: well under a microsecond).
    A structure that contains itself raises RecursionError.
    """
    kind = type(value)
    if kind is dict:
        for item in value.values():
            if type(item) not in _ATOMIC:
                break
        else:
            return value.copy()  # flat, the common case: one C-level copy
        copy = value.copy()
        for key, item in copy.items():
            if type(item) not in _ATOMIC:
                copy[key] = snapshot(item)
        return copy
    if kind is list or kind is tuple:
        return [item if type(item) in _ATOMIC else snapshot(item) for item in value]
    if kind in _ATOMIC or isinstance(value, (str, int, float)):  # immutable, and JSON takes their subclasses
        return value
    if isinstance(value, (list, tuple)):  # a namedtuple or list subclass: an array, as json.dumps sends it
        return [snapshot(item) for item in value]
    if isinstance(value, Mapping):  # a dict subclass or any other mapping: an object
        return {key: snapshot(item) for key, item in value.items()}
    converted = json_value(value)
    return converted if type(converted) is str else snapshot(converted)


def invalid(field: str, problem: str) -> ValidationError:
    """The error the sidecar would answer for a bad field, raised by the SDK before anything is sent."""
    return ValidationError(400, f"{field} {problem} (checked by the SDK: nothing was sent)", code="validation_error",
                           details=[{"field": field, "message": problem}])


def problem(exc: BaseException) -> str:
    """What is wrong, for a warning: the fields an SDK-side ValidationError names, else the exception's text."""
    if isinstance(exc, RecursionError):
        return "a value contains itself or is nested too deeply"
    details = getattr(exc, "details", None)
    if isinstance(exc, ValidationError) and details:
        return "; ".join(f"{d.get('field')} {d.get('message')}" for d in details if isinstance(d, dict))
    return f"{type(exc).__name__}: {exc}"


def metadata_object(metadata: Any, field: str = "metadata") -> dict[str, Any]:
    """``metadata`` as a dict (a copy of a mapping that is not one); ValidationError when it is no mapping."""
    if type(metadata) is dict:
        return metadata
    if isinstance(metadata, Mapping):
        return dict(metadata)
    raise invalid(field, f"must be a JSON object (a dict), got {type(metadata).__name__}")


def unencodable(body: Any, exc: BaseException) -> ValidationError:
    """The error for a body ``json.dumps`` refused, naming the first field at fault where it can be found."""
    found = _first_unencodable(body)
    if found is None:
        return invalid("body", f"cannot be encoded as JSON: {exc}")
    return invalid(*found)


def _first_unencodable(body: Any) -> tuple[str, str] | None:
    """(path, problem) of the first value JSON cannot hold: NaN or an infinity, a key of a type JSON has no
    text for, a container that contains itself. Iterative, so depth is no problem."""
    stack: list[tuple[Any, str, frozenset[int]]] = [(body, "", frozenset())]
    while stack:
        value, path, above = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return path or "body", f"is {value!r}, which JSON cannot hold (NaN and infinities have no JSON form)"
        if isinstance(value, (dict, list, tuple)):
            if id(value) in above:
                return path or "body", "contains itself"
            inner = above | {id(value)}
            if isinstance(value, dict):
                children = []
                for key, item in value.items():
                    if not isinstance(key, (str, int, float, bool)) and key is not None:
                        return path or "body", f"has a key of type {type(key).__name__}; JSON keys are text"
                    children.append((item, f"{path}.{key}" if path else str(key), inner))
            else:
                children = [(item, f"{path}[{i}]", inner) for i, item in enumerate(value)]
            stack.extend(reversed(children))
    return None


def new_trace_id() -> str:
    return os.urandom(16).hex()


def new_span_id() -> str:
    return os.urandom(8).hex()


def event_body(action: str, *, prompt: str | None = None, response: str | None = None,
               metadata: Mapping[str, Any] | None = None, agent_id: str | None = None, trace_id: str | None = None,
               span_id: str | None = None, parent_span_id: str | None = None,
               started_at: dt.datetime | float | str | None = None, ended_at: dt.datetime | float | str | None = None,
               extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON body of one event; None values are left out."""
    body: dict[str, Any] = {"action": action}
    if prompt is not None:
        body["prompt"] = prompt
    if response is not None:
        body["response"] = response
    if metadata is not None:
        body["metadata"] = dict(metadata_object(metadata))
    if agent_id is not None:
        body["agentId"] = agent_id
    if trace_id is not None:
        body["traceId"] = trace_id
    if span_id is not None:
        body["spanId"] = span_id
    if parent_span_id is not None:
        body["parentSpanId"] = parent_span_id
    if started_at is not None:
        body["startedAt"] = iso(started_at)
    if ended_at is not None:
        body["endedAt"] = iso(ended_at)
    if extra:
        body.update(extra)
    return body


def batch_entries(entries: Any) -> list[Any]:
    """``log_batch``'s argument as a list; ValidationError (field ``entries``) when it is no sequence of events."""
    if entries is None or isinstance(entries, (str, bytes, bytearray, Mapping)):
        raise invalid("entries", f"must be a list of events (dicts), got {type(entries).__name__}")
    try:
        return list(entries)
    except TypeError:
        raise invalid("entries", f"must be a list of events (dicts), got {type(entries).__name__}") from None


def normalise_entry(entry: Any, default_agent: str | None, index: int = 0, *, copy: bool = False) -> dict[str, Any]:
    """A ``log_batch`` entry: camelCase keys pass through, snake_case ones are renamed; the default agent fills in.

    Args:
        index: the entry's position, to name it in a ValidationError (``[3]``, ``[3].metadata``).
        copy: take a :func:`snapshot` of every value (for an event sent later).
    """
    if not isinstance(entry, Mapping):
        raise invalid(f"[{index}]", f"must be a JSON object (a dict), got {type(entry).__name__}")
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if value is None:
            continue
        key = _KEYS.get(key, key)
        if key in ("startedAt", "endedAt") and not isinstance(value, str):
            value = iso(value)
        elif key == "metadata":
            value = metadata_object(value, f"[{index}].metadata")
        out[key] = snapshot(value) if copy else value
    if default_agent is not None and "agentId" not in out:
        out["agentId"] = default_agent
    return out
