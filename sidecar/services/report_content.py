"""What each report type says: store queries in, a :class:`~sidecar.reports.document.Document` out.

Runs on the report builder's thread (synchronous, one read connection). Aggregates come from SQL;
long tables are generators over chunked queries, consumed once by the renderer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from peewee import Database

from sidecar.clock import parse_iso, to_iso
from sidecar.reports.document import (ChartBlock, Column, Document, FieldsBlock, Kpi, KpiBlock, Series, TableBlock,
                                      TextBlock, TreeLabel)
from sidecar.reports.masking import mask_event
from sidecar.reports.values import percent, short_time
from sidecar.services.tree import build_forest
from sidecar.store import logs as log_store
from sidecar.store import report_queries as rq
from sidecar.store.report_queries import Window
from sidecar.store.sql import q

TYPES = ("compliance_summary", "audit_log_export", "alert_summary", "agent_activity", "trace")
FORMATS = ("pdf", "csv", "json")
TITLES = {"compliance_summary": "Compliance summary", "audit_log_export": "Audit log export",
          "alert_summary": "Alert summary", "agent_activity": "Agent activity", "trace": "Trace report"}
SEVERITY_COLORS = {"critical": "#B91C1C", "warning": "#D97706", "info": "#3B82F6"}
PDF_EVENT_LIMIT = 5_000
PDF_ALERT_LIMIT = 5_000
PDF_SPAN_LIMIT = 5_000
RULE_TYPE_LABELS = {"pii_detect": "PII detector", "keyword_match": "Keywords", "regex_match": "Pattern",
                    "metadata_match": "Metadata", "rate_limit": "Rate limit", "sentiment_analysis": "Sentiment",
                    "prompt_injection": "Injection"}

#: Returns the integrity block for an organisation: the chain head now (and, once the ledger signs
#: checkpoints, the latest signed checkpoint). See :func:`chain_head_integrity`.
IntegritySource = Callable[[Database, str], dict[str, Any]]


def chain_head_integrity(db: Database, org_id: str) -> dict[str, Any]:
    """The organisation's hash-chain head at build time; ``checkpoint`` is None until checkpoints are signed."""
    org = rq.organization(db, org_id)
    return {"sequence": org["lastSeq"], "hash": org["lastHash"], "prunedThrough": org["prunedSeq"],
            "checkpoint": None}


@dataclass(slots=True)
class BuildContext:
    """Who the report is for and how it is built."""

    report_id: str
    org_id: str
    type: str
    params: dict[str, Any]
    generated_at: int
    integrity: IntegritySource = chain_head_integrity
    progress: Callable[[float], None] = field(default=lambda fraction: None)

    @property
    def window(self) -> Window:
        return Window(self.org_id, int(self.params["from"]), int(self.params["to"]), self.params.get("agentId"),
                      self.params.get("policyId"))

    @property
    def show_sensitive(self) -> bool:
        return bool(self.params.get("showSensitive"))


def build_document(db: Database, ctx: BuildContext) -> Document:
    """The document for ``ctx.type`` (its tables still unread)."""
    return _BUILDERS[ctx.type](db, ctx)


# -- shared pieces ---------------------------------------------------------------------------------

def _scope(db: Database, ctx: BuildContext) -> list[tuple[str, str]]:
    params = ctx.params
    scope = [("Agents", f"agent {params['agentId']}" if params.get("agentId") else "all agents")]
    if ctx.type != "trace":
        policy = params.get("policyId")
        if policy:
            row = db.execute_sql(q(db, "SELECT name FROM policies WHERE id = ? AND org_id = ?"),
                                 (policy, ctx.org_id)).fetchone()
            scope.append(("Policies", f"{row[0]} ({policy})" if row else policy))
        else:
            scope.append(("Policies", "all policies and organisation-wide rules"))
    if params.get("name"):
        scope.insert(0, ("Name", str(params["name"])))
    return scope


def _document(db: Database, ctx: BuildContext, *, subtitle: str | None, csv_table: str | None,
              period: tuple[int, int] | None = None) -> Document:
    org = rq.organization(db, ctx.org_id)
    if period is None and "from" in ctx.params:
        period = (int(ctx.params["from"]), int(ctx.params["to"]))
    return Document(report_type=ctx.type, title=TITLES[ctx.type], organization=org["name"], period=period,
                    scope=_scope(db, ctx), generated_at=ctx.generated_at, report_id=ctx.report_id,
                    subtitle=subtitle, csv_table=csv_table, sensitive_shown=ctx.show_sensitive)


