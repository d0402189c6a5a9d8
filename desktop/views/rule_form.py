"""The rule editor: common fields (name, type, severity, action, redaction, on/off) and a form per rule type."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.api import schemas
from desktop.models import rule_conditions as rc
from desktop.widgets.cards import label

ACTIONS = {"policy mode": None, "block": "block", "flag": "flag", "log": "log", "allow": "allow"}


class _TypeForm(QWidget):
    """One rule type's condition fields. ``changed`` fires on any edit."""

    changed = Signal()

    def condition(self) -> dict[str, Any]:
        """The condition as the sidecar takes it (each subclass builds its own)."""
        raise NotImplementedError(type(self).__name__)

    def set_condition(self, condition: dict[str, Any]) -> None:
        """Show ``condition`` (each subclass fills its own fields)."""
        raise NotImplementedError(type(self).__name__)

    def _form(self) -> QFormLayout:
        """A form layout at the top of this widget (rows keep their height; the space left stays below)."""
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        outer.addLayout(form)
        outer.addStretch(1)
        return form


class PiiForm(_TypeForm):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        hint = label("Detectors confirm each match (Luhn, mod-97, check digits, context words).", "muted")
        hint.setWordWrap(True)
        outer.addWidget(hint)
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(1)
        self.boxes: dict[str, QCheckBox] = {}
        self._order: list[str] = []
        top = 0
        for n, (group, ids) in enumerate(rc.DETECTOR_GROUPS):
            column = n % 3
            if n and column == 0:
                top += 1 + max(len(g) for _, g in rc.DETECTOR_GROUPS[n - 3:n])
            grid.addWidget(label(group, "section"), top, column)
            for row, detector in enumerate(ids, start=1):
                box = QCheckBox(detector)
                box.toggled.connect(self.changed)
                self.boxes[detector] = box
                grid.addWidget(box, top + row, column)
        grid.setColumnStretch(3, 1)
        outer.addLayout(grid)
        outer.addStretch(1)

    def condition(self) -> dict[str, Any]:
        """The rule's detectors in their saved order, then newly ticked ones (so an edit diffs cleanly)."""
        kept = [d for d in self._order if d in self.boxes and self.boxes[d].isChecked()]
        return {"patterns": kept + [d for d in rc.DETECTORS if self.boxes[d].isChecked() and d not in kept]}

    def set_condition(self, condition: dict[str, Any]) -> None:
        self._order = [str(d) for d in condition.get("patterns") or []]
        for detector, box in self.boxes.items():
            box.setChecked(detector in self._order)


class KeywordForm(_TypeForm):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = self._form()
        self.keywords = QPlainTextEdit()
        self.keywords.setPlaceholderText("one keyword or phrase per line")
        self.keywords.setFixedHeight(90)
        self.whole_word = QCheckBox("Whole words only")
        self.case_sensitive = QCheckBox("Case-sensitive")
        form.addRow("Keywords", self.keywords)
        form.addRow("", self.whole_word)
        form.addRow("", self.case_sensitive)
        self.keywords.textChanged.connect(self.changed)
        self.whole_word.toggled.connect(self.changed)
        self.case_sensitive.toggled.connect(self.changed)

    def condition(self) -> dict[str, Any]:
        words = [line.strip() for line in self.keywords.toPlainText().splitlines() if line.strip()]
        return {"keywords": words, "wholeWord": self.whole_word.isChecked(),
                "caseSensitive": self.case_sensitive.isChecked()}

    def set_condition(self, condition: dict[str, Any]) -> None:
        self.keywords.setPlainText("\n".join(condition.get("keywords") or []))
        self.whole_word.setChecked(bool(condition.get("wholeWord", True)))
        self.case_sensitive.setChecked(bool(condition.get("caseSensitive", False)))


class RegexForm(_TypeForm):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = self._form()
        self.pattern = QLineEdit()
        self.pattern.setFont(theme.mono_font(9.5))
        self.pattern.setPlaceholderText(r"e.g. \bPROJ-\d{4}\b  (linear-time engine: no backreferences)")
        flags = QVBoxLayout()
        self.flags = {flag: QCheckBox(text) for flag, text in
                      (("i", "ignore case (i)"), ("m", "multi-line (m)"), ("s", "dot matches newline (s)"))}
        for box in self.flags.values():
            flags.addWidget(box)
            box.toggled.connect(self.changed)
        form.addRow("Pattern", self.pattern)
        form.addRow("Flags", flags)
        self.pattern.textChanged.connect(self.changed)

    def condition(self) -> dict[str, Any]:
        return {"pattern": self.pattern.text(), "flags": "".join(f for f, box in self.flags.items() if box.isChecked())}

    def set_condition(self, condition: dict[str, Any]) -> None:
        self.pattern.setText(str(condition.get("pattern") or ""))
        flags = str(condition.get("flags") or "")
        for flag, box in self.flags.items():
            box.setChecked(flag in flags)


