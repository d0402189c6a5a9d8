"""PDF tables streamed page by page from a row iterator, and the lazily filled flowable list."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from sidecar.reports.document import Column, ProgressFn, TableBlock, TreeLabel
from sidecar.reports.pdf_style import CONTENT_W, HEAD_BG, NAVY, RULE, SEVERITY_COLORS, ZEBRA, Styles, para
from sidecar.reports.values import short_time, text

_NUMERIC = ("int", "pct")
_PAD_V, _PAD_H = 3.2, 4
#: A PDF cell shows at most this many characters (unless its column says otherwise); the table's note says
#: which columns were cut. CSV and JSON always carry the whole value.
CELL_CHAR_LIMIT = 1_000
#: Rows measured before the column widths are chosen (the rest stream; a longer word there may wrap inside).
_MEASURED_ROWS = 300
#: No word widens a column past this share of the page; longer tokens (hashes, ids) wrap inside.
_WORD_SHARE = 0.3
_MAX_ROW_H = 560.0  # well under a body frame, so any row fits on a fresh page


def _label(value: Any, column: Column, time_cut: int = 0) -> str:
    """A cell's text in the PDF: as in every format, except that a list puts each item on its own line and
    times leave out the first ``time_cut`` characters (the year, or the whole date, that the period gives)."""
    if isinstance(value, list) and value and column.labels is None:
        return "\n".join(str(v) for v in value)
    label = text(value, column)
    if time_cut and column.kind == "time" and len(label) == 19 and label[4] == "-":
        return label[time_cut:]
    return label


def time_cut(period: tuple[int, int] | None) -> tuple[int, str | None]:
    """How much of ``2026-01-15 10:00:00`` a table's times can leave out in a report on ``period``: the date
    when the period lies in one UTC day, the year when it lies in one year; and the note that says so."""
    if period is None:
        return 0, None
    start, end = short_time(period[0]), short_time(period[1])
    if start[:10] == end[:10]:
        return 11, f"Times are UTC, all on {start[:10]}."
    if start[:4] == end[:4]:
        return 5, f"Times are UTC (month-day hour:minute:second), all in {start[:4]}."
    return 0, None


_BREAK_AFTER = re.compile(r"(?<=[_/.:@-])(?=[^\s_/.:@-])")


def _parts(word: str) -> list[str]:
    """The pieces of a word between the places it may wrap: after ``_ / . : @ -`` (``CRITICAL_pii_detect_SSN``,
    ``claims-intake-agent``, a URL, an email address)."""
    return _BREAK_AFTER.split(word)


def wrapped(label: str, font: str, size: float, width: float) -> str:
    """``label`` as paragraph markup, with each word too wide for ``width`` broken after ``_ / . : -`` (never
    inside a piece, unless a piece alone is wider than the column)."""
    lines = []
    for line in label.split("\n"):
        words = []
        for word in line.split(" "):
            if not word or stringWidth(word, font, size) <= width:
                words.append(escape(word))
                continue
            chunks, current = [], ""
            for part in _parts(word):
                if current and stringWidth(current + part, font, size) > width:
                    chunks.append(current)
                    current = part
                else:
                    current += part
            chunks.append(current)
            words.append("<br/>".join(escape(c) for c in chunks))
        lines.append(" ".join(words))
    return "<br/>".join(lines)


def _typical(widths: list[float]) -> float:
    """The width most rows stay within (the 95th percentile): one odd token (a URL, a key) does not claim the
    room that every row's words need."""
    if not widths:
        return 0.0
    ordered = sorted(widths)
    return ordered[int(0.95 * (len(ordered) - 1))]


def column_widths(levels: Sequence[Sequence[float]], weights: Sequence[float], total: float) -> list[float]:
    """Column widths summing to ``total``, from minimum widths in order of need.

    ``levels[0]`` must be met (header words, whole timestamps and numbers); each later level (the longest piece
    of a data word, then the longest whole data word) is met column by column, those needing least first,
    while there is room. What is left is shared out by ``weights``.
    """
    hard = list(levels[0])
    if sum(hard) > total:  # not even the headers fit: shrink everything alike
        return [h * total / sum(hard) for h in hard]
    base = hard
    for level in levels[1:]:
        want = [max(b, x) for b, x in zip(base, level)]
        for i in sorted(range(len(base)), key=lambda i: want[i] - base[i]):
            if want[i] - base[i] > total - sum(base):
                break
            base[i] = want[i]
    left = total - sum(base)
    if left <= 0:
        return base
    whole = sum(weights) or 1.0
    want = [max(0.0, total * w / whole - b) for w, b in zip(weights, base)]
    if sum(want) >= left:
        return [b + left * x / sum(want) for b, x in zip(base, want)]
    spare = left - sum(want)
    return [b + x + spare * w / whole for b, x, w in zip(base, want, weights)]


