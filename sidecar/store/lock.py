"""One sidecar per SQLite database: an advisory lock held for as long as a process serves the file.

The writer keeps the chain heads and recent trace summaries in memory, so a second process appending to the
same file would break the first one's next group. The lock is taken before anything is read or migrated and
released by closing it, by the lock object being collected, or by the process dying (``kill -9`` included).
It sits beside the file's real path, so a symlink or another spelling of the path finds the same lock.
PostgreSQL needs none: there every group reads the heads under a row lock, and several sidecars may share one
database.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import BinaryIO

from sidecar import log
from sidecar.errors import ConfigError


class DatabaseInUse(ConfigError):
    """Another process serves this database."""

    def __init__(self, database: str, holder: str) -> None:
        self.database, self.holder = database, holder
        who = f"another AgentAudit sidecar ({holder})" if holder else "another AgentAudit sidecar"
        super().__init__(f"{who} is already using {database}: stop it first, or give this one another --data-dir")


def _try_lock(file: BinaryIO) -> bool:
    """Take the lock without waiting: True when taken, False when another process holds it.

    Raises:
        OSError: the file system cannot lock at all (some network file systems).
    """
    if sys.platform == "win32":  # pragma: no cover - not built or tested here
        import msvcrt

        try:
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


class DatabaseLock:
    """The lock file beside a SQLite database (``agentaudit.db.lock``), naming its holder's pid and address."""

    def __init__(self, path: Path, file: BinaryIO | None) -> None:
        self.path = path
        self._file = file  # None: the file system cannot lock, and nothing is held

    @classmethod
    def acquire(cls, database: str) -> DatabaseLock:
        """Lock ``database`` (a SQLite file path) for this process.

        Raises:
            DatabaseInUse: another live process holds it; its pid (and address, once it listens) in the message.
        """
        path = Path(os.path.realpath(database) + ".lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        file = os.fdopen(fd, "r+b", buffering=0)  # closed when this lock is collected, whatever happens
        try:
            taken = _try_lock(file)
        except OSError as exc:
            file.close()
            log.store.warning("cannot lock %s (%s): nothing stops a second sidecar on this database", path, exc)
            return cls(path, None)
        if not taken:
            try:
                holder = file.read(300).decode("utf-8", "replace").strip()
            except OSError:  # Windows' locks keep others from reading too
                holder = ""
            finally:
                file.close()
            raise DatabaseInUse(database, holder)
        lock = cls(path, file)
        lock.describe("")
        return lock

    def describe(self, address: str) -> None:
        """Write who holds the lock: ``pid 1234`` and, once known, where it listens (best effort: the lock is
        what matters, this text only helps whoever is refused)."""
        if self._file is None:
            return
        text = f"pid {os.getpid()}" + (f", {address}" if address else "")
        try:
            self._file.seek(0)
            self._file.truncate()
            self._file.write(text.encode())
        except OSError as exc:
            log.store.warning("could not note this sidecar in %s: %s", self.path, exc)

    def release(self) -> None:
        """Let another process serve the database (idempotent; the file stays)."""
        if self._file is not None:
            self._file.close()
            self._file = None
