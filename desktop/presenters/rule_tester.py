"""The live "test this rule" box: text and the rule being edited go to ``POST /compliance/evaluate`` (a dry run,
nothing stored) a short while after the last keystroke; only the newest answer is shown."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.api import schemas
from desktop.api.client import Call, SidecarClient
from desktop.api.errors import ApiError

DEBOUNCE_MS = 350


class RuleTester(QObject):
    """Signals:
        result(object): a :class:`schemas.Verdict` for the current text and rule, or None when there is nothing
            to test.
        failed(str): the sidecar refused the test (an invalid rule says which field).
        running(bool): a test is waiting for its answer.
    """

    result = Signal(object)
    failed = Signal(str)
    running = Signal(bool)

    def __init__(self, client: SidecarClient, *, delay_ms: int = DEBOUNCE_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._text = ""
        self._rule: dict[str, Any] | None = None
        self._pending: Call | None = None
        self.last: schemas.Verdict | None = None
        self.sent = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.run_now)

    @property
    def text(self) -> str:
        return self._text

    @property
    def rule_type(self) -> str | None:
        return str(self._rule.get("ruleType")) if self._rule else None

    def set_text(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self._timer.start()

    def set_rule(self, rule: Mapping[str, Any] | None) -> None:
        """The rule as its request body (``ruleType``, ``condition``, ``severity``...), or None."""
        rule = dict(rule) if rule is not None else None
        if rule != self._rule:
            self._rule = rule
            self._timer.start()

    def run_now(self) -> None:
        self._timer.stop()
        if self._rule is None or not self._text.strip():
            self._pending = None
            self.last = None
            self.running.emit(False)
            self.result.emit(None)
            return
        prompt, metadata = self._text, None
        if self._rule.get("ruleType") == "metadata_match":
            metadata = _json_object(self._text)
        self.sent += 1
        call = self._client.evaluate(prompt=prompt if metadata is None else "", metadata=metadata, rule=self._rule)
        self._pending = call
        call.done.connect(self._answered)
        call.failed.connect(self._refused)
        self.running.emit(True)

    def _answered(self, verdict: schemas.Verdict) -> None:
        if self.sender() is not self._pending:
            return  # an older test answered after a newer one was sent
        self._pending = None
        self.last = verdict
        self.running.emit(False)
        self.result.emit(verdict)

    def _refused(self, error: ApiError) -> None:
        if self.sender() is not self._pending:
            return
        self._pending = None
        self.running.emit(False)
        detail = "; ".join(f"{d.field}: {d.message}" for d in error.details) if error.details else error.message
        self.failed.emit(f"Cannot test this rule: {detail}")


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
