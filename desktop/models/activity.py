"""The activity log as a table: who did what to which target, newest first, one page at a time."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QObject

from desktop.api import schemas
from desktop.models import timefmt
from desktop.models.listing import Column, ListTableModel


def key_words(key: str) -> str:
    """A detail's key in words: ``retentionDays`` -> "retention days", ``agentId`` -> "agent"."""
    key = key[:-2] if key.endswith("Id") and len(key) > 2 else key
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r" \1", key).replace("_", " ").lower()


def details_text(details: Any, names: Mapping[str, str] | None = None) -> str:
    """A one-line summary of an action's details (``retention days: 90, agent: billing-bot``).

    Args:
        details: the action's details as the sidecar recorded them.
        names: what an id is called (``agent_01…`` -> ``billing-bot``); ids not in it are shown as they are.
    """
    if details is None or details == {} or details == []:
        return ""
    names = names or {}
    if isinstance(details, dict):
        parts = []
        for key, value in details.items():
            if isinstance(value, str):
                shown = names.get(value, value)
            elif isinstance(value, list) and all(isinstance(item, str) for item in value):
                shown = ", ".join(names.get(item, item) for item in value)
            else:
                shown = json.dumps(value, ensure_ascii=False)
            parts.append(f"{key_words(key)}: {shown}")
        return ", ".join(parts)
    return json.dumps(details, ensure_ascii=False)


def detail_ids(details: Any) -> set[str]:
    """The ids an action's details refer to (the values of ``…Id`` keys), to be named."""
    if not isinstance(details, dict):
        return set()
    return {value for key, value in details.items() if key.endswith("Id") and isinstance(value, str) and value}


#: What each action reads as after the person's name ("demo@acme.test marked an alert a false positive").
ACTION_PHRASES = {
    "alert.acknowledged": "acknowledged an alert", "alert.resolved": "resolved an alert",
    "alert.false_positive": "marked an alert a false positive", "alert.open": "reopened an alert",
    "alert.bulk_acknowledged": "acknowledged alerts", "alert.bulk_resolved": "resolved alerts",
    "alert.bulk_false_positive": "marked alerts false positives", "alert.bulk_open": "reopened alerts",
    "policy.create": "created a policy", "policy.update": "changed a policy", "policy.delete": "deleted a policy",
    "policy.version": "saved a policy version", "policy.restore": "restored a policy version",
    "policy.attach": "attached an agent to a policy", "policy.detach": "detached an agent from a policy",
    "policy.clone_pack": "made a policy from a pack", "rule.create": "added a rule", "rule.update": "changed a rule",
    "rule.delete": "deleted a rule", "pack.install": "installed a pack", "pack.uninstall": "uninstalled a pack",
    "agent.create": "registered an agent", "agent.update": "changed an agent", "agent.delete": "deleted an agent",
    "report.create": "requested a report", "report.delete": "deleted a report",
    "report_schedule.create": "scheduled a report", "report_schedule.delete": "deleted a report schedule",
    "settings.notifications": "changed the notification settings",
    "settings.retention": "changed how long events are kept", "ledger.purge": "purged old events",
    "user.create": "added a person", "user.update": "changed a person", "user.delete": "removed a person",
    "key.create": "created an API key", "key.revoke": "revoked an API key",
}


def action_text(action: str) -> str:
    """The action in words ("marked an alert a false positive"); an unknown code reads as its words."""
    if action in ACTION_PHRASES:
        return ACTION_PHRASES[action]
    target, _, verb = action.partition(".")
    return f"{verb.replace('_', ' ')} {target.replace('_', ' ')}".strip() if verb else action.replace("_", " ")


def actor_text(entry: schemas.Activity) -> str:
    """The person's email or the key's name (the sidecar fills them in), else the raw actor id."""
    return entry.actor_name or entry.actor or "—"


#: How each kind of target reads in a sentence.
TARGET_KINDS = {"api_key": "API key", "report_schedule": "schedule", "audit_log": "events"}


def target_text(entry: schemas.Activity, names: Mapping[str, str] | None = None) -> str:
    """The kind and the name of the target ("policy Patient privacy"). A target with no name of its own (a
    report requested without one) reads by its details' type ("report: compliance summary"); its id is the
    tooltip."""
    if not entry.target_type:
        return "—"
    kind = TARGET_KINDS.get(entry.target_type, entry.target_type.replace("_", " "))
    name = entry.target_name or (names or {}).get(entry.target_id, "")
    if not name and isinstance(entry.details, dict) and isinstance(entry.details.get("type"), str):
        return f"{kind}: {entry.details['type'].replace('_', ' ')}"
    return f"{kind} {name or entry.target_id}".strip()


class ActivityTableModel(ListTableModel[schemas.Activity]):
    """The activity page; ``set_names`` fills in the names of ids its details refer to."""

    def __init__(self, parent: QObject | None = None) -> None:
        self._names: dict[str, str] = {}
        super().__init__([
            Column("When", lambda a: timefmt.local(a.created_at), tooltip=lambda a: a.id),
            Column("Who", actor_text, tooltip=lambda a: a.actor),
            Column("Action", lambda a: action_text(a.action), tooltip=lambda a: a.action),
            Column("Target", lambda a: target_text(a, self._names), tooltip=lambda a: a.target_id),
            Column("Details", lambda a: details_text(a.details, self._names),
                   tooltip=lambda a: json.dumps(a.details, indent=2, ensure_ascii=False) if a.details else ""),
        ], parent=parent)

    def set_names(self, names: Mapping[str, str]) -> None:
        """What ids are called (agents, and the page's own targets); shown in place of the ids."""
        self._names = dict(names)
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))
