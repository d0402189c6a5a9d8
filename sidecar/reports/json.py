"""JSON: one object, written incrementally (table rows one by one) so long tables stream."""

from __future__ import annotations

from typing import Any, BinaryIO

import orjson

from sidecar.clock import to_iso
from sidecar.reports.document import (ChartBlock, Document, FieldsBlock, KpiBlock, PageBreak, ProgressFn, TableBlock,
                                      TextBlock)
from sidecar.reports.values import plain


def header(document: Document) -> dict[str, Any]:
    """The ``report`` object: what, whose, which period and scope, when built."""
    body: dict[str, Any] = {
        "id": document.report_id, "type": document.report_type, "title": document.title,
        "organization": document.organization,
        "period": ({"from": to_iso(document.period[0]), "to": to_iso(document.period[1])}
                   if document.period is not None else None),
        "scope": {label: value for label, value in document.scope},
        "generatedAt": to_iso(document.generated_at),
        "sensitiveValues": "shown" if document.sensitive_shown else "masked",
    }
    body.update(document.facts)
    return body


def render(document: Document, out: BinaryIO, progress: ProgressFn | None = None) -> None:
    """Write ``{"report": {...}, "<block key>": ..., ...}`` to ``out``."""
    out.write(b'{"report":' + orjson.dumps(header(document)))
    for block in document.blocks:
        if isinstance(block, PageBreak):
            continue
        out.write(b"," + orjson.dumps(block.key) + b":")
        if isinstance(block, KpiBlock):
            out.write(orjson.dumps({kpi.key: kpi.value for kpi in block.items}))
        elif isinstance(block, FieldsBlock):
            out.write(orjson.dumps({key: value for key, _label, value in block.pairs}))
        elif isinstance(block, TextBlock):
            out.write(orjson.dumps(list(block.paragraphs)))
        elif isinstance(block, ChartBlock):
            out.write(orjson.dumps({"categories": list(block.categories),
                                    "series": {s.name: list(s.values) for s in block.series}}))
        elif isinstance(block, TableBlock):
            _table(out, block, progress)
    out.write(b"}\n")


def _table(out: BinaryIO, table: TableBlock, progress: ProgressFn | None) -> None:
    columns = table.columns
    keys = [c.key for c in columns]
    out.write(b"[")
    done = 0
    for row in table.rows:
        item = {key: plain(value, column) for key, value, column in zip(keys, row, columns) if column.data}
        out.write((b"," if done else b"") + orjson.dumps(item))
        done += 1
        if progress is not None and table.total and done % 2000 == 0:
            progress(min(1.0, done / table.total))
    out.write(b"]")
