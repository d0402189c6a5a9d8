"""First run and login: create the organisation and its owner, log in, log out, or load the demo data.

The demo data is seeded by ``python -m sidecar.demo --url <sidecar>`` (``agentaudit demo``) run as a child process (it talks to the sidecar
over HTTP like any client); when it is done the app logs in to the demo account.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QProcess, Signal

from desktop import log
from desktop.api import schemas
from desktop.api.client import SidecarClient
from desktop.api.errors import ApiError

DEMO_EMAIL = "demo@agentaudit.local"
DEMO_PASSWORD = "demo-password-2026"


def explain(error: ApiError) -> str:
    """One sentence for the login form."""
    if error.is_network:
        return "The sidecar is not answering. Check its status at the top of the window."
    if error.status == 401:
        return "That email and password do not match an account."
    if error.status == 429:
        wait = f" in {error.retry_after} s" if error.retry_after else " later"
        return f"Too many attempts. Try again{wait}."
    if error.status == 409:
        return "An account with that email already exists. Log in instead."
    if error.status == 403:
        return "This sidecar does not allow creating organisations."
    if error.details:
        return "; ".join(f"{d.field}: {d.message}" for d in error.details)
    return error.message


class SessionPresenter(QObject):
    """Signals:
        busy_changed(bool, str): an action started (with what it is doing) or ended.
        error(str): a sentence for the form.
        logged_in(object): the :class:`schemas.Session`.
        logged_out(bool): True when the session expired rather than the user logging out.
        demo_output(str): a line printed by the demo seeder.
    """

    busy_changed = Signal(bool, str)
    error = Signal(str)
    logged_in = Signal(object)
    logged_out = Signal(bool)
    demo_output = Signal(str)

    def __init__(self, client: SidecarClient, *, python: str = sys.executable, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._python = python
        self._demo: QProcess | None = None
        self.busy = False
        self.last_email = ""
        client.session_expired.connect(lambda: self.logged_out.emit(True))

    @property
    def client(self) -> SidecarClient:
        return self._client

    def _set_busy(self, busy: bool, what: str = "") -> None:
        self.busy = busy
        self.busy_changed.emit(busy, what)

    def _fail(self, error: ApiError) -> None:
        self._set_busy(False)
        self.error.emit(explain(error))

    def login(self, email: str, password: str) -> None:
        email = email.strip()
        if not email or not password:
            self.error.emit("Enter your email and password.")
            return
        self._set_busy(True, "Logging in…")
        self.last_email = email
        call = self._client.login(email, password)
        call.done.connect(self._logged_in)
        call.failed.connect(self._fail)

    def _logged_in(self, session: schemas.Session) -> None:
        self._set_busy(False)
        self.logged_in.emit(session)

    def create_organisation(self, name: str, email: str, password: str, confirm: str) -> None:
        """Register the organisation and its owner, then log in."""
        name, email = name.strip(), email.strip()
        if not name or not email:
            self.error.emit("Enter the organisation's name and your email.")
            return
        if len(password) < 8:
            self.error.emit("The password needs at least 8 characters.")
            return
        if password != confirm:
            self.error.emit("The two passwords differ.")
            return
        self._set_busy(True, "Creating the organisation…")
        call = self._client.register(name, email, password)
        call.done.connect(lambda _org: self.login(email, password))
        call.failed.connect(self._fail)

    def logout(self) -> None:
        self._client.logout()
        self.logged_out.emit(False)

    def load_demo(self) -> None:
        """Seed the demo organisation on the connected sidecar, then log in to it."""
        if self._demo is not None:
            return
        self._set_busy(True, "Loading demo data…")
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(self._demo_read)
        process.finished.connect(self._demo_finished)
        process.errorOccurred.connect(self._demo_error)
        self._demo = process
        args = ["-m", "sidecar.demo", "--url", self._client.base_url, "--email", DEMO_EMAIL,
                "--password", DEMO_PASSWORD]
        log.ui.info("seeding demo data: %s %s", self._python, " ".join(args))
        process.start(self._python, args)

    def _demo_read(self) -> None:
        if self._demo is None:
            return
        text = bytes(self._demo.readAllStandardOutput().data()).decode("utf-8", errors="replace")
        for line in text.splitlines():
            if line.strip():
                self.demo_output.emit(line.strip())

    def _demo_finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        self._demo_read()
        self._demo = None
        if code != 0:
            self._set_busy(False)
            self.error.emit(f"Loading the demo data failed (exit code {code}); see the log above.")
            return
        self.login(DEMO_EMAIL, DEMO_PASSWORD)

    def _demo_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self._demo is not None:
            message = self._demo.errorString()
            self._demo = None
            self._set_busy(False)
            self.error.emit(f"Could not run the demo seeder: {message}")
