"""Building event bodies: snake_case arguments to the API's camelCase keys, timestamps, ids."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Mapping
from typing import Any


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
        body["metadata"] = dict(metadata)
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


def normalise_entry(entry: Mapping[str, Any], default_agent: str | None) -> dict[str, Any]:
    """A ``log_batch`` entry: camelCase keys pass through, snake_case ones are renamed; the default agent fills in."""
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if value is None:
            continue
        key = _KEYS.get(key, key)
        if key in ("startedAt", "endedAt") and not isinstance(value, str):
            value = iso(value)
        out[key] = value
    if default_agent is not None and "agentId" not in out:
        out["agentId"] = default_agent
    return out
