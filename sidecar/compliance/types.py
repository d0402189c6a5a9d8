"""Value types shared by the compliance engine and its callers.

Callers (the sidecar's services) build :class:`RuleSpec` values from stored
rules, compile them once per policy version with ``engine.compile_rules`` and
call ``engine.evaluate`` for every event. Everything here is immutable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("info", "warning", "critical")
ACTIONS = ("allow", "log", "flag", "block")
#: Strength order of enforcement actions: the strongest wins.
ACTION_RANK = {name: rank for rank, name in enumerate(ACTIONS)}
REDACTIONS = ("none", "mask", "hash")
_OUTCOME_WORDS = {"block": "blocked", "flag": "flagged", "log": "logged", "allow": "allowed"}


def outcome_text(event_action: str, rule_action: str) -> str:
    """What happened to an event, for people: ``event blocked``; with the rule's own action when another rule
    decided the outcome (``event blocked (this rule's action: flag)``)."""
    text = f"event {_OUTCOME_WORDS.get(event_action, event_action)}"
    return text if rule_action == event_action else f"{text} (this rule's action: {rule_action})"


class InvalidRule(ValueError):
    """A rule's type or condition cannot be compiled. ``field`` names the offending key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One rule as the engine sees it.

    Attributes:
        id: the rule's id (``rule_…``).
        name: human name, used in the flag string.
        rule_type: ``pii_detect``, ``keyword_match``, ``regex_match``, ``metadata_match``,
            ``rate_limit``, ``sentiment_analysis`` or ``prompt_injection``.
        condition: the type's condition object, as stored (camelCase keys).
        severity: ``info``, ``warning`` or ``critical``.
        action: the effective action when the rule is violated (``log``, ``flag`` or ``block``):
            the rule's ``actionOverride`` if set, else its policy's mode, else the pack default.
        policy_id: the policy the rule belongs to, or None for organisation-wide rules.
        pack_id: the pack the rule came from, if any.
        redaction: ``none``, ``mask`` or ``hash``: what to do with matched text before storage.
    """

    id: str
    name: str
    rule_type: str
    condition: dict[str, Any]
    severity: str = "warning"
    action: str = "flag"
    policy_id: str | None = None
    pack_id: str | None = None
    redaction: str = "none"


@dataclass(frozen=True, slots=True)
class Match:
    """Where a rule matched: ``field`` is ``prompt``, ``response`` or ``metadata.<json path>``;
    ``start``/``end`` are character offsets in that field's text. Never the matched value."""

    field: str
    start: int
    end: int
    detector: str


@dataclass(frozen=True, slots=True)
class Violation:
    """One violated rule and where it matched."""

    rule_id: str
    policy_id: str | None
    name: str
    rule_type: str
    severity: str
    action: str
    matches: tuple[Match, ...] = ()

    @property
    def flag(self) -> str:
        """The wire flag string: ``<SEVERITY>_<ruleType>_<rule name>``."""
        return f"{self.severity.upper()}_{self.rule_type}_{self.name}"


@dataclass(frozen=True, slots=True)
class EventText:
    """The parts of an event that rules look at."""

    prompt: str | None = None
    response: str | None = None
    metadata: Any = None
    agent_id: str | None = None
    agent_type: str | None = None
    organization_id: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The engine's answer for one event.

    Attributes:
        violations: violated rules in evaluation order.
        action: the strongest action among the violations (``allow`` when none).
        prompt, response, metadata: the event's content after redaction (unchanged when
            no violated rule redacts). Callers store these, never the originals.
        redacted: True when any value was replaced.
    """

    violations: tuple[Violation, ...] = ()
    action: str = "allow"
    prompt: str | None = None
    response: str | None = None
    metadata: Any = None
    redacted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def flags(self) -> list[str]:
        return [v.flag for v in self.violations]
