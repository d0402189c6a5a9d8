"""The log explorer: filters, the lazy event table, the detail pane, export."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.api.errors import ApiError
from desktop.models.roles import LogColumn, LogRole
from desktop.presenters.logs import TIME_WINDOWS, VERDICTS, FilterForm, LogExplorerPresenter
from desktop.views.event_detail import EventDetail
from desktop.widgets.cards import label, page_layout
from desktop.widgets.pills import PillDelegate

EXPORT_FORMATS = {"CSV": "csv", "JSON": "json", "JSON Lines": "jsonl"}
COLUMN_WIDTHS = {LogColumn.TIME: 96, LogColumn.AGENT: 112, LogColumn.ACTION: 96, LogColumn.VERDICT: 70,
                 LogColumn.FLAGS: 54, LogColumn.TRACE: 110}


class LogExplorerView(QWidget):
    def __init__(self, presenter: LogExplorerPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        model = presenter.model
        root, head, self.count = page_layout(self, "Log explorer", "")
        self.export_button = QPushButton("Export")
        menu = QMenu(self.export_button)
        for name, fmt in EXPORT_FORMATS.items():
            menu.addAction(f"{name}…", lambda f=fmt: self._export(f))
        self.export_button.setMenu(menu)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(presenter.refresh)
        head.addWidget(self.export_button)
        head.addWidget(refresh)
        root.addLayout(head)

        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.text = QLineEdit()
        self.text.setPlaceholderText("Search prompts and responses")
        self.text.setClearButtonEnabled(True)
        self.agent = QLineEdit()
        self.agent.setPlaceholderText("Agent")
        self.action = QLineEdit()
        self.action.setPlaceholderText("Action")
        self.trace = QLineEdit()
        self.trace.setPlaceholderText("Trace id")
        self.verdict = QComboBox()
        self.verdict.addItems(list(VERDICTS))
        self.window_box = QComboBox()
        self.window_box.addItems(list(TIME_WINDOWS))
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear_filters)
        bar.addWidget(self.text, 3)
        for widget in (self.agent, self.action, self.trace):
            widget.setClearButtonEnabled(True)
            bar.addWidget(widget, 1)
        bar.addWidget(self.verdict)
        bar.addWidget(self.window_box)
        bar.addWidget(clear)
        root.addLayout(bar)

        self.new_bar = QFrame()
        self.new_bar.setObjectName("newEvents")
        new_layout = QHBoxLayout(self.new_bar)
        new_layout.setContentsMargins(12, 4, 6, 4)
        self.new_label = label("")
        show_new = QPushButton("Show them")
        show_new.clicked.connect(presenter.refresh)
        new_layout.addWidget(self.new_label)
        new_layout.addStretch(1)
        new_layout.addWidget(show_new)
        self.new_bar.hide()
        root.addWidget(self.new_bar)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.table = QTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.setVerticalScrollMode(QTableView.ScrollMode.ScrollPerPixel)
        vertical = self.table.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.setColumnHidden(LogColumn.TRACE, True)  # in the detail pane and the trace filter
        for column, width in COLUMN_WIDTHS.items():
            self.table.setColumnWidth(column, width)
        self.table.setItemDelegateForColumn(LogColumn.VERDICT,
                                            PillDelegate(theme.VERDICT, LogRole.ENFORCEMENT, self.table))
        self.empty = label("", "empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.table_stack = QStackedWidget()
        self.table_stack.addWidget(self.table)
        self.table_stack.addWidget(self.empty)
        splitter.addWidget(self.table_stack)
        self.detail = EventDetail()
        self.detail.show_trace.connect(presenter.show_trace)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([580, 440])
        self.detail.setMinimumWidth(380)
        root.addWidget(splitter, 1)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(350)
        self._debounce.timeout.connect(self.apply_filters)
        self._select_timer = QTimer(self)
        self._select_timer.setSingleShot(True)
        self._select_timer.setInterval(80)
        self._select_timer.timeout.connect(self._open_current)
        for edit in (self.text, self.agent, self.action, self.trace):
            edit.textEdited.connect(lambda _t: self._debounce.start())
            edit.returnPressed.connect(self.apply_filters)
        self.verdict.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.window_box.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self.text.setFocus)

        # bound methods, not lambdas: Qt drops them when this view is destroyed before its presenter
        for signal in (model.total_changed, model.rowsInserted, model.modelReset, model.loading_changed):
            signal.connect(self._update_counts)
        model.failed.connect(self._failed)
        presenter.form_changed.connect(self._show_form)
        presenter.event_loaded.connect(self._event_loaded)
        presenter.event_failed.connect(self._event_failed)
        presenter.new_events.connect(self._new_events)
        presenter.export_finished.connect(self._exported)
        presenter.export_failed.connect(self._export_failed)
        self._update_counts()

    # -- filters -------------------------------------------------------------------------------------

    def form(self) -> FilterForm:
        return FilterForm(agent=self.agent.text(), action=self.action.text(), trace=self.trace.text(),
                          verdict=self.verdict.currentText(), window=self.window_box.currentText(),
                          text=self.text.text())

    def apply_filters(self) -> None:
        self._debounce.stop()
        form = self.form()
        if form != self.presenter.form or self.presenter.model.rowCount() == 0:
            self.presenter.apply(form)

    def clear_filters(self) -> None:
        self.presenter.apply(FilterForm())

    def _show_form(self, form: FilterForm) -> None:
        """Mirror a filter set elsewhere (a jump to a trace) in the bar."""
        for edit, value in ((self.text, form.text), (self.agent, form.agent), (self.action, form.action),
                            (self.trace, form.trace)):
            if edit.text() != value:
                edit.setText(value)
        for box, value in ((self.verdict, form.verdict), (self.window_box, form.window)):
            if box.currentText() != value:
                box.blockSignals(True)
                box.setCurrentText(value)
                box.blockSignals(False)

    # -- table ---------------------------------------------------------------------------------------

    def _event_failed(self, error: ApiError) -> None:
        self.detail.show_message(f"Could not load the event: {error.message}")

    def _exported(self, path: str) -> None:
        self.count.setText(f"Exported to {path}")

    def _export_failed(self, error: ApiError) -> None:
        self.count.setText(f"Export failed: {error.message}")

    def _update_counts(self, *_args: object) -> None:
        model = self.presenter.model
        rows, total = model.rowCount(), model.total
        if model.error is not None:
            return
        if rows == 0 and model.loading:
            self.count.setText("Loading…")
        elif total and rows < total:
            self.count.setText(f"{total:,} events match · {rows:,} loaded, scroll for more")
        else:
            answered = rows or model.exhausted  # "0 events" once a search came back empty; nothing before
            self.count.setText(f"{total:,} event{'s' if total != 1 else ''}" if answered else "")
        empty = rows == 0 and not model.loading
        if empty:
            self.empty.setText("No events match these filters." if not model.filter.is_empty else
                               "No events yet.\nPoint an agent at the sidecar (API keys has a snippet), "
                               "or load the demo data.")
        self.table_stack.setCurrentIndex(1 if empty else 0)

    def _failed(self, error: ApiError) -> None:
        self.count.setText(f"Could not load events: {error.message}")
        if self.presenter.model.rowCount() == 0:
            self.empty.setText(f"Could not load events.\n{error.message}")
            self.table_stack.setCurrentIndex(1)

    def _new_events(self, count: int) -> None:
        self.new_label.setText(f"{count:,} new event{'s' if count != 1 else ''} since this list was loaded")
        self.new_bar.setVisible(count > 0)

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._select_timer.start()

    def _open_current(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.presenter.open_event(str(rows[0].data(LogRole.ID)))

    def _event_loaded(self, event: object) -> None:
        self.detail.show_event(event)  # type: ignore[arg-type]
        if event is not None:
            row = self.presenter.model.row_of(event.id)  # type: ignore[attr-defined]
            if row >= 0 and not self.table.selectionModel().isRowSelected(row, QModelIndex()):
                self.table.selectionModel().blockSignals(True)
                self.table.selectRow(row)
                self.table.selectionModel().blockSignals(False)
                self.table.viewport().update()

    def _export(self, fmt: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export events", str(Path.home() / f"audit-logs.{fmt}"),
                                              f"{fmt.upper()} files (*.{fmt})")
        if path:
            self.count.setText("Exporting…")
            self.presenter.export(fmt, Path(path))
