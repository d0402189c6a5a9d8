"""A trace's spans as a tree, built in linear time: links, depths, display and replay order, and roll-ups.

Pure Python (no Qt), so it is tested with plain values. A span's ``parentSpanId`` names its parent by
``spanId`` or by ``id`` (API.md). A span whose parent is not in the trace (an orphan) hangs under the trace's
first parentless span, or is a top-level row when there is none. A parent chain that loops (``a -> b -> a``)
is cut at one of its spans, which becomes a top-level row, so every span is shown exactly once and nothing
walks forever.

Nodes are numbered by their position in the input (the API's order: oldest first); every per-node fact is a
list indexed by that number, which keeps 30,000 spans cheap to build and to read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop.api.schemas import LogEvent

NO_PARENT = -1


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def span_usage(event: LogEvent) -> tuple[int | None, float | None, float | None]:
    """``(tokens, cost, latency_ms)`` of one span from its metadata; None where the span does not say.

    Tokens: ``tokens`` (what the SDKs and the OTLP mapping write), else ``total_tokens``, else the sum of
    ``token_usage``'s input and output counts (or ``prompt_tokens`` + ``completion_tokens``). Latency:
    ``latency_ms``, else the span's own duration when it has a start and an end that differ.
    """
    meta = event.metadata if isinstance(event.metadata, Mapping) else {}
    tokens = _number(meta.get("tokens"))
    if tokens is None:
        tokens = _number(meta.get("total_tokens"))
    if tokens is None:
        usage = meta.get("token_usage")
        parts = usage if isinstance(usage, Mapping) else meta
        counts = [_number(parts.get(k)) for k in ("input_tokens", "output_tokens", "prompt_tokens",
                                                  "completion_tokens")]
        known = [c for c in counts if c is not None]
        tokens = sum(known) if known else None
    latency = _number(meta.get("latency_ms"))
    if latency is None and event.started_at is not None and event.ended_at is not None \
            and event.ended_at > event.started_at:
        latency = (event.ended_at - event.started_at).total_seconds() * 1000
    return (int(tokens) if tokens is not None else None), _number(meta.get("cost")), latency


SpanFacts = tuple[str, float | None, float | None, int | None, float | None, float | None]


def span_facts(span: LogEvent) -> SpanFacts:
    """What the tree needs of one span besides its links: status, start and end (epoch ms), tokens, cost and
    latency. Computed per page while the rest of a trace is still arriving, so that building the tree at the
    end is mostly linking."""
    tokens, cost, latency = span_usage(span)
    return (_status(span), span.started_at.timestamp() * 1000 if span.started_at else None,
            span.ended_at.timestamp() * 1000 if span.ended_at else None, tokens, cost, latency)


@dataclass(frozen=True, slots=True)
class Rollup:
    """Totals over a span and everything under it (``has_*`` say whether any span reported the value)."""

    spans: int
    tokens: int
    cost: float
    latency_ms: float
    has_tokens: bool
    has_cost: bool
    has_latency: bool


class TraceTree:
    """The spans of one trace, linked.

    Attributes:
        spans: the events, in input order; node ``i`` is ``spans[i]``.
        parent: the parent node of each node, or ``NO_PARENT`` for a top-level row.
        children: the child nodes of each node, in input order.
        roots: the top-level nodes, in input order.
        row: each node's row under its parent (or among the roots).
        depth: 0 for a top-level row.
        preorder: every node in display order (depth first, children in input order).
        replay: every node in start-time order (ties in input order); ``replay_rank`` is each node's place in it.
        start_ms, end_ms: each span's start and end relative to the trace's earliest start.
        statuses: ``blocked``, ``flagged`` or ``ok`` for each node; ``violations`` counts the others.
        orphans: nodes whose parent is not in the trace.
        cut: nodes whose parent link was dropped to break a loop.
        duration_ms: from the earliest start to the latest end.
    """

    def __init__(self, spans: Sequence[LogEvent], facts: Sequence[SpanFacts] | None = None) -> None:
        self.spans: list[LogEvent] = list(spans)
        n = len(self.spans)
        self._facts = list(facts) if facts is not None else [span_facts(span) for span in self.spans]
        if len(self._facts) != n:
            raise ValueError("one SpanFacts per span")
        self.statuses = [f[0] for f in self._facts]
        self.violations = sum(1 for status in self.statuses if status != "ok")
        self._link(n)
        self._order(n)
        self._times(n)
        self._roll_up(n)
        del self._facts

    # -- building ------------------------------------------------------------------------------------

    def _link(self, n: int) -> None:
        by_ref: dict[str, int] = {}
        for i, span in enumerate(self.spans):  # a spanId wins over an id, and the first of equal refs wins
            if span.span_id and span.span_id not in by_ref:
                by_ref[span.span_id] = i
        for i, span in enumerate(self.spans):
            by_ref.setdefault(span.id, i)
        parent = [NO_PARENT] * n
        orphans: list[int] = []
        for i, span in enumerate(self.spans):
            ref = span.parent_span_id
            if not ref:
                continue
            p = by_ref.get(ref, NO_PARENT)
            if p == NO_PARENT:
                orphans.append(i)
            elif p != i:
                parent[i] = p
        lost = set(orphans)
        top = next((i for i in range(n) if parent[i] == NO_PARENT and i not in lost), NO_PARENT) \
            if orphans else NO_PARENT
        for i in orphans:
            parent[i] = top
        self.parent = parent
        self.orphans = orphans

    def _order(self, n: int) -> None:
        parent = self.parent
        children: list[list[int]] = [[] for _ in range(n)]
        roots: list[int] = []
        for i in range(n):
            (roots if parent[i] == NO_PARENT else children[parent[i]]).append(i)
        depth = [0] * n
        seen = [False] * n
        preorder: list[int] = []
        cut: list[int] = []

        def walk(start: int) -> None:
            stack = [start]
            while stack:
                node = stack.pop()
                seen[node] = True
                preorder.append(node)
                kids = children[node]
                for child in reversed(kids):
                    if not seen[child]:
                        depth[child] = depth[node] + 1
                        stack.append(child)

        for root in roots:
            walk(root)
        if len(preorder) < n:  # the rest hang from loops: cut each loop once, at the node where a climb meets it
            stamp = [-1] * n
            for i in range(n):
                if seen[i]:
                    continue
                node = i
                while stamp[node] != i and not seen[node]:
                    stamp[node] = i
                    node = parent[node]
                if seen[node]:  # reached a part cut earlier: this climb hangs from it already
                    continue
                children[parent[node]].remove(node)
                parent[node] = NO_PARENT
                roots.append(node)
                cut.append(node)
                walk(node)
        row = [0] * n
        for r, node in enumerate(roots):
            row[node] = r
        for kids in children:
            for r, node in enumerate(kids):
                row[node] = r
        self.children, self.roots, self.depth, self.preorder, self.row, self.cut = \
            children, roots, depth, preorder, row, cut

    def _times(self, n: int) -> None:
        starts = [f[1] for f in self._facts]
        ends = [f[2] for f in self._facts]
        known = [t for t in starts if t is not None]
        t0 = min(known) if known else 0.0
        self.t0_ms = t0
        self.start_ms = [(s - t0) if s is not None else 0.0 for s in starts]
        self.end_ms = [max(self.start_ms[i], (e - t0)) if e is not None else self.start_ms[i]
                       for i, e in enumerate(ends)]
        self.duration_ms = max(self.end_ms, default=0.0)
        start = self.start_ms
        self.replay = sorted(range(n), key=start.__getitem__)  # stable: ties keep input order
        rank = [0] * n
        for position, node in enumerate(self.replay):
            rank[node] = position
        self.replay_rank = rank

    def _roll_up(self, n: int) -> None:
        tokens = [0] * n
        cost = [0.0] * n
        latency = [0.0] * n
        count = [1] * n
        flags = [0] * n  # bit 1 tokens, 2 cost, 4 latency
        for i, fact in enumerate(self._facts):
            t, c, lat = fact[3], fact[4], fact[5]
            if t is not None:
                tokens[i], flags[i] = t, flags[i] | 1
            if c is not None:
                cost[i], flags[i] = c, flags[i] | 2
            if lat is not None:
                latency[i], flags[i] = lat, flags[i] | 4
        self.self_tokens = list(tokens)
        self.self_cost = list(cost)
        self.self_latency = list(latency)
        parent = self.parent
        for node in reversed(self.preorder):  # children before parents
            p = parent[node]
            if p != NO_PARENT:
                tokens[p] += tokens[node]
                cost[p] += cost[node]
                latency[p] += latency[node]
                count[p] += count[node]
                flags[p] |= flags[node]
        self.total_tokens, self.total_cost, self.total_latency = tokens, cost, latency
        self.subtree_size, self._flags = count, flags

    # -- reading -------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.spans)

    def rollup(self, node: int) -> Rollup:
        f = self._flags[node]
        return Rollup(self.subtree_size[node], self.total_tokens[node], self.total_cost[node],
                      self.total_latency[node], bool(f & 1), bool(f & 2), bool(f & 4))

    def totals(self) -> Rollup:
        """The roll-up of the whole trace (every top-level row together)."""
        f = 0
        for r in self.roots:
            f |= self._flags[r]
        return Rollup(len(self.spans), sum(self.total_tokens[r] for r in self.roots),
                      sum(self.total_cost[r] for r in self.roots), sum(self.total_latency[r] for r in self.roots),
                      bool(f & 1), bool(f & 2), bool(f & 4))

    def ancestors(self, node: int) -> list[int]:
        """The parent chain of ``node``, from its top-level row down to ``node`` itself."""
        chain = [node]
        while self.parent[chain[-1]] != NO_PARENT:
            chain.append(self.parent[chain[-1]])
        chain.reverse()
        return chain

    def node_of(self, event_id: str) -> int | None:
        """The node of the event with this ``id`` (or ``spanId``), or None."""
        for i, span in enumerate(self.spans):
            if span.id == event_id:
                return i
        return next((i for i, span in enumerate(self.spans) if span.span_id == event_id), None)

    def search(self, text: str) -> list[int]:
        """The nodes whose action, agent, ids, flags, prompt or response contain ``text`` (any case), in
        display order."""
        needle = text.strip().casefold()
        if not needle:
            return []
        found: list[int] = []
        for node in self.preorder:
            span = self.spans[node]
            for value in _searchable(span):
                if value and needle in value.casefold():
                    found.append(node)
                    break
        return found

    def status(self, node: int) -> str:
        """``blocked``, ``flagged`` (a violation that did not block) or ``ok``."""
        return self.statuses[node]


def _status(span: LogEvent) -> str:
    if span.enforcement_action == "block":
        return "blocked"
    if span.compliance_flags or span.enforcement_action == "flag":
        return "flagged"
    return "ok"


def _searchable(span: LogEvent) -> Iterable[str | None]:
    yield span.action
    yield span.agent_id
    yield span.id
    yield span.span_id
    yield from span.compliance_flags
    yield span.prompt
    yield span.response


def build(spans: Sequence[LogEvent]) -> TraceTree:
    """Link ``spans`` (one trace, any order) into a :class:`TraceTree`."""
    return TraceTree(spans)