def _period_text(start: int, end: int) -> str:
    return f"{short_time(start)[:10]} to {short_time(end)[:10]}"


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _bucket_labels(w: Window, width: int, count: int) -> list[str]:
    labels = []
    origin = rq.bucket_origin(w.start_ms)
    for i in range(count):
        day = (to_iso(origin + i * width) or "")[:10]
        labels.append(day[5:] if width == rq.DAY_MS else day)
    return labels


def _integrity_block(db: Database, ctx: BuildContext, w: Window | None) -> FieldsBlock:
    integrity = ctx.integrity(db, ctx.org_id)
    pairs: list[tuple[str, str, Any]] = [
        ("headSequence", "Chain head sequence", integrity["sequence"]),
        ("headHash", "Chain head hash", integrity["hash"]),
        ("builtAt", "Read at", to_iso(ctx.generated_at)),
    ]
    if integrity.get("prunedThrough"):
        pairs.append(("prunedThrough", "Retention pruned through", integrity["prunedThrough"]))
    if w is not None:
        first, last = rq.first_and_last(db, Window(w.org_id, w.start_ms, w.end_ms))
        if first is not None and last is not None:
            pairs += [("firstSequence", "First event in period", f"#{first['sequence']:,}  {first['hash']}"),
                      ("lastSequence", "Last event in period", f"#{last['sequence']:,}  {last['hash']}")]
        else:
            pairs.append(("firstSequence", "Events in period", "none"))
    checkpoint = integrity.get("checkpoint")
    if checkpoint:
        pairs += [("checkpointSequence", "Signed checkpoint sequence", checkpoint.get("sequence")),
                  ("checkpointHash", "Signed checkpoint hash", checkpoint.get("hash")),
                  ("checkpointSignedAt", "Signed at", checkpoint.get("signedAt")),
                  ("checkpointKeyId", "Signing key", checkpoint.get("keyId") or checkpoint.get("publicKey")),
                  ("checkpointSignature", "Signature", checkpoint.get("signature"))]
    else:
        pairs.append(("checkpoint", "Signed checkpoint", "none recorded; the chain head above is unsigned"))
    return FieldsBlock(
        "integrity", "Integrity checkpoint", pairs, mono=True,
        note="Every stored event carries a sequence number and a SHA-256 hash chained to the event before it. "
             "This report was built against the chain head above: anyone can re-walk the chain "
             "(agentaudit verify) and confirm that the events it summarises are unchanged and complete up to "
             "that point.")


# -- compliance summary ----------------------------------------------------------------------------