class MetadataForm(_TypeForm):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = self._form()
        self.key = QLineEdit()
        self.key.setPlaceholderText("dotted path, e.g. model or user.tier or items[0]")
        self.operator = QComboBox()
        for op, text in rc.METADATA_OPERATORS.items():
            self.operator.addItem(f"{text}  ({op})", op)
        self.value = QLineEdit()
        self.value.setPlaceholderText("text, or a number / true / false")
        form.addRow("Key", self.key)
        form.addRow("Operator", self.operator)
        form.addRow("Value", self.value)
        self.key.textChanged.connect(self.changed)
        self.operator.currentIndexChanged.connect(self.changed)
        self.value.textChanged.connect(self.changed)

    def condition(self) -> dict[str, Any]:
        return {"key": self.key.text().strip(), "operator": self.operator.currentData(),
                "value": rc.parse_value(self.value.text())}

    def set_condition(self, condition: dict[str, Any]) -> None:
        self.key.setText(str(condition.get("key") or ""))
        self.operator.setCurrentIndex(max(0, self.operator.findData(condition.get("operator") or "eq")))
        self.value.setText(rc.format_value(condition.get("value", "")))


class RateForm(_TypeForm):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = self._form()
        self.max_requests = QSpinBox()
        self.max_requests.setRange(1, 1_000_000)
        self.window = QDoubleSpinBox()
        self.window.setRange(0.1, 44_640)
        self.window.setDecimals(1)
        self.window.setSuffix(" min")
        self.per = QComboBox()
        self.per.addItem("each agent", "agent")
        self.per.addItem("the whole organisation", "organization")
        form.addRow("At most", self.max_requests)
        form.addRow("events in", self.window)
        form.addRow("for", self.per)
        self.max_requests.valueChanged.connect(self.changed)
        self.window.valueChanged.connect(self.changed)
        self.per.currentIndexChanged.connect(self.changed)

    def condition(self) -> dict[str, Any]:
        window = self.window.value()
        return {"maxRequests": self.max_requests.value(),
                "windowMinutes": int(window) if window.is_integer() else window, "per": self.per.currentData()}

    def set_condition(self, condition: dict[str, Any]) -> None:
        self.max_requests.setValue(int(condition.get("maxRequests") or 100))
        self.window.setValue(float(condition.get("windowMinutes") or 60))
        self.per.setCurrentIndex(max(0, self.per.findData(condition.get("per") or "agent")))


class SentimentForm(_TypeForm):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = self._form()
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.01, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        form.addRow("Flag at or below  −", self.threshold)
        scale = label("The score runs from −1 (hostile) to +1 (warm).", "muted")
        scale.setWordWrap(True)
        form.addRow("", scale)
        self.threshold.valueChanged.connect(self.changed)

    def condition(self) -> dict[str, Any]:
        return {"threshold": round(self.threshold.value(), 2)}

    def set_condition(self, condition: dict[str, Any]) -> None:
        self.threshold.setValue(float(condition.get("threshold") or 0.5))


class InjectionForm(_TypeForm):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        text = label("Flags text that tries to override the agent's instructions (“ignore all previous "
                     "instructions”, role-play jailbreaks, requests for the system prompt). No settings.", "muted")
        text.setWordWrap(True)
        layout.addWidget(text)
        layout.addStretch(1)

    def condition(self) -> dict[str, Any]:
        return {}

    def set_condition(self, condition: dict[str, Any]) -> None:
        return None


FORMS: dict[str, type[_TypeForm]] = {
    "pii_detect": PiiForm, "keyword_match": KeywordForm, "regex_match": RegexForm, "metadata_match": MetadataForm,
    "rate_limit": RateForm, "sentiment_analysis": SentimentForm, "prompt_injection": InjectionForm,
}


