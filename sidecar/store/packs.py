"""Packs installed for an organisation: install, uninstall and upgrade, as sync units of work.

An installed pack is an ``installed_packs`` row (its version) plus organisation-wide rules that carry the
pack's id and each rule's stable ``pack_rule_key``; the key is what an upgrade matches rules by.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from peewee import fn

from sidecar.errors import Conflict, NotFound
from sidecar.store.models import InstalledPack, Rule
from sidecar.store.policies import bump, create_rule
from sidecar.store.records import PackUpgradeRecord, RuleRecord

#: The parts of a rule that a pack defines (an upgrade replaces them; ``is_active`` stays the organisation's).
DEFINITION = ("name", "rule_type", "condition", "severity", "action_override", "redaction")
#: The parts of a pack rule the organisation's own edits win over at an upgrade (and ``is_active``, always kept).
EDITABLE = ("severity", "action_override", "redaction")
#: The version a pack rule without ``since`` dates from.
FIRST_VERSION = "1.0.0"


def installed_packs(org_id: str) -> list[tuple[str, str, int, int]]:
    """``(pack id, version, installed or last upgraded at, rule count)`` per installed pack."""
    rows = InstalledPack.select().where(InstalledPack.org_id == org_id).order_by(InstalledPack.installed_at)
    counts = dict(Rule.select(Rule.pack_id, fn.COUNT(Rule.id)).where(
        (Rule.org_id == org_id) & Rule.policy_id.is_null() & Rule.pack_id.is_null(False)).group_by(Rule.pack_id).tuples())
    return [(row.pack_id, row.version, row.installed_at, int(counts.get(row.pack_id, 0))) for row in rows]


def install_pack(org_id: str, *, pack_id: str, version: str, rules: Iterable[dict[str, Any]], now: int) -> list[RuleRecord]:
    if InstalledPack.select().where((InstalledPack.org_id == org_id) & (InstalledPack.pack_id == pack_id)).exists():
        raise Conflict(f"pack {pack_id} is already installed")
    InstalledPack.insert(org_id=org_id, pack_id=pack_id, version=version, installed_at=now).execute()
    return [create_rule(org_id, policy_id=None, pack_id=pack_id, now=now, is_active=True,
                        **{k: v for k, v in rule.items() if k != "since"}) for rule in rules]


def uninstall_pack(org_id: str, pack_id: str) -> int:
    deleted = InstalledPack.delete().where((InstalledPack.org_id == org_id) & (InstalledPack.pack_id == pack_id)).execute()
    if not deleted:
        raise NotFound(f"pack {pack_id} is not installed")
    removed = Rule.delete().where((Rule.org_id == org_id) & Rule.policy_id.is_null() & (Rule.pack_id == pack_id)).execute()
    bump(org_id)
    return int(removed)


def upgrade_pack(org_id: str, *, pack_id: str, version: str, rules: Iterable[dict[str, Any]],
                 now: int) -> PackUpgradeRecord:
    """Bring the installed pack to ``version`` with the definitions ``rules`` (each with its ``pack_rule_key``
    and ``since``, the pack version that added it).

    A rule whose key is in both keeps its id and its ``is_active`` and takes the new definition, except that a
    rule the organisation edited since the pack was installed or last upgraded (``updated_at`` later than the
    pack's ``installed_at``, which an upgrade moves to ``now``) keeps its severity, action and redaction and
    takes only the new name, type and condition ("kept"). A key the organisation lacks is created, active,
    only when the pack added it after the installed version; one it had and deleted stays deleted. A key gone
    from the pack is deleted. Already at ``version``: nothing changes. Raises NotFound when the pack is not
    installed.
    """
    installed = InstalledPack.get_or_none((InstalledPack.org_id == org_id) & (InstalledPack.pack_id == pack_id))
    if installed is None:
        raise NotFound(f"pack {pack_id} is not installed")
    old_version = installed.version
    added = updated = removed = kept = stayed_deleted = 0
    if old_version != version:
        current = {row.pack_rule_key: row for row in _pack_rows(org_id, pack_id)}
        wanted = {rule["pack_rule_key"]: rule for rule in rules}
        for key, row in current.items():
            if key not in wanted:
                row.delete_instance()
                removed += 1
                continue
            edited = row.updated_at > max(row.created_at, installed.installed_at)
            kept += edited
            if _redefine(row, wanted[key], now, keep=EDITABLE if edited else ()):
                updated += 1
        for key, rule in wanted.items():
            if key in current:
                continue
            fields = {k: v for k, v in rule.items() if k != "since"}
            if version_key(rule.get("since", FIRST_VERSION)) > version_key(old_version):
                create_rule(org_id, policy_id=None, pack_id=pack_id, now=now, is_active=True, **fields)
                added += 1
            else:
                stayed_deleted += 1
        InstalledPack.update(version=version, installed_at=now).where(
            (InstalledPack.org_id == org_id) & (InstalledPack.pack_id == pack_id)).execute()
        bump(org_id)
    after = tuple(RuleRecord.of(row) for row in _pack_rows(org_id, pack_id))
    return PackUpgradeRecord(pack_id, old_version, version, added, updated, removed, after, kept=kept,
                             stayed_deleted=stayed_deleted)


def version_key(version: str) -> tuple[int, ...]:
    """``"1.10.0"`` -> ``(1, 10, 0)``: versions compare as numbers (a part that is not one counts 0)."""
    return tuple(int(part) if part.isdigit() else 0 for part in version.strip().lstrip("v").split("."))


def _pack_rows(org_id: str, pack_id: str) -> list[Rule]:
    """The pack's organisation-wide rules (policies cloned from it hold copies of their own, untouched)."""
    return list(Rule.select().where((Rule.org_id == org_id) & Rule.policy_id.is_null() & (Rule.pack_id == pack_id))
                .order_by(Rule.created_at, Rule.position, Rule.id))


def _redefine(row: Rule, rule: dict[str, Any], now: int, *, keep: Iterable[str] = ()) -> bool:
    """Give ``row`` the definition ``rule`` but for the parts named in ``keep``; whether anything changed
    (then it is saved)."""
    new = {key: getattr(row, key) if key in keep else rule[key] for key in DEFINITION}
    if "condition" in keep:
        new["condition"] = orjson.loads(row.condition)
    old = {key: getattr(row, key) for key in DEFINITION}
    old["condition"] = orjson.loads(row.condition)
    if new == old:
        return False
    for key in DEFINITION:
        setattr(row, key, new[key])
    row.condition = orjson.dumps(new["condition"]).decode()
    row.updated_at = now
    row.save()
    return True