def _compliance_summary(db: Database, ctx: BuildContext) -> Document:
    w = ctx.window
    doc = _document(db, ctx, subtitle=f"Period {_period_text(w.start_ms, w.end_ms)}", csv_table=None)
    totals = rq.event_totals(db, w)
    ctx.progress(0.1)
    v = rq.violation_breakdowns(db, w)
    ctx.progress(0.2)
    width = rq.bucket_ms(w.start_ms, w.end_ms)
    per_bucket = rq.events_per_bucket(db, w, width)
    v_bucket = rq.violations_per_bucket(db, w, width)
    ctx.progress(0.3)
    traces = rq.top_flagged_traces(db, w)
    triage = rq.alert_triage(db, w)
    policies = rq.policies_in_force(db, w)
    packs = rq.org_rules(db, ctx.org_id) if w.policy_id is None else []
    ctx.progress(0.4)

    events, flagged = totals["events"], totals["flagged"]
    open_alerts = sum(triage["byStatus"].get(s, {}).get(sev, 0) for s in ("open", "acknowledged") for sev in rq.SEVERITIES)
    critical_open = sum(triage["byStatus"].get(s, {}).get("critical", 0) for s in ("open", "acknowledged"))
    doc.blocks.append(KpiBlock("kpis", "Key figures", [
        Kpi("eventsAudited", "Events audited", events),
        Kpi("eventsWithViolations", "Events with violations", flagged, note=f"{percent(_share(flagged, events))} of events",
            tone="warning" if flagged else "good"),
        Kpi("eventsBlocked", "Events blocked", totals["block"], tone="critical" if totals["block"] else "neutral"),
        Kpi("eventsFlagged", "Events flagged", totals["flag"], note=f"{totals['log']:,} logged only"),
        Kpi("violations", "Rule violations", v["total"], note=f"{v['ruleCount']:,} distinct rules"),
        Kpi("criticalViolations", "Critical violations", v["bySeverity"]["critical"],
            tone="critical" if v["bySeverity"]["critical"] else "good"),
        Kpi("alertsRaised", "Alerts raised", triage["total"], note=f"{open_alerts:,} still open"),
        Kpi("agentsActive", "Agents active", totals["agents"], note=f"{v['agentCount']:,} with violations"),
    ]))
    narrative = _narrative(w, totals, v, triage, open_alerts, critical_open)
    doc.blocks.append(TextBlock("summary", "Summary", [narrative]))
    head = ctx.integrity(db, ctx.org_id)
    doc.cover_note = (f"{narrative}<br/><br/><font color='#6B7280'>Built against the organisation's audit chain at "
                      f"sequence {head['sequence']:,} (hash {head['hash'][:16]}…); see Integrity checkpoint.</font>")
    labels = _bucket_labels(w, width, len(per_bucket))
    unit = "day" if width == rq.DAY_MS else f"{width // rq.DAY_MS}-day period"
    doc.blocks.append(ChartBlock(
        "violationTrend", f"Violations per {unit}, by severity", labels,
        [Series(sev.capitalize(), v_bucket[sev], SEVERITY_COLORS[sev]) for sev in rq.SEVERITIES],
        note=f"{v['total']:,} violations in {v['events']:,} events over {len(labels)} {unit}s (UTC)."))
    doc.blocks.append(ChartBlock("eventTrend", f"Events audited per {unit}", labels,
                                 [Series("Events", per_bucket, "#0E7490")], stacked=False))
    doc.blocks.append(TableBlock(
        "violationsBySeverity", "Violations by severity",
        [Column("severity", "Severity", 2, "severity"), Column("violations", "Violations", 1, "int"),
         Column("share", "Share", 1, "pct")],
        [(sev, v["bySeverity"][sev], _share(v["bySeverity"][sev], v["total"])) for sev in rq.SEVERITIES],
        empty_text="No violations in this period."))
    doc.blocks.append(TableBlock(
        "violationsByPack", "Violations by compliance pack",
        [Column("packId", "Pack", 2.2), Column("violations", "Violations", 1, "int"),
         Column("events", "Events", 1, "int"), Column("critical", "Critical", 1, "int"),
         Column("share", "Share", 1, "pct")],
        [((p["packId"] or "custom rules"), p["violations"], p["events"], p["critical"], _share(p["violations"], v["total"]))
         for p in v["byPack"]],
        empty_text="No violations in this period."))
    doc.blocks.append(TableBlock(
        "violationsByRule", "Violations by rule",
        [Column("ruleName", "Rule", 3.0), Column("ruleType", "Type", 1.4, labels=RULE_TYPE_LABELS), Column("packId", "Pack", 1.0),
         Column("severity", "Severity", 1.0, "severity"), Column("violations", "Violations", 1.2, "int"),
         Column("block", "Blocked", 1.05, "int"), Column("flag", "Flagged", 1.05, "int"),
         Column("log", "Logged", 1.0, "int"),
         Column("ruleId", "Rule ID", 1, "mono", pdf=False)],
        [(r["ruleName"], r["ruleType"], r["packId"] or "custom", r["severity"], r["violations"], r["block"], r["flag"],
          r["log"], r["ruleId"]) for r in v["byRule"]],
        note=(f"The {len(v['byRule'])} most frequent of {v['ruleCount']} rules." if v["ruleCount"] > len(v["byRule"])
              else None),
        empty_text="No violations in this period."))
    doc.blocks.append(TableBlock(
        "violationsByAgent", "Violations by agent",
        [Column("agentId", "Agent", 3), Column("violations", "Violations", 1, "int"),
         Column("events", "Events with violations", 1.4, "int"), Column("critical", "Critical", 1, "int")],
        [(a["agentId"] or "(no agent)", a["violations"], a["events"], a["critical"]) for a in v["byAgent"]],
        note=(f"The {len(v['byAgent'])} agents with the most violations, of {v['agentCount']}."
              if v["agentCount"] > len(v["byAgent"]) else None),
        empty_text="No violations in this period."))
    doc.blocks.append(TableBlock(
        "topFlaggedTraces", "Top flagged traces",
        [Column("traceId", "Trace", 2.0, "mono", max_chars=60), Column("rootAction", "Root action", 1.4, max_chars=60),
         Column("agentIds", "Agents", 1.9, max_chars=80), Column("spanCount", "Spans", 0.8, "int"),
         Column("flaggedCount", "Flagged", 1.0, "int"), Column("blockedCount", "Blocked", 1.0, "int"),
         Column("enforcementAction", "Outcome", 1.1), Column("startedAt", "Started (UTC)", 1.7, "time")],
        [(t["traceId"], t["rootAction"], t["agentIds"], t["spanCount"], t["flaggedCount"], t["blockedCount"],
          t["enforcementAction"], t["startedAt"]) for t in traces],
        empty_text="No trace had a flagged span in this period."))
    statuses = ("open", "acknowledged", "resolved", "false_positive")
    doc.blocks.append(TableBlock(
        "alertTriage", "Alert triage status",
        [Column("status", "Status", 2), *[Column(sev, sev.capitalize(), 1, "int") for sev in rq.SEVERITIES],
         Column("total", "Total", 1, "int")],
        [(status.replace("_", " "), *[triage["byStatus"].get(status, {}).get(sev, 0) for sev in rq.SEVERITIES],
          sum(triage["byStatus"].get(status, {}).values())) for status in statuses],
        note=_triage_note(triage), empty_text="No alerts in this period."))
    doc.blocks.append(TableBlock(
        "policyVersions", "Policy versions in force",
        [Column("name", "Policy", 2.6), Column("version", "Version in force", 1.3), Column("mode", "Mode", 0.8),
         Column("isActive", "Active", 0.7), Column("rules", "Rules", 0.7, "int"),
         Column("changes", "Changes in period", 1.1, "int"), Column("savedAt", "Version saved", 1.6, "time"),
         Column("policyId", "Policy ID", 1, "mono", pdf=False)],
        [(p["name"], (p["versionInForce"] or {}).get("name", "not yet created"),
          (p["versionInForce"] or {}).get("mode", p["mode"]), p["isActive"],
          (p["versionInForce"] or {}).get("activeRules"), p["changesInPeriod"],
          (p["versionInForce"] or {}).get("createdAt"), p["policyId"]) for p in policies],
        note="The version of each policy in force at the end of the period; changes counts the versions saved "
             "during it.", empty_text="No policies."))
    if w.policy_id is None:
        doc.blocks.append(TableBlock(
            "organizationRules", "Organisation-wide rules",
            [Column("packId", "Pack", 2), Column("version", "Pack version", 1.2), Column("rules", "Rules", 1, "int"),
             Column("activeRules", "Active", 1, "int"), Column("installedAt", "Installed", 1.6, "time")],
            [(p["packId"] or "custom rules", p["version"], p["rules"], p["activeRules"], p["installedAt"]) for p in packs],
            note="Rules that apply to every event of the organisation (as of this report).",
            empty_text="No organisation-wide rules."))
    doc.blocks.append(_integrity_block(db, ctx, w))
    doc.blocks.append(TextBlock("method", "Method and definitions", [
        "<b>Events audited</b>: events stored in the period (by the time they were received). "
        "<b>Events with violations</b>: events that violated at least one active rule; the event's outcome is "
        "the strongest action among its violated rules (block &gt; flag &gt; log).",
        "<b>Violations</b>: one per violated rule per event, so one event can count several times. "
        "<b>Alerts</b>: one per violated rule whose action is flag or block, triaged by people; the triage "
        "status is as of the time this report was built.",
        "Counts are computed from the stored data when the report is built; numbers for a period still in "
        "progress may grow. Times are UTC.",
    ]))
    doc.facts.update({"eventsAudited": events, "violations": v["total"]})
    ctx.progress(0.5)
    return doc


