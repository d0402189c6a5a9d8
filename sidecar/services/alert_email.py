"""The alert email: counts, then one line per alert (rule, severity, agent, what happened to the event, ids),
never event text."""

from __future__ import annotations

import html
from typing import Any

from sidecar.compliance.types import outcome_text
from sidecar.notify import email as mail


def render_alert_email(sender: str, recipients: list[str], alerts: list[dict[str, Any]], *, base_url: str,
                       digest: bool, window_minutes: int) -> Any:
    """The alert email: counts, then one line per alert (rule, severity, agent, what happened to the event, ids).
    No event text."""
    count = len(alerts)
    critical = sum(1 for a in alerts if a.get("severity") == "critical")
    if digest:
        subject = f"[AgentAudit] {count} alert{'s' if count != 1 else ''} in the last {window_minutes} min"
    else:
        subject = f"[AgentAudit] CRITICAL: {count} new alert{'s' if count != 1 else ''}"
    lines = [f"{count} new alert{'s' if count != 1 else ''} ({critical} critical).", ""]
    rows = []
    for alert in alerts:
        details = alert.get("details") or {}
        rule = details.get("ruleName") or alert.get("ruleId") or "rule"
        agent = alert.get("agentId") or "-"
        action = (outcome_text(details["enforcementAction"], details.get("action") or details["enforcementAction"])
                  if details.get("enforcementAction") else "-")
        lines.append(f"- [{str(alert.get('severity', '')).upper()}] {rule} | agent {agent} | {action} | "
                     f"alert {alert.get('id')} | event {alert.get('auditLogId')} | {alert.get('createdAt')}")
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in (
            str(alert.get("severity", "")).upper(), rule, agent, action, alert.get("id"), alert.get("auditLogId"),
            alert.get("createdAt"))) + "</tr>")
    lines += ["", f"Open the AgentAudit desktop app or {base_url}/api/v1/alerts to triage them."]
    body_html = (
        f"<p>{count} new alert{'s' if count != 1 else ''} ({critical} critical).</p>"
        "<table border='1' cellpadding='4' cellspacing='0'><tr><th>Severity</th><th>Rule</th><th>Agent</th>"
        "<th>Outcome</th><th>Alert</th><th>Event</th><th>Time</th></tr>" + "".join(rows) + "</table>"
        f"<p>Open the AgentAudit desktop app to triage them.</p>"
    )
    return mail.build(sender=sender, recipients=recipients, subject=subject, text="\n".join(lines) + "\n",
                      html=body_html)