class StreamingTable(Flowable):
    """A table laid out page by page from a row iterator: each split takes the rows that fit."""

    def __init__(self, block: TableBlock, styles: Styles, progress: ProgressFn | None,
                 period: tuple[int, int] | None = None) -> None:
        super().__init__()
        self._block = block
        self._styles = styles
        self._progress = progress
        self._columns = [c for c in block.columns if c.pdf]
        has_times = any(c.kind == "time" for c in self._columns)
        self._time_cut, self.time_note = time_cut(period) if has_times else (0, None)
        self._index = [i for i, c in enumerate(block.columns) if c.pdf]
        rows = iter(block.rows)
        measured = list(itertools.islice(rows, _MEASURED_ROWS))
        self._widths = self._measure(measured)
        self._rows: Iterator[Sequence[Any]] = itertools.chain(measured, rows)
        self.cut: list[str] = []  # titles of the columns whose cells were shortened
        self._buffer: list[list[Any]] = []
        self._done = 0
        self._limit = block.pdf_limit
        self._exhausted = False
        self._header = [para(c.title, styles.head_right if c.kind in _NUMERIC else styles.head) for c in self._columns]
        self._header_h = max(p.wrap(w - 2 * _PAD_H, 1000)[1] for p, w in zip(self._header, self._widths)) + 2 * _PAD_V
        self.truncated = False
        self._fill()

    def _style(self, column: Column) -> ParagraphStyle:
        if column.kind in _NUMERIC:
            return self._styles.cell_right
        if column.kind == "mono":
            return self._styles.cell_mono
        return self._styles.cell

    def _measure(self, rows: Sequence[Sequence[Any]]) -> list[float]:
        """Widths from content: a header word, a timestamp or a number is never broken; data words are kept
        whole when the page has room."""
        s = self._styles
        hard: list[float] = []
        piece: list[float] = []
        soft: list[float] = []
        for i, column in zip(self._index, self._columns):
            head = max(stringWidth(word, s.bold, s.head.fontSize) for word in column.title.split() or [""])
            style = self._style(column)
            font = s.bold if column.kind == "severity" else style.fontName
            whole = column.kind in ("time", "int", "pct", "severity")
            widest_whole = 0.0
            words_w: list[float] = []
            parts_w: list[float] = []
            for row in rows:
                value = row[i] if i < len(row) else None
                label = _label(value, column, self._time_cut)
                if column.kind == "severity":
                    label = label.capitalize()
                indent = min(value.depth, 12) * 9 + stringWidth("└ ", font, style.fontSize) \
                    if isinstance(value, TreeLabel) and value.depth else 0.0
                if whole:
                    widest_whole = max(widest_whole, stringWidth(label, font, style.fontSize))
                elif column.labels is not None:  # a few known words (a status): each one kept whole
                    widest_whole = max([widest_whole, *(stringWidth(w, font, style.fontSize) for w in label.split())])
                elif value is not None:  # empty cells say nothing about the words a column needs
                    words = label[:CELL_CHAR_LIMIT].split()
                    longest = max(words, key=len, default="")
                    words_w.append(indent + stringWidth(longest, font, style.fontSize))
                    part = max(_parts(longest), key=len) if column.kind in ("text", "tree") else longest
                    parts_w.append(indent + stringWidth(part, font, style.fontSize))
            pad = 2 * _PAD_H + 1
            cap = CONTENT_W * _WORD_SHARE
            hard.append(max(head, widest_whole) + pad)
            piece.append(min(_typical(parts_w) + pad, cap))
            soft.append(min(_typical(words_w) + pad, cap))
        return column_widths([hard, piece, soft], [c.width for c in self._columns], CONTENT_W)

    def _shorten(self, label: str, column: Column, limit: int) -> str:
        if len(label) <= limit:
            return label
        if column.title not in self.cut:
            self.cut.append(column.title)
        return label[: limit - 1] + "…"

    # a row as flowables, with its height
    def _cells(self, row: Sequence[Any], limit: int = CELL_CHAR_LIMIT) -> tuple[list[Any], float]:
        out, height = [], 0.0
        for i, column, width in zip(self._index, self._columns, self._widths):
            value = row[i] if i < len(row) else None
            label = self._shorten(_label(value, column, self._time_cut), column, min(limit, column.max_chars or limit))
            style = self._style(column)
            if column.kind == "severity" and isinstance(value, str):
                color = SEVERITY_COLORS.get(value.lower())
                label = label.capitalize()
                cell_para = Paragraph(f'<font color="{color}"><b>{escape(label)}</b></font>' if color else escape(label), style)
            elif isinstance(value, TreeLabel):
                indent = min(value.depth, 12) * 9
                cell_para = Paragraph(("└ " if value.depth else "") + wrapped(label, style.fontName, style.fontSize,
                                                                              width - 2 * _PAD_H - indent - 8),
                                      ParagraphStyle("tree", parent=style, leftIndent=indent))
            elif column.kind == "text":
                cell_para = Paragraph(wrapped(label, style.fontName, style.fontSize, width - 2 * _PAD_H), style)
            else:
                cell_para = Paragraph(escape(label).replace("\n", "<br/>"), style)
            h = cell_para.wrap(width - 2 * _PAD_H, 10_000)[1]
            out.append(cell_para)
            height = max(height, h)
        if height > _MAX_ROW_H and limit > 100:  # a row taller than a page could never be placed
            return self._cells(row, limit // 2)
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
    if table.time_note and not table.empty:
        note = f"{note} {table.time_note}" if note else table.time_note
    if table.cut:
        extra = (f"In this PDF, long {', '.join(table.cut)} cells are shortened and end in \u201c\u2026\u201d; "
                 "the CSV and JSON formats of this report carry them in full.")
        note = f"{note} {extra}" if note else extra
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


