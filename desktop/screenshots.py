"""``agentaudit desktop --screenshot DIR``: log in, open each main view, wait for its data, save a PNG, exit
(the About dialog last, its lines printed too).

A small state machine driven by signals and timers (no ``processEvents`` loops): each step waits for its
view's data (or a time limit) before grabbing the window.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from desktop import log, theme
from desktop.api import schemas
from desktop.models.roles import LogRole
from desktop.models.trace_tree import TraceTree
from desktop.views.main_window import MainWindow
from desktop.views.reports import PDF_EMBEDDED

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
                                                 self._alerts, self._keys, self._users, self._traces, self._policies,
                                                 self._policy_versions, self._policy_analytics, self._agents,
                                                 self._reports, self._billing, self._settings, self._activity,
                                                 self._dashboard_dark, self._about]
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

    def _users(self) -> None:
        """The organisation's users (for a role that may not see them, the page saying so)."""
        self._wait("the users")
        presenter = self._shell.users
        model = presenter.model

        def loaded(loading: bool) -> None:
            if not loading:
                model.loading_changed.disconnect(loaded)
                presenter.denied.disconnect(denied)
                self._grab("users")

        def denied(_text: str) -> None:
            model.loading_changed.disconnect(loaded)
            presenter.denied.disconnect(denied)
            self._grab("users")
        model.loading_changed.connect(loaded)
        presenter.denied.connect(denied)
        self._window.show_page("users")
        presenter.refresh()

    def _about(self) -> None:
        dialog = self._window.show_about()
        for caption, value in dialog.values.items():
            print(f"about: {caption}: {value.text()}", flush=True)

        def save() -> None:
            path = self._dir / "about.png"
            saved = dialog.grab().save(str(path))
            dialog.close()
            if not saved:
                print(f"agentaudit desktop: could not write {path}", flush=True)
                self.finished.emit(1)
                return
            self.saved.append(path)
            print(f"wrote {path}", flush=True)
            self._next()
        QTimer.singleShot(SETTLE_MS, save)


    def _reports(self) -> None:
        """The reports list; when it is empty, request a compliance summary and show it built."""
        self._wait("the reports")
        presenter = self._shell.reports
        view = self._window.reports

        def listed() -> None:
            presenter.reports.modelReset.disconnect(listed)
            if presenter.reports.rowCount() or not presenter.can_write:
                show(None)
                return
            presenter.finished.connect(built)
            view.kind.setCurrentIndex(view.kind.findData("compliance_summary"))
            view.name.setText("Monthly compliance summary")
            view.request()

        def built(_report: object) -> None:
            presenter.finished.disconnect(built)
            show(None)

        def show(_report: object) -> None:
            """Select the newest ready PDF and open it (in the embedded viewer where there is one)."""
            rows = presenter.reports.rows()
            row = next((n for n, r in enumerate(rows) if r.format == "pdf" and r.status == "ready"), -1)
            if row < 0 or not PDF_EMBEDDED:
                view.table.selectRow(max(0, row))
                self._grab("reports")
                return
            presenter.viewable.connect(opened)
            view.table.selectRow(row)
            view.open_selected()

        def opened(_report: object, _path: object) -> None:
            presenter.viewable.disconnect(opened)
            self._grab("reports")
        presenter.reports.modelReset.connect(listed)
        self._window.show_page("reports")  # its first showing loads the lists

    def _billing(self) -> None:
        self._wait("billing")
        presenter = self._shell.billing

        def changed() -> None:
            sub = presenter.subscription
            if sub is not None and sub.billing_configured and presenter.prices is None and not presenter.error:
                return  # the prices are still on their way
            presenter.changed.disconnect(changed)
            self._grab("billing")
        presenter.changed.connect(changed)
        self._window.show_page("billing")
        presenter.refresh()

    def _settings(self) -> None:
        self._wait("the settings")
        presenter = self._shell.settings

        def loaded(_retention: object) -> None:
            presenter.retention_changed.disconnect(loaded)
            self._grab("settings")
        presenter.retention_changed.connect(loaded)
        self._window.show_page("settings")
        presenter.refresh()

    def _activity(self) -> None:
        self._wait("the activity log")
        presenter = self._shell.activity

        def paged(_offset: int, _total: int) -> None:
            presenter.page_changed.disconnect(paged)
            self._grab("activity")
        presenter.page_changed.connect(paged)
        presenter.failed.connect(lambda _message: self._grab("activity"))
        self._window.show_page("activity")
        presenter.apply(presenter.filter)

    def _dashboard_dark(self) -> None:
        """The dashboard again, in the dark theme."""
        self._wait("the dashboard")
        presenter = self._shell.dashboard
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        theme.apply(app, "dark")

        def ready(_snapshot: object) -> None:
            presenter.snapshot_changed.disconnect(ready)
            self._grab("dashboard-dark")
        presenter.snapshot_changed.connect(ready)
        self._window.show_page("dashboard")
        presenter.refresh()

    def _policies(self) -> None:
        """The first policy, a rule in its form, and the test box showing what the rule finds."""
        self._wait("the policies")
        presenter = self._shell.policies
        view = self._window.policies

        def listed() -> None:
            if presenter.policies.rowCount() == 0:
                presenter.policies.modelReset.disconnect(listed)
                self._grab("policies")
                return
            presenter.policies.modelReset.disconnect(listed)
            presenter.policy_changed.connect(shown)
            view.policy_table.selectRow(0)

        def shown(policy: object) -> None:
            presenter.policy_changed.disconnect(shown)
            if policy is None or not presenter.rules.rowCount():
                self._grab("policies")
                return
            rules = presenter.rules
            row = max(0, rules.find(lambda r: r.rule_type == "pii_detect" and "ssn" in r.condition.get("patterns", [])))
            view.rules_tab.table.selectRow(row)
            presenter.tester.result.connect(tested)
            view.rules_tab.test_box.text.setPlainText(
                "New patient intake: Maria Lopez, SSN 123-45-6789, phone (415) 555-0134. Book her for Tuesday.")

        def tested(_verdict: object) -> None:
            presenter.tester.result.disconnect(tested)
            self._grab("policies")
        self._window.show_page("policies")
        presenter.policies.modelReset.connect(listed)
        presenter.refresh()

    def _policy_versions(self) -> None:
        view = self._window.policies
        if self._shell.policies.current is None:
            self._next()
            return
        view.tabs.setCurrentWidget(view.versions_tab)
        self._wait("the policy versions")
        versions = self._shell.policies.versions
        if versions.diff.rowCount():
            self._grab("policy-versions")
            return

        def diffed(_changed: int) -> None:
            versions.diff_changed.disconnect(diffed)
            self._grab("policy-versions")
        versions.diff_changed.connect(diffed)

    def _policy_analytics(self) -> None:
        view = self._window.policies
        if self._shell.policies.current is None:
            self._next()
            return
        view.tabs.setCurrentWidget(view.analytics_tab)
        self._grab("policy-analytics")

    def _agents(self) -> None:
        """The agents, the busiest one selected with its recent activity, and the unregistered ids."""
        self._wait("the agents")
        presenter = self._shell.agents
        pending = {"agents", "seen"}

        def loaded(part: str) -> None:
            pending.discard(part)
            if pending:
                return
            presenter.agents.modelReset.disconnect(agents_loaded)
            presenter.seen.modelReset.disconnect(seen_loaded)
            row = presenter.agents.find(lambda a: a.name == "intake-assistant")
            if row < 0 and presenter.agents.rowCount() == 0:
                self._grab("agents")
                return
            presenter.events.modelReset.connect(events_loaded)
            self._window.agents.table.selectRow(max(0, row))

        def agents_loaded() -> None:
            loaded("agents")

        def seen_loaded() -> None:
            loaded("seen")

        def events_loaded() -> None:
            if presenter.events.rowCount():
                presenter.events.modelReset.disconnect(events_loaded)
                self._grab("agents")
        presenter.agents.modelReset.connect(agents_loaded)
        presenter.seen.modelReset.connect(seen_loaded)
        self._window.show_page("agents")
        presenter.refresh()


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
