"""Compile rules once, evaluate every event against them.

``compile_rules(specs)`` validates each rule and builds one RE2 prefilter set over every
candidate pattern of the rule set. ``evaluate(compiled, event, now=...)`` scans the prompt, the
response and every string and integer inside the metadata: the prefilter says which patterns can match a
field, and only those patterns (and their validators) run. The verdict lists the violated rules
in rule order, the strongest action, and the event's text after redaction.

Offsets: every ``Match.start``/``end`` is a character offset in the ORIGINAL field text, also
when the verdict's text has been redacted (replacements change lengths).

Fields: ``prompt``, ``response``, and ``metadata.<path>`` for each string inside the metadata
(``metadata.user.notes``, ``metadata.items[2]``; a metadata value that is itself a string is
the field ``metadata``) and for each integer of 9 to 40 digits, scanned as its decimal text
(offsets in that text; a redacted integer is stored as the redacted string, see
``metadata.replace_strings``); a detector reports an integer only under a key path that
carries one of its labels (``args.card``, ``ssn``), not under ``id`` or ``message_id``.
Shorter integers (token counts, latencies, statuses), booleans and floats are not scanned. Sentiment rules read the prompt and the response only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sidecar.compliance import metadata as md
from sidecar.compliance import redaction, sentiment, textrules
from sidecar.compliance.detector_base import CompiledDetector
from sidecar.compliance.detectors import DETECTORS, compiled
from sidecar.compliance.prefilter import Prefilter
from sidecar.compliance.ratelimit import RateWindow
from sidecar.compliance.rules import validate_rule
from sidecar.compliance.textscan import Prepared, Span
from sidecar.compliance.types import (
    ACTION_RANK,
    ACTIONS,
    REDACTIONS,
    SEVERITIES,
    EventText,
    InvalidRule,
    Match,
    RuleSpec,
    Verdict,
    Violation,
)

__all__ = ["CompiledRules", "compile_rules", "evaluate", "validate_rule"]

#: Rule types whose matches are spans of text that redaction can replace.
_REDACTABLE = frozenset({"pii_detect", "keyword_match", "regex_match", "prompt_injection"})


@dataclass(frozen=True, slots=True)
class _Rule:
    spec: RuleSpec
    condition: dict[str, Any]
    detector_ids: tuple[str, ...] = ()
    matcher_slots: tuple[int, ...] = ()
    path: md.Path = ()


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """A validated, compiled rule set. Immutable and safe to share between threads; the
    only per-event state (rate windows) lives in the :class:`RateWindow` passed to evaluate."""

    rules: tuple[_Rule, ...]
    prefilter: Prefilter
    detector_triggers: dict[str, tuple[int, ...]]
    matchers: tuple[textrules.CompiledMatcher, ...]
    matcher_triggers: tuple[int, ...]
    owners: tuple[str | int, ...] = ()  # per prefilter index: detector id or matcher slot
    detectors: dict[str, CompiledDetector] = field(default_factory=dict)
    needs_text: bool = True

    def __len__(self) -> int:
        return len(self.rules)


def _check_spec(spec: RuleSpec) -> None:
    if spec.severity not in SEVERITIES:
        raise InvalidRule("severity", f"rule {spec.name!r}: severity must be one of {', '.join(SEVERITIES)}")
    if spec.action not in ACTIONS:
        raise InvalidRule("action", f"rule {spec.name!r}: action must be one of {', '.join(ACTIONS)}")
    if spec.redaction not in REDACTIONS:
        raise InvalidRule("redaction", f"rule {spec.name!r}: redaction must be one of {', '.join(REDACTIONS)}")


def compile_rules(specs: Sequence[RuleSpec]) -> CompiledRules:
    """Validate and compile ``specs`` (in evaluation order).

    Raises:
        InvalidRule: the first rule that does not validate; ``field`` names the key
            (``condition.patterns``…) and the message names the rule.
    """
    triggers: list[str] = []
    detector_triggers: dict[str, tuple[int, ...]] = {}
    matchers: list[textrules.CompiledMatcher] = []
    matcher_triggers: list[int] = []
    injection_slots: tuple[int, ...] | None = None

    owners: list[str | int] = []

    def add_matcher(matcher: textrules.TextMatcher) -> int:
        matchers.append(textrules.CompiledMatcher(matcher))
        matcher_triggers.append(len(triggers))
        triggers.append(matcher.regex)
        owners.append(len(matchers) - 1)
        return len(matchers) - 1

    rules: list[_Rule] = []
    for spec in specs:
        _check_spec(spec)
        try:
            condition = validate_rule(spec.rule_type, spec.condition)
        except InvalidRule as exc:
            raise InvalidRule(exc.field, f"rule {spec.name!r}: {exc.message}") from None
        kind = spec.rule_type
        if kind == "pii_detect":
            for detector_id in condition["patterns"]:
                if detector_id not in detector_triggers:
                    patterns = DETECTORS[detector_id].trigger_patterns()
                    detector_triggers[detector_id] = tuple(range(len(triggers), len(triggers) + len(patterns)))
                    triggers.extend(patterns)
                    owners.extend([detector_id] * len(patterns))
            rules.append(_Rule(spec, condition, detector_ids=tuple(condition["patterns"])))
        elif kind == "keyword_match":
            matcher = textrules.keyword_matcher(
                condition["keywords"], whole_word=condition["wholeWord"], case_sensitive=condition["caseSensitive"]
            )
            rules.append(_Rule(spec, condition, matcher_slots=(add_matcher(matcher),)))
        elif kind == "regex_match":
            matcher = textrules.regex_matcher(condition["pattern"], condition["flags"])
            rules.append(_Rule(spec, condition, matcher_slots=(add_matcher(matcher),)))
        elif kind == "prompt_injection":
            if injection_slots is None:
                injection_slots = tuple(add_matcher(m) for m in textrules.INJECTION_MATCHERS)
            rules.append(_Rule(spec, condition, matcher_slots=injection_slots))
        elif kind == "metadata_match":
            rules.append(_Rule(spec, condition, path=md.parse_path(condition["key"])))
        else:
            rules.append(_Rule(spec, condition))
    return CompiledRules(
        rules=tuple(rules),
        prefilter=Prefilter(triggers),
        detector_triggers=detector_triggers,
        matchers=tuple(matchers),
        matcher_triggers=tuple(matcher_triggers),
        owners=tuple(owners),
        detectors={d: compiled(d) for d in detector_triggers},
        needs_text=bool(triggers),
    )


@dataclass(slots=True)
class _Field:
    name: str
    path: md.Path | None  # None for prompt/response
    prepared: Prepared
    hits: frozenset[int] | None = None
    scanned: bool = False
    integer: bool = False  # an integer's decimal text: detectors need a label in the key path

    @property
    def text(self) -> str:
        return self.prepared.text


def _field_name(path: md.Path) -> str:
    formatted = md.format_path(path)
    return "metadata" + ("." if isinstance(path[0], str) and not formatted.startswith("[") else "") + formatted


def _fields(event: EventText) -> list[_Field]:
    fields = []
    if event.prompt:
        fields.append(_Field("prompt", None, Prepared(event.prompt)))
    if event.response:
        fields.append(_Field("response", None, Prepared(event.response)))
    if isinstance(event.metadata, str):
        if event.metadata:
            fields.append(_Field("metadata", (), Prepared(event.metadata)))
    elif event.metadata is not None:
        for path, value, integer in md.iter_texts(event.metadata):
            if value:
                fields.append(_Field(_field_name(path), path, Prepared(value), integer=integer))
    return fields


Found = dict[str | int, list[Span]]


def _scan(rules: CompiledRules, fields: list[_Field]) -> list[Found]:
    """For every field, the spans of every detector and matcher that found something.

    One prefilter pass per field names the patterns that can match; only their owners
    (detectors, keyword/regex/injection matchers) run, each once however many rules use it.
    A field whose folded form differs (``Prepared.folded``: invisible characters, odd spaces
    or dashes) gets a second pass over that form, which detectors and injection phrases read.
    An integer is a value of a detector's kind only under a key that says so (``card``,
    ``ssn``; ``CompiledDetector.labels_key``): alone, a long number is as likely an id.
    """
    results: list[Found] = []
    for item in fields:
        found: Found = {}
        if rules.needs_text:
            hits = rules.prefilter.match(item.prepared.data)
            folded = item.prepared.folded()
            if hits is not None and folded is not item.prepared:
                hits = hits | (rules.prefilter.match(folded.data) or frozenset())
            owners = set(rules.owners) if hits is None else {rules.owners[i] for i in hits}
            key = md.key_words(item.path) if item.integer and item.path else None
            for owner in owners:
                if isinstance(owner, str):
                    if key is not None and not rules.detectors[owner].labels_key(key):
                        continue
                    spans = rules.detectors[owner].find(item.prepared, hits, rules.detector_triggers[owner][0])
                else:
                    spans = rules.matchers[owner].find(item.prepared)
                if spans:
                    found[owner] = spans
        results.append(found)
    return results


def _text_matches(
    rules: CompiledRules, rule: _Rule, fields: list[_Field], results: list[Found]
) -> list[tuple[int, Match]]:
    out: list[tuple[int, Match]] = []
    for index, found in enumerate(results):
        if not found:
            continue
        name = fields[index].name
        for detector_id in rule.detector_ids:
            spans = found.get(detector_id)
            if spans:
                out.extend((index, Match(name, s, e, detector_id)) for s, e in spans)
        for slot in rule.matcher_slots:
            spans = found.get(slot)
            if spans:
                label = rules.matchers[slot].matcher.detector
                out.extend((index, Match(name, s, e, label)) for s, e in spans)
    if len(out) > 1:
        out.sort(key=lambda pair: (pair[0], pair[1].start, pair[1].end))
    return out


def evaluate(
    compiled_rules: CompiledRules,
    event: EventText,
    *,
    now: datetime,
    rate: RateWindow | None = None,
    redaction_key: bytes | None = None,
) -> Verdict:
    """Evaluate ``event`` against ``compiled_rules``.

    Args:
        now: the event's time (aware); rate windows end here.
        rate: the rate-window state for ``rate_limit`` rules; None skips those rules (dry runs
            such as ``POST /compliance/evaluate`` must not count as traffic).
        redaction_key: HMAC key for ``hash`` redaction; without it ``hash`` masks instead.

    Returns:
        The verdict. Match offsets refer to the original text, never to the redacted text.
    """
    fields = _fields(event)
    results = _scan(compiled_rules, fields)
    anything = any(results)
    violations: list[Violation] = []
    pending: dict[int, list[redaction.Redaction]] = {}
    scores: dict[str, float] = {}
    for rule in compiled_rules.rules:
        spec, kind = rule.spec, rule.spec.rule_type
        located: list[tuple[int, Match]] = []
        violated = False
        if kind in _REDACTABLE:
            if not anything:
                continue
            located = _text_matches(compiled_rules, rule, fields, results)
            violated = bool(located)
        elif kind == "metadata_match":
            value = md.get_path(event.metadata, rule.path)
            violated = md.compare(value, rule.condition["operator"], rule.condition["value"])
            if violated and not md.is_missing(value):
                end = len(value) if isinstance(value, str) else 0
                located = [(-1, Match(_field_name(rule.path) if rule.path else "metadata", 0, end, "metadata"))]
        elif kind == "sentiment_analysis":
            for index, item in enumerate(fields):
                if item.path is None:
                    if item.name not in scores:
                        scores[item.name] = sentiment.score(item.text)
                    if scores[item.name] <= -rule.condition["threshold"]:
                        located.append((index, Match(item.name, 0, len(item.text), "sentiment")))
            violated = bool(located)
        elif kind == "rate_limit" and rate is not None:
            cond = rule.condition
            owner = event.agent_id if cond["per"] == "agent" else event.organization_id
            result = rate.hit((spec.id, cond["per"], owner or ""), limit=cond["maxRequests"],
                              window_seconds=cond["windowMinutes"] * 60.0, now=now)
            violated = result.exceeded
        if not violated:
            continue
        violations.append(Violation(spec.id, spec.policy_id, spec.name, kind, spec.severity, spec.action,
                                    tuple(m for _, m in located)))
        if spec.redaction != "none" and kind in _REDACTABLE:
            for index, match in located:
                pending.setdefault(index, []).append(
                    redaction.Redaction(match.start, match.end, match.detector, spec.redaction))
    return _verdict(event, fields, violations, pending, redaction_key, scores)


def _verdict(
    event: EventText,
    fields: list[_Field],
    violations: list[Violation],
    pending: dict[int, list[redaction.Redaction]],
    key: bytes | None,
    scores: dict[str, float],
) -> Verdict:
    action = "allow"
    for violation in violations:
        if ACTION_RANK.get(violation.action, 0) > ACTION_RANK[action]:
            action = violation.action
    prompt, response, meta = event.prompt, event.response, event.metadata
    replacements: dict[md.Path, str] = {}
    for index, items in pending.items():
        item = fields[index]
        new_text = redaction.apply(item.text, items, key)
        if item.name == "prompt":
            prompt = new_text
        elif item.name == "response":
            response = new_text
        elif item.path == ():
            meta = new_text
        elif item.path is not None:
            replacements[item.path] = new_text
    if replacements:
        meta = md.replace_strings(event.metadata, replacements)
    extra: dict[str, Any] = {"sentimentScores": scores} if scores else {}
    return Verdict(tuple(violations), action, prompt, response, meta, bool(pending), extra)
