"""CSV: every cell quoted and neutralised against spreadsheet formulas; rows streamed."""

from __future__ import annotations

import csv
from typing import Any, TextIO

from sidecar.clock import to_iso
from sidecar.reports.cells import FORMULA_START, cell
from sidecar.reports.document import (ChartBlock, Document, FieldsBlock, KpiBlock, PageBreak, ProgressFn, TableBlock,
                                      TextBlock)
from sidecar.reports.values import plain


def _writer(out: TextIO) -> Any:
    return csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")


_FORMULA_CHARS = frozenset(FORMULA_START)


def _table(writer: Any, table: TableBlock, progress: ProgressFn | None) -> None:
    keep = [i for i, c in enumerate(table.columns) if c.data]  # PDF-only columns are left out
    whole = len(keep) == len(table.columns)
    columns = [table.columns[i] for i in keep]
    writer.writerow([cell(c.key) for c in columns])
    times = {i for i, c in enumerate(columns) if c.kind == "time"}
    done = 0
    for full in table.rows:
        row = full if whole else [full[i] for i in keep]
        cells = []
        for index, value in enumerate(row):  # the common cases inline: this loop runs once per cell of an export
            kind = type(value)
            if kind is str:
                cells.append("'" + value if value[:1] in _FORMULA_CHARS else value)
            elif value is None:
                cells.append("")
            elif kind is int and index in times:
                cells.append(to_iso(value) or "")
            else:
                cells.append(cell(plain(value, columns[index])))
        writer.writerow(cells)
        done += 1
        if progress is not None and table.total and done % 2000 == 0:
            progress(min(1.0, done / table.total))


def render(document: Document, out: TextIO, progress: ProgressFn | None = None) -> None:
    """Write ``document`` as CSV to ``out``.

    With ``document.csv_table`` the file is that table alone (header row of column keys, then rows):
    an export any spreadsheet opens. Otherwise every block becomes a section: a title row, then its
    rows, sections separated by an empty row, starting with a ``report`` section of the title facts.
    """
    writer = _writer(out)
    if document.csv_table is not None:
        for block in document.blocks:
            if isinstance(block, TableBlock) and block.key == document.csv_table:
                _table(writer, block, progress)
                return
        raise ValueError(f"no table {document.csv_table!r} in the document")
    writer.writerow([cell("report")])
    writer.writerow(["key", "value"])
    for key, value in _facts(document):
        writer.writerow([cell(key), cell(value)])
    for block in document.blocks:
        if isinstance(block, PageBreak):
            continue
        writer.writerow([])
        writer.writerow([cell(block.key)])
        if isinstance(block, KpiBlock):
            writer.writerow(["key", "label", "value"])
            for kpi in block.items:
                writer.writerow([cell(kpi.key), cell(kpi.label), cell(kpi.value)])
        elif isinstance(block, FieldsBlock):
            writer.writerow(["key", "value"])
            for key, _label, value in block.pairs:
                writer.writerow([cell(key), cell(value)])
        elif isinstance(block, TextBlock):
            writer.writerow(["text"])
            for paragraph in block.paragraphs:
                writer.writerow([cell(paragraph)])
        elif isinstance(block, ChartBlock):
            writer.writerow(["category", *[cell(s.name) for s in block.series]])
            for index, category in enumerate(block.categories):
                writer.writerow([cell(category), *[cell(s.values[index]) for s in block.series]])
        elif isinstance(block, TableBlock):
            _table(writer, block, None)


def _facts(document: Document) -> list[tuple[str, Any]]:
    facts: list[tuple[str, Any]] = [("id", document.report_id), ("type", document.report_type),
                                    ("title", document.title), ("organization", document.organization)]
    if document.period is not None:
        facts += [("from", to_iso(document.period[0])), ("to", to_iso(document.period[1]))]
    facts += [(f"scope.{label.lower().replace(' ', '_')}", value) for label, value in document.scope]
    facts += [("generatedAt", to_iso(document.generated_at)),
              ("sensitiveValues", "shown" if document.sensitive_shown else "masked")]
    return facts
