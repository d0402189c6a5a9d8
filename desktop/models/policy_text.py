"""Policies as text, for versions compared side by side: a stable rendering of a snapshot and a difflib diff
laid out in two panes. Pure Python (no Qt)."""

from __future__ import annotations

import difflib
import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop.api import schemas


class Change(enum.Enum):
    SAME = "same"
    CHANGED = "changed"
    REMOVED = "removed"  # only on the left
    ADDED = "added"  # only on the right


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of a side-by-side diff: a line number and text per side (None where a side has no line)."""

    left_no: int | None
    left: str | None
    right_no: int | None
    right: str | None
    change: Change


def snapshot_of(policy: schemas.PolicyDetail) -> dict[str, Any]:
    """A live policy in the shape of a saved version's snapshot, so both render the same way."""
    return {
        "name": policy.name, "description": policy.description, "mode": policy.mode, "priority": policy.priority,
        "conditions": policy.conditions, "isActive": policy.is_active, "redaction": policy.redaction,
        "rules": [{"name": r.name, "ruleType": r.rule_type, "condition": r.condition, "severity": r.severity,
                   "actionOverride": r.action_override, "redaction": r.redaction, "isActive": r.is_active}
                  for r in policy.rules],
    }


def _value(value: Any) -> str:
    if value is None or value == "" or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def render(snapshot: Mapping[str, Any]) -> list[str]:
    """The snapshot as lines: settings first, then each rule (ids left out: a restore gives rules new ids)."""
    lines = [f"name: {_value(snapshot.get('name'))}",
             f"description: {_value(snapshot.get('description'))}",
             f"mode: {_value(snapshot.get('mode'))}",
             f"priority: {_value(snapshot.get('priority'))}",
             f"active: {_value(snapshot.get('isActive'))}",
             f"redaction: {_value(snapshot.get('redaction'))}"]
    conditions = snapshot.get("conditions")
    if isinstance(conditions, Mapping) and conditions:
        lines.append("conditions:")
        lines.extend(f"  {key}: {_value(conditions[key])}" for key in sorted(conditions))
    else:
        lines.append("conditions: —")
    rules = snapshot.get("rules")
    rules = rules if isinstance(rules, list) else []
    lines.append(f"rules: {len(rules)}")
    for rule in rules:
        if not isinstance(rule, Mapping):
            continue
        lines.append(f"- rule: {_value(rule.get('name'))}")
        lines.append(f"    type: {_value(rule.get('ruleType'))}")
        lines.append(f"    severity: {_value(rule.get('severity'))}")
        lines.append(f"    action: {_value(rule.get('actionOverride')) if rule.get('actionOverride') else 'policy mode'}")
        lines.append(f"    redaction: {_value(rule.get('redaction'))}")
        lines.append(f"    active: {_value(rule.get('isActive'))}")
        condition = rule.get("condition")
        if isinstance(condition, Mapping) and condition:
            lines.extend(f"    {key}: {_value(condition[key])}" for key in sorted(condition))
    return lines


def side_by_side(left: Sequence[str], right: Sequence[str]) -> list[DiffRow]:
    """Align two texts line by line (difflib opcodes); a replaced block pairs its lines, then pads the shorter."""
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=list(left), b=list(right), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(DiffRow(i + 1, left[i], j + 1, right[j], Change.SAME) for i, j in zip(range(i1, i2), range(j1, j2)))
            continue
        count = max(i2 - i1, j2 - j1)
        for k in range(count):
            i, j = i1 + k, j1 + k
            has_left, has_right = i < i2, j < j2
            change = Change.CHANGED if has_left and has_right else Change.REMOVED if has_left else Change.ADDED
            rows.append(DiffRow(i + 1 if has_left else None, left[i] if has_left else None,
                                j + 1 if has_right else None, right[j] if has_right else None, change))
    return rows


def changed_count(rows: Sequence[DiffRow]) -> int:
    return sum(1 for row in rows if row.change is not Change.SAME)
