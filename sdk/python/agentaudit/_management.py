"""Policies and reports, the management resources with the most calls (see ``_resources.py`` for the pattern)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO, Any

from agentaudit._http import Call, path_id
from agentaudit._models import Download, Listing, Policy, PolicyAnalytics, PolicyVersion, Report, ReportSchedule, Rule
from agentaudit._resources import Resource, body, download, many, nothing, one, raw_json, rule_body


def _analytics_query(start_date: str | None, end_date: str | None, agent_id: str | None, rule_type: str | None,
                     severity: str | None) -> dict[str, Any]:
    return {"startDate": start_date, "endDate": end_date, "agentId": agent_id, "ruleType": rule_type,
            "severity": severity}


class Policies(Resource):
    """Policies: CRUD, cloning a pack, attaching agents, their rules, versions and analytics."""

    def list(self, *, limit: int | None = None, offset: int | None = None) -> Listing[Policy]:
        return self._send(Call("GET", "/policies", many(Policy), query={"limit": limit, "offset": offset}))  # type: ignore[no-any-return]

    def create(self, name: str, *, description: str | None = None, mode: str | None = None,
               priority: int | None = None, conditions: Mapping[str, Any] | None = None,
               is_active: bool | None = None, redaction: str | None = None) -> Policy:
        return self._send(Call("POST", "/policies", one(Policy), body=body(  # type: ignore[no-any-return]
            name=name, description=description, mode=mode, priority=priority, conditions=conditions,
            isActive=is_active, redaction=redaction)))

    def get(self, policy_id: str) -> Policy:
        return self._send(Call("GET", f"/policies/{path_id(policy_id)}", one(Policy)))  # type: ignore[no-any-return]

    def update(self, policy_id: str, *, name: str | None = None, description: str | None = None,
               mode: str | None = None, priority: int | None = None, conditions: Mapping[str, Any] | None = None,
               is_active: bool | None = None, redaction: str | None = None) -> Policy:
        return self._send(Call("PATCH", f"/policies/{path_id(policy_id)}", one(Policy), body=body(  # type: ignore[no-any-return]
            name=name, description=description, mode=mode, priority=priority, conditions=conditions,
            isActive=is_active, redaction=redaction)))

    def delete(self, policy_id: str) -> None:
        return self._send(Call("DELETE", f"/policies/{path_id(policy_id)}", nothing))  # type: ignore[no-any-return]

    def clone_pack(self, pack_id: str, name: str, *, description: str | None = None, mode: str | None = None,
                   priority: int | None = None, conditions: Mapping[str, Any] | None = None) -> Policy:
        return self._send(Call("POST", "/policies/clone-pack", one(Policy), body=body(  # type: ignore[no-any-return]
            packId=pack_id, name=name, description=description, mode=mode, priority=priority, conditions=conditions)))

    def attach_agent(self, policy_id: str, agent_id: str) -> dict[str, Any]:
        return self._send(Call("POST", f"/policies/{path_id(policy_id)}/agents", raw_json,  # type: ignore[no-any-return]
                               body={"agentId": agent_id}, idempotent=True))  # attaching twice is attaching once

    def detach_agent(self, policy_id: str, agent_id: str) -> dict[str, Any]:
        return self._send(Call("DELETE", f"/policies/{path_id(policy_id)}/agents", raw_json,  # type: ignore[no-any-return]
                               body={"agentId": agent_id}))

    def add_rule(self, policy_id: str, name: str, rule_type: str, condition: Mapping[str, Any], *,
                 severity: str = "warning", action_override: str | None = None, is_active: bool | None = None,
                 redaction: str | None = None) -> Rule:
        return self._send(Call("POST", f"/policies/{path_id(policy_id)}/rules", one(Rule),  # type: ignore[no-any-return]
                               body=rule_body(name, rule_type, condition, severity, action_override, is_active,
                                              redaction)))

    def update_rule(self, policy_id: str, rule_id: str, *, name: str | None = None,
                    condition: Mapping[str, Any] | None = None, severity: str | None = None,
                    action_override: str | None = None, is_active: bool | None = None,
                    redaction: str | None = None) -> Rule:
        return self._send(Call("PATCH", f"/policies/{path_id(policy_id)}/rules/{path_id(rule_id)}", one(Rule),  # type: ignore[no-any-return]
                               body=rule_body(name, None, condition, severity, action_override, is_active, redaction)))

    def delete_rule(self, policy_id: str, rule_id: str) -> None:
        return self._send(Call("DELETE", f"/policies/{path_id(policy_id)}/rules/{path_id(rule_id)}", nothing))  # type: ignore[no-any-return]

    def versions(self, policy_id: str, *, limit: int | None = None,
                 offset: int | None = None) -> Listing[PolicyVersion]:
        """Newest first, a page at a time (the sidecar's default page is 20)."""
        return self._send(Call("GET", f"/policies/{path_id(policy_id)}/versions", many(PolicyVersion),  # type: ignore[no-any-return]
                               query={"limit": limit, "offset": offset}))

    def create_version(self, policy_id: str, *, name: str | None = None) -> PolicyVersion:
        return self._send(Call("POST", f"/policies/{path_id(policy_id)}/versions", one(PolicyVersion),  # type: ignore[no-any-return]
                               body=body(name=name)))

    def get_version(self, policy_id: str, version_id: str) -> PolicyVersion:
        return self._send(Call("GET", f"/policies/{path_id(policy_id)}/versions/{path_id(version_id)}",  # type: ignore[no-any-return]
                               one(PolicyVersion)))

    def restore_version(self, policy_id: str, version_id: str) -> PolicyVersion:
        return self._send(Call("POST", f"/policies/{path_id(policy_id)}/versions/{path_id(version_id)}/restore",  # type: ignore[no-any-return]
                               one(PolicyVersion), body={}))

    def analytics(self, policy_id: str, *, start_date: str | None = None, end_date: str | None = None,
                  agent_id: str | None = None, rule_type: str | None = None,
                  severity: str | None = None) -> PolicyAnalytics:
        return self._send(Call("GET", f"/policies/{path_id(policy_id)}/analytics", one(PolicyAnalytics),  # type: ignore[no-any-return]
                               query=_analytics_query(start_date, end_date, agent_id, rule_type, severity)))

    def all_analytics(self, *, start_date: str | None = None, end_date: str | None = None,
                      agent_id: str | None = None, rule_type: str | None = None,
                      severity: str | None = None) -> dict[str, Any]:
        return self._send(Call("GET", "/policies/analytics", raw_json,  # type: ignore[no-any-return]
                               query=_analytics_query(start_date, end_date, agent_id, rule_type, severity)))


class Reports(Resource):
    """Reports (``POST /reports`` builds one in the background; poll with ``client.wait_for_report``)."""

    def create(self, type: str, *, format: str = "pdf", from_: str | None = None, to: str | None = None,
               name: str | None = None, agent_id: str | None = None, policy_id: str | None = None,
               trace_id: str | None = None, show_sensitive: bool | None = None) -> Report:
        """Request a report (built in the background).

        Args:
            type: ``compliance_summary``, ``audit_log_export``, ``alert_summary``, ``agent_activity`` or ``trace``.
            format: ``pdf``, ``csv`` or ``json``.
            trace_id: the trace of a ``trace`` report (required for that type).
            show_sensitive: True leaves matched personal, financial and secret values unmasked (the file says so).
        """
        return self._send(Call("POST", "/reports", one(Report), body=body(  # type: ignore[no-any-return]
            type=type, format=format, **{"from": from_}, to=to, name=name, agentId=agent_id, policyId=policy_id,
            traceId=trace_id, showSensitive=show_sensitive)))

    def get(self, report_id: str) -> Report:
        return self._send(Call("GET", f"/reports/{path_id(report_id)}", one(Report)))  # type: ignore[no-any-return]

    def list(self, *, limit: int | None = None, offset: int | None = None) -> Listing[Report]:
        return self._send(Call("GET", "/reports", many(Report), query={"limit": limit, "offset": offset}))  # type: ignore[no-any-return]

    def delete(self, report_id: str) -> None:
        return self._send(Call("DELETE", f"/reports/{path_id(report_id)}", nothing))  # type: ignore[no-any-return]

    def download(self, report_id: str, *, file: IO[bytes] | None = None) -> Download:
        """The built file (ConflictError while it is not ready); with ``file`` it streams there."""
        return self._send(Call("GET", f"/reports/{path_id(report_id)}/download", download, sink=file))  # type: ignore[no-any-return]

    def create_schedule(self, type: str, *, format: str, cron: str, timezone: str | None = None,
                        email_recipients: Sequence[str] | None = None) -> ReportSchedule:
        return self._send(Call("POST", "/report-schedules", one(ReportSchedule), body=body(  # type: ignore[no-any-return]
            type=type, format=format, cron=cron, timezone=timezone,
            emailRecipients=list(email_recipients) if email_recipients is not None else None)))

    def schedules(self) -> Listing[ReportSchedule]:
        return self._send(Call("GET", "/report-schedules", many(ReportSchedule)))  # type: ignore[no-any-return]

    def delete_schedule(self, schedule_id: str) -> None:
        return self._send(Call("DELETE", f"/report-schedules/{path_id(schedule_id)}", nothing))  # type: ignore[no-any-return]
