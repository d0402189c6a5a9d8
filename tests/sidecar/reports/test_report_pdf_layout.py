"""PDF tables: columns as wide as their words and timestamps, cells wrapped rather than cut."""

from __future__ import annotations

import io
import subprocess

from pypdf import PdfReader

from sidecar.clock import parse_iso
from sidecar.reports import pdf
from sidecar.reports.document import Column, Document, TableBlock
from sidecar.reports.pdf_table import CELL_CHAR_LIMIT, column_widths
from sidecar.reports.values import short_time
from tests.helpers import ApiClient
from tests.sidecar.reports.conftest import Seeded, build

AGENT = "claims-intake-agent-for-the-north-region"
PROMPT = " ".join(f"Paragraph {i} of the intake notes mentions coverage, deductibles and appointments." for i in range(9))


def _layout_text(raw: bytes) -> str:
    """The PDF's text with its layout kept (one table row per line where it fits), via pdftotext."""
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=raw, capture_output=True, check=True).stdout.decode()


YEARS = (parse_iso("2025-12-01T00:00:00Z"), parse_iso("2026-12-31T23:59:59Z"))


def _render(rows: list[tuple], columns: list[Column], period: tuple[int, int] = YEARS) -> bytes:
    document = Document("audit_log_export", "Audit log export", "Acme", period, [("Agents", "all")],
                        1_700_000_000_000, "report_test")
    document.blocks.append(TableBlock("events", "Events", columns, iter(rows), total=len(rows)))
    out = io.BytesIO()
    pdf.render(document, out)
    return out.getvalue()


def _words(raw: bytes) -> list[str]:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(raw)).pages)
    return text.split()


def test_column_widths_keep_headers_and_timestamps_whole() -> None:
    hard, pieces, words = [90, 25, 47, 30], [10, 10, 60, 80], [10, 10, 120, 200]
    widths = column_widths([hard, pieces, words], [1, 0.5, 1, 3], 300)
    assert abs(sum(widths) - 300) < 1e-6
    assert all(w >= h for w, h in zip(widths, hard))
    assert widths[2] >= 60 and widths[3] >= 80  # the pieces fit too; the whole words only where there was room
    tight = column_widths([hard, pieces, words], [1, 1, 1, 1], 200)
    assert all(w >= h for w, h in zip(tight, hard)) and abs(sum(tight) - 200) < 1e-6


def test_cells_wrap_at_words_and_never_cut_below_the_limit() -> None:
    columns = [Column("createdAt", "Received (UTC)", 1.3, "time"), Column("severity", "Severity", 0.5, "severity"),
               Column("outcome", "Outcome", 0.4), Column("agent", "Agent", 0.8),
               Column("flags", "Flags", 1.2), Column("prompt", "Prompt", 3)]
    times = [parse_iso("2026-11-26T08:10:53Z") + i * 61_000 for i in range(40)]
    flags = ["CRITICAL_pii_detect_SSN Detection", "WARNING_pii_detect_Patient Contact Details"]
    raw = _render([(t, "critical", "block", AGENT, flags, PROMPT) for t in times], columns)
    layout = _layout_text(raw)
    assert "…" not in layout
    for t in times:  # each timestamp on one line, never broken
        assert short_time(t) in layout
    for header in ("Received", "Severity", "Outcome", "Agent", "Flags", "Prompt"):
        assert header in layout.split()
    words = _words(raw)
    assert "Critical" in words
    # prose wraps between words only: every word of the prompt comes out whole
    assert set(PROMPT.split()) <= set(words)
    # identifiers wrap only after - or _, never inside a piece
    joined = "".join(words)
    assert joined.count(AGENT) == len(times) and joined.count("CRITICAL_pii_detect_SSNDetection") == len(times)
    assert {p for w in words for p in w.split("-")} >= {"claims", "intake", "agent", "north", "region"}


def test_times_leave_out_what_the_period_already_says() -> None:
    columns = [Column("at", "At (UTC)", 1, "time"), Column("what", "What", 3)]
    at = parse_iso("2026-11-26T08:10:53Z")
    day = (parse_iso("2026-11-26T00:00:00Z"), parse_iso("2026-11-26T23:59:59Z"))
    flat = " ".join(_words(_render([(at, "one")], columns, day)))
    assert "08:10:53 one" in flat and "2026-11-26 08:10:53" not in flat and "Times are UTC, all on 2026-11-26." in flat
    month = (parse_iso("2026-11-01T00:00:00Z"), parse_iso("2026-11-30T23:59:59Z"))
    flat = " ".join(_words(_render([(at, "one")], columns, month)))
    assert "11-26 08:10:53 one" in flat and "all in 2026." in flat
    assert "2026-11-26 08:10:53 one" in " ".join(_words(_render([(at, "one")], columns)))


def test_a_cell_over_the_limit_is_shortened_and_the_table_says_so() -> None:
    long_prompt = "word " * (CELL_CHAR_LIMIT // 2)
    columns = [Column("n", "N", 0.3, "int"), Column("prompt", "Prompt", 3)]
    flat = " ".join(_words(_render([(1, long_prompt), (2, "short")], columns)))
    assert "…" in flat
    assert "In this PDF, long Prompt cells are shortened and end in “…”; the CSV and JSON formats" in flat


async def test_audit_log_pdf_shows_long_prompts_and_agent_names_in_full(api: ApiClient, seeded: Seeded) -> None:
    stored = await api.post("audit-logs", json={"action": "llm_call", "agentId": AGENT, "prompt": PROMPT},
                            headers=seeded.account.api_key)
    assert stored.status == 201, stored.body
    _, download = await build(api, seeded, "audit_log_export", "pdf")
    words = _words(download.body)
    assert "…" not in " ".join(words)
    assert set(PROMPT.split()) <= set(words) and AGENT in "".join(words)
    layout = _layout_text(download.body)
    for event in seeded.events:
        assert short_time(parse_iso(event["createdAt"])) in layout


def test_rare_labels_and_sparse_columns_keep_their_words_whole() -> None:
    labels = {"open": "Open", "acknowledged": "Acknowledged"}
    columns = [Column("at", "Raised (UTC)", 1, "time"), Column("status", "Status", 0.3, labels=labels),
               Column("what", "What", 4), Column("by", "By", 0.3)]
    at = parse_iso("2026-11-26T08:10:53Z")
    rows = [(at, "open", "an ordinary alert " * 5, None) for _ in range(60)]
    rows.append((at, "acknowledged", "the one that was triaged", "Reviewer (reviewer@example.org)"))
    words = _words(_render(rows, columns))
    assert "Acknowledged" in words and "Reviewer" in words
    assert "(reviewer@example.org)" in "".join(words)
