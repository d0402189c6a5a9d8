"""PDF with reportlab: a cover page, running header and footer ("Page N of M", generated-at, report id),
KPI tiles, charts drawn with reportlab.graphics, and tables that split across pages.

Tables are streamed: :class:`StreamingTable` pulls rows from the block's iterator one page at a time
and lays out only what fits, so a long table never exists as one object (and a split never re-measures
the rows that follow). The document is built by a single pass.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (BaseDocTemplate, CondPageBreak, Flowable, Frame, KeepTogether, NextPageTemplate,
                                PageTemplate, Paragraph, Spacer, Table, TableStyle)
from reportlab.platypus import PageBreak as PdfPageBreak
from xml.sax.saxutils import escape

from sidecar.reports.document import (ChartBlock, Column, Document, FieldsBlock, KpiBlock, PageBreak, ProgressFn,
                                      TableBlock, TextBlock, TreeLabel)
from sidecar.reports.values import short_time, text

# -- look ------------------------------------------------------------------------------------------

INK = colors.HexColor("#111827")
MUTED = colors.HexColor("#6B7280")
NAVY = colors.HexColor("#14213D")
ACCENT = colors.HexColor("#0E7490")
RULE = colors.HexColor("#D6DAE1")
ZEBRA = colors.HexColor("#F4F6F9")
HEAD_BG = colors.HexColor("#E8EDF3")
TONES = {"neutral": colors.HexColor("#64748B"), "good": colors.HexColor("#15803D"),
         "warning": colors.HexColor("#B45309"), "critical": colors.HexColor("#B91C1C")}
SEVERITY_COLORS = {"critical": "#B91C1C", "warning": "#D97706", "info": "#2563EB"}

PAGE_W, PAGE_H = A4
MARGIN = 18 * mm
CONTENT_W = PAGE_W - 2 * MARGIN
COVER_BAND = 92 * mm

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts",
              "/Library/Fonts", "C:\\Windows\\Fonts")


def _fonts() -> tuple[str, str, str]:
    """(regular, bold, mono) font names: DejaVu when installed (wide Unicode coverage), else the core fonts."""
    if "AA-Sans" in pdfmetrics.getRegisteredFontNames():
        return "AA-Sans", "AA-Sans-Bold", "AA-Mono"
    for folder in _FONT_DIRS:
        files = [os.path.join(folder, f) for f in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf")]
        if all(os.path.exists(f) for f in files):
            try:
                for name, path in zip(("AA-Sans", "AA-Sans-Bold", "AA-Mono"), files):
                    pdfmetrics.registerFont(TTFont(name, path))
                pdfmetrics.registerFontFamily("AA-Sans", normal="AA-Sans", bold="AA-Sans-Bold",
                                              italic="AA-Sans", boldItalic="AA-Sans-Bold")
                return "AA-Sans", "AA-Sans-Bold", "AA-Mono"
            except Exception:  # noqa: BLE001 - an unreadable font file: fall back to the core fonts
                break
    return "Helvetica", "Helvetica-Bold", "Courier"


class _Styles:
    def __init__(self) -> None:
        self.regular, self.bold, self.mono = _fonts()
        r, b = self.regular, self.bold
        self.body = ParagraphStyle("body", fontName=r, fontSize=9.5, leading=13.5, textColor=INK, spaceAfter=5)
        self.note = ParagraphStyle("note", fontName=r, fontSize=8, leading=10.5, textColor=MUTED, spaceBefore=3,
                                   spaceAfter=4)
        self.h1 = ParagraphStyle("h1", fontName=b, fontSize=15, leading=19, textColor=NAVY, spaceBefore=4,
                                 spaceAfter=8)
        self.h2 = ParagraphStyle("h2", fontName=b, fontSize=11.5, leading=15, textColor=NAVY, spaceBefore=12,
                                 spaceAfter=6)
        self.cell = ParagraphStyle("cell", fontName=r, fontSize=7.8, leading=9.6, textColor=INK)
        self.cell_right = ParagraphStyle("cell_r", parent=self.cell, alignment=TA_RIGHT)
        self.cell_mono = ParagraphStyle("cell_m", parent=self.cell, fontName=self.mono, fontSize=7, leading=9)
        self.head = ParagraphStyle("head", fontName=b, fontSize=7.6, leading=9.4, textColor=NAVY)
        self.head_right = ParagraphStyle("head_r", parent=self.head, alignment=TA_RIGHT)
        self.kpi_value = ParagraphStyle("kpi_v", fontName=b, fontSize=17, leading=20, textColor=INK)
        self.kpi_label = ParagraphStyle("kpi_l", fontName=r, fontSize=7.8, leading=9.5, textColor=MUTED)
        self.kpi_note = ParagraphStyle("kpi_n", fontName=r, fontSize=7.2, leading=9, textColor=MUTED)
        self.field_label = ParagraphStyle("f_l", fontName=b, fontSize=8.5, leading=11, textColor=MUTED, alignment=TA_LEFT)
        self.field_value = ParagraphStyle("f_v", fontName=r, fontSize=8.8, leading=11.5, textColor=INK)
        self.field_mono = ParagraphStyle("f_m", parent=self.field_value, fontName=self.mono, fontSize=7.8)
        self.cover_label = ParagraphStyle("c_l", fontName=b, fontSize=8.5, leading=12, textColor=MUTED)
        self.cover_value = ParagraphStyle("c_v", fontName=r, fontSize=10.5, leading=14, textColor=INK)


def _p(value: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(value).replace("\n", "<br/>"), style)


# -- tables ----------------------------------------------------------------------------------------

_NUMERIC = ("int", "pct")
_PAD_V, _PAD_H = 3.2, 4


class StreamingTable(Flowable):
    """A table laid out page by page from a row iterator: each split takes the rows that fit."""

    def __init__(self, block: TableBlock, styles: _Styles, progress: ProgressFn | None) -> None:
        super().__init__()
        self._block = block
        self._styles = styles
        self._progress = progress
        self._columns = [c for c in block.columns if c.pdf]
        self._index = [i for i, c in enumerate(block.columns) if c.pdf]
        total = sum(c.width for c in self._columns)
        self._widths = [CONTENT_W * c.width / total for c in self._columns]
        self._rows: Iterator[Sequence[Any]] = iter(block.rows)
        self._buffer: list[list[Any]] = []
        self._done = 0
        self._limit = block.pdf_limit
        self._exhausted = False
        self._header = [_p(c.title, styles.head_right if c.kind in _NUMERIC else styles.head) for c in self._columns]
        self._header_h = max(p.wrap(w - 2 * _PAD_H, 1000)[1] for p, w in zip(self._header, self._widths)) + 2 * _PAD_V
        self.truncated = False
        self._fill()

    # a row as flowables, with its height
    def _cells(self, row: Sequence[Any]) -> tuple[list[Any], float]:
        out, height = [], 0.0
        s = self._styles
        for i, column, width in zip(self._index, self._columns, self._widths):
            value = row[i] if i < len(row) else None
            label = text(value, column)
            if column.max_chars and len(label) > column.max_chars:
                label = label[: column.max_chars - 1] + "…"
            if column.kind in _NUMERIC:
                style = s.cell_right
            elif column.kind == "mono":
                style = s.cell_mono
            else:
                style = s.cell
            if column.kind == "severity" and isinstance(value, str):
                color = SEVERITY_COLORS.get(value.lower())
                label = label.capitalize()
                para = Paragraph(f'<font color="{color}"><b>{escape(label)}</b></font>' if color else escape(label), style)
            elif isinstance(value, TreeLabel):
                indent = min(value.depth, 12) * 9
                para = Paragraph(escape(("└ " if value.depth else "") + label),
                                 ParagraphStyle("tree", parent=style, leftIndent=indent))
            else:
                para = Paragraph(escape(label), style)
            h = para.wrap(width - 2 * _PAD_H, 10_000)[1]
            out.append(para)
            height = max(height, h)
        return out, height + 2 * _PAD_V

    def _fill(self) -> None:
        """Keep one row ready, so we know whether anything is left."""
        if self._buffer or self._exhausted:
            return
        if self._limit is not None and self._done >= self._limit:
            self._exhausted = True
            self.truncated = next(self._rows, None) is not None
            return
        row = next(self._rows, None)
        if row is None:
            self._exhausted = True
            return
        cells, height = self._cells(row)
        self._buffer.append([cells, height])

    @property
    def empty(self) -> bool:
        return self._done == 0 and not self._buffer and self._exhausted

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        if not self._buffer:
            return avail_width, 0
        return avail_width, avail_height + 1  # never fits whole: the frame asks us to split

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        used = self._header_h
        rows: list[list[Any]] = []
        while self._buffer:
            cells, height = self._buffer[0]
            if used + height > avail_height and rows:
                break
            if used + height > avail_height and not rows:
                return []  # not even one row: move to the next page
            rows.append(cells)
            used += height
            self._buffer.pop(0)
            self._done += 1
            self._fill()
        self.__dict__.pop("_postponed", None)  # placed rows: a later move to a fresh page is not an overflow
        if self._progress is not None and self._block.total:
            self._progress(min(1.0, self._done / max(1, min(self._block.total, self._limit or self._block.total))))
        first = self._done - len(rows)
        table = Table([self._header, *rows], colWidths=self._widths, repeatRows=0, hAlign="LEFT")
        commands: list[tuple[Any, ...]] = [
            ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, NAVY),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), _PAD_V), ("BOTTOMPADDING", (0, 0), (-1, -1), _PAD_V),
            ("LEFTPADDING", (0, 0), (-1, -1), _PAD_H), ("RIGHTPADDING", (0, 0), (-1, -1), _PAD_H),
        ]
        for n in range(len(rows)):
            if (first + n) % 2 == 1:
                commands.append(("BACKGROUND", (0, n + 1), (-1, n + 1), ZEBRA))
        table.setStyle(TableStyle(commands))
        return [table, self] if self._buffer else [table]

    def draw(self) -> None:  # only reached when nothing is left
        return


class _LazyFlowables(list):  # type: ignore[type-arg]
    """A flowable list that the document template consumes from the front, refilled from a generator."""

    def __init__(self, source: Iterator[Flowable]) -> None:
        super().__init__()
        self._source = source

    def __len__(self) -> int:
        while super().__len__() < 12:
            item = next(self._source, None)
            if item is None:
                break
            self.append(item)
        return super().__len__()


# -- blocks ----------------------------------------------------------------------------------------

def _kpis(block: KpiBlock, s: _Styles) -> list[Flowable]:
    per_row = 4
    gap = 4 * mm
    width = (CONTENT_W - gap * (per_row - 1)) / per_row
    cells: list[list[Any]] = []
    tones: list[str] = []
    for kpi in block.items:
        value = f"{kpi.value:,}" if isinstance(kpi.value, int) else str(kpi.value)
        parts: list[Any] = [_p(value, ParagraphStyle("v", parent=s.kpi_value, textColor=TONES[kpi.tone]
                                                     if kpi.tone in ("warning", "critical") else INK)),
                            _p(kpi.label, s.kpi_label)]
        if kpi.note:
            parts.append(_p(kpi.note, s.kpi_note))
        cells.append(parts)
        tones.append(kpi.tone)
    grid: list[list[Any]] = []
    for first in range(0, len(cells), per_row):
        if grid:
            grid.append([""] * (per_row * 2 - 1))  # a gap between rows of tiles
        row = cells[first:first + per_row]
        row += [""] * (per_row - len(row))
        spaced: list[Any] = []
        for i, c in enumerate(row):
            spaced.append(c)
            if i < per_row - 1:
                spaced.append("")
        grid.append(spaced)
    widths = []
    for i in range(per_row):
        widths.append(width)
        if i < per_row - 1:
            widths.append(gap)
    heights = [None if r % 2 == 0 else gap for r in range(len(grid))]
    table = Table(grid, colWidths=widths, rowHeights=heights, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [("VALIGN", (0, 0), (-1, -1), "TOP"),
                                       ("TOPPADDING", (0, 0), (-1, -1), 7), ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
                                       ("LEFTPADDING", (0, 0), (-1, -1), 8), ("RIGHTPADDING", (0, 0), (-1, -1), 6)]
    for r in range(1, len(grid), 2):
        commands += [("TOPPADDING", (0, r), (-1, r), 0), ("BOTTOMPADDING", (0, r), (-1, r), 0)]
    for index, tone in enumerate(tones):
        r, c = divmod(index, per_row)
        row_index, col = r * 2, c * 2
        commands += [("BACKGROUND", (col, row_index), (col, row_index), ZEBRA),
                     ("LINEBEFORE", (col, row_index), (col, row_index), 2.4,
                      TONES[tone] if tone != "neutral" else ACCENT)]
    table.setStyle(TableStyle(commands))
    return [_p(block.title, s.h2), table, Spacer(1, 3 * mm)]


def _fields(block: FieldsBlock, s: _Styles) -> list[Flowable]:
    value_style = s.field_mono if block.mono else s.field_value
    rows = [[_p(label, s.field_label), _p(text(value, Column(key, label)) if value is not None else "—", value_style)]
            for key, label, value in block.pairs]
    table = Table(rows, colWidths=[CONTENT_W * 0.3, CONTENT_W * 0.7], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                               ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                               ("LEFTPADDING", (0, 0), (-1, -1), 2)]))
    out: list[Flowable] = [KeepTogether([_p(block.title, s.h2), table])]
    if block.note:
        out.append(_p(block.note, s.note))
    return out


def _nice_scale(value: float) -> tuple[float, float]:
    """(top, step) for a value axis: about five round steps covering ``value``."""
    if value <= 5:
        return 5, 1
    raw = value / 5
    magnitude = 10 ** (len(str(int(raw))) - 1)
    multiples = (1, 2, 5, 10) if magnitude == 1 else (1, 2, 2.5, 5, 10)  # no 2.5 steps for small counts
    step = next(m * magnitude for m in multiples if m * magnitude >= raw)
    return step * -(-value // step), step


def _chart(block: ChartBlock, s: _Styles) -> list[Flowable]:
    height = 62 * mm if block.kind == "bar" else max(30 * mm, 9 * mm * len(block.categories) + 14 * mm)
    drawing = Drawing(CONTENT_W, height)
    chart: Any = VerticalBarChart() if block.kind == "bar" else HorizontalBarChart()
    chart.data = [list(s_.values) for s_ in block.series] or [[0]]
    left = 34 if block.kind == "bar" else 120
    chart.x, chart.y = left, 24 if block.kind == "bar" else 8
    chart.width = CONTENT_W - left - (120 if block.kind == "bar" else 20)
    chart.height = height - (chart.y + 14)
    totals = [sum(series.values[i] for series in block.series) if block.stacked else
              max((series.values[i] for series in block.series), default=0) for i in range(len(block.categories))]
    top, step = _nice_scale(max(totals, default=0))
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, top
    chart.valueAxis.valueStep = step
    chart.valueAxis.labels.fontName, chart.valueAxis.labels.fontSize = s.regular, 7
    chart.valueAxis.labels.fillColor = MUTED
    chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}" if top >= 5 else f"{v:g}"
    chart.valueAxis.strokeColor = RULE
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#ECEFF3")
    chart.valueAxis.gridStrokeWidth = 0.5
    chart.categoryAxis.categoryNames = list(block.categories) or [""]
    chart.categoryAxis.labels.fontName, chart.categoryAxis.labels.fontSize = s.regular, 6.8
    chart.categoryAxis.labels.fillColor = MUTED
    chart.categoryAxis.strokeColor = RULE
    if block.kind == "bar":
        step = max(1, -(-len(block.categories) // 16))
        chart.categoryAxis.categoryNames = [c if i % step == 0 else "" for i, c in enumerate(block.categories)] or [""]
        if len(block.categories) > 8:
            chart.categoryAxis.labels.angle = 35
            chart.categoryAxis.labels.boxAnchor = "ne"
            chart.categoryAxis.labels.dy = -2
    else:
        chart.categoryAxis.labels.fontSize = 7.8
        chart.categoryAxis.labels.fillColor = INK
        chart.categoryAxis.reverseDirection = 1
    if block.stacked:
        chart.categoryAxis.style = "stacked"
    chart.barSpacing = 0.5
    chart.groupSpacing = 3 if block.kind == "bar" else 4
    chart.bars.strokeColor = None
    for index, series in enumerate(block.series):
        chart.bars[index].fillColor = colors.HexColor(series.color)
    drawing.add(chart)
    if block.kind == "bar" and len(block.series) > 0:
        legend = Legend()
        legend.x, legend.y = CONTENT_W - 100, height - 18
        legend.alignment = "right"
        legend.fontName, legend.fontSize = s.regular, 7.8
        legend.columnMaximum = 6
        legend.deltay = 11
        legend.dx = legend.dy = 7
        legend.strokeColor = None
        legend.colorNamePairs = [(colors.HexColor(x.color), f"{x.name} ({sum(x.values):,.0f})") for x in block.series]
        drawing.add(legend)
    if block.value_label:
        drawing.add(String(0, height - 9, block.value_label, fontName=s.regular, fontSize=7, fillColor=MUTED))
    out: list[Flowable] = [KeepTogether([_p(block.title, s.h2), drawing])]
    if block.note:
        out.append(_p(block.note, s.note))
    return out


def _blocks(document: Document, s: _Styles, progress: ProgressFn | None) -> Iterator[Flowable]:
    yield from _cover(document, s)
    yield NextPageTemplate("body")
    yield PdfPageBreak()
    for block in document.blocks:
        if isinstance(block, PageBreak):
            yield PdfPageBreak()
        elif isinstance(block, KpiBlock):
            yield KeepTogether(_kpis(block, s))
        elif isinstance(block, FieldsBlock):
            yield from _fields(block, s)
        elif isinstance(block, TextBlock):
            parts: list[Flowable] = [_p(block.title, s.h2)] if block.title else []
            parts += [Paragraph(p, s.body) for p in block.paragraphs]  # trusted markup from our builders
            yield from parts
        elif isinstance(block, ChartBlock):
            yield CondPageBreak(75 * mm)
            yield from _chart(block, s)
        elif isinstance(block, TableBlock):
            table = StreamingTable(block, s, progress)
            yield CondPageBreak(40 * mm)
            yield _p(block.title, s.h2)
            if table.empty:
                yield _p(block.empty_text, s.note)
            else:
                yield table
            yield _LateNote(lambda table=table, block=block: _table_note(table, block), s.note)


def _table_note(table: StreamingTable, block: TableBlock) -> str | None:
    note = block.note
    if table.truncated:
        extra = (f"This PDF lists the first {block.pdf_limit:,} rows"
                 + (f" of {block.total:,}" if block.total is not None else "")
                 + "; the CSV and JSON formats of this report contain every row.")
        note = f"{note} {extra}" if note else extra
    return note


class _LateNote(Flowable):
    """A note whose text is known only once the table before it has been laid out."""

    def __init__(self, make: Any, style: ParagraphStyle) -> None:
        super().__init__()
        self._make = make
        self._style = style
        self._para: Paragraph | None = None

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        if self._para is None:
            note = self._make()
            self._para = _p(note, self._style) if note else None
        if self._para is None:
            return avail_width, 0
        w, h = self._para.wrap(avail_width, avail_height)
        return w, h + self._style.spaceBefore

    def draw(self) -> None:
        if self._para is not None:
            self._para.drawOn(self.canv, 0, 0)


def _cover(document: Document, s: _Styles) -> Iterator[Flowable]:
    facts: list[tuple[str, str]] = [("Organisation", document.organization)]
    if document.period is not None:
        facts.append(("Period", f"{short_time(document.period[0])}  to  {short_time(document.period[1])} (UTC)"))
    facts += [(label, value) for label, value in document.scope]
    facts += [("Generated", f"{short_time(document.generated_at)} UTC"), ("Report ID", document.report_id),
              ("Sensitive values", "shown as recorded (requested explicitly)" if document.sensitive_shown
               else "masked (matched personal, financial and secret values are replaced)")]
    rows = [[_p(label.upper(), s.cover_label), _p(value, s.cover_value)] for label, value in facts]
    table = Table(rows, colWidths=[40 * mm, CONTENT_W - 40 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                               ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    yield table
    if document.cover_note:
        yield Spacer(1, 9 * mm)
        yield _p("At a glance", s.h2)
        yield Paragraph(document.cover_note, s.body)


def _page_decor(document: Document, s: _Styles) -> tuple[Any, Any]:
    def cover(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFillColor(NAVY)
        canvas.rect(0, PAGE_H - COVER_BAND, PAGE_W, COVER_BAND, stroke=0, fill=1)
        canvas.setFillColor(ACCENT)
        canvas.rect(0, PAGE_H - COVER_BAND - 2.2 * mm, PAGE_W, 2.2 * mm, stroke=0, fill=1)
        canvas.setFillColor(colors.HexColor("#9FB3C8"))
        canvas.setFont(s.bold, 9)
        canvas.drawString(MARGIN, PAGE_H - 20 * mm, "AGENTAUDIT  ·  COMPLIANCE REPORTING")
        canvas.setFillColor(colors.white)
        canvas.setFont(s.bold, 28)
        canvas.drawString(MARGIN, PAGE_H - 48 * mm, document.title)
        if document.subtitle:
            canvas.setFont(s.regular, 12.5)
            canvas.setFillColor(colors.HexColor("#D5DEE8"))
            canvas.drawString(MARGIN, PAGE_H - 59 * mm, document.subtitle[:95])
        canvas.setFont(s.regular, 10.5)
        canvas.setFillColor(colors.HexColor("#D5DEE8"))
        canvas.drawString(MARGIN, PAGE_H - 76 * mm, document.organization[:90])
        canvas.restoreState()

    def body(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, PAGE_H - 13 * mm, PAGE_W - MARGIN, PAGE_H - 13 * mm)
        canvas.setFont(s.bold, 8)
        canvas.setFillColor(NAVY)
        canvas.drawString(MARGIN, PAGE_H - 11 * mm, document.title)
        canvas.setFont(s.regular, 8)
        canvas.setFillColor(MUTED)
        right = document.organization[:60]
        if document.period is not None:
            right += f"  ·  {short_time(document.period[0])[:10]} to {short_time(document.period[1])[:10]}"
        canvas.drawRightString(PAGE_W - MARGIN, PAGE_H - 11 * mm, right)
        canvas.restoreState()

    return cover, body


def _canvas_class(document: Document, s: _Styles) -> type:
    footer_left = f"Generated {short_time(document.generated_at)} UTC  ·  {document.report_id}"

    class NumberedCanvas(pdfcanvas.Canvas):
        """Defers each page until the end so the footer can say "Page N of M"."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, 12 * mm, PAGE_W - MARGIN, 12 * mm)
            self.setFont(s.regular, 7.5)
            self.setFillColor(MUTED)
            self.drawString(MARGIN, 8 * mm, footer_left)
            self.drawRightString(PAGE_W - MARGIN, 8 * mm, f"Page {self._pageNumber} of {total}")
            self.restoreState()

    return NumberedCanvas


def render(document: Document, out: BinaryIO, progress: ProgressFn | None = None) -> None:
    """Write ``document`` as a PDF to ``out``."""
    s = _Styles()
    doc = BaseDocTemplate(out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=20 * mm,
                          bottomMargin=18 * mm, title=document.title, author="AgentAudit",
                          subject=f"{document.report_type} report for {document.organization}",
                          creator="AgentAudit", keywords=document.report_id)
    cover_decor, body_decor = _page_decor(document, s)
    cover_frame = Frame(MARGIN, 18 * mm, CONTENT_W, PAGE_H - COVER_BAND - 30 * mm, id="cover", leftPadding=0,
                        rightPadding=0, topPadding=0, bottomPadding=0)
    body_frame = Frame(MARGIN, 18 * mm, CONTENT_W, PAGE_H - 38 * mm, id="body", leftPadding=0, rightPadding=0,
                       topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="cover", frames=[cover_frame], onPage=cover_decor),
                          PageTemplate(id="body", frames=[body_frame], onPage=body_decor)])
    doc.build(_LazyFlowables(_blocks(document, s, progress)), canvasmaker=_canvas_class(document, s))
