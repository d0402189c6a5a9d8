"""What a report says, independent of its format: a title page's facts and a list of blocks.

Table rows are iterators consumed once, by whichever renderer writes the file, so a long table
streams from the database to the output without being held in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Tone = Literal["neutral", "good", "warning", "critical"]


@dataclass(frozen=True, slots=True)
class Kpi:
    """One headline figure."""

    key: str
    label: str
    value: int | float | str
    note: str | None = None
    tone: Tone = "neutral"


@dataclass(frozen=True, slots=True)
class KpiBlock:
    key: str
    title: str
    items: Sequence[Kpi]


@dataclass(frozen=True, slots=True)
class FieldsBlock:
    """Label/value pairs (scope, integrity checkpoint, ...); ``key`` of each pair names it in JSON."""

    key: str
    title: str
    pairs: Sequence[tuple[str, str, Any]]  # (json key, label, value)
    note: str | None = None
    mono: bool = False


@dataclass(frozen=True, slots=True)
class TextBlock:
    """Paragraphs of plain text (no markup: the PDF escapes them, JSON and CSV carry them as they are)."""

    key: str
    title: str | None
    paragraphs: Sequence[str]


@dataclass(frozen=True, slots=True)
class Column:
    """A table column. ``kind``: text, int, pct, time, mono, tree (a :class:`TreeLabel`) or severity.

    ``pdf=False`` leaves the column out of the PDF (CSV and JSON keep it); ``data=False`` leaves it out of CSV
    and JSON (a PDF column made of other columns' values). PDF cells wrap at word
    boundaries; ``max_chars`` lowers the PDF's limit on a cell's length (``pdf_table.CELL_CHAR_LIMIT``),
    and a table whose cells were shortened says so in its note (CSV and JSON keep the full value).
    ``width`` is the column's share of the room left once every column fits its longest word.
    """

    key: str
    title: str
    width: float = 1.0
    kind: str = "text"
    max_chars: int | None = None
    pdf: bool = True
    labels: Mapping[str, str] | None = None  # display names of values in the PDF (CSV and JSON keep the value)
    data: bool = True  # False: a column only for people, in the PDF (CSV and JSON carry its parts as columns)


@dataclass(frozen=True, slots=True)
class TreeLabel:
    """A label shown indented by ``depth`` in a tree column."""

    depth: int
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(slots=True)
class TableBlock:
    """A table whose rows (sequences in column order) are read once.

    ``total`` (when known) drives progress. ``pdf_limit`` caps the rows drawn in a PDF, which is for
    reading: the note then says how many rows the CSV and JSON formats carry.
    """

    key: str
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    note: str | None = None
    empty_text: str = "Nothing in this period."
    total: int | None = None
    pdf_limit: int | None = None


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float]
    color: str  # hex, "#rrggbb"


@dataclass(frozen=True, slots=True)
class ChartBlock:
    """A bar chart over categories; several series stack when ``stacked``."""

    key: str
    title: str
    categories: Sequence[str]
    series: Sequence[Series]
    stacked: bool = True
    kind: Literal["bar", "hbar"] = "bar"
    note: str | None = None
    value_label: str = ""  # the value axis's title
    category_label: str = ""  # the category axis's title


@dataclass(frozen=True, slots=True)
class PageBreak:
    key: str = ""


Block = KpiBlock | FieldsBlock | TextBlock | TableBlock | ChartBlock | PageBreak


@dataclass(slots=True)
class Document:
    """A report: the facts for its title page and running header, and its blocks in order.

    ``csv_table`` names the one table a CSV holds on its own (an export, readable by any spreadsheet);
    without it, a CSV holds every block as a section.
    """

    report_type: str
    title: str
    organization: str
    period: tuple[int, int] | None
    scope: Sequence[tuple[str, str]]
    generated_at: int
    report_id: str
    blocks: list[Block] = field(default_factory=list)
    subtitle: str | None = None
    csv_table: str | None = None
    sensitive_shown: bool = False
    facts: dict[str, Any] = field(default_factory=dict)  # extra metadata for JSON
    cover_note: Sequence[str] = ()  # short paragraphs of plain text under the cover's facts


ProgressFn = Callable[[float], None]
