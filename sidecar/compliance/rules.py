"""Validation and normalisation of rule conditions (API.md, "Compliance rules and packs").

``validate_rule(rule_type, condition)`` is what a service calls when a rule is saved: it returns
the condition with defaults filled in, or raises :class:`InvalidRule` naming the bad key
(``condition.patterns``, ``condition.pattern``…). Unknown keys are rejected too, so that a typo
(``wholeword``) is a 400 and not a silently ignored setting.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import re2

from sidecar.compliance import metadata, textscan
from sidecar.compliance.detectors import DETECTORS
from sidecar.compliance.textrules import regex_matcher
from sidecar.compliance.types import InvalidRule

RULE_TYPES = (
    "pii_detect",
    "keyword_match",
    "regex_match",
    "metadata_match",
    "rate_limit",
    "sentiment_analysis",
    "prompt_injection",
)
MAX_KEYWORDS = 2000
MAX_KEYWORD_LENGTH = 200
MAX_PATTERN_LENGTH = 4000
MAX_WINDOW_MINUTES = 31 * 24 * 60
MAX_REQUESTS = 1_000_000


def _keys(condition: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in condition:
        if key not in allowed:
            raise InvalidRule(f"condition.{key}", f"unknown key {key!r}; expected {', '.join(allowed) or 'none'}")


def _require(condition: dict[str, Any], key: str) -> Any:
    if key not in condition or condition[key] is None:
        raise InvalidRule(f"condition.{key}", f"{key} is required")
    return condition[key]


def _bool(condition: dict[str, Any], key: str, default: bool) -> bool:
    value = condition.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidRule(f"condition.{key}", f"{key} must be true or false")
    return value


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidRule(field, "must be a number")
    return float(value)


def _pii(condition: dict[str, Any]) -> dict[str, Any]:
    _keys(condition, ("patterns",))
    patterns = _require(condition, "patterns")
    if not isinstance(patterns, list) or not patterns:
        raise InvalidRule("condition.patterns", "patterns must be a non-empty list of detector ids")
    ids: list[str] = []
    for item in patterns:
        if not isinstance(item, str) or item not in DETECTORS:
            raise InvalidRule("condition.patterns", f"unknown detector {item!r}")
        if item not in ids:
            ids.append(item)
    return {"patterns": ids}


def _keyword(condition: dict[str, Any]) -> dict[str, Any]:
    _keys(condition, ("keywords", "wholeWord", "caseSensitive"))
    keywords = _require(condition, "keywords")
    if not isinstance(keywords, list) or not keywords:
        raise InvalidRule("condition.keywords", "keywords must be a non-empty list of strings")
    if len(keywords) > MAX_KEYWORDS:
        raise InvalidRule("condition.keywords", f"at most {MAX_KEYWORDS} keywords")
    cleaned: list[str] = []
    for item in keywords:
        if not isinstance(item, str) or not item.strip():
            raise InvalidRule("condition.keywords", "every keyword must be a non-empty string")
        if len(item) > MAX_KEYWORD_LENGTH:
            raise InvalidRule("condition.keywords", f"keywords are at most {MAX_KEYWORD_LENGTH} characters")
        if item.strip() not in cleaned:
            cleaned.append(item.strip())
    return {
        "keywords": cleaned,
        "wholeWord": _bool(condition, "wholeWord", True),
        "caseSensitive": _bool(condition, "caseSensitive", False),
    }


def _regex(condition: dict[str, Any]) -> dict[str, Any]:
    _keys(condition, ("pattern", "flags"))
    pattern = _require(condition, "pattern")
    if not isinstance(pattern, str) or not pattern:
        raise InvalidRule("condition.pattern", "pattern must be a non-empty string")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise InvalidRule("condition.pattern", f"pattern is at most {MAX_PATTERN_LENGTH} characters")
    flags = condition.get("flags") or ""
    if not isinstance(flags, str) or any(ch not in "imsgu" for ch in flags):
        raise InvalidRule("condition.flags", "flags may contain only i, m and s (g and u are accepted and ignored)")
    flags = "".join(ch for ch in "ims" if ch in flags)
    try:
        compiled = textscan.compile_re(regex_matcher(pattern, flags).regex)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise InvalidRule("condition.pattern", f"the linear-time regex engine cannot run this pattern: {detail}") from None
    if compiled.search("") is not None:
        raise InvalidRule("condition.pattern", "pattern matches empty text, so it would flag every event")
    return {"pattern": pattern, "flags": flags}


def _metadata(condition: dict[str, Any]) -> dict[str, Any]:
    _keys(condition, ("key", "operator", "value"))
    key = _require(condition, "key")
    try:
        metadata.parse_path(key)
    except metadata.PathError as exc:
        raise InvalidRule("condition.key", f"key must be a dotted path such as user.tier or items[0]: {exc}") from None
    operator = _require(condition, "operator")
    if operator not in metadata.OPERATORS:
        raise InvalidRule("condition.operator", f"operator must be one of {', '.join(metadata.OPERATORS)}")
    if "value" not in condition:
        raise InvalidRule("condition.value", "value is required")
    value = condition["value"]
    if operator in ("gt", "gte", "lt", "lte") and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
        raise InvalidRule("condition.value", f"{operator} compares numbers or strings")
    return {"key": key, "operator": operator, "value": value}


def _rate(condition: dict[str, Any]) -> dict[str, Any]:
    _keys(condition, ("maxRequests", "windowMinutes", "per"))
    max_requests = _require(condition, "maxRequests")
    if isinstance(max_requests, bool) or not isinstance(max_requests, int) or not 1 <= max_requests <= MAX_REQUESTS:
        raise InvalidRule("condition.maxRequests", f"maxRequests must be an integer from 1 to {MAX_REQUESTS}")
    window = _number(_require(condition, "windowMinutes"), "condition.windowMinutes")
    if not 0 < window <= MAX_WINDOW_MINUTES:
        raise InvalidRule("condition.windowMinutes", f"windowMinutes must be above 0 and at most {MAX_WINDOW_MINUTES}")
    per = condition.get("per") or "agent"
    if per not in ("agent", "organization"):
        raise InvalidRule("condition.per", "per must be agent or organization")
    return {"maxRequests": max_requests, "windowMinutes": int(window) if window.is_integer() else window, "per": per}


def _sentiment(condition: dict[str, Any]) -> dict[str, Any]:
    _keys(condition, ("threshold",))
    threshold = _number(_require(condition, "threshold"), "condition.threshold")
    if threshold == 0 or abs(threshold) > 1:
        raise InvalidRule("condition.threshold", "threshold must be in (0, 1]; the rule is violated when the score is at or below -threshold")
    return {"threshold": abs(threshold)}


def _injection(condition: dict[str, Any]) -> dict[str, Any]:
    _keys(condition, ())
    return {}


_VALIDATORS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "pii_detect": _pii,
    "keyword_match": _keyword,
    "regex_match": _regex,
    "metadata_match": _metadata,
    "rate_limit": _rate,
    "sentiment_analysis": _sentiment,
    "prompt_injection": _injection,
}


def validate_rule(rule_type: str, condition: Any) -> dict[str, Any]:
    """Check ``condition`` against ``rule_type`` and return it normalised (defaults filled in,
    duplicates dropped, ``flags`` reduced to ``ims``, sentiment ``threshold`` made positive).

    Raises:
        InvalidRule: ``field`` is ``ruleType``, ``condition`` or ``condition.<key>``.
    """
    validator = _VALIDATORS.get(rule_type) if isinstance(rule_type, str) else None
    if validator is None:
        raise InvalidRule("ruleType", f"ruleType must be one of {', '.join(RULE_TYPES)}")
    if condition is None and rule_type == "prompt_injection":
        condition = {}
    if not isinstance(condition, dict):
        raise InvalidRule("condition", "condition must be an object")
    return validator(condition)
