"""``agentaudit report``: build a report straight from the database, for headless and scripted use.

Reads through its own read-only connection (a running sidecar may keep writing: SQLite's WAL lets
both proceed) and never touches the sidecar's report table: the file goes where ``--out`` says.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sidecar.clock import now_ms, parse_iso
from sidecar.ids import new_id
from sidecar.services.report_content import FORMATS, TYPES, BuildContext
from sidecar.services.reports import render_report
from sidecar.settings import Settings
from sidecar.store import logs as log_store
from sidecar.store import migrations
from sidecar.store.db import is_sqlite, open_database, redact_url
from sidecar.store.report_queries import tune_for_reports
from sidecar.store.sql import q

_DAY = 86_400_000


def _fail(message: str) -> int:
    print(f"agentaudit report: {message}", file=sys.stderr)
    return 2


def report_command(args: argparse.Namespace) -> int:
    if args.type not in TYPES:
        return _fail(f"--type must be one of {', '.join(TYPES)}")
    if args.format not in FORMATS:
        return _fail(f"--format must be one of {', '.join(FORMATS)}")
    if args.type == "trace" and not args.trace_id:
        return _fail("a trace report needs --trace-id")
    try:
        end = parse_iso(args.end) if args.end else now_ms()
        if args.end and len(args.end.strip()) == 10:  # a bare date: up to the end of that day
            end += _DAY - 1
        start = parse_iso(args.start) if args.start else end - 30 * _DAY
    except ValueError:
        return _fail("--from and --to must be ISO 8601 timestamps such as 2026-01-31T00:00:00Z")
    if end < start:
        return _fail("--to must not be before --from")
    settings = Settings.from_env(os.environ, data_dir=args.data_dir, database_url=args.database_url)
    url = settings.resolved_database_url
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
    if path and not Path(path).is_file():
        return _fail(f"no AgentAudit database at {path} (use --data-dir)")
    db = open_database(url)
    db.connect()
    try:
        if migrations.current_version(db) == 0:
            return _fail(f"{path or redact_url(url)} holds no AgentAudit data")
        if is_sqlite(db):
            db.execute_sql("PRAGMA query_only = 1")
        else:
            db.execute_sql("SET default_transaction_read_only = on")
        tune_for_reports(db)
        orgs = db.execute_sql("SELECT id, name FROM organizations ORDER BY created_at").fetchall()
        org_id = args.org
        if org_id is None:
            if len(orgs) != 1:
                listed = ", ".join(f"{oid} ({name})" for oid, name in orgs) or "none"
                return _fail(f"the database holds {len(orgs)} organisations; choose one with --org: {listed}")
            org_id = orgs[0][0]
        elif org_id not in {oid for oid, _ in orgs}:
            return _fail(f"no organisation {org_id} in the database")
        if args.type == "trace" and log_store.count_trace_spans(db, org_id, args.trace_id) == 0:
            return _fail(f"no trace {args.trace_id} in organisation {org_id}")
        if args.policy_id and db.execute_sql(q(db, "SELECT 1 FROM policies WHERE id = ? AND org_id = ?"),
                                             (args.policy_id, org_id)).fetchone() is None:
            return _fail(f"no policy {args.policy_id} in organisation {org_id}")
        params: dict[str, object] = {"showSensitive": bool(args.show_sensitive)}
        if args.type == "trace":
            params["traceId"] = args.trace_id
        else:
            params.update({"from": start, "to": end})
        for key, value in (("agentId", args.agent_id), ("policyId", args.policy_id), ("name", args.name)):
            if value:
                params[key] = value
        ctx = BuildContext(new_id("report"), org_id, args.type, params, now_ms())
        out = Path(args.out).expanduser().resolve()
        with db.atomic():
            result = render_report(db, ctx, args.format, out)
    finally:
        db.close()
    print(f"wrote {result.path} ({result.size:,} bytes, sha256 {result.sha256})")
    return 0
