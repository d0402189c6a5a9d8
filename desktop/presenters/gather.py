"""Wait for several calls at once and get every result (or error) together, in one callback."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop.api.client import Call
from desktop.api.errors import ApiError


class Gather(QObject):
    """Collects the answers of named calls.

    Signals:
        finished(dict, dict): ``results`` by name (successful calls) and ``errors`` by name (ApiError).
    """

    finished = Signal(object, object)

    def __init__(self, calls: Mapping[str, Call], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.results: dict[str, Any] = {}
        self.errors: dict[str, ApiError] = {}
        self._left = set(calls)
        self._calls = dict(calls)  # keep them alive
        for name, call in calls.items():
            call.done.connect(self._done_for(name))
            call.failed.connect(self._failed_for(name))
        if not self._left:
            raise ValueError("Gather needs at least one call")

    def _done_for(self, name: str) -> Callable[[Any], None]:
        def done(value: Any) -> None:
            self.results[name] = value
            self._finish(name)
        return done

    def _failed_for(self, name: str) -> Callable[[ApiError], None]:
        def failed(error: ApiError) -> None:
            self.errors[name] = error
            self._finish(name)
        return failed

    def _finish(self, name: str) -> None:
        self._left.discard(name)
        if not self._left:
            self._calls.clear()
            self.finished.emit(self.results, self.errors)
