"""What each compliance rule type's condition holds (API.md, "Compliance rules and packs"): labels, defaults,
one-line summaries. Pure Python; the sidecar validates every condition again when a rule is saved."""

from __future__ import annotations

import json
from typing import Any

#: Detector ids of ``pii_detect`` (API.md: "these names don't change"), grouped for the form.
DETECTOR_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Contact", ("person_name", "street_address", "email", "phone", "date_of_birth", "ip_address")),
    ("US identity", ("ssn", "us_itin", "us_ein", "us_passport")),
    ("Health", ("medical_record_number", "health_plan_id", "npi", "dea_number", "icd10", "special_category",
                "health_condition")),
    ("Finance", ("credit_card", "card_cvv", "iban", "aba_routing", "swift_bic")),
    ("National ids", ("uk_nino", "uk_nhs", "es_dni", "es_nie", "it_fiscal_code", "fr_nir", "de_tax_id")),
    ("Secrets", ("aws_access_key", "github_token", "openai_key", "anthropic_key", "google_api_key", "stripe_key",
                 "slack_token", "private_key", "jwt", "password")),
)
DETECTORS: tuple[str, ...] = tuple(d for _, group in DETECTOR_GROUPS for d in group)

TYPE_LABELS = {
    "pii_detect": "Personal data (detectors)",
    "keyword_match": "Keywords",
    "regex_match": "Regular expression",
    "metadata_match": "Metadata value",
    "rate_limit": "Rate limit",
    "sentiment_analysis": "Negative sentiment",
    "prompt_injection": "Prompt injection",
}
TYPE_SHORT = {
    "pii_detect": "PII", "keyword_match": "keywords", "regex_match": "regex", "metadata_match": "metadata",
    "rate_limit": "rate limit", "sentiment_analysis": "sentiment", "prompt_injection": "injection",
}
METADATA_OPERATORS = {"eq": "equals", "ne": "does not equal", "contains": "contains", "gt": ">", "gte": "≥",
                      "lt": "<", "lte": "≤"}
#: Rule types the "test this rule" box can exercise with text alone.
TEXT_TESTABLE = ("pii_detect", "keyword_match", "regex_match", "sentiment_analysis", "prompt_injection")


def default_condition(rule_type: str) -> dict[str, Any]:
    """A valid starting condition for a new rule of ``rule_type``."""
    return {
        "pii_detect": {"patterns": ["ssn"]},
        "keyword_match": {"keywords": ["confidential"], "wholeWord": True, "caseSensitive": False},
        "regex_match": {"pattern": r"\bPROJ-\d{4}\b", "flags": ""},
        "metadata_match": {"key": "model", "operator": "eq", "value": "gpt-4o"},
        "rate_limit": {"maxRequests": 100, "windowMinutes": 60, "per": "agent"},
        "sentiment_analysis": {"threshold": 0.5},
        "prompt_injection": {},
    }.get(rule_type, {})


def parse_value(text: str) -> Any:
    """A metadata value typed in a form: a JSON number, boolean or null when it reads as one, else the text."""
    stripped = text.strip()
    if stripped in ("true", "false", "null") or _is_number(stripped):
        return json.loads(stripped)
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return bool(text) and text.lower() not in ("nan", "inf", "-inf", "infinity", "-infinity")


def format_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def summary(rule_type: str, condition: dict[str, Any]) -> str:
    """One line saying what the rule looks for."""
    if rule_type == "pii_detect":
        patterns = condition.get("patterns") or []
        return ", ".join(patterns[:4]) + (f" +{len(patterns) - 4} more" if len(patterns) > 4 else "")
    if rule_type == "keyword_match":
        words = condition.get("keywords") or []
        text = ", ".join(f"“{w}”" for w in words[:4]) + (f" +{len(words) - 4} more" if len(words) > 4 else "")
        return text + (" (case-sensitive)" if condition.get("caseSensitive") else "")
    if rule_type == "regex_match":
        flags = condition.get("flags") or ""
        return f"/{condition.get('pattern', '')}/{flags}"
    if rule_type == "metadata_match":
        op = METADATA_OPERATORS.get(str(condition.get("operator")), str(condition.get("operator")))
        return f"metadata.{condition.get('key', '')} {op} {format_value(condition.get('value'))}"
    if rule_type == "rate_limit":
        return (f"more than {condition.get('maxRequests')} events in {condition.get('windowMinutes')} min "
                f"per {condition.get('per', 'agent')}")
    if rule_type == "sentiment_analysis":
        return f"sentiment at or below −{condition.get('threshold')}"
    if rule_type == "prompt_injection":
        return "instructions that try to override the agent's own"
    return json.dumps(condition, sort_keys=True)
