"""One sidecar per SQLite database: an advisory lock held for as long as a process serves the file.

The writer keeps the chain heads and recent trace summaries in memory, so a second process appending to the
same file would break the first one's next group. The lock is taken before anything is read or migrated and
released by closing it or by the process dying (``kill -9`` included). PostgreSQL needs none: there every
group reads the heads under a row lock, and several sidecars may share one database.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sidecar.errors import ConfigError


class DatabaseInUse(ConfigError):
    """Another process serves this database."""

    def __init__(self, database: str, holder: str) -> None:
        self.database, self.holder = database, holder
        who = f"another AgentAudit sidecar ({holder})" if holder else "another AgentAudit sidecar"
        super().__init__(f"{who} is already using {database}: stop it first, or give this one another --data-dir")


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - not built or tested here
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class DatabaseLock:
    """The lock file beside a SQLite database (``agentaudit.db.lock``), naming its holder's pid and address."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, database: str) -> DatabaseLock:
        """Lock ``database`` (a SQLite file path) for this process.

        Raises:
            DatabaseInUse: another live process holds it; its pid (and address, once it listens) in the message.
        """
        path = Path(database + ".lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            try:
                os.lseek(fd, 0, os.SEEK_SET)
                holder = os.read(fd, 300).decode("utf-8", "replace").strip()
            except OSError:  # Windows' locks keep others from reading too
                holder = ""
            finally:
                os.close(fd)
            raise DatabaseInUse(database, holder)
        lock = cls(path, fd)
        lock.describe("")
        return lock

    def describe(self, address: str) -> None:
        """Write who holds the lock: ``pid 1234`` and, once known, where it listens."""
        if self._fd is None:
            return
        text = f"pid {os.getpid()}" + (f", {address}" if address else "")
        os.ftruncate(self._fd, 0)
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.write(self._fd, text.encode())

    def release(self) -> None:
        """Let another process serve the database (idempotent; the file stays, empty of meaning)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
