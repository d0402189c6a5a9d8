"""The whole HTTP API in one table."""

from __future__ import annotations

from aiohttp import web

from sidecar.api import otlp
from sidecar.api.handlers import (
    agents, alerts, auth, billing, ledger, logs, notifications, policies, reports, rules, stream, system,
    traces,
)

API = "/api/v1"


def route_table() -> list[web.RouteDef]:
    return [
        web.get("/health", system.health),
        web.get(f"{API}/health", system.health),
        web.get(f"{API}/openapi.json", system.openapi),
        web.get(f"{API}/stream", stream.stream),
        web.post("/v1/traces", otlp.export_traces),
        # accounts
        web.post(f"{API}/auth/register", auth.register),
        web.post(f"{API}/auth/login", auth.login),
        web.post(f"{API}/auth/refresh", auth.refresh),
        web.post(f"{API}/auth/logout", auth.logout),
        web.get(f"{API}/auth/me", auth.me),
        web.patch(f"{API}/auth/me", auth.update_me),
        web.post(f"{API}/auth/api-keys", auth.create_api_key),
        web.get(f"{API}/auth/api-keys", auth.list_api_keys),
        web.delete(f"{API}/auth/api-keys/{{key_id}}", auth.revoke_api_key),
        web.get(f"{API}/users", auth.list_users),
        web.post(f"{API}/users", auth.create_user),
        web.patch(f"{API}/users/{{user_id}}", auth.update_user),
        web.delete(f"{API}/users/{{user_id}}", auth.delete_user),
        # audit logs
        web.post(f"{API}/audit-logs", logs.create_log),
        web.post(f"{API}/audit-logs/batch", logs.create_batch),
        web.get(f"{API}/audit-logs", logs.list_logs),
        web.get(f"{API}/audit-logs/export", logs.export_logs),
        web.get(f"{API}/audit-logs/trace/{{trace_id}}", traces.trace_spans),
        web.get(f"{API}/audit-logs/{{log_id}}", logs.get_log),
        web.get(f"{API}/audit-logs/{{log_id}}/chain", traces.chain),
        web.get(f"{API}/audit-logs/{{log_id}}/ancestors", traces.ancestors),
        # traces
        web.get(f"{API}/traces", traces.list_traces),
        web.get(f"{API}/traces/{{trace_id}}", traces.get_trace),
        # agents
        web.post(f"{API}/agents", agents.create_agent),
        web.get(f"{API}/agents", agents.list_agents),
        web.get(f"{API}/agents/{{agent_id}}", agents.get_agent),
        web.patch(f"{API}/agents/{{agent_id}}", agents.update_agent),
        web.delete(f"{API}/agents/{{agent_id}}", agents.delete_agent),
        # compliance rules and packs
        web.get(f"{API}/compliance-rules/packs", rules.list_packs),
        web.post(f"{API}/compliance-rules/packs", rules.install_pack),
        web.get(f"{API}/compliance-rules/packs/installed", rules.installed_packs),
        web.delete(f"{API}/compliance-rules/packs/{{pack_id}}", rules.uninstall_pack),
        web.post(f"{API}/compliance-rules/packs/{{pack_id}}/upgrade", rules.upgrade_pack),
        web.get(f"{API}/compliance-rules", rules.list_rules),
        web.post(f"{API}/compliance-rules", rules.create_rule),
        web.get(f"{API}/compliance-rules/{{rule_id}}", rules.get_rule),
        web.patch(f"{API}/compliance-rules/{{rule_id}}", rules.update_rule),
        web.delete(f"{API}/compliance-rules/{{rule_id}}", rules.delete_rule),
        web.post(f"{API}/compliance/evaluate", rules.evaluate),
        # policies
        web.get(f"{API}/policies/analytics", policies.all_analytics),
        web.post(f"{API}/policies/clone-pack", policies.clone_pack),
        web.get(f"{API}/policies", policies.list_policies),
        web.post(f"{API}/policies", policies.create_policy),
        web.get(f"{API}/policies/{{policy_id}}", policies.get_policy),
        web.patch(f"{API}/policies/{{policy_id}}", policies.update_policy),
        web.delete(f"{API}/policies/{{policy_id}}", policies.delete_policy),
        web.post(f"{API}/policies/{{policy_id}}/agents", policies.attach_agent),
        web.delete(f"{API}/policies/{{policy_id}}/agents", policies.detach_agent),
        web.post(f"{API}/policies/{{policy_id}}/rules", policies.add_rule),
        web.patch(f"{API}/policies/{{policy_id}}/rules/{{rule_id}}", policies.update_rule),
        web.delete(f"{API}/policies/{{policy_id}}/rules/{{rule_id}}", policies.delete_rule),
        web.get(f"{API}/policies/{{policy_id}}/versions", policies.list_versions),
        web.post(f"{API}/policies/{{policy_id}}/versions", policies.create_version),
        web.get(f"{API}/policies/{{policy_id}}/versions/{{version_id}}", policies.get_version),
        web.post(f"{API}/policies/{{policy_id}}/versions/{{version_id}}/restore", policies.restore_version),
        web.get(f"{API}/policies/{{policy_id}}/analytics", policies.policy_analytics),
        # alerts and activity
        web.get(f"{API}/alerts", alerts.list_alerts),
        web.get(f"{API}/alerts/counts", alerts.alert_counts),
        web.post(f"{API}/alerts/resolve", alerts.bulk_update),
        web.get(f"{API}/alerts/{{alert_id}}", alerts.get_alert),
        web.patch(f"{API}/alerts/{{alert_id}}", alerts.update_alert),
        web.patch(f"{API}/alerts/{{alert_id}}/resolve", alerts.resolve_alert),
        web.get(f"{API}/activity", alerts.list_activity),
        # notifications
        web.get(f"{API}/notifications/settings", notifications.get_settings),
        web.patch(f"{API}/notifications/settings", notifications.update_settings),
        web.get(f"{API}/notifications/deliveries", notifications.list_deliveries),
        web.post(f"{API}/notifications/test", notifications.send_test),
        # integrity
        web.get(f"{API}/ledger/head", ledger.head),
        web.get(f"{API}/ledger/checkpoints", ledger.list_checkpoints),
        web.get(f"{API}/ledger/export", ledger.export),
        web.get(f"{API}/audit-logs/{{log_id}}/proof", ledger.proof),
        web.get(f"{API}/settings/retention", ledger.get_retention),
        web.patch(f"{API}/settings/retention", ledger.set_retention),
        # billing
        web.get(f"{API}/billing/prices", billing.prices),
        web.post(f"{API}/billing/checkout", billing.checkout),
        web.post(f"{API}/billing/checkout-session", billing.checkout),
        web.get(f"{API}/billing/subscription", billing.subscription),
        web.post(f"{API}/billing/portal", billing.portal),
        web.post(f"{API}/billing/portal-session", billing.portal),
        web.post(f"{API}/billing/webhook", billing.webhook),
        # reports
        web.post(f"{API}/reports", reports.create_report),
        web.get(f"{API}/reports", reports.list_reports),
        web.get(f"{API}/reports/{{report_id}}", reports.get_report),
        web.get(f"{API}/reports/{{report_id}}/download", reports.download_report),
        web.delete(f"{API}/reports/{{report_id}}", reports.delete_report),
        web.get(f"{API}/report-schedules", reports.list_schedules),
        web.post(f"{API}/report-schedules", reports.create_schedule),
        web.get(f"{API}/report-schedules/{{schedule_id}}", reports.get_schedule),
        web.delete(f"{API}/report-schedules/{{schedule_id}}", reports.delete_schedule),
        # agent ids seen in events
        web.get(f"{API}/unregistered-agents", agents.unregistered_agents),
    ]


def add_routes(app: web.Application) -> None:
    """Register every route; refuse to start if a handler does not declare its permission."""
    table = route_table()
    for route in table:
        if not hasattr(route.handler, "permission"):
            raise RuntimeError(f"handler {route.handler.__qualname__} declares no permission")
    app.add_routes(table)
