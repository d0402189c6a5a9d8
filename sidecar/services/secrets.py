"""Secrets that live in the data dir: created on first start with mode 0600, read on every start."""

from __future__ import annotations

import os
import secrets as _secrets
from pathlib import Path


def ensure_data_dir(data_dir: Path) -> None:
    """Create the data dir (0700) if needed."""
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(data_dir, 0o700)
    except PermissionError:
        pass


def load_or_create(path: Path, make: bytes | None = None) -> bytes:
    """Return the secret in ``path``, creating it (``make`` or 64 random bytes) with mode 0600 if absent.

    Creation is atomic (O_EXCL on a temporary name, then rename), so two processes starting
    together agree on one secret.
    """
    if path.exists():
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = make if make is not None else _secrets.token_bytes(64)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process won the race
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()
