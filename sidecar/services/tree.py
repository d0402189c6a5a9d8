"""Trace trees from flat span lists, in linear time.

A span's parent is the span whose ``id`` or ``spanId`` equals its ``parentSpanId``;
a span whose parent is not in the trace (or that names itself) is a root.
"""

from __future__ import annotations

from typing import Any

from sidecar.clock import parse_iso

_RANK = {"allow": 0, "log": 1, "flag": 2, "block": 3}


def _index(spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    by_ref: dict[str, dict[str, Any]] = {}
    for span in spans:
        by_ref.setdefault(span["spanId"], span)
        by_ref[span["id"]] = span
    return by_ref


def _parent_of(span: dict[str, Any], by_ref: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    ref = span["parentSpanId"]
    if ref is None:
        return None
    parent = by_ref.get(ref)
    if parent is None or parent["id"] == span["id"]:
        return None
    return parent


def _children_map(spans: list[dict[str, Any]]) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    by_ref = _index(spans)
    children: dict[str, list[dict[str, Any]]] = {}
    roots: list[dict[str, Any]] = []
    for span in spans:  # spans come oldest first, so children lists are in time order
        parent = _parent_of(span, by_ref)
        if parent is None:
            roots.append(span)
        else:
            children.setdefault(parent["id"], []).append(span)
    return children, roots


def build_forest(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``[{id, children: [...]}]`` for the roots, nested; cycles are broken (each span appears once)."""
    children, roots = _children_map(spans)
    placed: set[str] = set()

    def node(span: dict[str, Any]) -> dict[str, Any]:
        placed.add(span["id"])
        return {"id": span["id"], "children": []}

    forest: list[dict[str, Any]] = []
    stack: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for root in roots:
        top = node(root)
        forest.append(top)
        stack.append((root, top))
        while stack:  # iterative: a 30,000-deep chain must not hit the recursion limit
            span, out = stack.pop()
            for child in children.get(span["id"], ()):
                if child["id"] in placed:
                    continue
                child_node = node(child)
                out["children"].append(child_node)
                stack.append((child, child_node))
    for span in spans:  # spans only reachable through a cycle: show them as roots
        if span["id"] not in placed:
            forest.append(node(span))
    return forest


def descendants(event: dict[str, Any], spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every span below ``event`` in its trace, oldest first."""
    children, _ = _children_map(spans)
    found: list[dict[str, Any]] = []
    seen = {event["id"]}
    stack = [event["id"]]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child["id"] not in seen:
                seen.add(child["id"])
                found.append(child)
                stack.append(child["id"])
    found.sort(key=lambda e: (e["startedAt"], e["sequence"]))
    return found


def ancestors(event: dict[str, Any], spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parent chain of ``event``, nearest first."""
    by_ref = _index(spans)
    chain: list[dict[str, Any]] = []
    seen = {event["id"]}
    current = by_ref.get(event["id"], event)
    while True:
        parent = _parent_of(current, by_ref)
        if parent is None or parent["id"] in seen:
            return chain
        seen.add(parent["id"])
        chain.append(parent)
        current = parent


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _tokens(metadata: Any) -> float | None:
    if not isinstance(metadata, dict):
        return None
    for key in ("tokens", "total_tokens", "totalTokens"):
        found = _number(metadata.get(key))
        if found is not None:
            return found
    usage = metadata.get("token_usage") or metadata.get("usage")
    if isinstance(usage, dict):
        return _number(usage.get("total_tokens") or usage.get("totalTokens"))
    return None


def summarize(trace_id: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts, time span, worst verdict and metadata roll-ups (tokens, cost) of a trace."""
    worst = "allow"
    agents: list[str] = []
    tokens = cost = 0.0
    has_tokens = has_cost = False
    for span in spans:
        if _RANK.get(span["enforcementAction"], 0) > _RANK[worst]:
            worst = span["enforcementAction"]
        if span["agentId"] is not None and span["agentId"] not in agents:
            agents.append(span["agentId"])
        found = _tokens(span["metadata"])
        if found is not None:
            tokens, has_tokens = tokens + found, True
        if isinstance(span["metadata"], dict):
            spent = _number(span["metadata"].get("cost"))
            if spent is not None:
                cost, has_cost = cost + spent, True
    _, roots = _children_map(spans)
    started = min(span["startedAt"] for span in spans)
    ended = max(span["endedAt"] for span in spans)
    return {
        "traceId": trace_id,
        "rootAction": roots[0]["action"] if roots else spans[0]["action"],
        "agentIds": agents,
        "spanCount": len(spans),
        "rootCount": len(roots),
        "flaggedCount": sum(1 for span in spans if span["complianceFlags"]),
        "blockedCount": sum(1 for span in spans if span["enforcementAction"] == "block"),
        "enforcementAction": worst,
        "startedAt": started,
        "endedAt": ended,
        "durationMs": parse_iso(ended) - parse_iso(started),
        "totalTokens": (int(tokens) if tokens.is_integer() else tokens) if has_tokens else None,
        "totalCost": round(cost, 6) if has_cost else None,
    }
