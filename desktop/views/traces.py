"""The trace visualizer: open a trace (by id, from the recent list, or from an event), its span tree beside a
waterfall, the selected span's parent chain and detail, search, zoom and replay."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QFont, QFontMetrics, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTreeView,
    QWidget,
)

from desktop.api import schemas
from desktop.api.errors import ApiError
from desktop.models.roles import TraceColumn
from desktop.models.trace import format_cost, format_ms
from desktop.models.trace_tree import NO_PARENT, TraceTree
from desktop.presenters.traces import TracePresenter
from desktop.views.event_detail import EventDetail
from desktop.widgets.cards import label, page_layout
from desktop.widgets.waterfall import Waterfall

EXPAND_ALL_UP_TO = 3000
SPAN_COLUMN_MIN = 100  # pixels the span tree's name column keeps however narrow the window
INTRO = ("Open a trace: type its id, pick a recent one, or choose \u201cOpen in trace visualizer\u201d on an "
         "event in the log explorer.")


def _tool(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    return button


# the path's links: no button face (a flat button's background would cover the "›" between them)
CRUMB_LINK = ("QPushButton { border: none; background: transparent; padding: 2px 3px; color: palette(link); }"
              "QPushButton:hover { text-decoration: underline; }")
CRUMB_CURRENT = "QPushButton { border: none; background: transparent; padding: 2px 3px; font-weight: 600; }"


class Breadcrumb(QWidget):
    """The selected span's parent chain as buttons, top-level span first; a click selects that span."""

    def __init__(self, presenter: TracePresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._presenter = presenter
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self.buttons: list[QPushButton] = []

    def show_chain(self, tree: TraceTree, chain: list[int]) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.hide()  # now: until the deferred delete, it would still paint under the new path
                widget.deleteLater()
        self.buttons = []
        self._layout.addWidget(label("Path:", "muted"))
        shown = chain if len(chain) <= 8 else chain[:2] + [NO_PARENT] + chain[-5:]
        for n, node in enumerate(shown):
            if n:
                separator = label("›", "muted")
                separator.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
                self._layout.addWidget(separator)
            if node == NO_PARENT:
                self._layout.addWidget(label(f"… {len(chain) - 7} more …", "muted"))
                continue
            span = tree.spans[node]
            button = QPushButton(span.action)
            button.setFlat(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setToolTip(f"span {span.span_id or span.id}")
            button.setProperty("node", node)
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            button.setStyleSheet(CRUMB_CURRENT if node == chain[-1] else CRUMB_LINK)
            button.clicked.connect(self._clicked)
            self._layout.addWidget(button)
            self.buttons.append(button)
        self._layout.addStretch(1)

    def _clicked(self) -> None:
        button = self.sender()
        if isinstance(button, QPushButton):
            self._presenter.select(int(button.property("node")))


class TraceView(QWidget):
    def __init__(self, presenter: TracePresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        self._searched = ""
        model = presenter.model
        root, head, self.subtitle = page_layout(self, "Traces", "", elide_subtitle=True)
        self.trace_box = QLineEdit()
        self.trace_box.setPlaceholderText("Trace id")
        self.trace_box.setClearButtonEnabled(True)
        self.trace_box.setMinimumWidth(150)
        self.open_button = QPushButton("Open")
        self.open_button.setProperty("role", "primary")
        self.recent = QComboBox()
        self.recent.setMinimumWidth(170)
        self.recent.setPlaceholderText("Recent traces…")
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self._refresh)
        for widget in (self.trace_box, self.open_button, self.recent, refresh):
            head.addWidget(widget)
        root.addLayout(head)

        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find in this trace (action, agent, span id, text)")
        self.search.setClearButtonEnabled(True)
        self.prev_match = _tool("Prev", "Previous match (Shift+F3)")
        self.next_match = _tool("Next", "Next match (F3)")
        self.match_label = label("", "muted")
        self.expand_all = _tool("Expand", "Expand every span")
        self.collapse_all = _tool("Collapse", "Collapse to the top-level spans")
        self.zoom_out = _tool("−", "Zoom out (Ctrl+-, or Ctrl+wheel on the timeline)")
        self.zoom_in = _tool("+", "Zoom in (Ctrl+=, or Ctrl+wheel on the timeline)")
        self.zoom_fit = _tool("Fit", "Fit the whole trace (Ctrl+0)")
        self.step_back = _tool("◀ Step", "Previous span in time order (Ctrl+Left)")
        self.play_button = _tool("Play", "Replay the spans in time order (Ctrl+Space)")
        self.play_button.setMinimumWidth(64)
        self.step_forward = _tool("Step ▶", "Next span in time order (Ctrl+Right)")
        self.replay_label = label("", "muted")
        bar.addWidget(self.search, 3)
        for widget in (self.prev_match, self.next_match, self.match_label):
            bar.addWidget(widget)
        bar.addSpacing(6)
        for widget in (self.expand_all, self.collapse_all):
            bar.addWidget(widget)
        bar.addSpacing(6)
        for widget in (self.zoom_out, self.zoom_in, self.zoom_fit):
            bar.addWidget(widget)
        bar.addSpacing(6)
        for widget in (self.step_back, self.play_button, self.step_forward, self.replay_label):
            bar.addWidget(widget)
        self.tools = QWidget()
        self.tools.setLayout(bar)
        bar.setContentsMargins(0, 0, 0, 0)
        root.addWidget(self.tools)

        crumbs = QHBoxLayout()
        self.breadcrumb = Breadcrumb(presenter)
        self.rollup = label("", "muted")
        self.refresh_hint = label("", "muted")
        self.refresh_hint.setStyleSheet("color: #e8590c;")
        self.refresh_hint.hide()
        crumbs.addWidget(self.breadcrumb, 1)
        crumbs.addWidget(self.refresh_hint)
        crumbs.addWidget(self.rollup)
        root.addLayout(crumbs)

        self.tree = QTreeView()
        self.tree.setModel(model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(False)
        self.tree.setSelectionBehavior(QTreeView.SelectionBehavior.SelectRows)
        self.tree.setSelectionMode(QTreeView.SelectionMode.SingleSelection)
        self.tree.setVerticalScrollMode(QTreeView.ScrollMode.ScrollPerPixel)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.tree.setIndentation(14)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(TraceColumn.SPAN, QHeaderView.ResizeMode.Stretch)
        # fixed widths that fit their header and a typical value (measuring every row of a big trace is slow)
        header_font = QFont(self.tree.font())
        header_font.setBold(True)  # the style sheet's header weight
        metrics, bold = self.tree.fontMetrics(), QFontMetrics(header_font)
        figures = 0
        for column, sample in ((TraceColumn.DURATION, "99.99 s"), (TraceColumn.TOKENS, "999,999"),
                               (TraceColumn.COST, "$0.000000")):
            title = str(model.headerData(column, Qt.Orientation.Horizontal))
            width = max(bold.horizontalAdvance(title), metrics.horizontalAdvance(sample)) + 14
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, width)
            figures += width if column != TraceColumn.DURATION else 0
        chrome = 2 * self.tree.frameWidth() + self.tree.verticalScrollBar().sizeHint().width()
        self.tree.setMinimumWidth(figures + SPAN_COLUMN_MIN + chrome)  # names keep room whatever the splitter
        self.tree.setColumnHidden(TraceColumn.DURATION, True)  # the waterfall labels each bar with it
        self.waterfall = Waterfall(self.tree, model)

        self.detail = EventDetail()
        self.detail.trace_button.hide()
        self.detail.visualize_button.hide()
        self.detail.setMinimumWidth(300)
        self.detail.tabs.setUsesScrollButtons(False)  # in a narrow pane the tab names shorten, all in view
        self.detail.tabs.setElideMode(Qt.TextElideMode.ElideRight)
        self.detail.tabs.setStyleSheet("QTabBar::tab { padding: 6px 9px; }")  # whole names in a 1280 window

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.waterfall)
        self.splitter.addWidget(self.detail)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 3)
        self.splitter.setSizes([360, 280, 390])
        self.message = label(INTRO, "empty")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.splitter)
        root.addWidget(self.stack, 1)
        self._set_enabled(False)

        self.open_button.clicked.connect(self._open_typed)
        self.trace_box.returnPressed.connect(self._open_typed)
        self.recent.activated.connect(self._open_recent)
        self.search.returnPressed.connect(self._search)
        self.search.textChanged.connect(self._search_cleared)
        self.next_match.clicked.connect(presenter.next_match)
        self.prev_match.clicked.connect(presenter.previous_match)
        self.expand_all.clicked.connect(self._expand_all)
        self.collapse_all.clicked.connect(self._collapse_all)
        self.zoom_in.clicked.connect(self.waterfall.zoom_in)
        self.zoom_out.clicked.connect(self.waterfall.zoom_out)
        self.zoom_fit.clicked.connect(self.waterfall.fit)
        self.step_back.clicked.connect(lambda: presenter.step(-1))
        self.step_forward.clicked.connect(lambda: presenter.step(1))
        self.play_button.clicked.connect(presenter.toggle_play)
        self.waterfall.node_clicked.connect(presenter.select)
        self.tree.selectionModel().currentChanged.connect(self._current_changed)
        shortcuts = {
            QKeySequence.StandardKey.Find: self.search.setFocus,
            QKeySequence(Qt.Key.Key_F3): presenter.next_match,
            QKeySequence("Shift+F3"): presenter.previous_match,
            QKeySequence("Ctrl+Right"): lambda: presenter.step(1),
            QKeySequence("Ctrl+Left"): lambda: presenter.step(-1),
            QKeySequence("Ctrl+Space"): presenter.toggle_play,
            QKeySequence("Ctrl+Home"): presenter.first,
            QKeySequence("Ctrl+End"): presenter.last,
            QKeySequence("Ctrl+="): self.waterfall.zoom_in,
            QKeySequence("Ctrl++"): self.waterfall.zoom_in,
            QKeySequence("Ctrl+-"): self.waterfall.zoom_out,
            QKeySequence("Ctrl+0"): self.waterfall.fit,
        }
        for key, slot in shortcuts.items():
            QShortcut(key, self, activated=slot, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

        presenter.recent_changed.connect(self._recent_changed)
        presenter.recent_failed.connect(self._recent_failed)
        presenter.loading.connect(self._loading)
        presenter.loaded.connect(self._loaded)
        presenter.failed.connect(self._failed)
        presenter.span_selected.connect(self._span_selected)
        presenter.matches_changed.connect(self._matches_changed)
        presenter.replay_changed.connect(self._replay_changed)
        presenter.new_spans.connect(self._new_spans)
        presenter.cleared.connect(self._cleared)

    # -- opening -------------------------------------------------------------------------------------

    def _refresh(self) -> None:
        self.presenter.refresh_recent()
        self.presenter.reload()

    def _open_typed(self) -> None:
        self.presenter.open(self.trace_box.text())

    def _open_recent(self, row: int) -> None:
        trace_id = self.recent.itemData(row)
        if trace_id:
            self.trace_box.setText(trace_id)
            self.presenter.open(trace_id)

    def _recent_changed(self, items: tuple[schemas.TraceSummary, ...]) -> None:
        self.recent.blockSignals(True)
        self.recent.clear()
        for item in items:
            marks = f" · {item.flagged_count} flagged" if item.flagged_count else ""
            self.recent.addItem(f"{item.root_action} · {item.span_count} spans{marks} · {item.trace_id}",
                                item.trace_id)
        self.recent.setCurrentIndex(-1)
        self.recent.blockSignals(False)

    def _recent_failed(self, error: ApiError) -> None:
        self.recent.setPlaceholderText(f"Recent traces unavailable: {error.message}")

    def _loading(self, trace_id: str, received: int, total: int) -> None:
        self.trace_box.setText(trace_id)
        self.subtitle.setText(f"Loading {trace_id}: {received:,} of {total:,} spans…" if total
                              else f"Loading {trace_id}…")
        if self.stack.currentIndex() == 0:
            self.message.setText(self.subtitle.text())

    def _failed(self, trace_id: str, error: ApiError) -> None:
        text = f"Could not open trace {trace_id}: {error.message}"
        self.subtitle.setText(text)
        self.message.setText(text)
        self.stack.setCurrentIndex(0)
        self._set_enabled(False)

    def _loaded(self, tree: TraceTree) -> None:
        self.stack.setCurrentIndex(1)
        self._set_enabled(True)
        if len(tree) <= EXPAND_ALL_UP_TO:
            self.tree.expandAll()
        else:
            self.tree.expandToDepth(0)
        self.search.clear()
        totals = tree.totals()
        flagged = tree.violations
        parts = [f"{len(tree):,} spans", format_ms(tree.duration_ms)]
        if flagged:
            parts.append(f"{flagged:,} with violations")
        if totals.has_tokens:
            parts.append(f"{totals.tokens:,} tokens")
        if totals.has_cost:
            parts.append(format_cost(totals.cost))
        self.subtitle.setText(" · ".join(parts))
        self.subtitle.set_hint(self.presenter.trace_id)
        self.waterfall.fit()

    def _cleared(self) -> None:
        self.trace_box.clear()
        self.search.clear()
        self.recent.clear()
        self.subtitle.setText("")
        self.subtitle.set_hint("")
        self.message.setText(INTRO)
        self.stack.setCurrentIndex(0)
        self.detail.show_message("")
        self.breadcrumb.show_chain(self.presenter.tree, [])
        self.rollup.setText("")
        self._new_spans(0)
        self._set_enabled(False)

    def _new_spans(self, count: int) -> None:
        self.refresh_hint.setText(f"{count:,} new span{'s' if count != 1 else ''} since this trace was loaded: "
                                  "Refresh shows them" if count else "")
        self.refresh_hint.setVisible(count > 0)

    def _set_enabled(self, on: bool) -> None:
        self.tools.setEnabled(on)

    # -- selection -----------------------------------------------------------------------------------

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        node = self.presenter.model.node(current)
        if node != NO_PARENT and node != self.presenter.current:
            self.presenter.select(node)

    def _span_selected(self, node: int) -> None:
        presenter, tree = self.presenter, self.presenter.tree
        model = presenter.model
        chain = tree.ancestors(node)
        for up in chain[:-1]:
            index = model.index_of(up)
            if not self.tree.isExpanded(index):
                self.tree.expand(index)
        index = model.index_of(node)
        if self.tree.currentIndex() != index:
            self.tree.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.tree.scrollTo(index)
        self.detail.show_event(tree.spans[node])
        self.breadcrumb.show_chain(tree, chain)
        roll = tree.rollup(node)
        parts = [f"{roll.spans:,} span{'s' if roll.spans != 1 else ''}"]
        if roll.has_tokens:
            parts.append(f"{roll.tokens:,} tokens")
        if roll.has_cost:
            parts.append(format_cost(roll.cost))
        if roll.has_latency:
            parts.append(f"{format_ms(roll.latency_ms)} latency")
        self.rollup.setText(("With its children: " if roll.spans > 1 else "") + " · ".join(parts))
        self.waterfall.show_time(tree.start_ms[node], tree.end_ms[node])
        self.waterfall.update()

    # -- search, tree, replay ------------------------------------------------------------------------

    def _search(self) -> None:
        text = self.search.text()
        if self.presenter.matches and text == self._searched:
            self.presenter.next_match()
            return
        self._searched = text
        self.presenter.search(text)

    def _search_cleared(self, text: str) -> None:
        if not text and self.presenter.matches:
            self._searched = ""
            self.presenter.search("")

    def _matches_changed(self, position: int, count: int) -> None:
        if count:
            self.match_label.setText(f"{position + 1:,} of {count:,}")
        else:
            self.match_label.setText("no match" if self.search.text().strip() else "")
        self.prev_match.setEnabled(count > 1)
        self.next_match.setEnabled(count > 1)

    def _expand_all(self) -> None:
        self.tree.expandAll()

    def _collapse_all(self) -> None:
        self.tree.collapseAll()
        for root in self.presenter.tree.roots:
            self.tree.expand(self.presenter.model.index_of(root))

    def _replay_changed(self, position: int, total: int, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        self.replay_label.setText(f"{position + 1:,} / {total:,}" if position >= 0 else f"– / {total:,}")
        self.step_back.setEnabled(position > 0)
        self.step_forward.setEnabled(0 <= position < total - 1 or position < 0 < total)

