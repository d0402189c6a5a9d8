"""The application's state above the screens: login, the sidecar's health, live updates, and what each screen
must do when those change (load on first show, refresh on return of the sidecar, stop on logout)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, Signal

from desktop.api import schemas
from desktop.api.client import SidecarClient
from desktop.presenters.dashboard import DashboardPresenter
from desktop.presenters.keys import KeysPresenter
from desktop.presenters.live import LiveFeed
from desktop.presenters.logs import FilterForm, LogExplorerPresenter
from desktop.presenters.notifier import AlertNotifier
from desktop.presenters.session import SessionPresenter
from desktop.presenters.traces import TracePresenter
from desktop.presenters.triage import TriagePresenter
from desktop.presenters.users import UsersPresenter
from desktop.presenters.policies import PoliciesPresenter
from desktop.presenters.agents import AgentsPresenter
from desktop.sidecar_process import SidecarManager, SidecarStatus
from desktop.presenters.activity import ActivityPresenter
from desktop.presenters.billing import BillingPresenter
from desktop.presenters.reports import ReportsPresenter
from desktop.presenters.settings import SettingsPresenter
from desktop.settings import DesktopSettings

PAGES = ("dashboard", "logs", "traces", "alerts", "policies", "agents", "reports", "keys", "users", "billing",
         "settings", "activity")


class Shell(QObject):
    """Owns the presenters and wires them together.

    Signals:
        logged_in(): show the main screens.
        logged_out(str): back to the login screen, with a message.
        page_requested(str): a jump (alert -> event) asks the window to show a page.
    """

    logged_in = Signal()
    logged_out = Signal(str)
    page_requested = Signal(str)

    def __init__(self, client: SidecarClient, sidecar: SidecarManager, *, live_poll_ms: int = 2000,
                 parent: QObject | None = None, desktop_settings: DesktopSettings | None = None,
                 store: QSettings | None = None, apply_theme: Callable[[str], None] | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.sidecar = sidecar
        self.session = SessionPresenter(client, parent=self)
        self.dashboard = DashboardPresenter(client, parent=self)
        self.logs = LogExplorerPresenter(client, parent=self)
        self.triage = TriagePresenter(client, parent=self)
        self.keys = KeysPresenter(client, parent=self)
        self.users = UsersPresenter(client, parent=self)
        self.live = LiveFeed(client, poll_ms=live_poll_ms, parent=self)
        self.notifier = AlertNotifier(client, parent=self)
        self.reports = ReportsPresenter(client, parent=self)
        self.billing = BillingPresenter(client, parent=self)
        self.settings = SettingsPresenter(client, desktop_settings, store=store, apply_theme=apply_theme, parent=self)
        self.activity = ActivityPresenter(client, parent=self)
        self.policies = PoliciesPresenter(client, parent=self)
        self.agents = AgentsPresenter(client, parent=self)
        self.current_page = "dashboard"
        self._loaded: set[str] = set()
        self._was_connected = False

        self.session.logged_in.connect(self._on_login)
        self.session.logged_out.connect(self._on_logout)
        self.users.removed_self.connect(self.session.logout)
        sidecar.status_changed.connect(self._on_sidecar)
        self.live.log_created.connect(self.dashboard.on_log)
        self.live.log_created.connect(self.logs.on_log)
        self.live.alert_created.connect(self._on_alert)
        self.live.report_ready.connect(self.reports.on_report_ready)
        self.traces = TracePresenter(client, parent=self)
        self.live.log_created.connect(self.traces.on_log)

    # -- session -------------------------------------------------------------------------------------

    def _on_login(self, _session: schemas.Session) -> None:
        self._loaded.clear()
        self.logged_in.emit()
        self.live.start()
        self.notifier.start()
        self.show_page(self.current_page)

    def _on_logout(self, expired: bool) -> None:
        self.live.stop()
        for forget in (self.reports.stop, self.billing.clear, self.activity.clear, self.users.clear,
                       self.triage.facts.clear):
            forget()
        self.notifier.reset()
        self.traces.clear()
        self._loaded.clear()
        self.logged_out.emit("Your session has ended. Log in again." if expired else "")

    # -- pages ---------------------------------------------------------------------------------------

    def show_page(self, page: str) -> None:
        """The window shows ``page``: load it the first time, and mark alerts read when it is the queue."""
        self.current_page = page
        if page == "alerts":
            self.notifier.mark_read()
        if not self.client.logged_in or page in self._loaded:
            return
        self._loaded.add(page)
        if page == "dashboard":
            self.dashboard.refresh()
        elif page == "logs":
            self.logs.apply(self.logs.form)
        elif page == "alerts":
            self.triage.refresh()
        elif page == "keys":
            self.keys.refresh()
        elif page == "users":
            self.users.refresh()
        elif page == "reports":
            self.reports.refresh()
        elif page == "billing":
            self.billing.refresh()
        elif page == "settings":
            self.settings.refresh()
        elif page == "activity":
            self.activity.apply(self.activity.filter)
        elif page == "policies":
            self.policies.refresh()
        elif page == "agents":
            self.agents.refresh()
        elif page == "traces":
            self.traces.refresh_recent()

    def open_event(self, event_id: str) -> None:
        """Jump to one event: the log explorer, unfiltered, with the event in the detail pane."""
        self._loaded.add("logs")
        if self.logs.model.rowCount() == 0 or not self.logs.form == FilterForm():
            self.logs.apply(FilterForm())
        self.logs.open_event(event_id)
        self.page_requested.emit("logs")

    def open_trace_of(self, event_id: str) -> None:
        """Jump to the trace of an event in the trace visualizer, the event selected (loads the event for its
        trace id; an event outside any trace opens in the log explorer)."""
        call = self.client.get_log(event_id)
        call.done.connect(self._show_trace_of)

    def _show_trace_of(self, event: schemas.LogEvent) -> None:
        if event.trace_id:
            self.open_trace(event.trace_id, event.id)
            return
        self.open_event(event.id)

    def open_trace(self, trace_id: str, event_id: str = "") -> None:
        """Jump to the trace visualizer with ``trace_id`` open and the event ``event_id`` selected."""
        self._loaded.add("traces")
        self.traces.refresh_recent()
        self.traces.open(trace_id, focus=event_id or None)
        self.page_requested.emit("traces")

    # -- live and health -----------------------------------------------------------------------------

    def _on_alert(self, alert: schemas.Alert) -> None:
        self.notifier.on_alert(alert)
        self.dashboard.refresh_soon()
        if "alerts" in self._loaded and self.current_page == "alerts" and alert.status == "open":
            self.triage.model.reload()

    def _on_sidecar(self, status: SidecarStatus) -> None:
        connected = status.connected
        if connected and not self._was_connected and self.client.logged_in:
            self.live.start()
            self.dashboard.refresh()
            if self.logs.model.error is not None:
                self.logs.model.retry()
            if self.triage.model.error is not None:
                self.triage.model.reload()
            if "keys" in self._loaded:
                self.keys.refresh()
            if "users" in self._loaded:
                self.users.refresh()
            for page, refresh in (("reports", self.reports.refresh), ("billing", self.billing.refresh),
                                  ("settings", self.settings.refresh), ("activity", self.activity.refresh)):
                if page in self._loaded:
                    refresh()
            if "policies" in self._loaded:
                self.policies.refresh()
            if "agents" in self._loaded:
                self.agents.refresh()
            if "traces" in self._loaded:
                self.traces.refresh_recent()
        elif not connected and self._was_connected:
            self.live.stop()
        self._was_connected = connected
