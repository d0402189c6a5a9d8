"""PDF with reportlab: a cover page, running header and footer ("Page N of M", generated-at, report id),
KPI tiles, charts drawn with reportlab.graphics, and tables that split across pages.

Tables are streamed: :class:`StreamingTable` pulls rows from the block's iterator one page at a time
and lays out only what fits, so a long table never exists as one object (and a split never re-measures
the rows that follow). The document is built by a single pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (BaseDocTemplate, CondPageBreak, Flowable, Frame, KeepTogether, NextPageTemplate,
                                PageTemplate, Paragraph, Spacer, Table, TableStyle)
from reportlab.platypus import PageBreak as PdfPageBreak

from sidecar.reports.document import (ChartBlock, Column, Document, FieldsBlock, KpiBlock, PageBreak, ProgressFn,
                                      TableBlock, TextBlock)
from sidecar.reports.pdf_chart import chart
from sidecar.reports.pdf_style import (ACCENT, CONTENT_W, COVER_BAND, INK, MARGIN, MUTED, NAVY, PAGE_H, PAGE_W, RULE,
                                       TONES, ZEBRA, Styles, para)
from sidecar.reports.pdf_table import LateNote, LazyFlowables, StreamingTable, table_note
from sidecar.reports.values import period_label, short_time, text

__all__ = ["StreamingTable", "render"]

#: On every page of a report that shows sensitive values as recorded.
UNMASKED = "UNMASKED: SENSITIVE VALUES SHOWN"


# -- blocks ----------------------------------------------------------------------------------------

def _kpis(block: KpiBlock, s: Styles) -> list[Flowable]:
    per_row = 4
    gap = 4 * mm
    width = (CONTENT_W - gap * (per_row - 1)) / per_row
    cells: list[list[Any]] = []
    tones: list[str] = []
    for kpi in block.items:
        value = f"{kpi.value:,}" if isinstance(kpi.value, int) else str(kpi.value)
        parts: list[Any] = [para(value, ParagraphStyle("v", parent=s.kpi_value, textColor=TONES[kpi.tone]
                                                     if kpi.tone in ("warning", "critical") else INK)),
                            para(kpi.label, s.kpi_label)]
        if kpi.note:
            parts.append(para(kpi.note, s.kpi_note))
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
    return [para(block.title, s.h2), table, Spacer(1, 3 * mm)]


def _fields(block: FieldsBlock, s: Styles) -> list[Flowable]:
    value_style = s.field_mono if block.mono else s.field_value
    rows = [[para(label, s.field_label), para(text(value, Column(key, label)) if value is not None else "—", value_style)]
            for key, label, value in block.pairs]
    table = Table(rows, colWidths=[CONTENT_W * 0.3, CONTENT_W * 0.7], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                               ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                               ("LEFTPADDING", (0, 0), (-1, -1), 2)]))
    out: list[Flowable] = [KeepTogether([para(block.title, s.h2), table])]
    if block.note:
        out.append(para(block.note, s.note))
    return out


def _blocks(document: Document, s: Styles, progress: ProgressFn | None) -> Iterator[Flowable]:
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
            parts: list[Flowable] = [para(block.title, s.h2)] if block.title else []
            parts += [para(p, s.body) for p in block.paragraphs]
            yield from parts
        elif isinstance(block, ChartBlock):
            yield CondPageBreak(75 * mm)
            yield from chart(block, s)
        elif isinstance(block, TableBlock):
            table = StreamingTable(block, s, progress, document.period)
            yield CondPageBreak(40 * mm)
            yield para(block.title, s.h2)
            if table.empty:
                yield para(block.empty_text, s.note)
            else:
                yield table
            yield LateNote(lambda table=table, block=block: table_note(table, block), s.note)


def _cover(document: Document, s: Styles) -> Iterator[Flowable]:
    facts: list[tuple[str, str]] = [("Organisation", document.organization)]
    if document.period is not None:
        facts.append(("Period", f"{short_time(document.period[0])}  to  {short_time(document.period[1])} "
                                "(UTC; both ends included)"))
    facts += [(label, value) for label, value in document.scope]
    facts += [("Generated", f"{short_time(document.generated_at)} UTC"), ("Report ID", document.report_id),
              ("Sensitive values", "shown as recorded (requested explicitly)" if document.sensitive_shown
               else "masked (matched personal, financial and secret values are replaced)")]
    rows = [[para(label.upper(), s.cover_label), para(value, s.cover_value)] for label, value in facts]
    table = Table(rows, colWidths=[40 * mm, CONTENT_W - 40 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                               ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    yield table
    if document.cover_note:
        yield Spacer(1, 9 * mm)
        yield para("At a glance", s.h2)
        yield para(document.cover_note[0], s.body)
        for paragraph in document.cover_note[1:]:
            yield Spacer(1, 3 * mm)
            yield para(paragraph, s.note)


def _page_decor(document: Document, s: Styles) -> tuple[Any, Any]:
    def cover(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFillColor(NAVY)
        canvas.rect(0, PAGE_H - COVER_BAND, PAGE_W, COVER_BAND, stroke=0, fill=1)
        canvas.setFillColor(ACCENT)
        canvas.rect(0, PAGE_H - COVER_BAND - 2.2 * mm, PAGE_W, 2.2 * mm, stroke=0, fill=1)
        canvas.setFillColor(colors.HexColor("#9FB3C8"))
        canvas.setFont(s.bold, 9)
        canvas.drawString(MARGIN, PAGE_H - 20 * mm, "AGENTAUDIT  ·  COMPLIANCE REPORTING")
        if document.sensitive_shown:
            canvas.setFillColor(colors.HexColor("#FCA5A5"))
            canvas.drawRightString(PAGE_W - MARGIN, PAGE_H - 20 * mm, UNMASKED)
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
        if document.sensitive_shown:
            canvas.setFillColor(TONES["critical"])
            canvas.drawString(MARGIN + canvas.stringWidth(document.title + "   ", s.bold, 8), PAGE_H - 11 * mm, UNMASKED)
        canvas.setFont(s.regular, 8)
        canvas.setFillColor(MUTED)
        right = document.organization[:60]
        if document.period is not None:
            right += f"  ·  {period_label(*document.period)} UTC"
        left = document.title + ("   " + UNMASKED if document.sensitive_shown else "")
        room = CONTENT_W - canvas.stringWidth(left, s.bold, 8) - 12
        if canvas.stringWidth(right, s.regular, 8) > room and document.period is not None:
            right = f"{period_label(*document.period)} UTC"  # the period matters more than the name here
        canvas.drawRightString(PAGE_W - MARGIN, PAGE_H - 11 * mm, right)
        canvas.restoreState()

    return cover, body


def _canvas_class(document: Document, s: Styles) -> type:
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
    s = Styles()
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
    doc.build(LazyFlowables(_blocks(document, s, progress)), canvasmaker=_canvas_class(document, s))
