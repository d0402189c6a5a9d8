"""Fixtures for the compliance engine tests: a fixed clock and a rule-compiling helper."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest

from sidecar.compliance.engine import CompiledRules, compile_rules
from sidecar.compliance.types import RuleSpec


@pytest.fixture
def now() -> datetime:
    return datetime(2024, 6, 11, 14, 30, tzinfo=timezone.utc)


def rule(rule_type: str, condition: dict[str, Any], **fields: Any) -> RuleSpec:
    """A RuleSpec with test defaults (id and name derived from the type)."""
    fields.setdefault("id", f"rule_{rule_type}")
    fields.setdefault("name", rule_type.replace("_", " ").title())
    return RuleSpec(rule_type=rule_type, condition=condition, **fields)


@pytest.fixture
def compile_one() -> Callable[..., CompiledRules]:
    def build(rule_type: str, condition: dict[str, Any], **fields: Any) -> CompiledRules:
        return compile_rules([rule(rule_type, condition, **fields)])

    return build
