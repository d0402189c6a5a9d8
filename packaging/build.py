"""Build the one-folder bundle ``dist/agentaudit`` with PyInstaller, only when one of its inputs changed.

    python packaging/build.py            build if needed; print the bundle's executable
    python packaging/build.py --check    exit 0 when the bundle is up to date, 1 when a build is due
    python packaging/build.py --force    build even when up to date

The inputs are the sources that go into the bundle (``agentaudit_cli.py``, ``sidecar/``, ``desktop/``), what
decides how they are bundled (``agentaudit.spec``, ``pyproject.toml``, ``packaging/icons/``), the Python
version and the installed distributions with their versions. Their SHA-256 fingerprint is written to
``build/agentaudit.inputs`` after a successful build; a build is due when the executable is missing or the
fingerprint differs. A lock file keeps two builds (say ``make package`` and the package test) from running
at once.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "agentaudit"
INPUT_FILES = ("agentaudit_cli.py", "agentaudit.spec", "pyproject.toml")
INPUT_TREES = ("sidecar", "desktop", "packaging/icons")


def executable(bundle: Path = BUNDLE) -> Path:
    """The bundle's executable (``agentaudit`` or ``agentaudit.exe``)."""
    return bundle / ("agentaudit.exe" if sys.platform == "win32" else "agentaudit")


def input_files(root: Path = ROOT) -> Iterator[Path]:
    """Every source file that goes into the bundle or shapes it, in a stable order."""
    for name in INPUT_FILES:
        yield root / name
    for tree in INPUT_TREES:
        for path in sorted((root / tree).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                yield path


def fingerprint(root: Path = ROOT) -> str:
    """SHA-256 over the input files (paths and contents), the Python version and the installed distributions."""
    digest = hashlib.sha256()
    for path in input_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    digest.update(sys.version.encode() + b"\0")
    installed = sorted(f"{dist.metadata['Name']}=={dist.version}" for dist in metadata.distributions())
    digest.update("\n".join(installed).encode())
    return digest.hexdigest()


def up_to_date(root: Path = ROOT) -> bool:
    stamp = root / "build" / "agentaudit.inputs"
    return (executable(root / "dist" / "agentaudit").is_file() and stamp.is_file()
            and stamp.read_text().strip() == fingerprint(root))


class _Lock:
    """An exclusive lock on ``build/.lock`` for the duration of a build (POSIX; a no-op elsewhere)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd = -1

    def __enter__(self) -> _Lock:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            import fcntl
        except ImportError:
            return self
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *_exc: object) -> None:
        os.close(self._fd)


def build(*, force: bool = False, root: Path = ROOT) -> Path:
    """Build the bundle if it is out of date (or ``force``); return its executable.

    Raises:
        RuntimeError: PyInstaller failed (its output is in ``build/pyinstaller.log``).
    """
    with _Lock(root / "build" / ".lock"):
        if not force and up_to_date(root):
            return executable(root / "dist" / "agentaudit")
        inputs = fingerprint(root)  # taken before the build: a source edited meanwhile makes the next one due
        log = root / "build" / "pyinstaller.log"
        started = time.monotonic()
        with log.open("w") as out:
            done = subprocess.run(
                [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                 "--workpath", str(root / "build"), "--distpath", str(root / "dist"), str(root / "agentaudit.spec")],
                cwd=root, stdout=out, stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"PyInstaller failed (exit {done.returncode}); see {log}")
        (root / "build" / "agentaudit.inputs").write_text(inputs + "\n")
        print(f"built {root / 'dist' / 'agentaudit'} in {time.monotonic() - started:.0f} s", file=sys.stderr)
        return executable(root / "dist" / "agentaudit")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 0 when up to date, 1 when a build is due")
    parser.add_argument("--force", action="store_true", help="build even when up to date")
    args = parser.parse_args(argv)
    if args.check:
        return 0 if up_to_date() else 1
    try:
        print(build(force=args.force))
    except RuntimeError as exc:
        print(f"packaging/build.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
