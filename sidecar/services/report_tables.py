"""The list-shaped reports: audit log export, alert summary, agent activity, one trace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from peewee import Database

from sidecar.clock import parse_iso, to_iso
from sidecar.errors import FieldError, InvalidInput
from sidecar.reports.document import (ChartBlock, Column, Document, FieldsBlock, Kpi, KpiBlock, Series, TableBlock,
                                      TreeLabel)
from sidecar.reports.masking import mask_event
from sidecar.reports.values import percent
from sidecar.services.tree import build_forest
from sidecar.store import logs as log_store
from sidecar.store import report_queries as rq
from sidecar.store.report_queries import Window
from sidecar.services.report_base import (ALERT_STATUS_LABELS, ALERT_STATUSES, PDF_ALERT_LIMIT, PDF_EVENT_LIMIT,
                                         PDF_SPAN_LIMIT, POLICY_SCOPE_NOTE, RULE_TYPE_LABELS, BuildContext,
                                         alert_counts, base_document, duration, flag_terms, integrity_block,
                                         masking_note, period_text, rule_source, share, triage_note)


# -- audit log export ------------------------------------------------------------------------------

EVENT_COLUMNS = [
    Column("createdAt", "Received (UTC)", 1.35, "time"), Column("sequence", "Seq", 0.6, "int"),
    Column("agentId", "Agent", 1.1), Column("action", "Action", 1.0),
    Column("enforcementAction", "Outcome", 0.75), Column("complianceFlags", "Flags", 1.6),
    Column("prompt", "Prompt", 2.6), Column("response", "Response", 2.2),
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


def audit_log_export(db: Database, ctx: BuildContext) -> Document:
    w = ctx.window
    doc = base_document(db, ctx, subtitle=f"Period {period_text(w.start_ms, w.end_ms)}", csv_table="events")
    totals = rq.event_totals(db, w)
    ctx.progress(0.05)
    terms = flag_terms(w)
    doc.blocks.append(KpiBlock("summary", "Summary", [
        Kpi("events", "Events" if w.policy_id is None else terms["events"], totals["events"]),
        Kpi("flagged", terms["flagged"], totals["flagged"],
            note=f"outcome: {totals['block']:,} block, {totals['flag']:,} flag, {totals['log']:,} log",
            tone="warning" if totals["flagged"] else "good"),
        Kpi("blocked", terms["block"], totals["block"], tone="critical" if totals["block"] else "neutral"),
        Kpi("agents", "Agents", totals["agents"])]))
    doc.blocks.append(TableBlock(
        "events", "Events", EVENT_COLUMNS, _event_rows(db, w, show_sensitive=ctx.show_sensitive),
        total=totals["events"], pdf_limit=PDF_EVENT_LIMIT, empty_text="No events in this period.",
        note=" ".join([masking_note(ctx.show_sensitive),
                       *([POLICY_SCOPE_NOTE + " Each row's outcome and flags are the event's own, across all rules."]
                         if w.policy_id is not None else [])])))
    doc.blocks.append(integrity_block(db, ctx, w))
    doc.facts["events"] = totals["events"]
    return doc


# -- alert summary ---------------------------------------------------------------------------------

def _who(actor: dict[str, Any] | None, actor_id: str | None) -> str | None:
    if actor is None:
        return actor_id
    if actor.get("email"):
        return f"{actor['name']} ({actor['email']})" if actor.get("name") else actor["email"]
    return actor.get("name") or actor_id


def _alert_source(sources: dict[str, dict[str, Any]], policies: dict[str, str], rule_id: str | None,
                  policy_id: str | None) -> str:
    found = sources.get(rule_id or "")
    if found is not None:
        return rule_source(found["policyName"], found["policyId"], found["packId"])
    return rule_source(policies.get(policy_id or ""), policy_id, None) if policy_id else "deleted rule"


def _alert_rows(db: Database, w: Window) -> Iterator[tuple[Any, ...]]:
    policies = rq.policy_names(db, w.org_id)
    for chunk in rq.iter_alerts(db, w):
        sources = rq.rule_sources(db, w.org_id, {a["ruleId"] for a in chunk if a["ruleId"]})
        for a in chunk:
            source = _alert_source(sources, policies, a["ruleId"], a["policyId"])
            event = a["event"] or {}
            resolver = a["resolver"] or {}
            shown_event = (f"#{event['sequence']:,} {event['action']} ({event['enforcementAction']})" if event
                           else a["auditLogId"])
            who = _who(a["resolver"], a["resolvedBy"])
            by_note = "\n".join(filter(None, [who, f"Note: {a['note']}" if a["note"] else None])) or None
            yield (a["createdAt"], a["severity"], a["status"], f"{a['ruleName']}\n({source})", a["agentId"],
                   shown_event, a["resolvedAt"], by_note, a["ruleName"], source,
                   a["message"], a["auditLogId"], event.get("sequence"), event.get("action"),
                   event.get("enforcementAction"), a["resolvedBy"], resolver.get("email"), resolver.get("name"),
                   a["note"], a["id"], a["ruleId"], a["policyId"])


ALERT_COLUMNS = [
    Column("createdAt", "Raised (UTC)", 1.3, "time"), Column("severity", "Severity", 0.8, "severity"),
    Column("status", "Status", 0.9, labels=ALERT_STATUS_LABELS), Column("rule", "Rule", 2.2, data=False),
    Column("agentId", "Agent", 1.1), Column("event", "Event", 1.0, data=False),
    Column("resolvedAt", "Closed (UTC)", 1.2, "time"), Column("closedBy", "By, note", 1.6, data=False),
    Column("ruleName", "Rule", 1, pdf=False), Column("ruleSource", "Rule source", 1, pdf=False),
    Column("message", "Message", 3.2, pdf=False), Column("auditLogId", "Event ID", 1.5, "mono", pdf=False),
    Column("eventSequence", "Event sequence", 1, "int", pdf=False),
    Column("eventAction", "Event action", 1, pdf=False), Column("eventOutcome", "Event outcome", 1, pdf=False),
    Column("resolvedBy", "Closed by (ID)", 1, "mono", pdf=False),
    Column("resolvedByEmail", "Closed by (email)", 1, pdf=False), Column("resolvedByName", "Closed by", 1, pdf=False),
    Column("note", "Note", 1.2, pdf=False), Column("id", "Alert ID", 1, "mono", pdf=False),
    Column("ruleId", "Rule ID", 1, "mono", pdf=False), Column("policyId", "Policy ID", 1, "mono", pdf=False),
]


def alert_summary(db: Database, ctx: BuildContext) -> Document:
    w = ctx.window
    doc = base_document(db, ctx, subtitle=f"Period {period_text(w.start_ms, w.end_ms)}", csv_table="alerts")
    triage = rq.alert_triage(db, w)
    by_rule = rq.alerts_by_rule(db, w)
    ctx.progress(0.1)
    count = alert_counts(triage)
    doc.blocks.append(KpiBlock("kpis", "Key figures", [
        Kpi("alerts", "Alerts raised", triage["total"],
            note=f"{count['closed']:,} closed ({percent(share(count['closed'], triage['total']))})"),
        Kpi("notClosed", "Not closed (open or acknowledged)", count["notClosed"],
            note=f"open {count['open']:,} · acknowledged {count['acknowledged']:,}",
            tone="warning" if count["notClosed"] else "good"),
        Kpi("open", "Open (not yet triaged)", count["open"], tone="warning" if count["open"] else "good"),
        Kpi("acknowledged", "Acknowledged", count["acknowledged"]),
        Kpi("criticalOpen", "Critical, not closed", count["criticalNotClosed"],
            tone="critical" if count["criticalNotClosed"] else "good"),
        Kpi("resolved", "Resolved", count["resolved"]), Kpi("falsePositive", "False positives", count["falsePositive"]),
        Kpi("meanTimeToClose", "Mean time to close", duration(triage["meanResolveMs"])),
    ]))
    doc.blocks.append(TableBlock(
        "triage", "Triage status by severity",
        [Column("status", "Status", 2, labels=ALERT_STATUS_LABELS),
         *[Column(sev, sev.capitalize(), 1, "int") for sev in rq.SEVERITIES], Column("total", "Total", 1, "int")],
        [(s, *[triage["byStatus"].get(s, {}).get(sev, 0) for sev in rq.SEVERITIES],
          sum(triage["byStatus"].get(s, {}).values())) for s in ALERT_STATUSES],
        note=triage_note(triage, definitions=True)))
    sources = rq.rule_sources(db, ctx.org_id, {r["ruleId"] for r in by_rule if r["ruleId"]})
    policies = rq.policy_names(db, ctx.org_id)
    doc.blocks.append(TableBlock(
        "byRule", "Alerts by rule",
        [Column("ruleName", "Rule", 2), Column("source", "Source", 1.6), Column("severity", "Severity", 1, "severity"),
         Column("alerts", "Alerts", 1, "int"), Column("open", "Not closed", 1, "int"),
         Column("ruleId", "Rule ID", 1, "mono", pdf=False)],
        [(r["ruleName"], _alert_source(sources, policies, r["ruleId"], r.get("policyId")), r["severity"], r["alerts"],
          r["open"], r["ruleId"]) for r in by_rule],
        note="Source: the policy the rule belongs to (and the pack it was copied from), or the organisation-wide "
             "pack.", empty_text="No alerts in this period."))
    doc.blocks.append(TableBlock(
        "alerts", "Alerts", ALERT_COLUMNS,
        _alert_rows(db, w), total=triage["total"], pdf_limit=PDF_ALERT_LIMIT, empty_text="No alerts in this period.",
        note="Event: the sequence number, action and outcome of the event that raised the alert. Closed: when it was "
             "resolved or marked a false positive, and by whom. Each alert's message and ids are in the CSV and "
             "JSON formats."))
    doc.blocks.append(integrity_block(db, ctx, w))
    doc.facts["alerts"] = triage["total"]
    return doc


# -- agent activity --------------------------------------------------------------------------------

def agent_activity(db: Database, ctx: BuildContext) -> Document:
    w = ctx.window
    doc = base_document(db, ctx, subtitle=f"Period {period_text(w.start_ms, w.end_ms)}", csv_table="agents")
    agents = rq.agent_activity(db, w)
    ctx.progress(0.3)
    actions = rq.agent_actions(db, w)
    ctx.progress(0.4)
    events = sum(a["events"] for a in agents)
    flagged = sum(a["flagged"] for a in agents)
    terms = flag_terms(w)
    doc.blocks.append(KpiBlock("kpis", "Key figures", [
        Kpi("agents", "Agents active", len(agents)),
        Kpi("events", "Events" if w.policy_id is None else terms["events"], events),
        Kpi("flagged", terms["flagged"], flagged,
            note=f"{percent(share(flagged, events))} of events", tone="warning" if flagged else "good"),
        Kpi("blocked", terms["block"], sum(a["blocked"] for a in agents),
            tone="critical" if any(a["blocked"] for a in agents) else "neutral")]))
    top = agents[:12]
    if top:
        doc.blocks.append(ChartBlock(
            "eventsByAgent", "Events by agent", [_agent_label(a) for a in top],
            [Series("Not flagged", [a["events"] - a["flagged"] for a in top], "#0E7490"),
             Series(terms["flagged"].replace("Flagged events", "Flagged"), [a["flagged"] for a in top], "#D97706")],
            kind="hbar",
            value_label="Events in the period", category_label="Agent",
            note=" ".join(filter(None, [
                f"The {len(top)} busiest of {len(agents)} agents." if len(agents) > len(top) else None,
                "Names longer than 28 characters are shortened here; the table below gives them in full."
                if any(len(_agent_label(a)) < len(a["name"] or a["agentId"] or "") for a in top) else None])) or None))
    doc.blocks.append(TableBlock(
        "agents", "Agents",
        [Column("agentId", "Agent", 1.8), Column("name", "Registered name", 1.4),
         Column("type", "Type", 0.9, pdf=False), Column("events", "Events", 0.9, "int"),
         Column("flagged", "Flagged", 0.8, "int"), Column("blocked", "Blocked", 0.8, "int"),
         Column("violations", "Violations", 0.9, "int"), Column("critical", "Critical", 0.8, "int"),
         Column("traces", "Traces", 0.8, "int", pdf=False), Column("actions", "Actions", 0.8, "int", pdf=False), Column("firstSeen", "First seen", 1.3, "time"),
         Column("lastSeen", "Last seen", 1.3, "time")],
        [(a["agentId"] or "(no agent)", a["name"], a["type"], a["events"], a["flagged"], a["blocked"], a["violations"],
          a["critical"], a["traces"], a["actions"], a["firstSeen"], a["lastSeen"]) for a in agents],
        total=len(agents), empty_text="No agent activity in this period.",
        note="Flagged: events that matched at least one rule, whatever the outcome (as GET /audit-logs?flagged=true). "
             "Blocked: flagged events whose outcome was block. Violations: matched rules, one per rule per event. "
             "Each agent's type and its numbers of traces and distinct actions are in the CSV and JSON formats."
             + (" " + POLICY_SCOPE_NOTE if w.policy_id is not None else "")))
    doc.blocks.append(TableBlock(
        "actions", "Most frequent actions",
        [Column("agentId", "Agent", 2), Column("action", "Action", 2), Column("events", "Events", 1, "int"),
         Column("flagged", "Flagged", 1, "int")],
        [(a["agentId"] or "(no agent)", a["action"], a["events"], a["flagged"]) for a in actions],
        empty_text="No events in this period."))
    doc.blocks.append(integrity_block(db, ctx, w))
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


def trace(db: Database, ctx: BuildContext) -> Document:
    trace_id = str(ctx.params["traceId"])
    spans = log_store.trace_spans(db, ctx.org_id, trace_id)
    if not spans:  # checked when requested; a trace can still vanish (retention) before the build
        raise InvalidInput.fields([FieldError("traceId", f"no trace {trace_id} in this organisation")])
    summary = rq.trace_summary(db, ctx.org_id, trace_id)
    ctx.progress(0.2)
    period = None
    if spans:
        starts = [log_store_ms(s["startedAt"]) for s in spans]
        ends = [log_store_ms(s["endedAt"]) for s in spans]
        period = (min(starts), max(ends))
    doc = base_document(db, ctx, subtitle=f"Trace {trace_id}"[:95], csv_table="spans", period=period)
    doc.scope = [("Trace", trace_id)]
    by_id = {s["id"]: (s if ctx.show_sensitive else mask_event(s)) for s in spans}
    ordered = _flatten(build_forest(spans), by_id)
    flagged = sum(1 for s in spans if s["complianceFlags"])
    blocked = sum(1 for s in spans if s["enforcementAction"] == "block")
    agents = sorted({s["agentId"] for s in spans if s["agentId"]})
    elapsed = (period[1] - period[0]) if period else 0
    doc.blocks.append(KpiBlock("kpis", "Key figures", [
        Kpi("spans", "Spans", len(spans)),
        Kpi("flagged", "Flagged spans (any rule matched)", flagged, tone="warning" if flagged else "good"),
        Kpi("blocked", "Flagged, outcome block", blocked, tone="critical" if blocked else "neutral"),
        Kpi("duration", "Duration", duration(elapsed))]))
    doc.blocks.append(FieldsBlock("trace", "Trace", [
        ("traceId", "Trace ID", trace_id), ("rootAction", "Root action", (summary or {}).get("rootAction")),
        ("agents", "Agents", ", ".join(agents) or "—"),
        ("outcome", "Outcome", (summary or {}).get("enforcementAction", "allow")),
        ("startedAt", "Started", to_iso(period[0]) if period else None),
        ("endedAt", "Ended", to_iso(period[1]) if period else None)]))
    doc.blocks.append(TableBlock(
        "spans", "Span tree",
        [Column("span", "Span", 1.2, "tree"), Column("depth", "Depth", 0.5, "int", pdf=False),
         Column("agentId", "Agent", 1.0), Column("startedAt", "Started (UTC)", 0.8, "time"),
         Column("durationMs", "ms", 0.5, "int"), Column("enforcementAction", "Outcome", 0.6),
         Column("complianceFlags", "Flags", 1.4), Column("prompt", "Prompt", 2.6),
         Column("response", "Response", 2.6), Column("id", "Event ID", 1, "mono", pdf=False),
         Column("spanId", "Span ID", 1, "mono", pdf=False), Column("parentSpanId", "Parent", 1, "mono", pdf=False),
         Column("sequence", "Seq", 1, "int", pdf=False), Column("hash", "Hash", 1, "mono", pdf=False)],
        ((TreeLabel(depth, s["action"]), depth, s["agentId"], log_store_ms(s["startedAt"]),
          log_store_ms(s["endedAt"]) - log_store_ms(s["startedAt"]), s["enforcementAction"], s["complianceFlags"],
          s["prompt"], s["response"], s["id"], s["spanId"], s["parentSpanId"], s["sequence"], s["hash"])
         for depth, s in ordered),
        total=len(ordered), pdf_limit=PDF_SPAN_LIMIT, empty_text="This trace has no spans.",
        note=masking_note(ctx.show_sensitive)))
    details = [v for _, s in ordered for v in (s["violationDetails"] or [])]
    sources = rq.rule_sources(db, ctx.org_id, {v["ruleId"] for v in details if v.get("ruleId")})
    policies = rq.policy_names(db, ctx.org_id)
    verdicts = [(s["action"], s["spanId"], v.get("name"),
                 _alert_source(sources, policies, v.get("ruleId"), v.get("policyId")), v.get("ruleType"),
                 v.get("severity"), v.get("action"),
                 "; ".join(sorted({f"{m.get('detector')} in {m.get('field')}" for m in v.get("matches") or []})),
                 s["id"])
                for _, s in ordered for v in (s["violationDetails"] or [])]
    doc.blocks.append(TableBlock(
        "verdicts", "Verdicts",
        [Column("spanAction", "Span", 1.5), Column("spanId", "Span ID", 1.4, "mono"),
         Column("rule", "Rule", 2.0), Column("source", "Source", 1.6),
         Column("ruleType", "Type", 1.2, labels=RULE_TYPE_LABELS), Column("severity", "Severity", 0.9, "severity"),
         Column("action", "Action", 0.8), Column("matched", "Matched", 2.2),
         Column("eventId", "Event ID", 1, "mono", pdf=False)],
        verdicts, empty_text="No span of this trace violated a rule."))
    doc.blocks.append(integrity_block(db, ctx, None))
    doc.facts["spans"] = len(spans)
    return doc


def log_store_ms(iso: str) -> int:
    return parse_iso(iso)