def _narrative(w: Window, totals: dict[str, int], v: dict[str, Any], triage: dict[str, Any], open_alerts: int,
               critical_open: int) -> str:
    events = totals["events"]
    text = (f"Between {short_time(w.start_ms)} and {short_time(w.end_ms)} UTC, <b>{events:,}</b> events from "
            f"{totals['agents']:,} agent{'s' if totals['agents'] != 1 else ''} were audited. ")
    if not totals["flagged"]:
        return text + "No event violated a compliance rule."
    text += (f"<b>{totals['flagged']:,}</b> ({percent(_share(totals['flagged'], events))}) violated at least one "
             f"rule: {totals['block']:,} were blocked, {totals['flag']:,} flagged and {totals['log']:,} logged. ")
    if v["byRule"]:
        top = v["byRule"][0]
        text += (f"The most frequent rule was <b>{_xml(top['ruleName'])}</b> ({top['violations']:,} violations, "
                 f"{top['severity']}). ")
    text += f"{triage['total']:,} alerts were raised; {open_alerts:,} remain open or acknowledged"
    text += f", {critical_open:,} of them critical." if critical_open else "."
    return text


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _triage_note(triage: dict[str, Any]) -> str | None:
    parts = []
    if triage["meanResolveMs"] is not None:
        parts.append(f"Mean time to close: {_duration(triage['meanResolveMs'])} (longest {_duration(triage['maxResolveMs'])}, "
                     f"{triage['closed']:,} closed).")
    if triage["oldestOpenAt"] is not None:
        parts.append(f"Oldest alert still open: raised {short_time(triage['oldestOpenAt'])} UTC.")
    return " ".join(parts) or None


def _duration(ms: float | int | None) -> str:
    if ms is None:
        return "—"
    seconds = ms / 1000
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


# -- audit log export ------------------------------------------------------------------------------

EVENT_COLUMNS = [
    Column("createdAt", "Received (UTC)", 1.35, "time"), Column("sequence", "Seq", 0.6, "int"),
    Column("agentId", "Agent", 1.1, max_chars=60), Column("action", "Action", 1.0, max_chars=60),
    Column("enforcementAction", "Outcome", 0.75), Column("complianceFlags", "Flags", 1.6, max_chars=240),
    Column("prompt", "Prompt", 2.6, max_chars=360), Column("response", "Response", 2.2, max_chars=300),
    Column("traceId", "Trace", 1, "mono", pdf=False), Column("spanId", "Span", 1, "mono", pdf=False),
    Column("parentSpanId", "Parent span", 1, "mono", pdf=False), Column("startedAt", "Started", 1, "time", pdf=False),
    Column("endedAt", "Ended", 1, "time", pdf=False), Column("metadata", "Metadata", 1, pdf=False),
    Column("id", "ID", 1, "mono", pdf=False), Column("hash", "Hash", 1, "mono", pdf=False),
]


def _event_row(event: dict[str, Any]) -> tuple[Any, ...]:
    return (event["createdAt"], event["sequence"], event["agentId"], event["action"], event["enforcementAction"],
            event["complianceFlags"], event["prompt"], event["response"], event["traceId"], event["spanId"],
            event["parentSpanId"], event["startedAt"], event["endedAt"], event["metadata"], event["id"], event["hash"])


def _event_rows(db: Database, w: Window, *, show_sensitive: bool) -> Iterator[tuple[Any, ...]]:
    for chunk in rq.iter_events(db, w):
        for event in chunk:
            yield _event_row(event if show_sensitive else mask_event(event))


def _audit_log_export(db: Database, ctx: BuildContext) -> Document:
    w = ctx.window
    doc = _document(db, ctx, subtitle=f"Period {_period_text(w.start_ms, w.end_ms)}", csv_table="events")
    totals = rq.event_totals(db, w)
    ctx.progress(0.05)
    doc.blocks.append(KpiBlock("summary", "Summary", [
        Kpi("events", "Events", totals["events"]), Kpi("withViolations", "Events with violations", totals["flagged"],
                                                      tone="warning" if totals["flagged"] else "good"),
        Kpi("blocked", "Blocked", totals["block"], tone="critical" if totals["block"] else "neutral"),
        Kpi("agents", "Agents", totals["agents"])]))
    doc.blocks.append(TableBlock(
        "events", "Events", EVENT_COLUMNS, _event_rows(db, w, show_sensitive=ctx.show_sensitive),
        total=totals["events"], pdf_limit=PDF_EVENT_LIMIT, empty_text="No events in this period.",
        note=None if ctx.show_sensitive else "Matched sensitive values are masked as [MASKED:detector]."))
    doc.blocks.append(_integrity_block(db, ctx, w))
    doc.facts["events"] = totals["events"]
    return doc


# -- alert summary ---------------------------------------------------------------------------------

def _alert_rows(db: Database, w: Window) -> Iterator[tuple[Any, ...]]:
    for chunk in rq.iter_alerts(db, w):
        for a in chunk:
            yield (a["createdAt"], a["severity"], a["status"].replace("_", " "), a["ruleName"], a["agentId"],
                   a["message"], a["auditLogId"], a["resolvedAt"], a["note"], a["id"], a["ruleId"], a["policyId"],
                   a["resolvedBy"])


def _alert_summary(db: Database, ctx: BuildContext) -> Document:
    w = ctx.window
    doc = _document(db, ctx, subtitle=f"Period {_period_text(w.start_ms, w.end_ms)}", csv_table="alerts")
    triage = rq.alert_triage(db, w)
    by_rule = rq.alerts_by_rule(db, w)
    ctx.progress(0.1)
    count = {s: sum(triage["byStatus"].get(s, {}).values()) for s in ("open", "acknowledged", "resolved", "false_positive")}
    critical_open = sum(triage["byStatus"].get(s, {}).get("critical", 0) for s in ("open", "acknowledged"))
    doc.blocks.append(KpiBlock("kpis", "Key figures", [
        Kpi("alerts", "Alerts raised", triage["total"]),
        Kpi("open", "Open", count["open"], tone="warning" if count["open"] else "good"),
        Kpi("acknowledged", "Acknowledged", count["acknowledged"]),
        Kpi("criticalOpen", "Critical, not closed", critical_open, tone="critical" if critical_open else "good"),
        Kpi("resolved", "Resolved", count["resolved"]), Kpi("falsePositive", "False positives", count["false_positive"]),
        Kpi("meanTimeToClose", "Mean time to close", _duration(triage["meanResolveMs"])),
        Kpi("closedShare", "Closed", percent(_share(count["resolved"] + count["false_positive"], triage["total"]))),
    ]))
    statuses = ("open", "acknowledged", "resolved", "false_positive")
    doc.blocks.append(TableBlock(
        "triage", "Triage status by severity",
        [Column("status", "Status", 2), *[Column(sev, sev.capitalize(), 1, "int") for sev in rq.SEVERITIES],
         Column("total", "Total", 1, "int")],
        [(s.replace("_", " "), *[triage["byStatus"].get(s, {}).get(sev, 0) for sev in rq.SEVERITIES], count[s])
         for s in statuses], note=_triage_note(triage)))
    doc.blocks.append(TableBlock(
        "byRule", "Alerts by rule",
        [Column("ruleName", "Rule", 3), Column("severity", "Severity", 1, "severity"),
         Column("alerts", "Alerts", 1, "int"), Column("open", "Not closed", 1, "int")],
        [(r["ruleName"], r["severity"], r["alerts"], r["open"]) for r in by_rule], empty_text="No alerts in this period."))
    doc.blocks.append(TableBlock(
        "alerts", "Alerts",
        [Column("createdAt", "Raised (UTC)", 1.3, "time"), Column("severity", "Severity", 0.8, "severity"),
         Column("status", "Status", 0.9), Column("ruleName", "Rule", 1.6, max_chars=80),
         Column("agentId", "Agent", 1.1, max_chars=60), Column("message", "Message", 3.2, max_chars=300),
         Column("auditLogId", "Event", 1.5, "mono", pdf=False), Column("resolvedAt", "Closed", 1.2, "time"),
         Column("note", "Note", 1.2, max_chars=200), Column("id", "Alert ID", 1, "mono", pdf=False),
         Column("ruleId", "Rule ID", 1, "mono", pdf=False), Column("policyId", "Policy ID", 1, "mono", pdf=False),
         Column("resolvedBy", "Closed by", 1, pdf=False)],
        _alert_rows(db, w), total=triage["total"], pdf_limit=PDF_ALERT_LIMIT, empty_text="No alerts in this period."))
    doc.facts["alerts"] = triage["total"]
    return doc


# -- agent activity --------------------------------------------------------------------------------

