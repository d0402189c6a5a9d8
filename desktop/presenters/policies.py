"""Policies and packs: installing packs, cloning one into a policy, editing a policy (settings, conditions,
rules), attaching agents, versions and analytics. Every change is sent to the sidecar, which saves a version;
the page then shows the policy as the sidecar returns it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop.api import schemas
from desktop.api.client import Call, SidecarClient
from desktop.api.errors import ApiError
from desktop.models.policies import AgentCountModel, PackModel, PolicyListModel, RuleCountModel, RuleModel
from desktop.presenters.policy_versions import VersionsPresenter
from desktop.presenters.rule_tester import RuleTester

EDITOR_ROLES = ("owner", "admin")


def can_edit(client: SidecarClient) -> bool:
    """Whether the logged-in user may change policies, packs and agents (owners and admins)."""
    return client.user is not None and client.user.role in EDITOR_ROLES


def say(error: ApiError) -> str:
    """An error as one sentence, naming each bad field when the sidecar listed them."""
    if error.details:
        return "; ".join(f"{d.field}: {d.message}" for d in error.details)
    return error.message


def _rules(count: int) -> str:
    return f"{count} rule" if count == 1 else f"{count} rules"


def upgrade_text(name: str, done: schemas.PackUpgrade) -> str:
    """The outcome of a pack update as one sentence."""
    if done.from_version == done.to_version:
        return f"{name} is already at {done.to_version}; nothing changed."
    return (f"{name} updated to {done.to_version}: {_rules(done.updated)} changed, {done.added} added, "
            f"{done.removed} removed.")


class PoliciesPresenter(QObject):
    """Signals:
        policy_changed(object): the selected :class:`schemas.PolicyDetail` as last loaded, or None.
        analytics_changed(object): :class:`schemas.PolicyAnalytics` of the selected policy.
        agents_changed(): the registered agents (for attaching) were loaded.
        editable_changed(bool): the user's role allows (or no longer allows) changes.
        message(str): something was done.
        failed(str): something was refused or could not be done.
    """

    policy_changed = Signal(object)
    analytics_changed = Signal(object)
    agents_changed = Signal()
    editable_changed = Signal(bool)
    message = Signal(str)
    failed = Signal(str)

    def __init__(self, client: SidecarClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self.packs = PackModel(self)
        self.policies = PolicyListModel(self)
        self.rules = RuleModel(self)
        self.rule_counts = RuleCountModel(self)
        self.agent_counts = AgentCountModel(self)
        self.versions = VersionsPresenter(client, self)
        self.tester = RuleTester(client, parent=self)
        self.current: schemas.PolicyDetail | None = None
        self.analytics: schemas.PolicyAnalytics | None = None
        self.agents: list[schemas.AgentDetail] = []
        self.selected_id: str | None = None
        self.last_saved_rule_id: str | None = None
        self._shipped: list[schemas.Pack] | None = None
        self._installed: list[schemas.InstalledPack] | None = None
        self._policy_call: Call | None = None
        self._analytics_call: Call | None = None
        self.versions.saved.connect(self._version_saved)
        self.versions.failed.connect(self.failed)
        client.session_changed.connect(lambda: self.editable_changed.emit(self.can_edit))

    @property
    def can_edit(self) -> bool:
        return can_edit(self._client)

    # -- loading -------------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.reload_packs()
        self.reload_policies()
        call = self._client.list_agent_details()
        call.done.connect(self._agents_loaded)
        call.failed.connect(lambda error: self.failed.emit(f"Could not list the agents: {say(error)}"))

    def reload_packs(self) -> None:
        self._shipped = self._installed = None
        shipped = self._client.list_packs()
        shipped.done.connect(self._shipped_loaded)
        shipped.failed.connect(lambda error: self.failed.emit(f"Could not list the packs: {say(error)}"))
        installed = self._client.installed_packs()
        installed.done.connect(self._installed_loaded)
        installed.failed.connect(lambda error: self.failed.emit(f"Could not list installed packs: {say(error)}"))

    def _shipped_loaded(self, listing: schemas.Listing) -> None:
        self._shipped = list(listing.items)
        self._show_packs()

    def _installed_loaded(self, listing: schemas.Listing) -> None:
        self._installed = list(listing.items)
        self._show_packs()

    def _show_packs(self) -> None:
        if self._shipped is None or self._installed is None:
            return
        installed = {p.pack_id: p for p in self._installed}
        self.packs.set_rows([(pack, installed.get(pack.id)) for pack in self._shipped])

    def reload_policies(self) -> None:
        call = self._client.list_policy_details()
        call.done.connect(self._policies_loaded)
        call.failed.connect(lambda error: self.failed.emit(f"Could not list the policies: {say(error)}"))

    def _policies_loaded(self, listing: schemas.Listing) -> None:
        policies = sorted(listing.items, key=lambda p: (-p.priority, p.name.lower()))
        self.policies.set_rows(policies)
        if self.selected_id is not None and not any(p.id == self.selected_id for p in policies):
            self.select(None)

    def _agents_loaded(self, listing: schemas.Listing) -> None:
        self.agents = sorted(listing.items, key=lambda a: a.name.lower())
        self.agents_changed.emit()

    def select(self, policy_id: str | None) -> None:
        """Show one policy: its settings and rules, versions and analytics."""
        self.selected_id = policy_id
        self.versions.load(policy_id)
        if policy_id is None:
            self._show(None)
            return
        self._load_policy()
        call = self._client.policy_analytics(policy_id)
        self._analytics_call = call
        call.done.connect(self._analytics_loaded)
        call.failed.connect(lambda error: self.failed.emit(f"Could not load the analytics: {say(error)}"))

    def _load_policy(self) -> None:
        if self.selected_id is None:
            return
        call = self._client.get_policy(self.selected_id)
        self._policy_call = call
        call.done.connect(self._policy_loaded)
        call.failed.connect(lambda error: self.failed.emit(f"Could not load the policy: {say(error)}"))

    def _policy_loaded(self, policy: schemas.PolicyDetail) -> None:
        if self.sender() is not self._policy_call or policy.id != self.selected_id:
            return
        self._show(policy)
        row = self.policies.find(lambda p: p.id == policy.id)
        if row >= 0:
            rows = self.policies.rows()
            rows[row] = policy
            self.policies.set_rows(rows)

    def _show(self, policy: schemas.PolicyDetail | None) -> None:
        self.current = policy
        self.rules.set_rows(policy.rules if policy else [])
        self.policy_changed.emit(policy)

    def _analytics_loaded(self, analytics: schemas.PolicyAnalytics) -> None:
        if self.sender() is not self._analytics_call:
            return
        self.analytics = analytics
        self.rule_counts.set_rows(analytics.rules)
        self.agent_counts.set_rows(analytics.agents)
        self.analytics_changed.emit(analytics)

    # -- packs ---------------------------------------------------------------------------------------

    def install_pack(self, pack_id: str) -> None:
        call = self._client.install_pack(pack_id)
        call.done.connect(lambda rules: self._pack_done(f"Installed the {pack_id} pack ({len(rules)} rules) for "
                                                        "the whole organisation."))
        call.failed.connect(lambda error: self.failed.emit(f"Could not install the pack: {say(error)}"))

    def uninstall_pack(self, pack_id: str) -> None:
        call = self._client.uninstall_pack(pack_id)
        call.done.connect(lambda _none: self._pack_done(f"Uninstalled the {pack_id} pack; its rules are gone."))
        call.failed.connect(lambda error: self.failed.emit(f"Could not uninstall the pack: {say(error)}"))

    def upgrade_pack(self, pack_id: str) -> None:
        """Bring the installed pack to the shipped version (rule ids and on/off kept; cloned policies unchanged)."""
        call = self._client.upgrade_pack(pack_id)
        call.done.connect(lambda done: self._pack_done(upgrade_text(self._pack_name(done.pack_id), done)))
        call.failed.connect(lambda error: self.failed.emit(f"Could not update the pack: {say(error)}"))

    def _pack_name(self, pack_id: str) -> str:
        return next((p.name for p in self._shipped or () if p.id == pack_id), pack_id)

    def _pack_done(self, text: str) -> None:
        self.message.emit(text)
        self.reload_packs()

    def clone_pack(self, pack_id: str, name: str, mode: str = "flag") -> None:
        """Create a policy holding a copy of the pack's rules, and select it."""
        if not name.strip():
            self.failed.emit("Give the new policy a name.")
            return
        call = self._client.clone_pack(pack_id, name.strip(), mode)
        call.done.connect(self._created)
        call.failed.connect(lambda error: self.failed.emit(f"Could not clone the pack: {say(error)}"))

    def create_policy(self, name: str, mode: str = "flag") -> None:
        if not name.strip():
            self.failed.emit("Give the new policy a name.")
            return
        call = self._client.create_policy({"name": name.strip(), "mode": mode})
        call.done.connect(self._created)
        call.failed.connect(lambda error: self.failed.emit(f"Could not create the policy: {say(error)}"))

    def _created(self, policy: schemas.PolicyDetail) -> None:
        self.message.emit(f"Created the policy “{policy.name}” with {len(policy.rules)} rules.")
        self.reload_policies()
        self.select(policy.id)

    def delete_policy(self, policy_id: str) -> None:
        call = self._client.delete_policy(policy_id)
        call.done.connect(lambda _none: self._deleted(policy_id))
        call.failed.connect(lambda error: self.failed.emit(f"Could not delete the policy: {say(error)}"))

    def _deleted(self, policy_id: str) -> None:
        self.message.emit("Policy deleted.")
        if self.selected_id == policy_id:
            self.select(None)
        self.reload_policies()

    # -- editing the selected policy -----------------------------------------------------------------

    def save_settings(self, changes: Mapping[str, Any]) -> None:
        """PATCH the policy (name, description, mode, priority, isActive, redaction, conditions)."""
        if self.current is None or not changes:
            return
        call = self._client.update_policy(self.current.id, changes)
        call.done.connect(lambda policy: self._changed(f"Saved “{policy.name}” (version {policy.version})."))
        call.failed.connect(lambda error: self.failed.emit(f"Could not save the policy: {say(error)}"))

    def save_rule(self, rule_id: str | None, body: Mapping[str, Any]) -> None:
        """Change rule ``rule_id`` of the selected policy, or add ``body`` as a new rule when it is None."""
        if self.current is None:
            return
        if rule_id is None:
            call = self._client.add_policy_rule(self.current.id, body)
        else:
            call = self._client.update_policy_rule(self.current.id, rule_id, body)
        call.done.connect(lambda rule: self._changed(f"Saved the rule “{rule.name}”.", rule_id=rule.id))
        call.failed.connect(lambda error: self.failed.emit(f"Could not save the rule: {say(error)}"))

    def delete_rule(self, rule_id: str) -> None:
        if self.current is None:
            return
        call = self._client.delete_policy_rule(self.current.id, rule_id)
        call.done.connect(lambda _none: self._changed("Rule removed from the policy."))
        call.failed.connect(lambda error: self.failed.emit(f"Could not remove the rule: {say(error)}"))

    def attach(self, agent_id: str) -> None:
        if self.current is None or not agent_id:
            return
        call = self._client.attach_agent(self.current.id, agent_id)
        call.done.connect(lambda _body: self._changed("Agent attached: its events are now checked by this policy."))
        call.failed.connect(lambda error: self.failed.emit(f"Could not attach the agent: {say(error)}"))

    def detach(self, agent_id: str) -> None:
        if self.current is None:
            return
        call = self._client.detach_agent(self.current.id, agent_id)
        call.done.connect(lambda _body: self._changed("Agent detached."))
        call.failed.connect(lambda error: self.failed.emit(f"Could not detach the agent: {say(error)}"))

    def _changed(self, text: str, *, rule_id: str | None = None) -> None:
        self.last_saved_rule_id = rule_id
        self.message.emit(text)
        self._load_policy()
        self.versions.load(self.selected_id)
        self.reload_policies()

    def _version_saved(self, version: schemas.PolicyVersion) -> None:
        if version.restored_from_id:
            self.message.emit(f"Restored: the policy is now {version.name} (version {version.number}).")
            self._load_policy()
            self.reload_policies()
        else:
            self.message.emit(f"Saved version {version.number} “{version.name}”.")
