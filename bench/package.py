"""Bundle benchmark: the size of ``dist/agentaudit`` and how fast the bundled app starts.

    .venv/bin/python bench/package.py [--starts 7] [--desktop-starts 3] [--no-build]

1. Size: the bundle on disk (and its archives in dist/, when `make package` made them), and its largest parts.
2. Sidecar cold start: ``agentaudit serve`` launched as a new process until ``GET /health`` answers 200
   (polled every 5 ms), on a warm disk (one unmeasured start first reads the files into the page cache).
   Median of --starts launches, each on a new data dir (the first start creates the database and its keys),
   and the same again on an existing data dir (a restart). The same from source (``python -m sidecar``) for
   comparison.
3. Desktop: ``agentaudit desktop --screenshot`` against a running sidecar, from launch until the first PNG
   (the login screen, grabbed once the window is up, the sidecar answered and a 350 ms settle passed).
   Median of --desktop-starts launches.

Goals (issue 11): sidecar ready in under 2 s, bundle under 250 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "agentaudit"
EXE = BUNDLE / "agentaudit"
EMAIL, PASSWORD = "bench@package.test", "bench-password-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def start(command: list[str], data_dir: Path, port: int) -> tuple[subprocess.Popen[bytes], float]:
    """Launch a sidecar; return it and the seconds until /health answered 200."""
    began = time.perf_counter()
    proc = subprocess.Popen([*command, "serve", "--port", str(port), "--data-dir", str(data_dir)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = began + 60
    while time.perf_counter() < deadline:
        if healthy(url):
            return proc, time.perf_counter() - began
        if proc.poll() is not None:
            raise RuntimeError(f"{command} exited with {proc.returncode} before answering")
        time.sleep(0.005)
    proc.kill()
    raise RuntimeError(f"{command} did not answer /health within 60 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def cold_starts(command: list[str], work: Path, n: int) -> tuple[list[float], list[float]]:
    """(first starts on new data dirs, restarts on one existing data dir), in seconds."""
    warm, _ = start(command, work / "warm", free_port())  # reads the files into the page cache
    stop(warm)
    first, again = [], []
    for i in range(n):
        proc, seconds = start(command, work / f"new-{i}", free_port())
        first.append(seconds)
        stop(proc)
    for _ in range(n):
        proc, seconds = start(command, work / "warm", free_port())
        again.append(seconds)
        stop(proc)
    return first, again


def post(url: str, body: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def desktop_starts(work: Path, n: int) -> list[float]:
    """Seconds from launching the bundled desktop to its first screenshot file, against a running sidecar."""
    port = free_port()
    sidecar, _ = start([str(EXE)], work / "desktop-data", port)
    url = f"http://127.0.0.1:{port}"
    try:
        post(f"{url}/api/v1/auth/register", {"name": "Bench", "email": EMAIL, "password": PASSWORD})
        times = []
        for i in range(n):
            shots = work / f"shots-{i}"
            began = time.perf_counter()
            proc = subprocess.Popen([str(EXE), "desktop", "--url", url, "--no-start", "--screenshot", str(shots),
                                     "--email", EMAIL, "--password", PASSWORD],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
            first = shots / "welcome.png"
            while not first.exists() and proc.poll() is None and time.perf_counter() - began < 60:
                time.sleep(0.005)
            seconds = time.perf_counter() - began
            if proc.wait(timeout=120) != 0 or not first.exists():
                raise RuntimeError(f"the bundled desktop exited with {proc.returncode}")
            times.append(seconds)
        return times
    finally:
        stop(sidecar)


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def report_size() -> int:
    total = tree_size(BUNDLE)
    internal = BUNDLE / "_internal"
    parts = sorted(((tree_size(p) if p.is_dir() else p.lstat().st_size, p.name) for p in internal.iterdir()),
                   reverse=True)
    print(f"bundle dist/agentaudit: {mb(total)} on disk ({sum(1 for p in BUNDLE.rglob('*') if p.is_file()):,} files)"
          f"; goal < 250 MB: {'met' if total < 250e6 else 'NOT met'}")
    qt = internal / "PySide6" / "Qt"
    if qt.is_dir():
        print(f"  of which Qt libraries {mb(tree_size(qt / 'lib'))}, Qt plugins {mb(tree_size(qt / 'plugins'))}")
    print("  largest parts: " + ", ".join(f"{name} {mb(size)}" for size, name in parts[:8]))
    for archive in sorted((ROOT / "dist").glob("agentaudit*.tar.gz")) + sorted((ROOT / "dist").glob("agentaudit*.deb")):
        print(f"  archive {archive.name}: {mb(archive.stat().st_size)}")
    return total


def summary(label: str, values: list[float]) -> str:
    return (f"{label}: median {statistics.median(values) * 1000:,.0f} ms "
            f"(min {min(values) * 1000:,.0f}, max {max(values) * 1000:,.0f}, n={len(values)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=7, help="sidecar launches per measurement (default 7)")
    parser.add_argument("--desktop-starts", type=int, default=3, help="desktop launches (default 3; 0 skips)")
    parser.add_argument("--no-build", action="store_true", help="measure dist/agentaudit as it is")
    args = parser.parse_args(argv)
    if not args.no_build:
        subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py")], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    if not EXE.is_file():
        print("no bundle: run `make package` first", file=sys.stderr)
        return 1
    print(f"AgentAudit bundle benchmark ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    report_size()
    work = Path(tempfile.mkdtemp(prefix="agentaudit-bench-package-"))
    try:
        first, again = cold_starts([str(EXE)], work / "bundle", args.starts)
        print(summary("sidecar ready (bundle, new data dir)", first) + "; goal < 2 s: "
              + ("met" if statistics.median(first) < 2 else "NOT met"))
        print(summary("sidecar ready (bundle, existing data dir)", again))
        src_first, src_again = cold_starts([sys.executable, "-m", "sidecar"], work / "source", args.starts)
        print(summary("sidecar ready (from source, new data dir)", src_first))
        print(summary("sidecar ready (from source, existing data dir)", src_again))
        if args.desktop_starts:
            times = desktop_starts(work, args.desktop_starts)
            print(summary("desktop launch to first screenshot (bundle; includes a 350 ms settle)", times))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
