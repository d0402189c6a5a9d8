"""The ingest validator's fast path (one pass, no error collection) agrees with the field-by-field reader."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sidecar.api import schemas


def nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {}
    for _ in range(depth):
        node = {"d": node}
    return node


TEXTS = st.one_of(st.none(), st.text(max_size=20), st.just(""), st.just("  "), st.integers(), st.booleans(),
                  st.just("x" * (schemas.MAX_TEXT + 1)), st.lists(st.text(max_size=3), max_size=2))
IDS = st.one_of(st.none(), st.text(min_size=1, max_size=12), st.just(""), st.just("i" * (schemas.MAX_ID + 1)),
                st.integers(), st.floats(allow_nan=False))
TIMES = st.one_of(st.none(), st.just("2026-01-15T10:00:00.000Z"), st.just("2026-01-15T09:00:00+00:00"),
                  st.just("2026-01-15"), st.just("yesterday"), st.just(""), st.integers(), st.just("0001-01-01"))
METADATA = st.one_of(st.none(), st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=4),
                     st.just({"deep": [[[[[]]]]]}), st.just([1, 2]), st.just("text"),
                     st.just(nested(schemas.MAX_METADATA_DEPTH + 2)))
BODIES = st.one_of(
    st.fixed_dictionaries({}, optional={
        "action": st.one_of(TEXTS, st.just("llm_call"), st.just(" tool_use "), st.just("a" * 201)),
        "prompt": TEXTS, "response": TEXTS, "agentId": IDS, "traceId": IDS, "spanId": IDS, "parentSpanId": IDS,
        "startedAt": TIMES, "endedAt": TIMES, "metadata": METADATA, "unknown": st.integers(),
    }),
    st.none(), st.integers(), st.lists(st.integers(), max_size=2), st.text(max_size=5),
)

def slow(body: Any) -> schemas.EventInput | None:
    fields = schemas.Fields(body)
    event = schemas._event(fields)
    return None if fields.errors else event


@settings(max_examples=600, deadline=None)
@given(BODIES)
def test_the_fast_path_takes_exactly_the_valid_events(body: Any) -> None:
    assert schemas._valid_event(body) == slow(body)


def test_a_typical_event_takes_the_fast_path() -> None:
    body = {"action": " llm_call ", "agentId": "bot", "traceId": "t1", "prompt": "hi", "response": "",
            "metadata": {"tokens": 3, "tags": ["a"]}, "startedAt": "2026-01-15T10:00:00.000Z",
            "endedAt": "2026-01-15T10:00:01.000Z", "agent_version": 2}
    event = schemas._valid_event(body)
    assert event is not None and event == slow(body) and event.action == "llm_call"
    assert (event.started_at, event.ended_at) == (1_768_471_200_000, 1_768_471_201_000)


def test_metadata_limits_are_exact() -> None:
    depth, nodes = schemas.MAX_METADATA_DEPTH, schemas.MAX_METADATA_NODES
    assert schemas._shape_problem(nested(depth - 1)) is None  # depth levels of objects, the innermost empty
    assert schemas._shape_problem(nested(depth)) == f"is nested more than {depth} levels deep"
    deep_list: Any = []
    for _ in range(depth - 2):
        deep_list = [deep_list, 1]
    assert schemas._shape_problem({"l": deep_list}) is None  # a scalar at the last allowed level
    assert schemas._shape_problem({"l": [deep_list]}) == f"is nested more than {depth} levels deep"
    # the object itself counts as a value: it and nodes - 1 others pass, one more does not
    assert schemas._shape_problem({"a": [0] * (nodes - 2)}) is None
    assert schemas._shape_problem({"a": [0] * (nodes - 1)}) == f"has more than {nodes:,} values"
    assert schemas._shape_problem({"a": [{"b": [1, {"c": None}]}], "d": {"e": "f"}}) is None
