"""The detail pane of one event: header, prompt and response with matched spans highlighted, the verdict,
metadata as a JSON tree, and the chain fields (sequence, hash). Every event string is shown as plain text."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedLayout,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.api import schemas
from desktop.models import timefmt
from desktop.presenters.logs import event_as_json
from desktop.widgets.cards import ElidedLabel, label
from desktop.widgets.json_view import JsonView
from desktop.widgets.pills import Pill
from desktop.widgets.text_view import HighlightedText

VERDICT_TEXT = {
    "allow": "Allowed: no rule matched.",
    "log": "Logged: a rule matched; recorded on the event, no alert.",
    "flag": "Flagged: a rule matched and raised an alert.",
    "block": "Blocked: a blocking rule matched. The agent was told to stop; the event is stored either way.",
}


REDACTION = re.compile(r"\[(?:REDACTED:[a-z0-9_]+|HASH:[0-9a-f]{16})\]")


def spans_for(event: schemas.LogEvent, field: str) -> list[tuple[int, int]]:
    """The character spans of ``field`` (``prompt`` or ``response``) to highlight.

    Match offsets count in the text as the agent sent it. When the sidecar redacted matched values before
    storing them (``[REDACTED:ssn]``, ``[HASH:…]``), those offsets no longer fit the stored text, so the
    redaction markers are highlighted instead.
    """
    text = (event.prompt if field == "prompt" else event.response) or ""
    redacted = [(m.start(), m.end()) for m in REDACTION.finditer(text)]
    if redacted:
        return redacted
    return sorted({(m.start, m.end) for v in event.violations for m in v.matches if m.field == field})


def _value(text: str = "", *, mono: bool = False) -> QLabel:
    widget = label(text)
    widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    widget.setWordWrap(True)
    if mono:
        widget.setFont(theme.mono_font(8.5))
    return widget


class EventDetail(QWidget):
    """Signals:
        show_trace(str): the user asked for every event of this event's trace.
        open_in_visualizer(str, str): the user asked for the trace visualizer: trace id, this event's id.
    """

    show_trace = Signal(str)
    open_in_visualizer = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.current: schemas.LogEvent | None = None
        self._stack = QStackedLayout(self)
        empty = label("Select an event to see its prompt, response, verdict and metadata.", "empty")
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty.setWordWrap(True)
        self._stack.addWidget(empty)
        self.message = empty

        page = QFrame()
        page.setProperty("role", "card")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        head = QHBoxLayout()
        self.action = ElidedLabel("", "section")
        self.action.setStyleSheet("font-size: 12.5pt; font-weight: 600;")
        self.verdict = Pill()
        head.addWidget(self.action)
        head.addWidget(self.verdict)
        head.addStretch(1)
        self.copy_json = QPushButton("Copy JSON")
        self.copy_json.clicked.connect(self._copy_json)
        self.trace_button = QPushButton("Show trace")
        self.trace_button.clicked.connect(lambda: self.current and self.show_trace.emit(self.current.trace_id or ""))
        head.addWidget(self.copy_json)
        head.addWidget(self.trace_button)
        layout.addLayout(head)

        facts = QGridLayout()
        facts.setHorizontalSpacing(12)
        facts.setVerticalSpacing(3)
        self.facts: dict[str, QLabel] = {}
        # short values in pairs; ids (26 characters in a monospace font) on rows of their own
        places = {"Time": (0, 0, 1), "Agent": (0, 2, 1), "Duration": (1, 0, 1), "Trace": (1, 2, 1),
                  "Event id": (2, 0, 3), "Span": (3, 0, 3)}
        for name, (row, column, span) in places.items():
            if name == "Trace":  # beside the agent, a long trace id gives way (whole in its tooltip)
                value: QLabel = ElidedLabel(mode=Qt.TextElideMode.ElideMiddle)
                value.setFont(theme.mono_font(8.5))
            else:
                value = _value(mono=name in ("Event id", "Span"))
            self.facts[name] = value
            facts.addWidget(label(name, "muted"), row, column)
            facts.addWidget(value, row, column + 1, 1, span)
        facts.setColumnStretch(1, 1)
        facts.setColumnStretch(3, 1)
        self.visualize_button = QPushButton("Open in trace visualizer ›")
        self.visualize_button.setFlat(True)
        self.visualize_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.visualize_button.setStyleSheet("QPushButton { border: none; padding: 0; color: #3b5bdb; "
                                            "text-align: left; } QPushButton:disabled { color: #a0a6ae; }")
        self.visualize_button.setToolTip("The span tree and timeline of this event's trace, with this event selected")
        self.visualize_button.clicked.connect(self._visualize)
        facts.addWidget(self.visualize_button, 4, 1, 1, 3, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(facts)

        self.verdict_text = label("")
        self.verdict_text.setWordWrap(True)
        layout.addWidget(self.verdict_text)

        self.tabs = QTabWidget()
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(8, 8, 8, 8)
        content_layout.addWidget(label("Prompt", "muted"))
        self.prompt = HighlightedText()
        content_layout.addWidget(self.prompt, 3)
        content_layout.addWidget(label("Response", "muted"))
        self.response = HighlightedText()
        content_layout.addWidget(self.response, 2)
        self.tabs.addTab(content, "Content")

        violations = QWidget()
        violations_layout = QVBoxLayout(violations)
        violations_layout.setContentsMargins(8, 8, 8, 8)
        self.violations = HighlightedText()
        self.violations.setFont(theme.mono_font(8.5))
        violations_layout.addWidget(self.violations)
        self.tabs.addTab(violations, "Verdict")

        self.metadata = JsonView()
        self.tabs.addTab(self.metadata, "Metadata")

        chain = QWidget()
        chain_layout = QGridLayout(chain)
        chain_layout.setContentsMargins(10, 10, 10, 10)
        self.sequence = _value(mono=True)
        self.hash = ElidedLabel(mode=Qt.TextElideMode.ElideMiddle)  # 64 hex digits: "Copy hash" has them all
        self.hash.setFont(theme.mono_font(8.5))
        self.parent_span = _value(mono=True)
        chain_layout.addWidget(label("Sequence", "muted"), 0, 0)
        chain_layout.addWidget(self.sequence, 0, 1)
        chain_layout.addWidget(label("Hash", "muted"), 1, 0)
        chain_layout.addWidget(self.hash, 1, 1)
        chain_layout.addWidget(label("Parent span", "muted"), 2, 0)
        chain_layout.addWidget(self.parent_span, 2, 1)
        copy_hash = QPushButton("Copy hash")
        copy_hash.clicked.connect(lambda: self.current and QGuiApplication.clipboard().setText(self.current.hash))
        chain_layout.addWidget(copy_hash, 3, 1, Qt.AlignmentFlag.AlignLeft)
        note = label("Each event's hash covers the previous hash and the event itself: "
                     "`agentaudit verify` re-walks the chain.", "muted")
        note.setWordWrap(True)
        chain_layout.addWidget(note, 4, 0, 1, 2)
        chain_layout.setRowStretch(5, 1)
        chain_layout.setColumnStretch(1, 1)
        self.tabs.addTab(chain, "Integrity")
        layout.addWidget(self.tabs, 1)
        self._stack.addWidget(page)

    def show_message(self, text: str) -> None:
        self.current = None
        self.message.setText(text)
        self._stack.setCurrentIndex(0)

    def show_event(self, event: schemas.LogEvent | None) -> None:
        if event is None:
            self.show_message("Select an event to see its prompt, response, verdict and metadata.")
            return
        self.current = event
        self.action.setText(event.action)
        self.verdict.set(event.enforcement_action, theme.VERDICT.get(event.enforcement_action, theme.MUTED))
        self.facts["Time"].setText(timefmt.local(event.created_at))
        self.facts["Agent"].setText(event.agent_id or "—")
        self.facts["Trace"].setText(event.trace_id or "—")
        self.facts["Event id"].setText(event.id)
        self.facts["Span"].setText(event.span_id or "—")
        duration = event.duration_ms
        self.facts["Duration"].setText(f"{duration:,} ms" if duration is not None else "—")
        self.trace_button.setEnabled(bool(event.trace_id))
        self.visualize_button.setEnabled(bool(event.trace_id))
        count = len(event.violations) or len(event.compliance_flags)
        summary = VERDICT_TEXT.get(event.enforcement_action, event.enforcement_action)
        if count:
            summary += f"  {count} violation{'s' if count != 1 else ''}; matched text is highlighted"
            redacted = REDACTION.search(event.prompt or "") or REDACTION.search(event.response or "")
            summary += " (values were redacted before storage)." if redacted else "."
        self.verdict_text.setText(summary)
        self.prompt.set_text(event.prompt, spans_for(event, "prompt"), empty="(no prompt)")
        self.response.set_text(event.response, spans_for(event, "response"), empty="(no response)")
        self.violations.set_text(self._violations_text(event), empty="No rule matched this event.")
        self.tabs.setTabText(1, f"Verdict ({count})" if count else "Verdict")
        self.metadata.set_value(event.metadata)
        self.sequence.setText(f"{event.sequence:,}")
        self.hash.setText(event.hash)
        self.parent_span.setText(event.parent_span_id or "— (a root span)")
        self._stack.setCurrentIndex(1)

    @staticmethod
    def _violations_text(event: schemas.LogEvent) -> str:
        lines: list[str] = []
        for v in event.violations:
            lines.append(f"{v.severity.upper():<9} {v.name}  [{v.rule_type}, action {v.action}]")
            for m in v.matches:
                lines.append(f"          {m.field} characters {m.start}-{m.end}  ({m.detector})")
        if not lines and event.compliance_flags:
            lines = list(event.compliance_flags)
        return "\n".join(lines)

    def _visualize(self) -> None:
        if self.current is not None and self.current.trace_id:
            self.open_in_visualizer.emit(self.current.trace_id, self.current.id)

    def _copy_json(self) -> None:
        if self.current is not None:
            QGuiApplication.clipboard().setText(event_as_json(self.current))
