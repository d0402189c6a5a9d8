"""What each report type says: store queries in, a :class:`~sidecar.reports.document.Document` out.

Runs on the report builder's thread (synchronous, one read connection). Aggregates come from SQL;
long tables are generators over chunked queries, consumed once by the renderer.
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import Database

from sidecar.reports.document import Document
from sidecar.services import report_summary, report_tables
from sidecar.services.report_base import FORMATS, TITLES, TYPES, BuildContext, IntegritySource, chain_head_integrity

_BUILDERS: dict[str, Callable[[Database, BuildContext], Document]] = {
    "compliance_summary": report_summary.compliance_summary,
    "audit_log_export": report_tables.audit_log_export,
    "alert_summary": report_tables.alert_summary,
    "agent_activity": report_tables.agent_activity,
    "trace": report_tables.trace,
}


def build_document(db: Database, ctx: BuildContext) -> Document:
    """The document for ``ctx.type`` (its tables still unread)."""
    return _BUILDERS[ctx.type](db, ctx)


__all__ = ["BuildContext", "FORMATS", "IntegritySource", "TITLES", "TYPES", "build_document", "chain_head_integrity"]
