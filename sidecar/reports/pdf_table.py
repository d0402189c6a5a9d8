"""PDF tables streamed page by page from a row iterator, and the lazily filled flowable list."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from sidecar.reports.document import ProgressFn, TableBlock, TreeLabel
from sidecar.reports.pdf_style import CONTENT_W, HEAD_BG, NAVY, RULE, SEVERITY_COLORS, ZEBRA, Styles, para
from sidecar.reports.values import text

_NUMERIC = ("int", "pct")
_PAD_V, _PAD_H = 3.2, 4


class StreamingTable(Flowable):
    """A table laid out page by page from a row iterator: each split takes the rows that fit."""

    def __init__(self, block: TableBlock, styles: Styles, progress: ProgressFn | None) -> None:
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
        self._header = [para(c.title, styles.head_right if c.kind in _NUMERIC else styles.head) for c in self._columns]
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
                cell_para = Paragraph(f'<font color="{color}"><b>{escape(label)}</b></font>' if color else escape(label), style)
            elif isinstance(value, TreeLabel):
                indent = min(value.depth, 12) * 9
                cell_para = Paragraph(escape(("└ " if value.depth else "") + label),
                                      ParagraphStyle("tree", parent=style, leftIndent=indent))
            else:
                cell_para = Paragraph(escape(label), style)
            h = cell_para.wrap(width - 2 * _PAD_H, 10_000)[1]
            out.append(cell_para)
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


class LazyFlowables(list):  # type: ignore[type-arg]
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



def table_note(table: StreamingTable, block: TableBlock) -> str | None:
    note = block.note
    if table.truncated:
        extra = (f"This PDF lists the first {block.pdf_limit:,} rows"
                 + (f" of {block.total:,}" if block.total is not None else "")
                 + "; the CSV and JSON formats of this report contain every row.")
        note = f"{note} {extra}" if note else extra
    return note


class LateNote(Flowable):
    """A note whose text is known only once the table before it has been laid out."""

    def __init__(self, make: Any, style: ParagraphStyle) -> None:
        super().__init__()
        self._make = make
        self._style = style
        self._para: Paragraph | None = None

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        if self._para is None:
            note = self._make()
            self._para = para(note, self._style) if note else None
        if self._para is None:
            return avail_width, 0
        w, h = self._para.wrap(avail_width, avail_height)
        return w, h + self._style.spaceBefore

    def draw(self) -> None:
        if self._para is not None:
            self._para.drawOn(self.canv, 0, 0)


