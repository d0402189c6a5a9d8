"""The compliance summary: key figures, trends, breakdowns, triage, policies in force, integrity."""

from __future__ import annotations

from typing import Any

from peewee import Database

from sidecar.reports.document import ChartBlock, Column, Document, Kpi, KpiBlock, Series, TableBlock, TextBlock
from sidecar.reports.values import percent, short_time
from sidecar.store import report_queries as rq
from sidecar.store.report_queries import Window
from sidecar.services.report_base import (ALERT_STATUS_LABELS, ALERT_STATUSES, RULE_TYPE_LABELS, SEVERITY_COLORS,
                                         POLICY_SCOPE_NOTE, BuildContext, alert_counts, base_document, bucket_labels,
                                         flag_terms, integrity_block, period_text, rule_source, share, triage_note)


# -- compliance summary ----------------------------------------------------------------------------

def compliance_summary(db: Database, ctx: BuildContext) -> Document:
    w = ctx.window
    doc = base_document(db, ctx, subtitle=f"Period {period_text(w.start_ms, w.end_ms)}", csv_table=None)
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
    packs = rq.org_rules(db, ctx.org_id, w.end_ms) if w.policy_id is None else []
    policies_by_id = rq.policy_names(db, ctx.org_id)
    ctx.progress(0.4)

    events, flagged = totals["events"], totals["flagged"]
    alerts = alert_counts(triage)
    terms = flag_terms(w)
    doc.blocks.append(KpiBlock("kpis", "Key figures", [
        Kpi("eventsAudited", terms["events"], events),
        Kpi("flaggedEvents", terms["flagged"], flagged,
            note=f"{percent(share(flagged, events))} of events", tone="warning" if flagged else "good"),
        Kpi("eventsBlocked", terms["block"], totals["block"],
            tone="critical" if totals["block"] else "neutral"),
        Kpi("eventsOutcomeFlag", terms["flag"], totals["flag"],
            note=f"{totals['log']:,} with outcome log (recorded only)"),
        Kpi("violations", "Rule violations", v["total"], note=f"{v['ruleCount']:,} distinct rules"),
        Kpi("criticalViolations", "Critical violations", v["bySeverity"]["critical"],
            tone="critical" if v["bySeverity"]["critical"] else "good"),
        Kpi("alertsRaised", "Alerts raised", triage["total"],
            note=f"{alerts['notClosed']:,} not closed: {alerts['open']:,} open, {alerts['acknowledged']:,} acknowledged"),
        Kpi("agentsActive", "Agents active", totals["agents"], note=f"{v['agentCount']:,} with violations"),
    ]))
    top_source = (rule_source(policies_by_id.get(v["byRule"][0]["policyId"] or ""), v["byRule"][0]["policyId"],
                              v["byRule"][0]["packId"]) if v["byRule"] else "")
    policy_name = policies_by_id.get(w.policy_id, w.policy_id) if w.policy_id is not None else None
    narrative = _narrative(w, totals, v, triage, alerts, top_source, policy_name)
    doc.blocks.append(TextBlock("summary", "Summary", [narrative]))
    head = ctx.integrity(db, ctx.org_id)
    doc.cover_note = [narrative, f"Built against the organisation's audit chain at sequence {head['sequence']:,} "
                                 f"(hash {head['hash'][:16]}…); see Integrity checkpoint."]
    labels = bucket_labels(w, width, len(per_bucket))
    unit = "day" if width == rq.DAY_MS else f"{width // rq.DAY_MS}-day period"
    doc.blocks.append(ChartBlock(
        "violationTrend", f"Violations per {unit}, by severity", labels,
        [Series(sev.capitalize(), v_bucket[sev], SEVERITY_COLORS[sev]) for sev in rq.SEVERITIES],
        note=f"{v['total']:,} violations in {v['events']:,} events over {len(labels)} "
             f"{unit if len(labels) == 1 else unit + 's'} (UTC); the last runs to the period's end, included.",
        value_label="Violations", category_label=f"{unit.capitalize()} (UTC)"))
    doc.blocks.append(ChartBlock("eventTrend", f"{terms['events']} per {unit}", labels,
                                 [Series("Events", per_bucket, "#0E7490")], stacked=False,
                                 value_label="Events", category_label=f"{unit.capitalize()} (UTC)"))
    doc.blocks.append(TableBlock(
        "violationsBySeverity", "Violations by severity",
        [Column("severity", "Severity", 2, "severity"), Column("violations", "Violations", 1, "int"),
         Column("share", "Share", 1, "pct")],
        [(sev, v["bySeverity"][sev], share(v["bySeverity"][sev], v["total"])) for sev in rq.SEVERITIES],
        empty_text="No violations in this period."))
    doc.blocks.append(TableBlock(
        "violationsByPack", "Violations by compliance pack",
        [Column("packId", "Pack", 2.2), Column("violations", "Violations", 1, "int"),
         Column("events", "Events", 1, "int"), Column("critical", "Critical", 1, "int"),
         Column("share", "Share", 1, "pct")],
        [((p["packId"] or "custom rules"), p["violations"], p["events"], p["critical"], share(p["violations"], v["total"]))
         for p in v["byPack"]],
        empty_text="No violations in this period."))
    doc.blocks.append(TableBlock(
        "violationsByRule", "Violations by rule",
        [Column("ruleName", "Rule", 2.0), Column("source", "Source", 1.6),
         Column("ruleType", "Type", 1.2, labels=RULE_TYPE_LABELS), Column("packId", "Pack", 1.0, pdf=False),
         Column("severity", "Severity", 1.0, "severity"), Column("violations", "Violations", 1.2, "int"),
         Column("block", "Block", 1.05, "int"), Column("flag", "Flag", 1.05, "int"),
         Column("log", "Log", 1.0, "int"),
         Column("ruleId", "Rule ID", 1, "mono", pdf=False)],
        [(r["ruleName"], rule_source(policies_by_id.get(r["policyId"] or ""), r["policyId"], r["packId"]),
          r["ruleType"], r["packId"] or "custom", r["severity"], r["violations"], r["block"], r["flag"], r["log"],
          r["ruleId"]) for r in v["byRule"]],
        note=" ".join(filter(None, [
            f"The {len(v['byRule'])} most frequent of {v['ruleCount']} rules." if v["ruleCount"] > len(v["byRule"])
            else None, "Source: the policy the rule belongs to (and the pack it was copied from), or the "
            "organisation-wide pack, for telling rules of the same name apart. Block, Flag and Log count the "
            "violations by the action the rule took."])),
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
        [Column("traceId", "Trace", 2.0, "mono"), Column("rootAction", "Root action", 1.4),
         Column("agentIds", "Agents", 1.9), Column("spanCount", "Spans", 0.8, "int"),
         Column("flaggedCount", "Flagged spans", 1.0, "int"), Column("blockedCount", "Blocked spans", 1.0, "int"),
         Column("enforcementAction", "Outcome", 1.1), Column("startedAt", "Started (UTC)", 1.7, "time")],
        [(t["traceId"], t["rootAction"], t["agentIds"], t["spanCount"], t["flaggedCount"], t["blockedCount"],
          t["enforcementAction"], t["startedAt"]) for t in traces],
        note=("Flagged and blocked spans, and the outcome, count only the spans of this report's scope; spans "
              "counts the whole trace." if w.agent_id is not None or w.policy_id is not None else None),
        empty_text="No trace had a flagged span in this period."))
    doc.blocks.append(TableBlock(
        "alertTriage", "Alert triage status",
        [Column("status", "Status", 2, labels=ALERT_STATUS_LABELS), *[Column(sev, sev.capitalize(), 1, "int") for sev in rq.SEVERITIES],
         Column("total", "Total", 1, "int")],
        [(status, *[triage["byStatus"].get(status, {}).get(sev, 0) for sev in rq.SEVERITIES],
          sum(triage["byStatus"].get(status, {}).values())) for status in ALERT_STATUSES],
        note=triage_note(triage, definitions=True), empty_text="No alerts in this period."))
    doc.blocks.append(TableBlock(
        "policyVersions", "Policy versions in force",
        [Column("name", "Policy", 2.6), Column("version", "Version in force", 1.3), Column("mode", "Mode", 0.8),
         Column("isActive", "Active", 0.7), Column("rules", "Rules", 0.7, "int"),
         Column("changes", "Changes in period", 1.1, "int"), Column("savedAt", "Version saved", 1.6, "time"),
         Column("policyId", "Policy ID", 1, "mono", pdf=False)],
        [(p["name"], p["versionInForce"]["name"], p["versionInForce"]["mode"], p["versionInForce"]["isActive"],
          p["versionInForce"]["activeRules"], p["changesInPeriod"], p["versionInForce"]["createdAt"], p["policyId"])
         for p in policies if p["versionInForce"] is not None],
        note="The version of each policy in force at the end of the period (policies created later are left "
             "out); changes counts the versions saved during it.",
        empty_text="No policy was in force during this period."))
    if w.policy_id is None:
        doc.blocks.append(TableBlock(
            "organizationRules", "Organisation-wide rules",
            [Column("packId", "Pack", 2), Column("version", "Pack version", 1.2), Column("rules", "Rules", 1, "int"),
             Column("activeRules", "Active", 1, "int"), Column("installedAt", "Installed", 1.6, "time")],
            [(p["packId"] or "custom rules", p["version"], p["rules"], p["activeRules"], p["installedAt"]) for p in packs],
            note="Rules that apply to every event of the organisation and existed at the end of the period (packs "
                 "installed later are left out; the pack version is the one installed now).",
            empty_text="No organisation-wide rule was in force during this period."))
    doc.blocks.append(integrity_block(db, ctx, w))
    doc.blocks.append(TextBlock("method", "Method and definitions", [
        "Events audited: events stored in the period (by the time they were received). "
        "Flagged events: events that matched at least one active rule, whatever the outcome (the events "
        "GET /audit-logs?flagged=true lists). An event's outcome is the strongest action among its matched rules "
        "(block > flag > log): outcome block means it was stopped, outcome flag that it went through and was "
        "flagged for review, outcome log that it was only recorded.",
        "Violations: one per matched rule per event, so one event can count several times. "
        "Alerts: one per matched rule whose action is flag or block, triaged by people. Open means not yet "
        "triaged; not closed means open or acknowledged (the alerts GET /alerts/counts counts as open); closed "
        "means resolved or false positive. The triage status is as of the time this report was built.",
        "Counts are computed from the stored data when the report is built; numbers for a period still in "
        "progress may grow. Times are UTC.",
        *([POLICY_SCOPE_NOTE] if w.policy_id is not None else []),
    ]))
    doc.facts.update({"eventsAudited": events, "violations": v["total"]})
    ctx.progress(0.5)
    return doc


