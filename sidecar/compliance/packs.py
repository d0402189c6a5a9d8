"""Rule packs: versioned data files of rules shipped with the sidecar (``packs/*.json``).

A pack file is ``{id, name, description, version, rules: [{key, name, ruleType, condition,
severity, action, redaction?, since?}]}``; ``since`` is the pack version that added the rule
(default 1.0.0). ``key`` is stable across versions so an installed rule can be
matched to its pack rule when a pack is upgraded. Every rule is validated when loaded, so a
broken pack fails at start-up (and in tests), never at evaluation time.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from sidecar.compliance.rules import validate_rule
from sidecar.compliance.types import ACTIONS, REDACTIONS, SEVERITIES, InvalidRule, RuleSpec

#: Other accepted names for packs.
ALIASES = MappingProxyType({"hippo": "hipaa"})


@dataclass(frozen=True, slots=True)
class PackRule:
    """One rule of a pack, as in the file (``condition`` normalised)."""

    key: str
    name: str
    rule_type: str
    condition: dict[str, Any]
    severity: str
    action: str
    redaction: str = "none"
    #: The pack version that added the rule: an upgrade re-adds a rule the organisation lacks only when it is
    #: newer than the installed version (an older one was deleted on purpose).
    since: str = "1.0.0"

    def to_json(self) -> dict[str, Any]:
        """The wire shape (camelCase), as in the pack file."""
        return {
            "key": self.key,
            "name": self.name,
            "ruleType": self.rule_type,
            "condition": self.condition,
            "severity": self.severity,
            "action": self.action,
            "redaction": self.redaction,
            "since": self.since,
        }


@dataclass(frozen=True, slots=True)
class Pack:
    """A rule pack."""

    id: str
    name: str
    description: str
    version: str
    rules: tuple[PackRule, ...]

    def to_json(self) -> dict[str, Any]:
        """``{id, name, description, version, rules}`` for ``GET /compliance-rules/packs``."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "version": self.version,
            "rules": [rule.to_json() for rule in self.rules],
        }

    def rule_specs(self, *, id_prefix: str | None = None, policy_id: str | None = None) -> list[RuleSpec]:
        """The pack's rules as engine specs (ids ``<prefix><key>``, default ``<pack id>.``)."""
        prefix = f"{self.id}." if id_prefix is None else id_prefix
        return [
            RuleSpec(
                id=prefix + rule.key,
                name=rule.name,
                rule_type=rule.rule_type,
                condition=rule.condition,
                severity=rule.severity,
                action=rule.action,
                policy_id=policy_id,
                pack_id=self.id,
                redaction=rule.redaction,
            )
            for rule in self.rules
        ]


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidRule(key, f"{where}: {key} must be a non-empty string")
    return value


def parse_pack(raw: Any) -> Pack:
    """Build a :class:`Pack` from a decoded pack file. Raises InvalidRule on any defect."""
    if not isinstance(raw, dict):
        raise InvalidRule("pack", "a pack file holds a JSON object")
    pack_id = _text(raw, "id", "pack")
    rules: list[PackRule] = []
    keys: set[str] = set()
    for index, item in enumerate(raw.get("rules") or ()):
        where = f"pack {pack_id} rule {index}"
        if not isinstance(item, dict):
            raise InvalidRule("rules", f"{where}: must be an object")
        key = _text(item, "key", where)
        if key in keys:
            raise InvalidRule("rules", f"{where}: duplicate key {key!r}")
        keys.add(key)
        severity, action = item.get("severity"), item.get("action")
        redaction = item.get("redaction", "none")
        if severity not in SEVERITIES or action not in ACTIONS or redaction not in REDACTIONS:
            raise InvalidRule("rules", f"{where}: bad severity, action or redaction")
        rule_type = _text(item, "ruleType", where)
        since = item.get("since", "1.0.0")
        if not isinstance(since, str) or not all(part.isdigit() for part in since.split(".")):
            raise InvalidRule("rules", f"{where}: since must be a version such as 1.1.0")
        rules.append(PackRule(key, _text(item, "name", where), rule_type,
                              validate_rule(rule_type, item.get("condition")), severity, action, redaction, since))
    if not rules:
        raise InvalidRule("rules", f"pack {pack_id} has no rules")
    return Pack(pack_id, _text(raw, "name", "pack"), _text(raw, "description", "pack"),
                _text(raw, "version", "pack"), tuple(rules))


@functools.cache
def _shipped() -> tuple[Pack, ...]:
    folder = resources.files("sidecar.compliance").joinpath("packs")
    entries = sorted((e for e in folder.iterdir() if e.name.endswith(".json")), key=lambda e: e.name)
    return tuple(parse_pack(json.loads(entry.read_text("utf-8"))) for entry in entries)


def load_packs() -> dict[str, Pack]:
    """Every shipped pack by id (files read and validated once per process)."""
    return {pack.id: pack for pack in _shipped()}


def get_pack(pack_id: str) -> Pack | None:
    """The pack called ``pack_id`` (or one of its aliases, e.g. ``hippo``), or None."""
    key = pack_id.strip().lower() if isinstance(pack_id, str) else ""
    key = ALIASES.get(key, key)
    return next((pack for pack in _shipped() if pack.id == key), None)
