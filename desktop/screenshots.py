"""``agentaudit desktop --screenshot DIR``: log in, open each main view, wait for its data, save a PNG, exit.

A small state machine driven by signals and timers (no ``processEvents`` loops): each step waits for its
view's data (or a time limit) before grabbing the window.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from desktop import log
from desktop.api import schemas
from desktop.models.roles import LogRole
from desktop.models.trace_tree import TraceTree
from desktop.views.main_window import MainWindow

SETTLE_MS = 350
STEP_TIMEOUT_MS = 15_000


class ScreenshotRunner(QObject):
    """Signals:
        finished(int): the exit code (0 when every PNG was written).
    """

    finished = Signal(int)

    def __init__(self, window: MainWindow, directory: Path, email: str, password: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = window
        self._shell = window.shell
        self._dir = directory
        self._email, self._password = email, password
        self.saved: list[Path] = []
        self._steps: list[Callable[[], None]] = [self._login_screen, self._login, self._dashboard, self._logs,
                                                 self._alerts, self._keys, self._traces]
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.timeout.connect(self._step_timed_out)
        self._waiting_for = ""

    def start(self) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        self._window.show()
        if self._shell.sidecar.status.connected:
            self._next()
        else:
            self._wait("the sidecar")
            self._shell.sidecar.status_changed.connect(self._sidecar_changed)

    def _sidecar_changed(self, status: object) -> None:
        if getattr(status, "connected", False) and self._waiting_for == "the sidecar":
            self._shell.sidecar.status_changed.disconnect(self._sidecar_changed)
            self._next()

    def _wait(self, what: str) -> None:
        self._waiting_for = what
        self._timeout.start(STEP_TIMEOUT_MS if what != "the sidecar" else 30_000)

    def _next(self) -> None:
        self._timeout.stop()
        self._waiting_for = ""
        if not self._steps:
            log.ui.info("screenshots written: %s", ", ".join(str(p) for p in self.saved))
            self.finished.emit(0)
            return
        self._steps.pop(0)()

    def _step_timed_out(self) -> None:
        log.ui.error("screenshot: gave up waiting for %s", self._waiting_for)
        print(f"agentaudit desktop: gave up waiting for {self._waiting_for}", flush=True)
        self.finished.emit(1)

    def _grab(self, name: str) -> None:
        def save() -> None:
            path = self._dir / f"{name}.png"
            if not self._window.grab().save(str(path)):
                print(f"agentaudit desktop: could not write {path}", flush=True)
                self.finished.emit(1)
                return
            self.saved.append(path)
            print(f"wrote {path}", flush=True)
            self._next()
        QTimer.singleShot(SETTLE_MS, save)

    # -- steps ---------------------------------------------------------------------------------------

    def _login_screen(self) -> None:
        if self._shell.client.logged_in:
            self._next()
            return
        self._window.welcome.email.setText(self._email)
        self._window.welcome.tabs.setCurrentIndex(0)
        self._grab("welcome")

    def _login(self) -> None:
        if self._shell.client.logged_in:
            self._next()
            return
        self._wait("login")
        self._shell.session.error.connect(self._login_failed)
        self._shell.logged_in.connect(self._next)
        self._shell.session.login(self._email, self._password)

    def _login_failed(self, message: str) -> None:
        print(f"agentaudit desktop: could not log in as {self._email}: {message}", flush=True)
        self.finished.emit(1)

    def _dashboard(self) -> None:
        self._shell.logged_in.disconnect(self._next)
        self._shell.session.error.disconnect(self._login_failed)
        self._wait("the dashboard")
        presenter = self._shell.dashboard

        def ready(_snapshot: object) -> None:
            presenter.snapshot_changed.disconnect(ready)
            self._grab("dashboard")
        presenter.snapshot_changed.connect(ready)
        self._window.show_page("dashboard")
        presenter.refresh()

    def _logs(self) -> None:
        self._wait("the log explorer")
        presenter = self._shell.logs
        model = presenter.model

        def loaded(loading: bool) -> None:
            if loading:
                return
            model.loading_changed.disconnect(loaded)
            flagged = next((row for row in range(model.rowCount())
                            if model.data(model.index(row, 0), LogRole.ENFORCEMENT) == "block"), 0)
            if model.rowCount() == 0:
                self._grab("logs")
                return
            presenter.event_loaded.connect(opened)
            self._window.logs.table.selectRow(flagged)

        def opened(_event: schemas.LogEvent | None) -> None:
            presenter.event_loaded.disconnect(opened)
            self._grab("logs")
        self._window.show_page("logs")
        self._window.logs.verdict.setCurrentText("Flagged (any violation)")  # the explorer's point: violations
        model.loading_changed.connect(loaded)

    def _alerts(self) -> None:
        self._wait("the alert queue")
        model = self._shell.triage.model

        def loaded(loading: bool) -> None:
            if loading:
                return
            model.loading_changed.disconnect(loaded)
            if model.rowCount():
                self._window.alerts.table.selectRow(0)
            self._grab("alerts")
        self._window.show_page("alerts")
        self._shell.triage.refresh()
        model.loading_changed.connect(loaded)

    def _keys(self) -> None:
        self._wait("the API keys")
        model = self._shell.keys.model

        def loaded(loading: bool) -> None:
            if not loading:
                model.loading_changed.disconnect(loaded)
                self._grab("keys")
        self._window.show_page("keys")
        self._shell.keys.refresh()
        model.loading_changed.connect(loaded)


    def _traces(self) -> None:
        """A recent trace with violations and a nested span, that span selected (the deepest, flagged first)."""
        self._wait("the trace visualizer")
        presenter = self._shell.traces

        def listed(items: object) -> None:
            presenter.recent_changed.disconnect(listed)
            recent = list(items)  # type: ignore[call-overload]
            if not recent:
                self._grab("traces")
                return
            pick = next((t for t in recent if t.flagged_count and t.span_count >= 5), recent[0])
            presenter.loaded.connect(opened)
            presenter.open(pick.trace_id)

        def opened(tree: TraceTree) -> None:
            presenter.loaded.disconnect(opened)
            deepest = max(tree.preorder, key=lambda n: (tree.depth[n], tree.status(n) != "ok"))
            presenter.select(deepest)
            self._grab("traces")
        presenter.recent_changed.connect(listed)
        self._window.show_page("traces")
        presenter.refresh_recent()


def run(app: QApplication, window: MainWindow, directory: Path, email: str, password: str) -> int:
    runner = ScreenshotRunner(window, directory, email, password)
    code: list[int] = []
    runner.finished.connect(lambda c: (code.append(c), app.exit(c)))
    QTimer.singleShot(0, runner.start)
    app.exec()
    return code[0] if code else 1
