"""Reports: request one with progress, the list (open, save as, delete), an embedded PDF view where QtPdf is
installed (the ``PySide6-Pdf`` wheel; PySide6-Essentials and 6.12's Addons lack it) or the system viewer
otherwise, and report schedules with the cron helper."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.api import schemas
from desktop.models import cron
from desktop.models.reports import FORMAT_NAMES, PERIODS, TYPE_NAMES, period, report_name, size_text
from desktop.models.roles import ReportColumn, RowRole, ScheduleColumn
from desktop.presenters.reports import ReportsPresenter
from desktop.widgets.cards import Card, label, page_layout
from desktop.widgets.empty_hint import EmptyHint
from desktop.widgets.pills import PillDelegate

try:  # QtPdf ships in its own wheel, PySide6-Pdf (a desktop dependency); without it, the system viewer
    from PySide6.QtPdf import QPdfDocument
    from PySide6.QtPdfWidgets import QPdfView
except ImportError:
    QPdfDocument = QPdfView = None

PDF_EMBEDDED = QPdfView is not None
REPORT_STATUS_COLORS = {"pending": "#656d76", "running": "#1c7ed6", "ready": "#2b8a3e", "failed": "#c92a2a"}


def _table(model: Any) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    table.setShowGrid(False)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(30)
    table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return table


def _combo(items: dict[str, str]) -> QComboBox:
    combo = QComboBox()
    for value, text in items.items():
        combo.addItem(text, value)
    return combo


class ReportsView(QWidget):
    def __init__(self, presenter: ReportsPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        root, head, self.subtitle = page_layout(self, "Reports")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(presenter.refresh)
        head.addWidget(self.refresh_button)
        root.addLayout(head)

        # request form
        self.request_card = Card("New report")
        form = QHBoxLayout()
        self.kind = _combo(TYPE_NAMES)
        self.fmt = _combo(FORMAT_NAMES)
        self.period = QComboBox()
        for text, days in PERIODS:
            self.period.addItem(text, days)
        self.period.setCurrentIndex(2)
        self.start_date = QDateEdit(QDate.currentDate().addDays(-30))
        self.end_date = QDateEdit(QDate.currentDate())
        for edit in (self.start_date, self.end_date):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.name = QLineEdit()
        self.name.setPlaceholderText("Name (optional)")
        self.trace_id = QLineEdit()
        self.trace_id.setPlaceholderText("Trace id")
        self.request_button = QPushButton("Request report")
        self.request_button.setProperty("role", "primary")
        self.request_button.clicked.connect(self.request)
        for widget in (self.kind, self.fmt, self.period, self.start_date, self.end_date, self.trace_id):
            form.addWidget(widget)
        form.addWidget(self.name, 1)
        form.addWidget(self.request_button)
        self.request_card.body.addLayout(form)
        progress_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setFixedHeight(10)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.progress_text = label("", "muted")
        self.progress_text.hide()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.progress_text, 2)
        self.request_card.body.addLayout(progress_row)
        root.addWidget(self.request_card)
        self.kind.currentIndexChanged.connect(self._form_changed)
        self.period.currentIndexChanged.connect(self._form_changed)

        self.feedback = label("", "muted")
        self.feedback.setWordWrap(True)
        root.addWidget(self.feedback)

        self.tabs = QTabWidget()
        root.addWidget(self.tabs, 1)

        # reports list and viewer
        reports_page = QWidget()
        reports_box = QVBoxLayout(reports_page)
        reports_box.setContentsMargins(10, 10, 10, 10)
        actions = QHBoxLayout()
        self.open_button = QPushButton("Open")
        self.open_button.setProperty("role", "primary")
        self.open_button.clicked.connect(self.open_selected)
        self.system_button = QPushButton("Open in system viewer")
        self.system_button.clicked.connect(lambda: self.open_selected(system=True))
        self.save_button = QPushButton("Save as…")
        self.save_button.clicked.connect(self.save_selected)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setProperty("role", "danger")
        self.delete_button.clicked.connect(self.delete_selected)
        for button in (self.open_button, self.system_button, self.save_button, self.delete_button):
            actions.addWidget(button)
        actions.addStretch(1)
        self.viewer_note = label("" if PDF_EMBEDDED else
                                 "PDFs open in the system viewer (the embedded view needs PySide6-Pdf).", "muted")
        actions.addWidget(self.viewer_note)
        reports_box.addLayout(actions)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.table = _table(presenter.reports)
        self.table.setItemDelegateForColumn(ReportColumn.STATUS, PillDelegate(REPORT_STATUS_COLORS, RowRole.STATUS,
                                                                              self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(ReportColumn.NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in ((ReportColumn.TYPE, 150), (ReportColumn.FORMAT, 72), (ReportColumn.STATUS, 110),
                              (ReportColumn.SIZE, 80), (ReportColumn.CREATED, 130)):
            self.table.setColumnWidth(column, width)
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        self.table_hint = EmptyHint(self.table, "No reports yet. Choose a type and a period above and press "
                                                "“Request report”; reports built by a schedule appear here too.")
        self.split.addWidget(self.table)
        self.pdf_document: Any = None
        self.pdf_view: Any = None
        if PDF_EMBEDDED:
            self.pdf_document = QPdfDocument(self)
            self.pdf_view = QPdfView(self)
            self.pdf_view.setDocument(self.pdf_document)
            self.pdf_view.setPageMode(QPdfView.PageMode.MultiPage)
            self.pdf_view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
            self.pdf_view.hide()
            self.split.addWidget(self.pdf_view)
        reports_box.addWidget(self.split, 1)
        self.tabs.addTab(reports_page, "Reports")
        self.opened_path: Path | None = None
        self._system = False  # the last Open asked for the system viewer

        # schedules
        schedules_page = QWidget()
        sched_box = QVBoxLayout(schedules_page)
        sched_box.setContentsMargins(10, 10, 10, 10)
        self.schedule_form = QWidget()
        sform = QFormLayout(self.schedule_form)
        sform.setContentsMargins(0, 0, 0, 0)
        self.preset = QComboBox()
        for text, line in cron.PRESETS:
            self.preset.addItem(text, line)
        self.cron_line = QLineEdit(cron.PRESETS[0][1])
        self.cron_line.setFont(theme.mono_font(9.5))
        self.cron_line.setPlaceholderText("minute hour day month weekday, e.g. 0 7 * * 1")
        self.cron_text = label("", "muted")
        cron_row = QHBoxLayout()
        cron_row.addWidget(self.preset)
        cron_row.addWidget(self.cron_line, 1)
        cron_row.addWidget(self.cron_text, 2)
        sform.addRow("When", cron_row)
        what_row = QHBoxLayout()
        self.schedule_kind = _combo({k: v for k, v in TYPE_NAMES.items() if k != "trace"})
        self.schedule_fmt = _combo(FORMAT_NAMES)
        self.timezone = QLineEdit("UTC")
        self.timezone.setPlaceholderText("IANA time zone, e.g. Europe/Paris")
        what_row.addWidget(self.schedule_kind)
        what_row.addWidget(self.schedule_fmt)
        what_row.addWidget(label("Time zone"))
        what_row.addWidget(self.timezone)
        what_row.addStretch(1)
        sform.addRow("Report", what_row)
        self.schedule_name = QLineEdit()
        self.schedule_name.setPlaceholderText("e.g. Monday compliance summary")
        sform.addRow("Name", self.schedule_name)
        self.recipients = QLineEdit()
        self.recipients.setPlaceholderText("Email the report to (comma separated, optional)")
        sform.addRow("Email to", self.recipients)
        buttons = QHBoxLayout()
        self.create_schedule_button = QPushButton("Create schedule")
        self.create_schedule_button.setProperty("role", "primary")
        self.create_schedule_button.clicked.connect(self.create_schedule)
        self.delete_schedule_button = QPushButton("Delete schedule")
        self.delete_schedule_button.setProperty("role", "danger")
        self.delete_schedule_button.clicked.connect(self.delete_selected_schedule)
        buttons.addWidget(self.create_schedule_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_schedule_button)
        sform.addRow("", buttons)
        sched_box.addWidget(self.schedule_form)
        self.schedule_table = _table(presenter.schedules)
        sheader = self.schedule_table.horizontalHeader()
        sheader.setSectionResizeMode(ScheduleColumn.WHEN, QHeaderView.ResizeMode.Stretch)
        for column, width in ((ScheduleColumn.NAME, 220), (ScheduleColumn.TYPE, 150), (ScheduleColumn.FORMAT, 72),
                              (ScheduleColumn.NEXT_RUN, 140)):
            self.schedule_table.setColumnWidth(column, width)
        self.schedule_hint = EmptyHint(self.schedule_table, "No schedules yet. Fill in the form above and press "
                                                            "“Create schedule” to build a report on a timetable.")
        sched_box.addWidget(self.schedule_table, 1)
        self.tabs.addTab(schedules_page, "Schedules")

        self.preset.currentIndexChanged.connect(self._preset_chosen)
        self.cron_line.textChanged.connect(self._cron_changed)
        presenter.building.connect(self._building)
        presenter.finished.connect(self._finished)
        presenter.viewable.connect(self._viewable)
        presenter.downloaded.connect(self._downloaded)
        presenter.schedule_created.connect(lambda s: self.feedback.setText(f"Schedule created: {s.name or s.cron}."))
        presenter.schedule_deleted.connect(lambda _id: self.feedback.setText("Schedule deleted."))
        presenter.failed.connect(self.feedback.setText)
        presenter.reports.modelReset.connect(self._update)
        presenter.reports.rowsInserted.connect(self._update)
        presenter.reports.rowsRemoved.connect(self._update)
        presenter.reports.dataChanged.connect(self._update)
        presenter.schedules.modelReset.connect(self._update)
        presenter.schedules.rowsRemoved.connect(self._update)
        self.table.selectionModel().selectionChanged.connect(self._update)
        self.schedule_table.selectionModel().selectionChanged.connect(self._update)
        self._form_changed()
        self._cron_changed(self.cron_line.text())
        self._update()

    # -- requesting ----------------------------------------------------------------------------------

    def _form_changed(self, *_args: object) -> None:
        custom = self.period.currentData() == 0
        self.start_date.setVisible(custom)
        self.end_date.setVisible(custom)
        self.trace_id.setVisible(self.kind.currentData() == "trace")

    def request(self) -> None:
        days = self.period.currentData()
        if days == 0:
            start = datetime.combine(self.start_date.date().toPython(), time.min).astimezone(UTC)
            end = datetime.combine(self.end_date.date().toPython(), time.max).astimezone(UTC)
        else:
            start, end = period(days, datetime.now(UTC))
        self.presenter.request(self.kind.currentData(), self.fmt.currentData(), start=start, end=end,
                               name=self.name.text(), trace_id=self.trace_id.text())

    def _building(self, report: schemas.Report) -> None:
        if report.id not in self.presenter.watching and not report.finished:
            return
        self.progress.show()
        self.progress_text.show()
        self.progress.setValue(100 if report.finished else report.progress)
        self.progress_text.setText(f"{report_name(report)}: {report.status}"
                                   + (f" {report.progress}%" if report.status == "running" else ""))

    def _finished(self, report: schemas.Report) -> None:
        if report.status == "ready":
            self.progress_text.setText(f"{report_name(report)} is ready ({size_text(report.size_bytes)}).")
            row = self.presenter.reports.row_of(report.id)
            if row >= 0:
                self.table.selectRow(row)
        else:
            self.progress.hide()
            self.progress_text.setText(f"{report_name(report)} failed: {report.error or 'no reason given'}")

    # -- the list ------------------------------------------------------------------------------------

    def selected(self) -> schemas.Report | None:
        rows = self.table.selectionModel().selectedRows()
        return self.presenter.reports.item(rows[0].row()) if rows else None

    def _update(self, *_args: object) -> None:
        report = self.selected()
        ready = report is not None and report.status == "ready"
        writer = self.presenter.can_write
        self.open_button.setEnabled(ready)
        self.system_button.setEnabled(ready)
        self.save_button.setEnabled(ready)
        self.delete_button.setVisible(writer)
        self.delete_button.setEnabled(report is not None)
        self.request_card.setVisible(writer)
        self.schedule_form.setVisible(writer)
        self.delete_schedule_button.setEnabled(bool(self.schedule_table.selectionModel().selectedRows()))
        self.subtitle.setText("Compliance summaries, exports and activity reports, built by the sidecar." if writer
                              else "Reports built by the sidecar. Your role can read and download them.")

    def update_role(self) -> None:
        """Show or hide the request and schedule forms for the logged-in user's role."""
        self._update()

    def open_selected(self, *, system: bool = False) -> None:
        report = self.selected()
        if report is not None:
            self._system = system
            self.presenter.fetch_for_viewing(report)

    def _viewable(self, report: schemas.Report, path: Path) -> None:
        self.opened_path = path
        if PDF_EMBEDDED and report.format == "pdf" and not self._system:
            self.pdf_document.load(str(path))
            if not self.pdf_view.isVisible():
                width = self.split.width()
                for column in (ReportColumn.TYPE, ReportColumn.SIZE):  # room for the names beside the preview
                    self.table.setColumnHidden(column, True)
                self.pdf_view.show()
                self.split.setSizes([width * 3 // 5, width - width * 3 // 5])
            self.feedback.setText(f"{report_name(report)}: {self.pdf_document.pageCount()} pages.")
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        self.feedback.setText(f"Opened {path.name} in the system viewer.")

    def save_selected(self) -> None:
        report = self.selected()
        if report is None:
            return
        suggested = report.file_name or f"{report.id}.{report.format}"
        target, _filter = QFileDialog.getSaveFileName(self, "Save report as", suggested)
        if target:
            self.presenter.save(report, Path(target))

    def _downloaded(self, _report: schemas.Report, path: Path) -> None:
        self.feedback.setText(f"Saved {path}.")

    def delete_selected(self) -> None:
        report = self.selected()
        if report is not None:
            self.presenter.delete(report.id)

    # -- schedules -----------------------------------------------------------------------------------

    def _preset_chosen(self, index: int) -> None:
        line = self.preset.itemData(index)
        if line:
            self.cron_line.setText(line)
        else:
            self.cron_line.setFocus()

    def _cron_changed(self, text: str) -> None:
        verdict = cron.check(text)
        self.cron_text.setProperty("role", "muted" if verdict.ok else "error")
        self.cron_text.setText(verdict.description if verdict.ok else verdict.error)
        self.cron_text.style().unpolish(self.cron_text)
        self.cron_text.style().polish(self.cron_text)
        self.create_schedule_button.setEnabled(verdict.ok)
        index = cron.preset_of(text)
        if index != self.preset.currentIndex():
            self.preset.blockSignals(True)
            self.preset.setCurrentIndex(index)
            self.preset.blockSignals(False)

    def create_schedule(self) -> None:
        self.presenter.create_schedule(self.schedule_kind.currentData(), self.schedule_fmt.currentData(),
                                       self.cron_line.text(), self.timezone.text(), name=self.schedule_name.text(),
                                       recipients=self.recipients.text())

    def delete_selected_schedule(self) -> None:
        rows = self.schedule_table.selectionModel().selectedRows()
        if rows:
            self.presenter.delete_schedule(self.presenter.schedules.item(rows[0].row()).id)
