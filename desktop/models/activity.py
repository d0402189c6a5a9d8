"""The activity log as a table: who did what to which target, newest first, one page at a time."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QObject

from desktop.api import schemas
from desktop.models import timefmt
from desktop.models.listing import Column, ListTableModel


def details_text(details: Any) -> str:
    """A one-line summary of an action's details (``key: value, …``)."""
    if details is None or details == {} or details == []:
        return ""
    if isinstance(details, dict):
        parts = []
        for key, value in details.items():
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            parts.append(f"{key}: {shown}")
        return ", ".join(parts)
    return json.dumps(details, ensure_ascii=False)


def actor_text(entry: schemas.Activity) -> str:
    """The person's email or the key's name (the sidecar fills them in), else the raw actor id."""
    return entry.actor_name or entry.actor or "—"


#: How each kind of target reads in a sentence.
TARGET_KINDS = {"api_key": "API key", "report_schedule": "schedule", "audit_log": "events"}


def target_text(entry: schemas.Activity) -> str:
    """The kind and the name of the target ("policy Patient privacy"); its id when it has no name."""
    if not entry.target_type:
        return "—"
    kind = TARGET_KINDS.get(entry.target_type, entry.target_type)
    return f"{kind} {entry.target_name or entry.target_id}".strip()


class ActivityTableModel(ListTableModel[schemas.Activity]):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__([
            Column("When", lambda a: timefmt.local(a.created_at), tooltip=lambda a: a.id),
            Column("Who", actor_text, tooltip=lambda a: a.actor),
            Column("Action", lambda a: a.action),
            Column("Target", target_text, tooltip=lambda a: a.target_id),
            Column("Details", lambda a: details_text(a.details),
                   tooltip=lambda a: json.dumps(a.details, indent=2, ensure_ascii=False) if a.details else ""),
        ], parent=parent)
