"""Find the sidecar on the configured address, or start one as a child process, and watch its health.

States: ``starting`` (our child is coming up), ``up``, ``unreachable`` (nobody answers; we keep probing, so a
sidecar that comes back is picked up), ``version_mismatch`` (it answers but speaks another minor version; we
keep working and say so). Only a child we started is ever stopped, and only on quit or on request.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import sys
from collections import deque
from dataclasses import dataclass
from importlib import metadata

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from desktop import log
from desktop.api.client import SidecarClient
from desktop.api.errors import ApiError
from desktop.api.schemas import Health


def desktop_version() -> str:
    try:
        return metadata.version("agentaudit")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def sidecar_command(python: str) -> tuple[str, list[str]]:
    """The program and leading arguments that run the sidecar's command line.

    From source, ``python -m sidecar``. In the bundled app (``sys.frozen``), the bundle's own executable, which
    runs the sidecar for every command but ``desktop``; there is no Python interpreter to hand ``-m`` to.
    """
    if getattr(sys, "frozen", False):
        return sys.executable, []
    return python, ["-m", "sidecar"]


def compatible(ours: str, theirs: str) -> bool:
    """Same major and minor version (``0.1.x`` talks to ``0.1.y``)."""
    return ours.split(".")[:2] == theirs.split(".")[:2]


class SidecarState(enum.Enum):
    STARTING = "starting"
    UP = "up"
    UNREACHABLE = "unreachable"
    VERSION_MISMATCH = "version_mismatch"


@dataclass(frozen=True, slots=True)
class SidecarStatus:
    """What the window shows about the sidecar.

    Attributes:
        state: see :class:`SidecarState`.
        url: where we look for it.
        version: what it said it is ("" when unknown).
        owned: True when it is our child process.
        detail: one sentence for the user (why it is unreachable, what mismatches).
        can_start: True when this app may start a sidecar (a local address, and not ``--no-start``); otherwise
            it can only look again.
    """

    state: SidecarState
    url: str
    version: str = ""
    owned: bool = False
    detail: str = ""
    can_start: bool = False

    @property
    def connected(self) -> bool:
        return self.state in (SidecarState.UP, SidecarState.VERSION_MISMATCH)


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SidecarManager(QObject):
    """Keeps track of the sidecar and, when allowed, runs one.

    Signals:
        status_changed(object): a new :class:`SidecarStatus`.
    """

    status_changed = Signal(object)

    def __init__(self, client: SidecarClient, *, port: int, host: str = "127.0.0.1", data_dir: str | None = None,
                 may_start: bool = True, poll_ms: int = 2000, start_timeout_ms: int = 20_000,
                 python: str = sys.executable, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._port, self._host, self._data_dir = port, host, data_dir
        self._may_start = may_start and _is_local(host)
        self._python = python
        self._poll_ms = poll_ms
        self._start_timeout_ms = start_timeout_ms
        self._expected = desktop_version()
        self._status = SidecarStatus(SidecarState.UNREACHABLE, client.base_url, detail="not checked yet",
                                     can_start=self._may_start)
        self._process: QProcess | None = None
        self._output: deque[str] = deque(maxlen=40)
        self._probing = False
        self._stopping = False
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._probe)
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.timeout.connect(self._start_timed_out)

    @property
    def status(self) -> SidecarStatus:
        return self._status

    @property
    def owns_process(self) -> bool:
        return self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning

    @property
    def process_id(self) -> int:
        return int(self._process.processId()) if self._process is not None else 0

    @property
    def output(self) -> list[str]:
        """The last lines our child printed."""
        return list(self._output)

    def start(self) -> None:
        """Look for a sidecar; start one if none answers and we may. Then keep watching."""
        self._timer.start(self._poll_ms)
        self._check(first=True)

    def restart(self) -> None:
        """Stop our child (if any) and start a new one; without a child, look again at once (and start one
        if none answers). Never waits on the GUI thread: the new start follows the old child's exit."""
        process = self._process
        if process is not None and process.state() != QProcess.ProcessState.NotRunning:
            self._stopping = True
            self._set(SidecarStatus(SidecarState.STARTING, self._client.base_url, "", True, "restarting the sidecar"))
            process.finished.connect(self._restart_after_exit)
            process.terminate()
            QTimer.singleShot(10_000, process.kill)  # if it ignores SIGTERM
            return
        self._check(first=True)

    def _restart_after_exit(self, *_args: object) -> None:
        self._stopping = False
        self._process = None
        self._status = SidecarStatus(SidecarState.UNREACHABLE, self._client.base_url, detail="restarting",
                                     can_start=self._may_start)
        self._check(first=True)

    def stop(self) -> None:
        """Stop the child we started: SIGTERM, then SIGKILL after 10 s. A sidecar we found is left alone."""
        process = self._process
        if process is None or process.state() == QProcess.ProcessState.NotRunning:
            return
        self._stopping = True
        process.terminate()
        if not process.waitForFinished(10_000):
            process.kill()
            process.waitForFinished(3000)
        self._stopping = False

    def shutdown(self) -> None:
        """On quit: stop watching and stop our child."""
        self._timer.stop()
        self._deadline.stop()
        self.stop()

    # -- internals -----------------------------------------------------------------------------------

    def _set(self, status: SidecarStatus) -> None:
        status = dataclasses.replace(status, can_start=self._may_start)
        if status != self._status:
            log.sidecar.info("sidecar %s: %s %s", status.url, status.state.value, status.detail)
            self._status = status
            self.status_changed.emit(status)

    def _check(self, *, first: bool) -> None:
        call = self._client.health()
        call.done.connect(self._healthy)
        call.failed.connect(lambda error: self._unhealthy(error, first=first))

    def _probe(self) -> None:
        if self._probing:
            return
        self._probing = True
        call = self._client.health()
        call.done.connect(self._healthy)
        call.failed.connect(lambda error: self._unhealthy(error, first=False))

    def _healthy(self, health: Health) -> None:
        self._probing = False
        self._deadline.stop()
        owned = self.owns_process
        if health.status != "ok":
            self._set(SidecarStatus(SidecarState.UNREACHABLE, self._client.base_url, health.version, owned,
                                    f"the sidecar reports {health.status or 'a problem'} (database {health.database})"))
        elif not compatible(self._expected, health.version):
            self._set(SidecarStatus(SidecarState.VERSION_MISMATCH, self._client.base_url, health.version, owned,
                                    f"the sidecar is version {health.version}; this app is {self._expected}"))
        else:
            self._set(SidecarStatus(SidecarState.UP, self._client.base_url, health.version, owned))
        if self._timer.interval() != self._poll_ms:
            self._timer.start(self._poll_ms)

    def _unhealthy(self, error: ApiError, *, first: bool) -> None:
        self._probing = False
        if self._status.state is SidecarState.STARTING:
            return  # the child is still coming up; the deadline decides
        if error.status == 503:
            detail = f"the sidecar is degraded: {error.message}"
        elif error.is_network:
            detail = f"nothing answers at {self._client.base_url}"
        else:
            detail = f"something else answers at {self._client.base_url} (HTTP {error.status})"
        if first and error.is_network and self._may_start and not self.owns_process:
            self._spawn()
            return
        self._set(SidecarStatus(SidecarState.UNREACHABLE, self._client.base_url, "", self.owns_process, detail))

    def _spawn(self) -> None:
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        process.setProcessEnvironment(env)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(self._read_output)
        process.finished.connect(self._child_finished)
        process.errorOccurred.connect(self._child_error)
        program, args = sidecar_command(self._python)
        args += ["serve", "--host", self._host, "--port", str(self._port)]
        if self._data_dir:
            args += ["--data-dir", self._data_dir]
        self._output.clear()
        self._process = process
        log.sidecar.info("starting a sidecar: %s %s", program, " ".join(args))
        self._set(SidecarStatus(SidecarState.STARTING, self._client.base_url, "", True,
                                f"starting a sidecar on port {self._port}"))
        process.start(program, args)
        self._deadline.start(self._start_timeout_ms)
        self._timer.start(200)

    def _read_output(self) -> None:
        if self._process is None:
            return
        text = bytes(self._process.readAllStandardOutput().data()).decode("utf-8", errors="replace")
        for line in text.splitlines():
            if line.strip():
                self._output.append(line)
                log.sidecar.debug("child: %s", line)

    def _child_finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        self._read_output()
        if self._stopping:
            return
        last = self._output[-1] if self._output else ""
        detail = f"the sidecar we started exited (code {code})" + (f": {last}" if last else "")
        self._deadline.stop()
        self._set(SidecarStatus(SidecarState.UNREACHABLE, self._client.base_url, "", False, detail))
        self._timer.start(self._poll_ms)

    def _child_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._deadline.stop()
            self._set(SidecarStatus(SidecarState.UNREACHABLE, self._client.base_url, "", False,
                                    f"could not run {self._python}: {self._process.errorString() if self._process else ''}"))
            self._timer.start(self._poll_ms)

    def _start_timed_out(self) -> None:
        last = self._output[-1] if self._output else "no output"
        self._set(SidecarStatus(SidecarState.UNREACHABLE, self._client.base_url, "", self.owns_process,
                                f"the sidecar did not come up in {self._start_timeout_ms // 1000} s ({last})"))
        self._timer.start(self._poll_ms)