def _narrative(w: Window, totals: dict[str, int], v: dict[str, Any], triage: dict[str, Any],
               alerts: dict[str, int], top_source: str, policy_name: str | None = None) -> str:
    """The summary paragraph, as plain text (every format shows it; the PDF escapes it). Under a policy every
    figure is the policy's: its events, the events that violated its rules, and the outcome its rules gave."""
    events = totals["events"]
    agents = f"{totals['agents']:,} agent{'s' if totals['agents'] != 1 else ''}"
    period = f"Between {short_time(w.start_ms)} and {short_time(w.end_ms)} UTC"
    if policy_name is None:
        text = f"{period}, {events:,} events from {agents} were audited. "
        matched, outcome = "were flagged (matched at least one rule); by outcome", ""
    else:
        text = f"{period}, {events:,} events from {agents} came under policy {policy_name}. "
        matched, outcome = "were flagged (violated a rule of the policy); by the policy's outcome", " by its rules"
    if not totals["flagged"]:
        return text + ("No event matched a compliance rule." if policy_name is None
                       else "No event violated a rule of the policy.")
    text += (f"{totals['flagged']:,} ({percent(share(totals['flagged'], events))}) {matched}, {totals['block']:,} "
             f"were blocked{outcome}, {totals['flag']:,} flagged and let through and {totals['log']:,} logged only. ")
    if v["byRule"]:
        top = v["byRule"][0]
        text += (f"The most frequent rule was {top['ruleName']} ({top_source}; {top['violations']:,} violations, "
                 f"{top['severity']}). ")
    text += (f"{triage['total']:,} alerts were raised; {alerts['notClosed']:,} are not closed ({alerts['open']:,} open, "
             f"{alerts['acknowledged']:,} acknowledged)")
    text += f", {alerts['criticalNotClosed']:,} of them critical." if alerts["criticalNotClosed"] else "."
    return text
