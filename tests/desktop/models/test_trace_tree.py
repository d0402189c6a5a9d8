"""The trace tree builder with plain values: links by spanId or id, orphans, loops, roll-ups, order, search,
and that building stays linear (a 60,000-span chain and a 60,000-span fan build in about the same time per
span as a small trace)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from desktop.api.schemas import LogEvent
from desktop.models.trace_tree import NO_PARENT, TraceTree, build, span_usage

T0 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def span(event_id: str, parent: str | None = None, *, span_id: str | None = None, start: int = 0,
         end: int | None = None, **extra: Any) -> LogEvent:
    return LogEvent(id=event_id, action=extra.pop("action", "step"), span_id=span_id, parent_span_id=parent,
                    started_at=T0 + timedelta(milliseconds=start),
                    ended_at=T0 + timedelta(milliseconds=start if end is None else end), **extra)


def shape(tree: TraceTree) -> dict[str, list[str]]:
    """Each node's children by id, plus the top-level rows under ``""``."""
    out = {"": [tree.spans[r].id for r in tree.roots]}
    for i, kids in enumerate(tree.children):
        if kids:
            out[tree.spans[i].id] = [tree.spans[k].id for k in kids]
    return out


def test_links_by_span_id_or_event_id_and_keeps_input_order() -> None:
    tree = build([
        span("log_a", span_id="root", start=0, end=900),
        span("log_b", "root", span_id="plan", start=10, end=200),
        span("log_c", "plan", span_id="search", start=20, end=150),
        span("log_d", "log_a", start=300, end=800),  # by the parent's event id
        span("log_e", "log_d", start=400, end=500),  # the parent has no spanId: its id is its ref
    ])
    assert shape(tree) == {"": ["log_a"], "log_a": ["log_b", "log_d"], "log_b": ["log_c"], "log_d": ["log_e"]}
    assert tree.depth == [0, 1, 2, 1, 2]
    assert tree.row == [0, 0, 0, 1, 0]
    assert [tree.spans[n].id for n in tree.preorder] == ["log_a", "log_b", "log_c", "log_d", "log_e"]
    assert [tree.spans[n].id for n in tree.ancestors(2)] == ["log_a", "log_b", "log_c"]
    assert (tree.orphans, tree.cut) == ([], [])
    assert tree.duration_ms == 900.0
    assert (tree.start_ms[4], tree.end_ms[4]) == (400.0, 500.0)


def test_orphans_hang_under_the_first_parentless_span() -> None:
    tree = build([span("log_x", "gone", start=5), span("log_root", start=0), span("log_y", "also-gone", start=7),
                  span("log_z", "log_root", start=9)])
    assert shape(tree) == {"": ["log_root"], "log_root": ["log_x", "log_y", "log_z"]}
    assert sorted(tree.orphans) == [0, 2]


def test_orphans_without_any_root_are_top_level_rows() -> None:
    tree = build([span("log_x", "gone"), span("log_y", "gone"), span("log_w", "log_x")])
    assert shape(tree) == {"": ["log_x", "log_y"], "log_x": ["log_w"]}


@pytest.mark.timeout(10)
def test_loops_are_cut_once_and_every_span_is_shown_once() -> None:
    tree = build([
        span("log_r"),
        span("log_a", "log_c"), span("log_b", "log_a"), span("log_c", "log_b"),  # a -> b -> c -> a
        span("log_t", "log_b"),  # hangs off the loop
        span("log_s", "log_s"),  # its own parent
    ])
    assert sorted(tree.preorder) == list(range(6))
    assert len(tree.cut) == 1
    cut = tree.cut[0]
    assert tree.parent[cut] == NO_PARENT and cut in tree.roots
    assert tree.spans[cut].id in {"log_a", "log_b", "log_c"}
    assert tree.parent[5] == NO_PARENT  # a self-parent is no parent
    assert tree.subtree_size[cut] == 4  # the three of the loop and the branch off it
    for node in range(6):  # every chain ends at a top-level row
        assert tree.ancestors(node)[0] in tree.roots