def _agent_activity(db: Database, ctx: BuildContext) -> Document:
    w = ctx.window
    doc = _document(db, ctx, subtitle=f"Period {_period_text(w.start_ms, w.end_ms)}", csv_table="agents")
    agents = rq.agent_activity(db, w)
    ctx.progress(0.3)
    actions = rq.agent_actions(db, w)
    ctx.progress(0.4)
    events = sum(a["events"] for a in agents)
    flagged = sum(a["flagged"] for a in agents)
    doc.blocks.append(KpiBlock("kpis", "Key figures", [
        Kpi("agents", "Agents active", len(agents)), Kpi("events", "Events", events),
        Kpi("flagged", "Events with violations", flagged, note=f"{percent(_share(flagged, events))} of events",
            tone="warning" if flagged else "good"),
        Kpi("blocked", "Blocked", sum(a["blocked"] for a in agents),
            tone="critical" if any(a["blocked"] for a in agents) else "neutral")]))
    top = agents[:12]
    if top:
        doc.blocks.append(ChartBlock(
            "eventsByAgent", "Events by agent", [_agent_label(a) for a in top],
            [Series("Without violations", [a["events"] - a["flagged"] for a in top], "#0E7490"),
             Series("With violations", [a["flagged"] for a in top], "#D97706")], kind="hbar",
            note=f"The {len(top)} busiest of {len(agents)} agents." if len(agents) > len(top) else None))
    doc.blocks.append(TableBlock(
        "agents", "Agents",
        [Column("agentId", "Agent", 1.8, max_chars=80), Column("name", "Registered name", 1.4, max_chars=60),
         Column("type", "Type", 0.9), Column("events", "Events", 0.9, "int"), Column("flagged", "Flagged", 0.8, "int"),
         Column("blocked", "Blocked", 0.8, "int"), Column("violations", "Violations", 0.9, "int"),
         Column("critical", "Critical", 0.8, "int"), Column("traces", "Traces", 0.8, "int"),
         Column("actions", "Actions", 0.8, "int"), Column("firstSeen", "First seen", 1.3, "time"),
         Column("lastSeen", "Last seen", 1.3, "time")],
        [(a["agentId"] or "(no agent)", a["name"], a["type"], a["events"], a["flagged"], a["blocked"], a["violations"],
          a["critical"], a["traces"], a["actions"], a["firstSeen"], a["lastSeen"]) for a in agents],
        total=len(agents), empty_text="No agent activity in this period."))
    doc.blocks.append(TableBlock(
        "actions", "Most frequent actions",
        [Column("agentId", "Agent", 2), Column("action", "Action", 2), Column("events", "Events", 1, "int"),
         Column("flagged", "With violations", 1, "int")],
        [(a["agentId"] or "(no agent)", a["action"], a["events"], a["flagged"]) for a in actions],
        empty_text="No events in this period."))
    doc.facts["agents"] = len(agents)
    return doc


def _agent_label(agent: dict[str, Any]) -> str:
    label = agent["name"] or agent["agentId"] or "(no agent)"
    return label if len(label) <= 28 else label[:27] + "…"


# -- one trace -------------------------------------------------------------------------------------

