"""Wait for several calls at once and get every result (or error) together, in one callback."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop.api.client import Call
from desktop.api.errors import ApiError


class Gather(QObject):
    """Collects the answers of named calls.

    The calls are connected to bound methods of this object, so Qt drops the connections if it is destroyed
    before they end.

    Signals:
        finished(object, object): ``results`` by name (successful calls) and ``errors`` by name (ApiError).
    """

    finished = Signal(object, object)

    def __init__(self, calls: Mapping[str, Call], parent: QObject | None = None) -> None:
        super().__init__(parent)
        if not calls:
            raise ValueError("Gather needs at least one call")
        self.results: dict[str, Any] = {}
        self.errors: dict[str, ApiError] = {}
        self._names = {id(call): name for name, call in calls.items()}
        self._calls = dict(calls)  # keep them alive until they end
        for call in calls.values():
            call.done.connect(self._done)
            call.failed.connect(self._failed)

    def _name(self) -> str | None:
        sender = self.sender()
        return self._names.pop(id(sender), None) if sender is not None else None

    def _done(self, value: Any) -> None:
        name = self._name()
        if name is not None:
            self.results[name] = value
            self._finish(name)

    def _failed(self, error: ApiError) -> None:
        name = self._name()
        if name is not None:
            self.errors[name] = error
            self._finish(name)

    def _finish(self, name: str) -> None:
        self._calls.pop(name, None)
        if not self._calls:
            self.finished.emit(self.results, self.errors)
