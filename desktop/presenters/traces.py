"""The trace visualizer's state: recent traces, loading one trace page by page, the selected span, search
within the trace, and replay (stepping through the spans in start-time order).

Loading: the first page (500 spans, the API's maximum) gives the total. The rest comes as a few runs of
pages fetched side by side: each run starts at an offset and goes on by cursor (``after``, read from each
answer's ``Link`` header, so the next request leaves before the page is decoded; a cursor costs the sidecar
one index range where an offset walks every earlier span). Page bodies are decoded, and at the end the tree
is built, on one worker thread, so a 30,000-span trace never holds the GUI thread for long; the worker hands
results back through a queued signal. Only the GUI thread touches Qt objects.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson
from PySide6.QtCore import QObject, QTimer, Signal

from desktop import log
from desktop.api import schemas
from desktop.api.client import Call, SidecarClient
from desktop.api.errors import ApiError
from desktop.models.trace import TraceTreeModel
from desktop.models.trace_tree import NO_PARENT, SpanFacts, TraceTree, span_facts

PAGE_SIZE = 500
CHAINS = 3
REPLAY_MS = 700


@dataclass(frozen=True, slots=True)
class DecodedPage:
    """A page of spans with what the tree builder needs of each (worked out as the page arrives)."""

    page: schemas.LogPage
    facts: tuple[SpanFacts, ...]


def decode_page(body: bytes) -> DecodedPage:
    """One ``GET /audit-logs/trace/{id}`` page body, decoded (worker thread)."""
    data = orjson.loads(body) if body else {}  # a third of json.loads' time, and so of its hold on the GIL
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    page = schemas.LogPage.from_json(data)
    return DecodedPage(page, tuple(span_facts(span) for span in page.items))


def assemble(pages: Sequence[DecodedPage]) -> TraceTree:
    """Join the pages in order, dropping a span seen on an earlier page (a span stored while paging can shift
    the pages by one), and build the tree (worker thread)."""
    seen: set[str] = set()
    spans: list[schemas.LogEvent] = []
    facts: list[SpanFacts] = []
    for decoded in pages:
        for span, fact in zip(decoded.page.items, decoded.facts, strict=True):
            if span.id not in seen:
                seen.add(span.id)
                spans.append(span)
                facts.append(fact)
    return TraceTree(spans, facts)


class _Worker(QObject):
    """Runs decoding and tree building on one thread; ``finished`` is emitted from that thread and so
    reaches GUI-thread slots queued.

    Signals:
        finished(int, str, object, object): generation, what ("page:<n>" or "tree"), result, error.
    """

    finished = Signal(int, str, object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trace-build")

    def submit(self, generation: int, what: str, fn: Any, *args: Any) -> None:
        def run() -> None:
            try:
                result, error = fn(*args), None
            except Exception as exc:  # reported to the GUI thread, which shows it; logged once here
                log.ui.exception("trace worker: %s failed", what)
                result, error = None, exc
            self.finished.emit(generation, what, result, error)
        self._pool.submit(run)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class TracePresenter(QObject):
    """Signals:
        recent_changed(object): a tuple of :class:`schemas.TraceSummary`, most recently active first.
        recent_failed(object): an :class:`ApiError`.
        loading(str, int, int): trace id, spans received so far, spans in the trace (0 until known).
        loaded(object): the :class:`TraceTree` now in ``model`` (the trace is drawn from it).
        failed(str, object): trace id and :class:`ApiError` (not found, sidecar down...).
        span_selected(int): the node now selected (the detail pane, breadcrumb and replay follow it).
        matches_changed(int, int): position of the current search hit (-1 for none) and the number of hits.
        replay_changed(int, int, bool): position in start-time order (-1 before the first), total, playing.
        new_spans(int): spans of the open trace stored since it was loaded (``reload`` shows them).
        cleared(): nothing is open any more (logged out).
    """

    recent_changed = Signal(object)
    recent_failed = Signal(object)
    loading = Signal(str, int, int)
    loaded = Signal(object)
    failed = Signal(str, object)
    span_selected = Signal(int)
    matches_changed = Signal(int, int)
    replay_changed = Signal(int, int, bool)
    new_spans = Signal(int)
    cleared = Signal()

    def __init__(self, client: SidecarClient, *, page_size: int = PAGE_SIZE, replay_ms: int = REPLAY_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._page_size = page_size
        self.model = TraceTreeModel(self)
        self.tree = self.model.tree
        self.trace_id = ""
        self.recent: tuple[schemas.TraceSummary, ...] = ()
        self.current = NO_PARENT
        self.matches: list[int] = []
        self.match_pos = -1
        self.replay_pos = -1
        self._generation = 0
        self._pages: list[DecodedPage | None] = []
        self._received = 0
        self._total = 0
        self._chain_starts: set[int] = set()
        self._calls: set[Call] = set()
        self._recent_call: Call | None = None
        self._focus: str | None = None
        self._search_token = 0
        self._new = 0
        self.timings: dict[str, float] = {}  # perf_counter marks of the last load: request, fetched, built, shown
        self._worker = _Worker(self)
        self._worker.finished.connect(self._worked)
        self._player = QTimer(self)
        self._player.setInterval(replay_ms)
        self._player.timeout.connect(self._play_step)

    @property
    def busy(self) -> bool:
        """A trace is being loaded."""
        return any(page is None for page in self._pages)

    @property
    def playing(self) -> bool:
        return self._player.isActive()

    def close(self) -> None:
        """Stop the worker thread (the app is quitting)."""
        self._player.stop()
        self._worker.close()

    def clear(self) -> None:
        """Forget the open trace and the recent list (a logout: the next user may be of another organisation)."""
        self.stop()
        self._generation += 1
        self._pages, self._calls, self._recent_call = [], set(), None
        self.trace_id, self.recent, self.current = "", (), NO_PARENT
        self.matches, self.match_pos, self.replay_pos = [], -1, -1
        self.tree = TraceTree([])
        self.model.set_tree(self.tree)
        self.cleared.emit()

    # -- recent traces -------------------------------------------------------------------------------

    def refresh_recent(self) -> None:
        call = self._client.list_traces(schemas.LogFilter(), limit=50)
        self._recent_call = call
        call.done.connect(self._recent_loaded)
        call.failed.connect(self._recent_error)

    def _recent_loaded(self, page: schemas.TracePage) -> None:
        if self.sender() is self._recent_call:
            self.recent = page.items
            self.recent_changed.emit(page.items)

    def _recent_error(self, error: ApiError) -> None:
        if self.sender() is self._recent_call:
            self.recent_failed.emit(error)

    # -- loading -------------------------------------------------------------------------------------

    def open(self, trace_id: str, *, focus: str | None = None) -> None:
        """Load every span of ``trace_id``, then select the span with id ``focus`` (or the first span)."""
        trace_id = trace_id.strip()
        if not trace_id:
            return
        if trace_id == self.trace_id and not self.busy and len(self.tree) and focus:
            self._select_focus(focus)
            return
        self.stop()
        self._generation += 1
        self.trace_id, self._focus = trace_id, focus
        self._pages, self._received, self._total, self._chain_starts = [None], 0, 0, set()
        self._calls.clear()
        self.timings = {"request": time.perf_counter()}
        self.loading.emit(trace_id, 0, 0)
        self._request(0)

    def reload(self) -> None:
        if self.trace_id:
            current = self.tree.spans[self.current].id if self.current != NO_PARENT else None
            trace_id, self.trace_id = self.trace_id, ""
            self.open(trace_id, focus=current)

    def _request(self, page: int, after: str | None = None) -> None:
        offset = 0 if after else page * self._page_size
        call = self._client.trace_spans_raw(self.trace_id, limit=self._page_size, after=after, offset=offset)
        call.setProperty("page", page)
        call.setProperty("generation", self._generation)
        self._calls.add(call)
        call.done.connect(self._page_arrived)
        call.failed.connect(self._page_failed)

    def _page_arrived(self, raw: schemas.RawSpans) -> None:
        call = self.sender()
        if not isinstance(call, Call) or call.property("generation") != self._generation:
            return
        self._calls.discard(call)
        page = int(call.property("page"))
        if page == 0:
            self._first_page(raw)
            return
        end = min([start for start in self._chain_starts if start > page] + [len(self._pages)])
        if raw.next_cursor and page + 1 < end:
            self._request(page + 1, raw.next_cursor)  # it leaves before this page is decoded
        else:  # the run is over; fewer spans than counted (retention purged some) leave its tail empty
            for missing in range(page + 1, end):
                self._pages[missing] = DecodedPage(schemas.LogPage((), 0, None), ())
        if not self._calls:
            self.timings["fetched"] = time.perf_counter()
        self._worker.submit(self._generation, f"page:{page}", decode_page, raw.body)

    def _first_page(self, raw: schemas.RawSpans) -> None:
        """Page 0 is decoded here (one page, a few ms) for the total; then the rest of the trace is fetched as
        ``CHAINS`` runs of pages at once, each started by offset and continued by cursor, so the sidecar is
        never idle while this side decodes."""
        try:
            first = decode_page(raw.body)
        except ValueError as exc:
            self._abandon(ApiError(200, "bad_response", f"unexpected answer from the sidecar: {exc}"))
            return
        if first.page.total == 0 or not first.page.items:
            self._abandon(ApiError(404, "not_found", f"trace {self.trace_id} not found"))
            return
        count = max(1, math.ceil(first.page.total / self._page_size))
        self._total = first.page.total
        self._pages = [None] * count
        per = max(1, math.ceil((count - 1) / CHAINS))
        self._chain_starts = set(range(1 + per, count, per))
        if count > 1:
            self._request(1, raw.next_cursor)
        for start in sorted(self._chain_starts):
            self._request(start)
        if count == 1:
            self.timings["fetched"] = time.perf_counter()
        self._worked(self._generation, "page:0", first, None)

    def _page_failed(self, error: ApiError) -> None:
        call = self.sender()
        if not isinstance(call, Call) or call.property("generation") != self._generation:
            return
        self._abandon(error)

    def _abandon(self, error: ApiError) -> None:
        self._generation += 1  # ignore the pages still on their way
        self._pages = []
        self.failed.emit(self.trace_id, error)

    def _worked(self, generation: int, what: str, result: Any, error: Exception | None) -> None:
        if generation != self._generation:
            return
        if error is not None:
            self._abandon(ApiError(200, "bad_response", f"unexpected answer from the sidecar: {error}"))
            return
        if what.startswith("search:"):
            if int(what.split(":")[1]) == self._search_token:  # not an answer to a search typed over since
                self._found(*result)
            return
        if what == "tree":
            self.timings["built"] = time.perf_counter()
            self._show(result)
            self.timings["shown"] = time.perf_counter()
            return
        page = int(what.split(":")[1])
        assert isinstance(result, DecodedPage)
        self._pages[page] = result
        self._received += len(result.page.items)
        self.loading.emit(self.trace_id, self._received, self._total)
        if all(p is not None for p in self._pages) and not self._calls:
            self.timings["decoded"] = time.perf_counter()
            self._worker.submit(generation, "tree", assemble, list(self._pages))

    def _show(self, tree: TraceTree) -> None:
        self._pages = []
        self.tree = tree
        self.model.set_tree(tree)
        self._new = 0
        self.new_spans.emit(0)
        self.current = NO_PARENT
        self.matches, self.match_pos = [], -1
        self.replay_pos = -1
        log.ui.info("trace %s: %d spans", self.trace_id, len(tree))
        self.matches_changed.emit(-1, 0)
        focus, self._focus = self._focus, None
        if focus is None or not self._select_focus(focus):
            if len(tree):
                self.select(tree.preorder[0])
        self.loaded.emit(tree)  # last: a listener may select another span

    def _select_focus(self, event_id: str) -> bool:
        node = self.tree.node_of(event_id)
        if node is None:
            return False
        self.select(node)
        return True

    def on_log(self, event: schemas.LogEvent) -> None:
        """A new event arrived live: count it when it belongs to the open trace (the tree stays still)."""
        if event.trace_id and event.trace_id == self.trace_id and not self.busy:
            self._new += 1
            self.new_spans.emit(self._new)

    # -- selection -----------------------------------------------------------------------------------

    def select(self, node: int) -> None:
        """Make ``node`` the selected span (the replay position moves to it too)."""
        if not 0 <= node < len(self.tree):
            return
        self.current = node
        self.replay_pos = self.tree.replay_rank[node]
        self.span_selected.emit(node)
        self.replay_changed.emit(self.replay_pos, len(self.tree), self.playing)

    def ancestors(self) -> list[int]:
        """The selected span's parent chain, top-level span first, the span itself last."""
        return self.tree.ancestors(self.current) if self.current != NO_PARENT else []

    # -- search --------------------------------------------------------------------------------------

    def search(self, text: str) -> None:
        """Find ``text`` in the trace's spans (on the worker: prompts and responses of 30,000 spans take a
        while), then highlight the hits and select the first; ``matches_changed`` says when."""
        self._search_token += 1
        if not text.strip():
            self._found(self.tree, [])
            return
        tree = self.tree
        self._worker.submit(self._generation, f"search:{self._search_token}", lambda: (tree, tree.search(text)))

    def _found(self, tree: TraceTree, matches: list[int]) -> None:
        if tree is not self.tree:
            return
        self.matches = matches
        self.model.set_matches(set(matches))
        self.match_pos = -1
        if matches:
            self.next_match()
        else:
            self.matches_changed.emit(-1, 0)

    def next_match(self) -> None:
        self._go_match(1)

    def previous_match(self) -> None:
        self._go_match(-1)

    def _go_match(self, step: int) -> None:
        if not self.matches:
            return
        self.match_pos = (self.match_pos + step) % len(self.matches)
        self.select(self.matches[self.match_pos])
        self.matches_changed.emit(self.match_pos, len(self.matches))

    # -- replay --------------------------------------------------------------------------------------

    def step(self, delta: int) -> None:
        """Select the span ``delta`` places later (or earlier) in start-time order."""
        count = len(self.tree)
        if not count:
            return
        position = min(count - 1, max(0, self.replay_pos + delta))
        self.select(self.tree.replay[position])

    def first(self) -> None:
        if len(self.tree):
            self.select(self.tree.replay[0])

    def last(self) -> None:
        if len(self.tree):
            self.select(self.tree.replay[-1])

    def play(self) -> None:
        if not len(self.tree):
            return
        if self.replay_pos >= len(self.tree) - 1:
            self.replay_pos = -1  # from the start again
        self._player.start()
        self.replay_changed.emit(self.replay_pos, len(self.tree), True)
        self._play_step()

    def stop(self) -> None:
        if self._player.isActive():
            self._player.stop()
            self.replay_changed.emit(self.replay_pos, len(self.tree), False)

    def toggle_play(self) -> None:
        self.stop() if self.playing else self.play()

    def _play_step(self) -> None:
        if self.replay_pos >= len(self.tree) - 1:
            self.stop()
            return
        self.step(1)
        if self.replay_pos >= len(self.tree) - 1:
            self.stop()
