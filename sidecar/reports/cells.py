"""Spreadsheet-safe text cells, shared by the audit-log export and the CSV reports."""

from __future__ import annotations

from typing import Any

import orjson

#: A cell starting with one of these would be run as a formula by Excel, LibreOffice or Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Prefix a quote to text that a spreadsheet would treat as a formula."""
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def cell(value: Any) -> str:
    """A CSV cell: lists joined with ``;``, objects as JSON, formula starts neutralised."""
    if value is None:
        return ""
    if isinstance(value, list):
        text = ";".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = orjson.dumps(value).decode()
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return neutralise(text)
