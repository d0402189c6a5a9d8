"""Method names of the older ``agentaudit-client`` package, so code written against it runs on this client.

Each one delegates to the resource API (``client.alerts.list`` ...), so on ``AsyncAgentAuditClient`` they
return awaitables like everything else, and typed results. ``AgentAudit`` and ``AgentAuditAsync`` (``_legacy.py``)
also take the older constructor and give these methods the older results (plain dicts where it returned them)
and error tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentaudit._management import Policies
from agentaudit._resources import Agents, Alerts, Logs


class LegacyMethods:
    """``health_check``, ``query_logs``, ``get_alerts``, ``resolve_alert``, ``register_agent`` and policy calls."""

    logs: Logs
    alerts: Alerts
    agents: Agents
    policies: Policies

    def health(self) -> Any:
        raise NotImplementedError

    def health_check(self) -> Any:
        return self.health()

    def query_logs(self, action: str | None = None, agent_id: str | None = None, start_date: str | None = None,
                   end_date: str | None = None, page: int = 1, limit: int = 20) -> Any:
        return self.logs.list(action=action, agent_id=agent_id, from_=start_date, to=end_date, page=page, limit=limit)

    def get_alerts(self, is_resolved: bool | None = None, severity: str | None = None) -> Any:
        return self.alerts.list(is_resolved=is_resolved, severity=severity)

    def resolve_alert(self, alert_id: str) -> Any:
        return self.alerts.resolve(alert_id)

    def register_agent(self, name: str, agent_type: str = "custom", description: str | None = None,
                       config: Mapping[str, Any] | None = None) -> Any:
        return self.agents.create(name, type=agent_type, description=description, config=config)

    def list_policies(self) -> Any:
        return self.policies.list()

    def create_policy(self, name: str, description: str | None = None, mode: str | None = None,
                      priority: int | None = None, conditions: Mapping[str, Any] | None = None) -> Any:
        return self.policies.create(name, description=description, mode=mode, priority=priority,
                                    conditions=conditions)

    def get_policy(self, policy_id: str) -> Any:
        return self.policies.get(policy_id)

    def clone_pack(self, name: str, pack_id: str, description: str | None = None, mode: str | None = None,
                   priority: int | None = None, conditions: Mapping[str, Any] | None = None) -> Any:
        return self.policies.clone_pack(pack_id, name, description=description, mode=mode, priority=priority,
                                        conditions=conditions)

    def assign_policy(self, policy_id: str, agent_id: str) -> Any:
        return self.policies.attach_agent(policy_id, agent_id)

    def remove_policy(self, policy_id: str, agent_id: str) -> Any:
        return self.policies.detach_agent(policy_id, agent_id)

    def get_policy_analytics(self, policy_id: str, start_date: str | None = None, end_date: str | None = None,
                             agent_id: str | None = None, rule_type: str | None = None,
                             severity: str | None = None) -> Any:
        return self.policies.analytics(policy_id, start_date=start_date, end_date=end_date, agent_id=agent_id,
                                       rule_type=rule_type, severity=severity)

    def get_all_policy_analytics(self, start_date: str | None = None, end_date: str | None = None,
                                 agent_id: str | None = None, rule_type: str | None = None,
                                 severity: str | None = None) -> Any:
        return self.policies.all_analytics(start_date=start_date, end_date=end_date, agent_id=agent_id,
                                           rule_type=rule_type, severity=severity)

    def create_policy_version(self, policy_id: str, name: str | None = None) -> Any:
        return self.policies.create_version(policy_id, name=name)

    def list_policy_versions(self, policy_id: str) -> Any:
        return self.policies.versions(policy_id)

    def get_policy_version(self, policy_id: str, version_id: str) -> Any:
        return self.policies.get_version(policy_id, version_id)

    def restore_policy_version(self, policy_id: str, version_id: str) -> Any:
        return self.policies.restore_version(policy_id, version_id)
