"""A real PostgreSQL server for the tests: initdb into a temporary directory, a free loopback port.

The server is started once per test session (see ``postgres_server`` in ``tests/conftest.py``) and
stopped at its end; each test gets a database of its own, cloned from a migrated template. When the
binaries are missing the tests that need them skip with one line saying what to install. initdb and
postgres refuse to run as root: as root they run as the ``postgres`` system user (Debian's package
creates it), which owns the temporary directory; the server is our direct child either way, so
stopping it needs no helper process.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

INSTALL_HINT = "PostgreSQL is not installed (sudo apt-get install postgresql); the PostgreSQL tests skip"
TEMPLATE = "agentaudit_template"


def find_bindir() -> Path | None:
    """The directory of ``initdb`` and ``postgres``: $AGENTAUDIT_PG_BINDIR, Debian's versioned dirs, or PATH."""
    explicit = os.environ.get("AGENTAUDIT_PG_BINDIR")
    candidates = [Path(explicit)] if explicit else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                                           key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
                                           reverse=True)]
    on_path = shutil.which("postgres")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "postgres").is_file():
            return directory
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One throwaway cluster: :meth:`start`, :meth:`create_database`, :meth:`stop` (removes everything)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = 0
        self.root = Path(tempfile.mkdtemp(prefix="agentaudit-pg-"))
        self.data = self.root / "data"
        self.proc: subprocess.Popen[bytes] | None = None
        self._as: dict[str, object] = {}
        self._user = "agentaudit"
        self._databases = 0
        self._retired: list[str] = []

    def _prepare_user(self) -> None:
        if os.geteuid() != 0:
            self._user = pwd.getpwuid(os.geteuid()).pw_name
            return
        try:
            entry = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise RuntimeError("running as root needs the 'postgres' system user (apt-get install postgresql)") from exc
        os.chown(self.root, entry.pw_uid, entry.pw_gid)
        os.chmod(self.root, 0o700)
        self._as = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [], "cwd": self.root}
        self._user = "postgres"

    def start(self, timeout: float = 60.0) -> None:
        """initdb, then run ``postgres`` on 127.0.0.1 and a socket in the temporary directory."""
        self._prepare_user()
        subprocess.run(
            [str(self.bindir / "initdb"), "-D", str(self.data), "-U", self._user, "--auth=trust",
             "-E", "UTF8", "--no-sync", "--locale=C"],
            check=True, capture_output=True, timeout=timeout, **self._as,  # type: ignore[call-overload]
        )
        import psycopg

        self.port = _free_port()
        log = open(self.root / "server.log", "wb")  # noqa: SIM115 - owned by the child for its lifetime
        try:
            self.proc = subprocess.Popen(  # type: ignore[call-overload]
                [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
                 "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                 "-c", "max_connections=200", "-c", "shared_buffers=64MB"],
                stdout=log, stderr=subprocess.STDOUT, **self._as,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited at start:\n" + self.log_text())
            try:
                self.admin("SELECT 1")
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"postgres did not accept connections within {timeout:.0f} s")

    def log_text(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self._user}@127.0.0.1:{self.port}/{database}"

    def admin(self, statement: str) -> None:
        """Run one statement on the maintenance database, outside any transaction (CREATE DATABASE)."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)

    def create_database(self, template: str = "template0") -> str:
        """A new, empty (or cloned) database; returns its URL."""
        while self._retired:
            self.admin(f'DROP DATABASE IF EXISTS "{self._retired.pop()}" WITH (FORCE)')
        self._databases += 1
        name = f"t{os.getpid()}_{self._databases}"
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`create_database` once its test is over: at the next creation, since
        the app of the test may still close its connections after the test's fixtures are torn down."""
        self._retired.append(url.rsplit("/", 1)[1])

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT), then SIGKILL after ``timeout``; remove the directory."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)