class RuleEditor(QWidget):
    """Edits one rule. ``body()`` is the request body for the sidecar; ``changed`` fires on any edit.

    Signals:
        changed(): a field changed (the tester follows it).
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rule_id: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        common = QGridLayout()
        common.setHorizontalSpacing(8)
        self.name = QLineEdit()
        self.rule_type = QComboBox()
        for rule_type in schemas.RULE_TYPES:
            self.rule_type.addItem(rc.TYPE_LABELS[rule_type], rule_type)
        self.severity = QComboBox()
        for severity in ("info", "warning", "critical"):
            self.severity.addItem(severity, severity)
        self.action = QComboBox()
        for text, value in ACTIONS.items():
            self.action.addItem(text, value)
        self.redaction = QComboBox()
        for value in schemas.REDACTIONS:
            self.redaction.addItem({"none": "as is", "mask": "masked", "hash": "hashed"}[value], value)
        self.action.setToolTip("What a violation does: the policy's mode, or an override")
        self.redaction.setToolTip("How matched values are stored with the event")
        self.active = QCheckBox("On")
        for combo in (self.rule_type, self.severity, self.action, self.redaction):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        # three rows of label and field pairs, so that a narrow pane shows every choice whole:
        # name and on/off; type and severity; action and how matches are stored
        common.addWidget(label("Name", "muted"), 0, 0)
        common.addWidget(self.name, 0, 1, 1, 3)
        common.addWidget(self.active, 0, 4)
        for row, pairs in ((1, (("Type", self.rule_type), ("Severity", self.severity))),
                           (2, (("Action", self.action), ("Stored as", self.redaction)))):
            for n, (text, widget) in enumerate(pairs):
                common.addWidget(label(text, "muted"), row, 2 * n)
                common.addWidget(widget, row, 2 * n + 1, 1, 2 if n else 1)
        common.setColumnStretch(1, 1)
        common.setColumnStretch(3, 1)
        layout.addLayout(common)
        self.forms: dict[str, _TypeForm] = {}
        self.stack = QStackedWidget()
        for rule_type in schemas.RULE_TYPES:
            form = FORMS[rule_type]()
            form.changed.connect(self.changed)
            self.forms[rule_type] = form
            self.stack.addWidget(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.stack)
        layout.addWidget(scroll, 1)
        self.rule_type.currentIndexChanged.connect(self._type_changed)
        self.name.textChanged.connect(self.changed)
        for combo in (self.severity, self.action, self.redaction):
            combo.currentIndexChanged.connect(self.changed)
        self.active.toggled.connect(self.changed)

    @property
    def form(self) -> _TypeForm:
        return self.forms[self.rule_type.currentData()]

    def _type_changed(self, _index: int) -> None:
        self.stack.setCurrentWidget(self.form)
        if self.rule_id is None and self.name.text() in {_new_name(t) for t in schemas.RULE_TYPES}:
            self.name.setText(_new_name(self.rule_type.currentData()))
        self.changed.emit()

    def set_rule(self, rule: schemas.RuleDetail | None, *, new_type: str = "keyword_match") -> None:
        """Fill the form from ``rule``, or with a fresh rule of ``new_type`` when it is None."""
        self.blockSignals(True)
        self.rule_id = rule.id if rule else None
        rule_type = rule.rule_type if rule else new_type
        self.name.setText(rule.name if rule else _new_name(rule_type))
        self.rule_type.setCurrentIndex(max(0, self.rule_type.findData(rule_type)))
        self.rule_type.setEnabled(rule is None)  # the type of a saved rule stays; make a new rule instead
        self.severity.setCurrentIndex(max(0, self.severity.findData(rule.severity if rule else "warning")))
        self.action.setCurrentIndex(max(0, self.action.findData(rule.action_override if rule else None)))
        self.redaction.setCurrentIndex(max(0, self.redaction.findData(rule.redaction if rule else "none")))
        self.active.setChecked(rule.is_active if rule else True)
        for form_type, form in self.forms.items():
            form.set_condition(rc.default_condition(form_type))
        self.form.set_condition(rule.condition if rule else rc.default_condition(rule_type))
        self.stack.setCurrentWidget(self.form)
        self.blockSignals(False)
        self.changed.emit()

    def body(self) -> dict[str, Any]:
        return {"name": self.name.text().strip(), "ruleType": self.rule_type.currentData(),
                "condition": self.form.condition(), "severity": self.severity.currentData(),
                "actionOverride": self.action.currentData(), "redaction": self.redaction.currentData(),
                "isActive": self.active.isChecked()}

    def set_read_only(self, read_only: bool) -> None:
        for widget in (self.name, self.severity, self.action, self.redaction, self.active, self.stack):
            widget.setEnabled(not read_only)
        self.rule_type.setEnabled(not read_only and self.rule_id is None)


def _new_name(rule_type: str) -> str:
    return f"New {rc.TYPE_LABELS[rule_type].lower()} rule"
