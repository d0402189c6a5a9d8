"""The live "test this rule" box: text typed here goes, with the rule being edited, through the sidecar's dry
run; the verdict and each finding are shown and the matched spans marked in the text."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QTextEdit, QVBoxLayout, QWidget

from desktop import theme
from desktop.api import schemas
from desktop.models import rule_conditions as rc
from desktop.presenters.rule_tester import RuleTester
from desktop.widgets.cards import label
from desktop.widgets.pills import Pill


class RuleTestBox(QWidget):
    """Type text; after a pause the sidecar says what the rule would find in it (nothing is stored)."""

    def __init__(self, tester: RuleTester, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tester = tester
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(label("Test this rule", "section"))
        head.addStretch(1)
        self.verdict = Pill()
        head.addWidget(self.verdict)
        layout.addLayout(head)
        self.text = QTextEdit()
        self.text.setAcceptRichText(False)
        self.text.setPlaceholderText("Paste a prompt or response here. Matches are highlighted as you type; "
                                     "for a metadata rule, type a JSON object.")
        self.text.setMinimumHeight(90)
        layout.addWidget(self.text, 1)
        self.findings = QLabel("")
        self.findings.setTextFormat(Qt.TextFormat.PlainText)
        self.findings.setWordWrap(True)
        self.findings.setProperty("role", "muted")
        layout.addWidget(self.findings)
        self.text.textChanged.connect(lambda: tester.set_text(self.text.toPlainText()))
        tester.result.connect(self._show)
        tester.failed.connect(self._refused)
        tester.running.connect(self._running)

    def _running(self, running: bool) -> None:
        if running:
            self.findings.setText("Testing…")

    def _refused(self, message: str) -> None:
        self.verdict.set("", theme.MUTED)
        self.findings.setText(message)
        self._highlight([])

    def _show(self, verdict: schemas.Verdict | None) -> None:
        if verdict is None:
            self.verdict.set("", theme.MUTED)
            self.findings.setText("Type some text to see what this rule finds in it.")
            self._highlight([])
            return
        self.verdict.set(verdict.action, theme.VERDICT.get(verdict.action, theme.MUTED))
        if not verdict.violations:
            rule_type = self.tester.rule_type
            self.findings.setText(
                "No findings: this text passes the rule." if rule_type in rc.TEXT_TESTABLE + ("metadata_match",)
                else "A rate limit counts events over time; a dry run of one text cannot trip it.")
            self._highlight([])
            return
        lines, spans = [], []
        for violation in verdict.violations:
            where = ", ".join(f"{m.detector or m.field} at {m.start}–{m.end}" for m in violation.matches)
            lines.append(f"{violation.severity.upper()} · {violation.name} → {violation.action}"
                         + (f"  ({where})" if where else ""))
            spans.extend((m.start, m.end) for m in violation.matches if m.field == "prompt")
        self.findings.setText("\n".join(lines))
        self._highlight(spans)

    def _highlight(self, spans: list[tuple[int, int]]) -> None:
        selections = []
        for start, end in spans:
            selection = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.text.document())
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor  # type: ignore[attr-defined]
            fmt = QTextCharFormat()
            fmt.setBackground(QColor("#ffd8a8"))
            selection.format = fmt  # type: ignore[attr-defined]
            selections.append(selection)
        self.text.setExtraSelections(selections)
