"""Alert triage: the queue's filter, and acknowledge / resolve / false positive (one or many, with a note)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from desktop.api import schemas
from desktop.api.client import Call, SidecarClient
from desktop.api.errors import ApiError
from desktop.models.alerts import AlertTableModel
from desktop.presenters.alert_facts import AlertFacts
from desktop.presenters.gather import Gather


class Triage(enum.Enum):
    """A triage action, its target status and its past-tense label."""

    ACKNOWLEDGE = ("acknowledged", "acknowledged")
    RESOLVE = ("resolved", "resolved")
    FALSE_POSITIVE = ("false_positive", "marked false positive")
    REOPEN = ("open", "reopened")

    @property
    def status(self) -> str:
        return self.value[0]

    @property
    def done_label(self) -> str:
        return self.value[1]


@dataclass(frozen=True, slots=True)
class TriageResult:
    action: Triage
    count: int
    errors: tuple[ApiError, ...]

    @property
    def summary(self) -> str:
        n = self.count
        text = f"{n} alert{'s' if n != 1 else ''} {self.action.done_label}"
        if self.errors:
            text += f"; {len(self.errors)} failed: {self.errors[0].message}"
        return text


class TriagePresenter(QObject):
    """Signals:
        triaged(object): a :class:`TriageResult`.
        busy_changed(bool).
        select_row(int): after an action, the row to carry on from (the alert that took the acted-on one's
            place, or the one after it when it stayed in the queue), so the shortcuts keep working.
    """

    triaged = Signal(object)
    busy_changed = Signal(bool)
    select_row = Signal(int)

    def __init__(self, client: SidecarClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self.model = AlertTableModel(client, parent=self)
        self.facts = AlertFacts(client, parent=self)
        self._gather: Gather | None = None
        self._finished_gather: Gather | None = None
        self._first_row = -1  # the topmost row acted on, where the queue carries on
        self._select_after_load = False
        self.model.loading_changed.connect(self._loading_changed)

    @property
    def busy(self) -> bool:
        return self._gather is not None

    def set_filter(self, status: str | None, severity: str | None, agent: str | None) -> None:
        self.model.set_filter(schemas.AlertFilter(status=status or None, severity=severity or None,
                                                  agent_id=(agent or "").strip() or None))

    def refresh(self) -> None:
        self.model.reload()

    def act(self, action: Triage, alert_ids: Sequence[str], note: str = "") -> None:
        """Triage alerts: several resolved at once go through ``POST /alerts/resolve``; everything else is one
        ``PATCH /alerts/:id`` (status and note) per alert, in parallel."""
        if not alert_ids or self._gather is not None:
            return
        rows = [row for row in map(self.model.row_of, alert_ids) if row >= 0]
        self._first_row = min(rows, default=-1)
        if action is Triage.RESOLVE and len(alert_ids) > 1:
            bulk = self._client.resolve_alerts(list(alert_ids), note.strip())
            gather = Gather({"bulk": bulk})
            self._gather = gather
            self.busy_changed.emit(True)
            gather.finished.connect(lambda results, errors: self._bulk_done(len(alert_ids), results, errors))
            return
        calls: dict[str, Call] = {
            alert_id: self._client.update_alert(alert_id, action.status, note.strip()) for alert_id in alert_ids
        }
        gather = Gather(calls)
        self._gather = gather
        self.busy_changed.emit(True)
        gather.finished.connect(lambda results, errors: self._done(action, results, errors))

    def _done(self, action: Triage, results: dict[str, schemas.Alert], errors: dict[str, ApiError]) -> None:
        self._finished_gather, self._gather = self._gather, None  # freed on the next action, not mid-emit
        for alert in results.values():
            self.model.apply(alert)
        self.busy_changed.emit(False)
        self.triaged.emit(TriageResult(action, len(results), tuple(errors.values())))
        staying = [row for row in (self.model.row_of(alert_id) for alert_id in [*results, *errors]) if row >= 0]
        self._carry_on(max(staying) + 1 if staying else self._first_row)

    def _bulk_done(self, asked: int, results: dict[str, object], errors: dict[str, ApiError]) -> None:
        self._finished_gather, self._gather = self._gather, None  # freed on the next action, not mid-emit
        answer = results.get("bulk")
        count = 0
        if "bulk" in results:
            count = asked
            if isinstance(answer, dict):
                reported = answer.get("resolved", answer.get("count", answer.get("updated")))
                if isinstance(reported, int):
                    count = reported
                elif isinstance(reported, list):
                    count = len(reported)
        self.model.reload()
        self._select_after_load = True  # the reload answers later; carry on from the same place then
        self.busy_changed.emit(False)
        self.triaged.emit(TriageResult(Triage.RESOLVE, count, tuple(errors.values())))

    def selection_text(self, selected: int) -> str:
        """What a selection of several alerts covers: only the loaded rows can be selected, so say so when
        the queue holds more than are loaded."""
        loaded, total = self.model.rowCount(), self.model.total
        if total > loaded:
            return (f"{selected:,} loaded alerts selected of {total:,}.\n"
                    f"Only the {loaded:,} loaded alerts are included; scroll down to load more.")
        return f"{selected:,} alerts selected."

    def _carry_on(self, row: int) -> None:
        count = self.model.rowCount()
        if count and row >= 0:
            self.select_row.emit(min(row, count - 1))

    def _loading_changed(self, loading: bool) -> None:
        if not loading and self._select_after_load:
            self._select_after_load = False
            self._carry_on(self._first_row)