def _flatten(forest: list[dict[str, Any]], spans: dict[str, dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    out: list[tuple[int, dict[str, Any]]] = []
    stack = [(0, node) for node in reversed(forest)]
    while stack:  # iterative: deep chains must not hit the recursion limit
        depth, node = stack.pop()
        out.append((depth, spans[node["id"]]))
        stack.extend((depth + 1, child) for child in reversed(node["children"]))
    return out


def _trace(db: Database, ctx: BuildContext) -> Document:
    trace_id = str(ctx.params["traceId"])
    spans = log_store.trace_spans(db, ctx.org_id, trace_id)
    summary = rq.trace_summary(db, ctx.org_id, trace_id)
    ctx.progress(0.2)
    period = None
    if spans:
        starts = [log_store_ms(s["startedAt"]) for s in spans]
        ends = [log_store_ms(s["endedAt"]) for s in spans]
        period = (min(starts), max(ends))
    doc = _document(db, ctx, subtitle=f"Trace {trace_id}"[:95], csv_table="spans", period=period)
    doc.scope = [("Trace", trace_id)]
    by_id = {s["id"]: (s if ctx.show_sensitive else mask_event(s)) for s in spans}
    ordered = _flatten(build_forest(spans), by_id)
    flagged = sum(1 for s in spans if s["complianceFlags"])
    blocked = sum(1 for s in spans if s["enforcementAction"] == "block")
    agents = sorted({s["agentId"] for s in spans if s["agentId"]})
    duration = (period[1] - period[0]) if period else 0
    doc.blocks.append(KpiBlock("kpis", "Key figures", [
        Kpi("spans", "Spans", len(spans)), Kpi("flagged", "Spans with violations", flagged,
                                              tone="warning" if flagged else "good"),
        Kpi("blocked", "Blocked", blocked, tone="critical" if blocked else "neutral"),
        Kpi("duration", "Duration", _duration(duration))]))
    doc.blocks.append(FieldsBlock("trace", "Trace", [
        ("traceId", "Trace ID", trace_id), ("rootAction", "Root action", (summary or {}).get("rootAction")),
        ("agents", "Agents", ", ".join(agents) or "—"),
        ("outcome", "Outcome", (summary or {}).get("enforcementAction", "allow")),
        ("startedAt", "Started", to_iso(period[0]) if period else None),
        ("endedAt", "Ended", to_iso(period[1]) if period else None)]))
    doc.blocks.append(TableBlock(
        "spans", "Span tree",
        [Column("span", "Span", 2.6, "tree", max_chars=80), Column("depth", "Depth", 0.5, "int", pdf=False),
         Column("agentId", "Agent", 1.2, max_chars=50), Column("startedAt", "Started (UTC)", 1.4, "time"),
         Column("durationMs", "ms", 0.7, "int"), Column("enforcementAction", "Outcome", 0.8),
         Column("complianceFlags", "Flags", 2.0, max_chars=200), Column("prompt", "Prompt", 2.2, max_chars=240),
         Column("response", "Response", 1, max_chars=240, pdf=False), Column("id", "Event ID", 1, "mono", pdf=False),
         Column("spanId", "Span ID", 1, "mono", pdf=False), Column("parentSpanId", "Parent", 1, "mono", pdf=False),
         Column("sequence", "Seq", 1, "int", pdf=False), Column("hash", "Hash", 1, "mono", pdf=False)],
        ((TreeLabel(depth, s["action"]), depth, s["agentId"], log_store_ms(s["startedAt"]),
          log_store_ms(s["endedAt"]) - log_store_ms(s["startedAt"]), s["enforcementAction"], s["complianceFlags"],
          s["prompt"], s["response"], s["id"], s["spanId"], s["parentSpanId"], s["sequence"], s["hash"])
         for depth, s in ordered),
        total=len(ordered), pdf_limit=PDF_SPAN_LIMIT, empty_text="This trace has no spans."))
    verdicts = [(s["action"], s["spanId"], v.get("name"), v.get("ruleType"), v.get("severity"), v.get("action"),
                 "; ".join(sorted({f"{m.get('detector')} in {m.get('field')}" for m in v.get("matches") or []})),
                 s["id"])
                for _, s in ordered for v in (s["violationDetails"] or [])]
    doc.blocks.append(TableBlock(
        "verdicts", "Verdicts",
        [Column("spanAction", "Span", 1.5), Column("spanId", "Span ID", 1.4, "mono", max_chars=40),
         Column("rule", "Rule", 2.2), Column("ruleType", "Type", 1.2, labels=RULE_TYPE_LABELS), Column("severity", "Severity", 0.9, "severity"),
         Column("action", "Action", 0.8), Column("matched", "Matched", 2.2, max_chars=200),
         Column("eventId", "Event ID", 1, "mono", pdf=False)],
        verdicts, empty_text="No span of this trace violated a rule."))
    doc.blocks.append(_integrity_block(db, ctx, None))
    doc.facts["spans"] = len(spans)
    return doc


def log_store_ms(iso: str) -> int:
    return parse_iso(iso)


_BUILDERS: dict[str, Callable[[Database, BuildContext], Document]] = {
    "compliance_summary": _compliance_summary,
    "audit_log_export": _audit_log_export,
    "alert_summary": _alert_summary,
    "agent_activity": _agent_activity,
    "trace": _trace,
}

__all__ = ["BuildContext", "FORMATS", "IntegritySource", "TYPES", "build_document", "chain_head_integrity"]
