"""Policies as text and side-by-side diffs, rule forms that produce what the sidecar's validator accepts, the
debounced rule tester against a real sidecar, and the policy/agent table models under qtmodeltester."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from desktop import theme
from desktop.api import schemas
from desktop.api.client import SidecarClient
from desktop.models import policy_text
from desktop.models import rule_conditions as rc
from desktop.models.policies import DiffModel, PackModel, PolicyListModel, RuleModel
from desktop.models.policy_text import Change, DiffRow
from desktop.presenters.rule_tester import RuleTester
from desktop.views.rule_form import RuleEditor
from sidecar.compliance.detectors import DETECTOR_IDS
from sidecar.compliance.rules import validate_rule
from tests.desktop.conftest import Seeded, token_for, wait_call, http

RULE = {"id": "rule_1", "name": "SSN", "ruleType": "pii_detect", "condition": {"patterns": ["ssn"]},
        "severity": "critical", "actionOverride": None, "redaction": "mask", "isActive": True}
POLICY = {"id": "pol_1", "name": "Intake", "description": "", "mode": "block", "priority": 5,
          "conditions": {"daysOfWeek": [0, 1]}, "isActive": True, "redaction": "none", "version": 3,
          "rules": [RULE], "agents": [{"id": "agent_1", "name": "bot", "type": "chat"}]}


def test_side_by_side_pairs_changed_lines_and_pads_the_shorter_side() -> None:
    rows = policy_text.side_by_side(["a", "b", "c", "d"], ["a", "B", "x", "y", "d", "e"])
    assert rows == [
        DiffRow(1, "a", 1, "a", Change.SAME),
        DiffRow(2, "b", 2, "B", Change.CHANGED),
        DiffRow(3, "c", 3, "x", Change.CHANGED),
        DiffRow(None, None, 4, "y", Change.ADDED),
        DiffRow(4, "d", 5, "d", Change.SAME),
        DiffRow(None, None, 6, "e", Change.ADDED),
    ]
    removed = policy_text.side_by_side(["a", "b"], ["a"])
    assert removed[1] == DiffRow(2, "b", None, None, Change.REMOVED) and policy_text.changed_count(removed) == 1


def test_a_live_policy_renders_like_its_version_snapshot_and_ids_do_not_count() -> None:
    policy = schemas.PolicyDetail.from_json(POLICY)
    snapshot = {"name": "Intake", "description": "", "mode": "block", "priority": 5,
                "conditions": {"daysOfWeek": [0, 1]}, "isActive": True, "redaction": "none",
                "rules": [{**RULE, "id": "rule_other", "packId": None}]}
    lines = policy_text.render(policy_text.snapshot_of(policy))
    assert lines == policy_text.render(snapshot)
    assert "mode: block" in lines and "  daysOfWeek: [0, 1]" in lines and '    patterns: ["ssn"]' in lines
    assert lines[lines.index("- rule: SSN") + 3] == "    action: policy mode"


def contrast(a: QColor, b: QColor) -> float:
    """The WCAG contrast ratio of two colours (1 to 21; body text wants 4.5 or more)."""
    def luminance(color: QColor) -> float:
        channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
                    for c in (color.redF(), color.greenF(), color.blueF())]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_diff_model_tints_each_side_readably_in_either_scheme(qtmodeltester: Any, qapp: QApplication,
                                                               mode: str) -> None:
    model = DiffModel()
    model.set_rows(policy_text.side_by_side(["mode: flag", "x"], ["mode: block", "x", "y"]))
    model.set_titles("v1", "v2")
    qtmodeltester.check(model)
    colors = theme.apply(qapp, mode)
    try:
        background = Qt.ItemDataRole.BackgroundRole
        text, base = QColor(colors.text), QColor(colors.surface)
        changed = model.data(model.index(0, 1), background).color()
        added = model.data(model.index(2, 3), background).color()
        for tint in (changed, model.data(model.index(0, 3), background).color(), added):
            assert tint != base and contrast(tint, text) >= 4.5, (mode, tint.name())
        assert changed.red() > changed.blue() and added.green() > added.red()  # amber changed, green added
        assert model.data(model.index(1, 1), background) is None
        assert model.data(model.index(2, 1), background).color().name() == colors.track  # the missing side
        assert model.headerData(3, Qt.Orientation.Horizontal) == "v2"
    finally:
        theme.apply(qapp, "light")


def test_list_models_pass_the_model_tester(qtmodeltester: Any) -> None:
    policy = schemas.PolicyDetail.from_json(POLICY)
    pack = schemas.Pack.from_json({"id": "hipaa", "name": "HIPAA", "version": "1.0.0", "rules": [RULE]})
    for model, rows in ((PolicyListModel(), [policy]), (RuleModel(), list(policy.rules)), (PackModel(), [(pack, None)])):
        model.set_rows(rows)
        qtmodeltester.check(model)
    rules = RuleModel()
    rules.set_rows(policy.rules)
    assert [rules.data(rules.index(0, c)) for c in range(6)] == ["SSN", "critical", "PII", "ssn", "policy mode", "on"]


CONDITIONS = {
    "pii_detect": {"patterns": ["iban", "ssn", "email"]},
    "keyword_match": {"keywords": ["insider trading", "MNPI"], "wholeWord": False, "caseSensitive": True},
    "regex_match": {"pattern": r"\bPROJ-\d{4}\b", "flags": "im"},
    "metadata_match": {"key": "usage.tokens", "operator": "gt", "value": 4000},
    "rate_limit": {"maxRequests": 30, "windowMinutes": 5, "per": "organization"},
    "sentiment_analysis": {"threshold": 0.35},
    "prompt_injection": {},
}


@pytest.mark.parametrize("rule_type", schemas.RULE_TYPES)
def test_each_rule_form_round_trips_a_condition_the_sidecar_accepts(qtbot: Any, rule_type: str) -> None:
    editor = RuleEditor()
    qtbot.addWidget(editor)
    rule = schemas.RuleDetail.from_json({**RULE, "ruleType": rule_type, "condition": CONDITIONS[rule_type]})
    editor.set_rule(rule)
    assert editor.stack.currentWidget() is editor.forms[rule_type] and not editor.rule_type.isEnabled()
    body = editor.body()
    assert body["condition"] == validate_rule(rule_type, CONDITIONS[rule_type])
    assert (body["name"], body["ruleType"], body["severity"], body["redaction"]) == ("SSN", rule_type, "critical", "mask")
    editor.set_rule(None, new_type=rule_type)  # a new rule starts from a valid default
    assert editor.body()["condition"] == validate_rule(rule_type, rc.default_condition(rule_type))


def test_the_pii_form_offers_every_detector_of_the_sidecar(qtbot: Any) -> None:
    """A detector the form lacks would be dropped from a rule when the rule is edited."""
    assert sorted(rc.DETECTORS) == sorted(DETECTOR_IDS)
    editor = RuleEditor()
    qtbot.addWidget(editor)
    condition = {"patterns": list(DETECTOR_IDS)}
    editor.set_rule(schemas.RuleDetail.from_json({**RULE, "condition": condition}))
    assert editor.body()["condition"] == condition


def test_metadata_values_are_typed_like_json() -> None:
    assert [rc.parse_value(v) for v in ("4000", "2.5", "true", "null", "gpt-4o", "nan", "")] == \
        [4000, 2.5, True, None, "gpt-4o", "nan", ""]


def test_the_tester_debounces_typing_and_shows_only_the_newest_answer(qtbot: Any, client: SidecarClient,
                                                                     seeded: Seeded) -> None:
    tester = RuleTester(client, delay_ms=150)
    tester.set_rule({"name": "words", "ruleType": "keyword_match", "condition": {"keywords": ["refund"]},
                     "severity": "warning", "actionOverride": "flag"})
    results: list[Any] = []
    tester.result.connect(results.append)
    text = ""
    for char in "please refund me":
        text += char
        tester.set_text(text)
    qtbot.waitUntil(lambda: len(results) == 1, timeout=10_000)
    assert tester.sent == 1  # one request for the whole burst of keystrokes
    [violation] = results[0].violations
    assert (violation.name, violation.matches[0].start, violation.matches[0].end) == ("words", 7, 13)

    tester.set_text("first text with refund")
    tester.run_now()
    tester.set_text("second text, nothing")
    tester.run_now()  # sent before the first answered: the first answer is dropped
    qtbot.waitUntil(lambda: len(results) == 2 and tester.last is not None, timeout=10_000)
    qtbot.wait(300)
    assert len(results) == 2 and results[1].violations == () and results[1].action == "allow"

    failures: list[str] = []
    tester.failed.connect(failures.append)
    tester.set_rule({"name": "bad", "ruleType": "regex_match", "condition": {"pattern": "(a)\\1"}})
    qtbot.waitUntil(lambda: bool(failures), timeout=10_000)
    assert failures[0].startswith("Cannot test this rule: rule.condition.pattern: the linear-time regex engine")
    headers = {"Authorization": f"Bearer {token_for(seeded.url, seeded.email, seeded.password)}"}
    before = http(f"{seeded.url}/api/v1/audit-logs?limit=1", headers=headers)[1]["pagination"]["total"]
    wait_call(qtbot, client.evaluate(prompt="refund", rule={"ruleType": "prompt_injection", "condition": {}}))
    assert http(f"{seeded.url}/api/v1/audit-logs?limit=1", headers=headers)[1]["pagination"]["total"] == before


def test_a_new_rule_switches_form_and_default_when_its_type_changes(qtbot: Any) -> None:
    editor = RuleEditor()
    qtbot.addWidget(editor)
    editor.set_rule(None, new_type="keyword_match")
    assert editor.rule_type.isEnabled() and editor.name.text() == "New keywords rule"
    editor.rule_type.setCurrentIndex(editor.rule_type.findData("metadata_match"))
    assert editor.stack.currentWidget() is editor.forms["metadata_match"]
    assert editor.name.text() == "New metadata value rule"
    assert editor.body()["condition"] == {"key": "model", "operator": "eq", "value": "gpt-4o"}
    editor.name.setText("Big prompts")
    editor.rule_type.setCurrentIndex(editor.rule_type.findData("rate_limit"))
    assert editor.name.text() == "Big prompts"  # a name the user typed stays


def test_the_test_box_says_when_a_dry_run_cannot_trip_the_rule(qtbot: Any, client: SidecarClient) -> None:
    from desktop.views.rule_test_box import RuleTestBox

    tester = RuleTester(client, delay_ms=50)
    box = RuleTestBox(tester)
    qtbot.addWidget(box)
    tester.set_rule({"name": "burst", "ruleType": "rate_limit", "condition": rc.default_condition("rate_limit")})
    with qtbot.waitSignal(tester.result, timeout=10_000):
        box.text.setPlainText("hello")
    assert box.findings.text() == "A rate limit counts events over time; a dry run of one text cannot trip it."
    tester.set_rule({"name": "words", "ruleType": "keyword_match", "condition": {"keywords": ["zebra"]}})
    with qtbot.waitSignal(tester.result, timeout=10_000):
        pass
    assert box.findings.text() == "No findings: this text passes the rule." and box.verdict.text() == "allow"