def test_rollups_sum_tokens_cost_and_latency_up_the_tree() -> None:
    tree = build([
        span("log_root", span_id="root", start=0, end=5000, metadata={"trigger": "queue"}),
        span("log_1", "root", span_id="s1", metadata={"tokens": 120, "cost": 0.002, "latency_ms": 800}),
        span("log_2", "s1", span_id="s2", metadata={"token_usage": {"input_tokens": 30, "output_tokens": 12},
                                                     "cost": 0.0005}),
        span("log_3", "root", span_id="s3", start=100, end=350, metadata={"tool": "search"}),
    ])
    root = tree.rollup(0)
    assert (root.spans, root.tokens, root.has_tokens, root.has_cost, root.has_latency) == (4, 162, True, True, True)
    assert root.cost == pytest.approx(0.0025)
    assert root.latency_ms == pytest.approx(5000 + 800 + 250)  # the root's own duration counts as its latency
    assert (tree.rollup(1).tokens, tree.rollup(1).spans) == (162, 2)
    leaf = tree.rollup(3)
    assert (leaf.tokens, leaf.has_tokens, leaf.has_cost, leaf.latency_ms) == (0, False, False, 250.0)
    assert tree.totals().tokens == 162


def test_span_usage_reads_the_metadata_names_in_use() -> None:
    assert span_usage(span("a", metadata={"tokens": 10, "cost": 1, "latency_ms": 5})) == (10, 1.0, 5.0)
    assert span_usage(span("a", metadata={"total_tokens": 7})) == (7, None, None)
    assert span_usage(span("a", metadata={"prompt_tokens": 3, "completion_tokens": 4})) == (7, None, None)
    assert span_usage(span("a", metadata={"tokens": True, "cost": "free"})) == (None, None, None)
    assert span_usage(span("a", metadata=["not", "a", "mapping"], end=40)) == (None, None, 40.0)


def test_replay_order_is_start_time_then_input_order() -> None:
    tree = build([span("a", start=50), span("b", "a", start=10), span("c", "a", start=10), span("d", start=0)])
    assert [tree.spans[n].id for n in tree.replay] == ["d", "b", "c", "a"]


def test_search_finds_text_in_display_order_any_case() -> None:
    tree = build([
        span("log_root", span_id="root", action="agent_run"),
        span("log_1", "root", span_id="s1", action="llm_call", prompt="SSN 123-45-6789 for patient intake"),
        span("log_2", "s1", span_id="s2", action="tool_use", response="Patient booked"),
        span("log_3", "root", span_id="s3", action="decision", compliance_flags=("CRITICAL_pii_detect_SSN",)),
    ])
    assert tree.search("PATIENT") == [1, 2]
    assert tree.search("ssn") == [1, 3]
    assert tree.search("s2") == [2]
    assert tree.search("  ") == []
    assert tree.node_of("log_2") == 2 and tree.node_of("s3") == 3 and tree.node_of("nope") is None


def test_status_marks_blocked_and_flagged() -> None:
    tree = build([span("a", enforcement_action="block", compliance_flags=("X",)),
                  span("b", compliance_flags=("Y",), enforcement_action="log"), span("c")])
    assert [tree.status(i) for i in range(3)] == ["blocked", "flagged", "ok"]


def _seconds_per_span(spans: list[LogEvent]) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        build(spans)
        best = min(best, time.perf_counter() - t0)
    return best / len(spans)


@pytest.mark.timeout(60)
def test_building_is_linear_for_deep_chains_and_wide_fans() -> None:
    small = [span("r")] + [span(f"n{i}", "r", start=i) for i in range(2_000)]
    chain = [span("n0")] + [span(f"n{i}", f"n{i - 1}", start=i) for i in range(1, 60_000)]
    fan = [span("r")] + [span(f"n{i}", "r", start=i) for i in range(60_000)]
    base = _seconds_per_span(small)
    deep = build(chain)
    assert max(deep.depth) == 59_999 and deep.rollup(0).spans == 60_000  # no recursion limit
    # a quadratic builder would be ~30 times slower per span at 30 times the size; allow noise, not that
    assert _seconds_per_span(chain) < base * 6
    assert _seconds_per_span(fan) < base * 6
