"""Report files: rendering a document to a file (with its size and SHA-256), file names, and the mailer
interface that scheduled reports are sent through."""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from peewee import Database

from sidecar import log
from sidecar.clock import to_iso
from sidecar.reports import csv as csv_renderer
from sidecar.reports import json as json_renderer
from sidecar.reports import pdf as pdf_renderer
from sidecar.services.report_content import BuildContext, build_document
from sidecar.store.reports import ReportRecord

CONTENT_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8", "json": "application/json"}


class ReportMailer(Protocol):
    """Sends a finished scheduled report to its recipients (the notifications module implements it)."""

    async def send_report(self, *, org_id: str, recipients: Sequence[str], subject: str, body: str, attachment: Path,
                          filename: str, content_type: str) -> None:
        """Deliver one email with the report attached. May raise; the report stays ready either way."""


class LoggingMailer:
    """The default mailer until email delivery exists: records what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_report(self, *, org_id: str, recipients: Sequence[str], subject: str, body: str, attachment: Path,
                          filename: str, content_type: str) -> None:
        self.sent.append({"orgId": org_id, "recipients": list(recipients), "subject": subject, "filename": filename})
        log.jobs.info("report email not sent (no mailer configured): %s to %s", filename, ", ".join(recipients))


@dataclass(slots=True)
class BuildResult:
    path: Path
    size: int
    sha256: str


def file_name(record: ReportRecord) -> str:
    """The download's file name: ``compliance-summary-2026-01-01-to-2026-01-31.pdf``, or the report's name;
    ``-unmasked`` at the end when the report shows sensitive values. A table CSV holds only its table, so
    the name is what tells a recipient which report, which period and whether values are masked."""
    base = record.name or record.type.replace("_", "-")
    params = record.params
    if record.name is None:
        if record.type == "trace" and params.get("traceId"):
            base += f"-{params['traceId']}"
        elif "from" in params:
            base += f"-{(to_iso(params['from']) or '')[:10]}-to-{(to_iso(params['to']) or '')[:10]}"
    suffix = "-unmasked" if params.get("showSensitive") else ""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.") or "report"
    return f"{slug[:120]}{suffix}.{record.format}"


def private_directory(root: Path, directory: Path) -> None:
    """Create ``directory`` (``root`` or below it) and every level from ``root`` down with mode 0700, and set
    0700 on levels that exist already (report files hold prompt text, like the rest of the data dir)."""
    parts = directory.relative_to(root).parts
    levels = [root, *(root.joinpath(*parts[:depth]) for depth in range(1, len(parts) + 1))]
    for level in levels:
        level.mkdir(exist_ok=True, mode=0o700)
        os.chmod(level, 0o700)


def tighten_modes(root: Path) -> int:
    """Set 0700 on ``root`` and every directory below it and 0600 on every file (reports written before they
    were created private keep their old modes otherwise); returns how many modes changed. Symlinks are left
    alone. Cheap: one ``stat`` per entry, at start."""
    if not root.is_dir() or root.is_symlink():
        return 0
    changed = 0
    for path, want in [(root, 0o700), *((p, 0o700 if p.is_dir() else 0o600) for p in root.rglob("*")
                                        if not p.is_symlink())]:
        try:
            if stat.S_IMODE(path.stat().st_mode) != want:
                os.chmod(path, want)
                changed += 1
        except OSError:  # gone meanwhile (a purge) or not ours: nothing to tighten
            continue
    return changed


def render_report(db: Database, ctx: BuildContext, fmt: str, out: Path) -> BuildResult:
    """Build and write one report synchronously (on the calling thread, which must own a connection).

    Writes ``out`` through ``out.part``, created with mode 0600 (the file holds prompt text); returns its size
    and SHA-256. A missing parent directory is created 0700.
    """
    document = build_document(db, ctx)
    partial = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    def rendering(fraction: float) -> None:
        ctx.progress(0.5 + 0.45 * fraction)

    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # a stale .part keeps its old mode through O_CREAT
        with open(fd, "wb") as raw:
            if fmt == "pdf":
                pdf_renderer.render(document, raw, rendering)
            elif fmt == "json":
                json_renderer.render(document, raw, rendering)
            else:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                csv_renderer.render(document, text, rendering)
                text.flush()
                text.detach()
            raw.flush()
            os.fsync(raw.fileno())
        digest = hashlib.sha256()
        size = 0
        with open(partial, "rb") as done:
            for block in iter(lambda: done.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BuildResult(out, size, digest.hexdigest())
