"""The main window: a sidebar of screens, the sidecar banner, the status bar, and the login screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.models import access
from desktop.presenters.live import LiveMode
from desktop.presenters.shell import PAGES, Shell
from desktop.sidecar_process import SidecarState, SidecarStatus
from desktop.views.about import AboutDialog
from desktop.views.alerts import AlertTriageView
from desktop.views.banner import SidecarBanner
from desktop.views.dashboard import DashboardView
from desktop.views.keys import ApiKeysView
from desktop.views.logs import LogExplorerView
from desktop.views.policies import PoliciesView
from desktop.views.agents import AgentsView
from desktop.views.traces import TraceView
from desktop.views.tray import TrayIcon, app_icon
from desktop.views.users import UsersView
from desktop.views.welcome import WelcomeView
from desktop.widgets.cards import label
from desktop.views.activity import ActivityView
from desktop.views.billing import BillingView
from desktop.views.reports import ReportsView
from desktop.views.settings import SettingsView

PAGE_TITLES = {"dashboard": "Dashboard", "logs": "Log explorer", "alerts": "Alerts", "keys": "API keys", "users": "Users",
               "reports": "Reports", "billing": "Billing", "settings": "Settings", "activity": "Activity",
               "policies": "Policies", "agents": "Agents", "traces": "Traces"}
LIVE_TEXT = {LiveMode.LIVE: "● Live", LiveMode.POLLING: "◐ Polling every 2 s", LiveMode.OFF: "○ Not live"}


class MainWindow(QMainWindow):
    def __init__(self, shell: Shell, *, last_email: str = "", tray: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        self.setWindowTitle("AgentAudit")
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)
        self.setMinimumSize(1024, 640)

        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.banner = SidecarBanner()
        self.banner.restart_requested.connect(shell.sidecar.restart)
        outer.addWidget(self.banner)
        self.root_stack = QStackedWidget()
        outer.addWidget(self.root_stack, 1)
        self.setCentralWidget(central)

        self.welcome = WelcomeView(shell.session, last_email=last_email)
        self.root_stack.addWidget(self.welcome)

        app = QWidget()
        app_layout = QHBoxLayout(app)
        app_layout.setContentsMargins(0, 0, 0, 0)
        app_layout.setSpacing(0)
        side = QWidget()
        side.setObjectName("sidebarPane")
        side.setFixedWidth(210)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.setSpacing(0)
        brand = label("AgentAudit")
        brand.setObjectName("brand")
        self.org_label = label("")
        self.org_label.setObjectName("brandSub")
        side_layout.addWidget(brand)
        side_layout.addWidget(self.org_label)
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        for page in PAGES:
            item = QListWidgetItem(PAGE_TITLES[page])
            item.setData(Qt.ItemDataRole.UserRole, page)
            self.sidebar.addItem(item)
        self.sidebar.currentRowChanged.connect(self._page_changed)
        side_layout.addWidget(self.sidebar, 1)
        self.user_label = label("")
        self.user_label.setObjectName("sidebarFoot")
        self.user_label.setWordWrap(True)
        side_layout.addWidget(self.user_label)
        logout = QPushButton("Log out")
        logout.setStyleSheet("QPushButton { margin: 0 18px 16px 18px; background: #2a3142; color: #dfe3ea;"
                             " border: 1px solid #3a4254; }")
        logout.clicked.connect(shell.session.logout)
        side_layout.addWidget(logout)
        app_layout.addWidget(side)

        self.pages = QStackedWidget()
        self.dashboard = DashboardView(shell.dashboard)
        self.logs = LogExplorerView(shell.logs)
        self.alerts = AlertTriageView(shell.triage)
        self.keys = ApiKeysView(shell.keys)
        self.users = UsersView(shell.users)
        self.policies = PoliciesView(shell.policies)
        self.agents = AgentsView(shell.agents)
        self.reports = ReportsView(shell.reports)
        self.billing = BillingView(shell.billing)
        self.settings = SettingsView(shell.settings)
        self.activity = ActivityView(shell.activity)
        self.traces = TraceView(shell.traces)
        views = {"dashboard": self.dashboard, "logs": self.logs, "alerts": self.alerts, "keys": self.keys,
                 "users": self.users,
                 "policies": self.policies, "agents": self.agents, "reports": self.reports, "billing": self.billing,
                 "settings": self.settings, "activity": self.activity, "traces": self.traces}
        for view in (views[page] for page in PAGES):
            self.pages.addWidget(view)
        app_layout.addWidget(self.pages, 1)
        self.root_stack.addWidget(app)

        self.sidecar_label = label("")
        self.live_label = label(LIVE_TEXT[LiveMode.OFF])
        self.statusBar().addWidget(self.sidecar_label, 1)
        self.statusBar().addPermanentWidget(self.live_label)

        self.tray: TrayIcon | None = None
        if tray:
            self.tray = TrayIcon(self)
            self.tray.show_alerts.connect(lambda: self.show_page("alerts", raise_window=True))
            shell.notifier.unread_changed.connect(self.tray.set_unread)
            shell.notifier.notify.connect(self.tray.notify)
            if TrayIcon.isSystemTrayAvailable():
                self.tray.show()

        for n, page in enumerate(PAGES):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{n + 1}"), self)
            shortcut.activated.connect(lambda p=page: self.show_page(p))
        QShortcut(QKeySequence.StandardKey.Refresh, self, activated=self._refresh_current)

        self.dashboard.open_event.connect(shell.open_event)
        self.alerts.open_event.connect(shell.open_event)
        self.alerts.open_trace_of.connect(shell.open_trace_of)
        self.agents.open_event.connect(shell.open_event)
        self.logs.detail.open_in_visualizer.connect(shell.open_trace)
        shell.page_requested.connect(self.show_page)
        shell.logged_in.connect(self._logged_in)
        shell.logged_out.connect(self._logged_out)
        shell.sidecar.status_changed.connect(self._sidecar)
        shell.live.mode_changed.connect(self._live_mode)
        shell.notifier.unread_changed.connect(self._unread)
        shell.users.own_role_changed.connect(lambda _role: self._apply_role())
        self._sidecar(shell.sidecar.status)
        self.root_stack.setCurrentIndex(1 if shell.client.logged_in else 0)

        help_menu = self.menuBar().addMenu("&Help")
        self.about_action = help_menu.addAction("&About AgentAudit")
        self.about_action.triggered.connect(self.show_about)

    # -- navigation ----------------------------------------------------------------------------------

    def show_page(self, page: str, *, raise_window: bool = False) -> None:
        row = PAGES.index(page)
        if self.sidebar.currentRow() != row:
            self.sidebar.setCurrentRow(row)
        else:
            self._page_changed(row)
        if raise_window:
            self.showNormal()
            self.raise_()
            self.activateWindow()

    def _page_changed(self, row: int) -> None:
        if row < 0:
            return
        self.pages.setCurrentIndex(row)
        self.shell.show_page(PAGES[row])

    def _refresh_current(self) -> None:
        page = PAGES[self.pages.currentIndex()]
        {"dashboard": self.shell.dashboard.refresh, "logs": self.shell.logs.refresh,
         "alerts": self.shell.triage.refresh, "keys": self.shell.keys.refresh, "users": self.shell.users.refresh,
         "reports": self.shell.reports.refresh, "billing": self.shell.billing.refresh,
         "settings": self.shell.settings.refresh, "activity": self.shell.activity.refresh,
         "policies": self.shell.policies.refresh, "agents": self.shell.agents.refresh,
         "traces": self.shell.traces.reload}[page]()

    def _live_mode(self, mode: LiveMode) -> None:
        self.live_label.setText(LIVE_TEXT[mode])

    def _unread(self, count: int) -> None:
        item = self.sidebar.item(PAGES.index("alerts"))
        item.setText(f"Alerts  ({count} new critical)" if count else "Alerts")

    # -- session and sidecar -------------------------------------------------------------------------

    def _logged_in(self) -> None:
        client = self.shell.client
        org = client.organization.name if client.organization else ""
        self.org_label.setText(org)
        self.user_label.setText(client.user.email if client.user else "")
        self.root_stack.setCurrentIndex(1)
        self._apply_role()
        row = self.sidebar.currentRow()
        if row < 0 or self.sidebar.item(row).isHidden():
            row = 0
        self.sidebar.setCurrentRow(row)  # selects it as well: the page shown is the one highlighted

    def _apply_role(self) -> None:
        """Offer only what the signed-in user's role may do (at login, and when they change their own role)."""
        user = self.shell.client.user
        self.settings.update_role()
        self.reports.update_role()
        self.users.update_role()
        self.sidebar.item(PAGES.index("activity")).setHidden(
            user is not None and not access.can_read_activity(user.role))
        self.sidebar.item(PAGES.index("users")).setHidden(
            user is not None and not access.can_manage_users(user.role))

    def _logged_out(self, message: str) -> None:
        self.welcome.reset(message)
        self.root_stack.setCurrentIndex(0)

    def _sidecar(self, status: SidecarStatus) -> None:
        self.banner.show_status(status)
        where = status.url + (" (started by this app)" if status.owned else "")
        text = {
            SidecarState.UP: f"Sidecar {status.version} at {where}",
            SidecarState.STARTING: f"Starting the sidecar at {where}…",
            SidecarState.UNREACHABLE: f"Sidecar unreachable at {status.url}",
            SidecarState.VERSION_MISMATCH: f"Sidecar {status.version} at {where} (version mismatch)",
        }[status.state]
        self.sidecar_label.setText(text)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.tray is not None:
            self.tray.hide()
        super().closeEvent(event)

    def show_about(self) -> AboutDialog:
        """Open the About dialog (versions of the app, the sidecar and the runtime) without blocking."""
        dialog = AboutDialog(self.shell.sidecar.status, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog
