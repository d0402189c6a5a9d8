"""The log explorer's state: the filter, the lazy table, the selected event, export and the new-events count."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop.api import schemas
from desktop.api.client import Call, SidecarClient
from desktop.api.errors import ApiError
from desktop.models.logs import LogTableModel

TIME_WINDOWS: dict[str, timedelta | None] = {
    "Any time": None,
    "Last hour": timedelta(hours=1),
    "Last 24 hours": timedelta(hours=24),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
}
VERDICTS: dict[str, tuple[str | None, bool | None]] = {
    "Any verdict": (None, None),
    "Flagged (any violation)": (None, True),
    "Clean": (None, False),
    "Blocked": ("block", None),
    "Flag": ("flag", None),
    "Log only": ("log", None),
    "Allowed": ("allow", None),
}


@dataclass(frozen=True, slots=True)
class FilterForm:
    """What the filter bar holds, as the user typed it."""

    agent: str = ""
    action: str = ""
    trace: str = ""
    verdict: str = "Any verdict"
    window: str = "Any time"
    text: str = ""

    def to_filter(self, now: datetime) -> schemas.LogFilter:
        enforcement, flagged = VERDICTS.get(self.verdict, (None, None))
        span = TIME_WINDOWS.get(self.window)
        return schemas.LogFilter(
            agent_id=self.agent.strip() or None, action=self.action.strip() or None,
            trace_id=self.trace.strip() or None, enforcement=enforcement, flagged=flagged,
            start=now - span if span else None, text=self.text.strip() or None,
        )


def event_as_json(event: schemas.LogEvent) -> str:
    """The event as pretty JSON with the wire's field names, for the clipboard."""
    def time(value: datetime | None) -> str | None:
        return schemas.format_time(value) if value else None
    data: dict[str, Any] = {
        "id": event.id, "sequence": event.sequence, "createdAt": time(event.created_at), "action": event.action,
        "agentId": event.agent_id, "traceId": event.trace_id, "spanId": event.span_id,
        "parentSpanId": event.parent_span_id, "startedAt": time(event.started_at), "endedAt": time(event.ended_at),
        "prompt": event.prompt, "response": event.response, "metadata": event.metadata,
        "complianceFlags": list(event.compliance_flags), "enforcementAction": event.enforcement_action,
        "violationDetails": [
            {"ruleId": v.rule_id, "policyId": v.policy_id, "name": v.name, "ruleType": v.rule_type,
             "severity": v.severity, "action": v.action,
             "matches": [{"field": m.field, "start": m.start, "end": m.end, "detector": m.detector} for m in v.matches]}
            for v in event.violations
        ] or None,
        "hash": event.hash,
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


class LogExplorerPresenter(QObject):
    """Signals:
        form_changed(object): the :class:`FilterForm` now applied (also when set from elsewhere, e.g. a jump).
        event_loaded(object): the full :class:`schemas.LogEvent` for the detail pane, or None to clear it.
        event_failed(object): an :class:`ApiError` loading it.
        new_events(int): how many events arrived live since the table was loaded.
        export_finished(str): the path written.
        export_failed(object): an :class:`ApiError`.
    """

    form_changed = Signal(object)
    event_loaded = Signal(object)
    event_failed = Signal(object)
    new_events = Signal(int)
    export_finished = Signal(str)
    export_failed = Signal(object)

    def __init__(self, client: SidecarClient, *, page_size: int = 200, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self.model = LogTableModel(client, page_size=page_size, parent=self)
        self.form = FilterForm()
        self.current_event: schemas.LogEvent | None = None
        self._loading: Call | None = None
        self._export: Call | None = None
        self._new = 0
        self._recheck: str | None = None  # the event shown when the filter changed, until the list answers
        self.model.loading_changed.connect(self._list_loaded)

    @property
    def exporting(self) -> bool:
        return self._export is not None

    def apply(self, form: FilterForm) -> None:
        """Filter the table by ``form`` (the time window counts back from now)."""
        self.form = form
        self._new = 0
        self.new_events.emit(0)
        self.model.set_filter(form.to_filter(datetime.now(UTC)))
        # the event in the detail pane stays only if the new list shows it (see _list_loaded)
        self._recheck = self.current_event.id if self.current_event is not None else None
        self.form_changed.emit(form)

    def refresh(self) -> None:
        self.apply(self.form)

    def show_trace(self, trace_id: str) -> None:
        """Jump: every event of one trace."""
        self.apply(FilterForm(trace=trace_id))

    def open_event(self, event_id: str) -> None:
        """Load one event into the detail pane (a row click, or a jump from an alert)."""
        self._recheck = None  # asked for by name (a row, a jump): shown whether or not the list has it
        if self.current_event is not None and self.current_event.id == event_id:
            self.event_loaded.emit(self.current_event)
            return
        call = self._client.get_log(event_id)
        self._loading = call
        call.done.connect(self._loaded)
        call.failed.connect(self._load_failed)

    def clear_event(self) -> None:
        self.current_event = None
        self.event_loaded.emit(None)

    def _list_loaded(self, loading: bool) -> None:
        """After a filter change, drop the event in the detail pane when the new list does not show it, so the
        pane never shows an event the search no longer matches."""
        if loading or self._recheck is None or self.model.error is not None:
            return
        event_id, self._recheck = self._recheck, None
        if self.model.row_of(event_id) < 0 and self.current_event is not None and self.current_event.id == event_id:
            self.clear_event()

    def _loaded(self, event: schemas.LogEvent) -> None:
        if self.sender() is self._loading:  # not an answer for an event the user has since left
            self._loading = None
            self.current_event = event
            self.event_loaded.emit(event)

    def _load_failed(self, error: ApiError) -> None:
        if self.sender() is self._loading:
            self._loading = None
            self.event_failed.emit(error)

    def on_log(self, _event: schemas.LogEvent) -> None:
        """A new event arrived live; the table is left still and a count offers to show them."""
        self._new += 1
        self.new_events.emit(self._new)

    def export(self, fmt: str, destination: Path) -> None:
        """Stream the current filter's events to ``destination`` (csv, json or jsonl)."""
        if self._export is not None:
            return
        call = self._client.export_logs(self.model.filter, fmt, destination)
        self._export = call
        call.done.connect(lambda path: self._exported(str(path)))
        call.failed.connect(self._export_error)

    def _exported(self, path: str) -> None:
        self._export = None
        self.export_finished.emit(path)

    def _export_error(self, error: ApiError) -> None:
        self._export = None
        self.export_failed.emit(error)
