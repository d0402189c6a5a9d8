"""The activity log: who did what, when, to which object. Written in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from sidecar.ids import new_id
from sidecar.store.models import (Activity, Agent, Alert, ApiKey, Organization, Policy, Report, ReportSchedule,
                                  Rule, User)
from sidecar.store.records import ActivityRecord


def record(org_id: str, *, actor: str, action: str, target_type: str, target_id: str | None,
           details: dict[str, Any] | None, now: int) -> None:
    Activity.insert(id=new_id("act"), org_id=org_id, actor=actor, action=action, target_type=target_type,
                    target_id=target_id, details=orjson.dumps(details).decode() if details else None,
                    created_at=now).execute()


@dataclass(frozen=True, slots=True)
class ActivityFilter:
    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None


def list_activity(org_id: str, flt: ActivityFilter, *, limit: int, offset: int) -> tuple[list[ActivityRecord], int]:
    """Newest first, with each actor's display name (user email or key name) filled in."""
    query = Activity.select().where(Activity.org_id == org_id)
    if flt.actor:  # an actor id, or the email of one of the organisation's users
        actors = [flt.actor]
        if "@" in flt.actor:
            actors += [u.id for u in User.select(User.id).where((User.org_id == org_id)
                                                                & (User.email == flt.actor.strip().lower()))]
        query = query.where(Activity.actor.in_(actors))
    if flt.action:
        query = query.where((Activity.action == flt.action) | Activity.action.startswith(flt.action + "."))
    if flt.target_type:
        query = query.where(Activity.target_type == flt.target_type)
    if flt.target_id:
        query = query.where(Activity.target_id == flt.target_id)
    if flt.start_ms is not None:
        query = query.where(Activity.created_at >= flt.start_ms)
    if flt.end_ms is not None:
        query = query.where(Activity.created_at <= flt.end_ms)
    total = query.count()
    rows = list(query.order_by(Activity.id.desc()).limit(limit).offset(offset))
    actors = {row.actor for row in rows}
    names = {u.id: u.email for u in User.select(User.id, User.email).where(User.id.in_(list(actors)))}
    names.update({k.id: f"API key {k.name}" for k in ApiKey.select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(list(actors)))})
    targets = _target_names(org_id, rows)
    for row in rows:  # targets since deleted: the name a change to them recorded
        recorded = _recorded_name(row.details)
        if recorded and row.target_id:
            targets.setdefault((row.target_type, row.target_id), recorded)
    records = []
    for row in rows:
        row.actor_name = names.get(row.actor, row.actor)
        row.target_name = targets.get((row.target_type, row.target_id))
        records.append(ActivityRecord.of(row))
    return records, int(total)


#: What a person calls each kind of target: (model, the column that names it). One query per kind on a page.
_NAMED: dict[str, tuple[Any, Any]] = {
    "user": (User, User.email), "api_key": (ApiKey, ApiKey.name), "agent": (Agent, Agent.name),
    "policy": (Policy, Policy.name), "rule": (Rule, Rule.name), "report": (Report, Report.name),
    "report_schedule": (ReportSchedule, ReportSchedule.name), "alert": (Alert, Alert.message),
    "organization": (Organization, Organization.name),
}


def _target_names(org_id: str, rows: list[Activity]) -> dict[tuple[str, str], str]:
    """The current name of each target on the page that still exists (deleted ones keep their recorded name)."""
    wanted: dict[str, set[str]] = {}
    for row in rows:
        if row.target_id and row.target_type in _NAMED:
            wanted.setdefault(row.target_type, set()).add(row.target_id)
    found: dict[tuple[str, str], str] = {}
    for kind, ids in wanted.items():
        model, column = _NAMED[kind]
        scope = model.id == org_id if model is Organization else model.org_id == org_id
        for target_id, name in model.select(model.id, column).where(scope & model.id.in_(sorted(ids))).tuples():
            if name:
                found[(kind, target_id)] = name if len(name) <= 120 else name[:119] + "…"
    return found


def _recorded_name(details: str | None) -> str | None:
    """The name the change itself recorded (``details.name`` or ``details.email``), for targets since deleted."""
    if not details:
        return None
    try:
        recorded = orjson.loads(details)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(recorded, dict):
        return None
    name = recorded.get("name") or recorded.get("email")
    return name if isinstance(name, str) and name else None
