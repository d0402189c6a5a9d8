"""The bundled app (``dist/agentaudit``, built by PyInstaller from these sources) as a user runs it.

One build serves the module: ``packaging/build.py`` builds the bundle, or reuses the one already built from
the same inputs (see its fingerprint). Then the bundle's own executable runs the sidecar on a free port, takes
an event over HTTP, verifies its chain, opens the desktop app offscreen to take screenshots (the desktop starts
its own sidecar from the bundle), upgrades an old database, and installs from the archives.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sidecar.services.container import VERSION
from sidecar.store import migrations
from tests.helpers import PASSWORD, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

SCHEMA_V1 = ROOT / "tests" / "data" / "schema_v1.sql"
LISTENING = re.compile(r"AgentAudit sidecar (\S+) listening on (http://127\.0\.0\.1:\d+) \(data: (.+)\)")
# every view the screenshot mode saves for a new account (a policy's versions and analytics need a policy)
VIEWS = ("welcome", "dashboard", "logs", "alerts", "keys", "traces", "policies", "agents", "reports", "billing",
         "settings", "activity", "users", "dashboard-dark")


@pytest.fixture(scope="module")
def bundle() -> Path:
    """The bundle's executable, built from these sources (or reused when already built from them)."""
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed (make package installs it)")
    done = subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py")], cwd=ROOT, capture_output=True,
                          text=True, timeout=840)
    assert done.returncode == 0, done.stdout + done.stderr
    exe = Path(done.stdout.strip().splitlines()[-1])
    assert exe == ROOT / "dist" / "agentaudit" / "agentaudit" and os.access(exe, os.X_OK)
    return exe


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_closed(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def http(url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


class BundledSidecar:
    """``dist/agentaudit/agentaudit serve`` in a child process on a free port, its output collected."""

    def __init__(self, exe: Path, data_dir: Path | None, *extra: str, env: dict[str, str] | None = None) -> None:
        self.exe, self.data_dir = exe, data_dir
        self.lines: list[str] = []
        self.url = self.version = ""
        where = ["--data-dir", str(data_dir)] if data_dir else []
        self.proc = subprocess.Popen([str(exe), "serve", "--port", "0", *where, *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            found = LISTENING.search(line)
            if found:
                self.version, self.url = found.group(1), found.group(2)
                self._ready.set()
        self._ready.set()

    def wait_ready(self, timeout: float = 30) -> str:
        assert self._ready.wait(timeout), "no output from the bundled sidecar in time"
        assert self.url, "the bundled sidecar did not start:\n" + self.output
        return self.url

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; the exit status once it has finished its writes."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self._reader.join(timeout=10)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        return code


@pytest.fixture
def sidecars() -> Iterator[list[BundledSidecar]]:
    started: list[BundledSidecar] = []
    yield started
    for sidecar in started:
        if sidecar.proc.poll() is None or (sidecar.proc.stdout and not sidecar.proc.stdout.closed):
            sidecar.proc.kill()
            sidecar.stop()


def run(exe: Path, *args: str, timeout: float = 60, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_the_bundle_runs_the_sidecar_verify_and_the_desktop(bundle: Path, tmp_path: Path,
                                                           sidecars: list[BundledSidecar]) -> None:
    assert run(bundle, "--version").stdout.strip() == f"agentaudit {VERSION}"
    data = tmp_path / "data"
    sidecar = BundledSidecar(bundle, data, "--first-run-hint")
    sidecars.append(sidecar)
    url = sidecar.wait_ready()
    assert (sidecar.version, Path(LISTENING.search(sidecar.output).group(3))) == (VERSION, data)  # type: ignore[union-attr]
    assert http(f"{url}/health") == (200, {"status": "ok", "version": VERSION, "database": "up"})

    # an account, a key, the finance pack (a data file read through importlib.resources), one event
    email = "owner@bundle.test"
    assert http(f"{url}/api/v1/auth/register", "POST", {"name": "Bundle", "email": email, "password": PASSWORD})[0] == 201
    status, login = http(f"{url}/api/v1/auth/login", "POST", {"email": email, "password": PASSWORD})
    assert status == 200
    jwt = {"Authorization": f"Bearer {login['accessToken']}"}
    status, key = http(f"{url}/api/v1/auth/api-keys", "POST", {"name": "agent"}, jwt)
    assert status == 201 and key["key"].startswith("aa_live_")
    status, packs = http(f"{url}/api/v1/compliance-rules/packs", headers=jwt)
    assert status == 200 and {"hipaa", "gdpr", "finance", "secrets"} <= {pack["id"] for pack in packs}
    assert http(f"{url}/api/v1/compliance-rules/packs", "POST", {"packId": "finance"}, jwt)[0] in (200, 201)
    event = {"action": "llm_call", "traceId": "bundle-run-1", "prompt": "Charge card 4111 1111 1111 1111 today",
             "response": "done", "metadata": {"model": "gpt-4o"}}
    status, stored = http(f"{url}/api/v1/audit-logs", "POST", event, {"X-API-Key": key["key"]})
    assert status == 201, stored
    assert stored["sequence"] == 1 and len(stored["hash"]) == 64
    assert stored["enforcementAction"] != "allow" and stored["complianceFlags"], stored
    status, page = http(f"{url}/api/v1/audit-logs?traceId=bundle-run-1", headers={"X-API-Key": key["key"]})
    assert status == 200
    items = page["data"] if isinstance(page, dict) and "data" in page else page
    assert [(item["id"], item["hash"], item["prompt"]) for item in items] == [(stored["id"], stored["hash"],
                                                                               stored["prompt"])]

    assert sidecar.stop() == 0, sidecar.output
    assert "finishing queued writes" in sidecar.output
    assert f"    agentaudit init --email you@example.com --url {url}\n" in sidecar.lines  # the installed command

    verified = run(bundle, "verify", "--data-dir", str(data))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "checked 1 events" in verified.stdout and verified.stdout.rstrip().endswith("RESULT: intact")

    # the desktop app finds no sidecar on its port and starts one from the bundle, over the same data
    port, shots = free_port(), tmp_path / "shots"
    desktop = run(bundle, "desktop", "--url", f"http://127.0.0.1:{port}", "--data-dir", str(data),
                  "--screenshot", str(shots), "--email", email, "--password", PASSWORD, timeout=180,
                  env={"QT_QPA_PLATFORM": "offscreen"})
    assert desktop.returncode == 0, desktop.stdout + desktop.stderr
    assert sorted(p.name for p in shots.iterdir()) == sorted(f"{name}.png" for name in (*VIEWS, "about"))
    assert f"about: Version: {VERSION} (installed app)" in desktop.stdout.splitlines()
    assert f"about: Sidecar: {VERSION} at http://127.0.0.1:{port} (started by this app)" in desktop.stdout.splitlines()
    from PySide6.QtGui import QImage

    for name in VIEWS:
        image = QImage(str(shots / f"{name}.png"))
        assert (image.width(), image.height()) == (1280, 800), name
        colours = {image.pixel(x, y) for x in range(0, 1280, 16) for y in range(0, 800, 16)}
        assert len(colours) > 8, f"{name}.png is nearly blank"
    assert port_closed(port), "the desktop left its sidecar running"


def test_the_bundle_keeps_its_data_in_the_user_data_dir(bundle: Path, tmp_path: Path,
                                                        sidecars: list[BundledSidecar]) -> None:
    """Without --data-dir, the installed app writes to the platform's user data dir, never beside itself."""
    home = tmp_path / "home"
    env = {"HOME": str(home), "XDG_DATA_HOME": str(home / ".local" / "share"), "AGENTAUDIT_DATA_DIR": ""}
    sidecar = BundledSidecar(bundle, None, env=env)
    sidecars.append(sidecar)
    sidecar.wait_ready()
    data = home / ".local" / "share" / "agentaudit"
    assert Path(LISTENING.search(sidecar.output).group(3)) == data  # type: ignore[union-attr]
    assert sidecar.stop() == 0, sidecar.output
    assert (data / "agentaudit.db").is_file()
    assert not [p for p in bundle.parent.rglob("*.db")]


def test_the_bundle_upgrades_an_old_database_in_place(bundle: Path, tmp_path: Path,
                                                      sidecars: list[BundledSidecar]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "agentaudit.db") as conn:
        conn.executescript(SCHEMA_V1.read_text())
        conn.execute("INSERT INTO organizations VALUES ('org_1', 'Old', 'o@x', 'self_hosted', NULL, 1, ?, 0, ?, 1, 1)",
                     ("a" * 64, "0" * 64))
        conn.execute("INSERT INTO audit_logs VALUES ('log_1', 'org_1', 1, 'a', NULL, NULL, 'log_1', NULL, 'p', NULL, "
                     "NULL, 1, 1, 1, NULL, 'allow', 0, NULL, ?)", ("a" * 64,))
    sidecar = BundledSidecar(bundle, data)
    sidecars.append(sidecar)
    url = sidecar.wait_ready()
    assert http(f"{url}/health")[0] == 200
    assert f"migrated the database to schema version {migrations.LATEST}" in sidecar.output
    assert sidecar.stop() == 0, sidecar.output
    with sqlite3.connect(data / "agentaudit.db") as conn:
        versions = {row[0] for row in conn.execute("SELECT version FROM schema_version")}
        kept = conn.execute("SELECT id, prompt FROM audit_logs").fetchall()
    assert versions == {version for version, _ in migrations.MIGRATIONS}
    assert kept == [("log_1", "p")]


def test_the_bundle_bills_through_the_stripe_library(bundle: Path, tmp_path: Path,
                                                   sidecars: list[BundledSidecar]) -> None:
    """``--stripe-fake`` points the real stripe package (bundled, with its lazily loaded classes) at a local fake."""
    sidecar = BundledSidecar(bundle, tmp_path / "data", "--stripe-fake")
    sidecars.append(sidecar)
    url = sidecar.wait_ready()
    status, prices = http(f"{url}/api/v1/billing/prices")
    assert status == 200 and prices["pro"].startswith("price_"), prices
    email = "billing@bundle.test"
    assert http(f"{url}/api/v1/auth/register", "POST", {"name": "Pay", "email": email, "password": PASSWORD})[0] == 201
    status, login = http(f"{url}/api/v1/auth/login", "POST", {"email": email, "password": PASSWORD})
    assert status == 200
    jwt = {"Authorization": f"Bearer {login['accessToken']}"}
    status, session = http(f"{url}/api/v1/billing/checkout", "POST", {"priceId": prices["pro"]}, jwt)
    assert status in (200, 201), session
    assert session["sessionId"].startswith("cs_") and session["url"].startswith("http"), session
    status, subscription = http(f"{url}/api/v1/billing/subscription", headers=jwt)
    assert status == 200 and "usage" in subscription, subscription
    assert sidecar.stop() == 0, sidecar.output


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed")
def test_the_bundle_runs_on_postgresql(bundle: Path, tmp_path: Path, sidecars: list[BundledSidecar],
                                       request: pytest.FixtureRequest) -> None:
    """psycopg (with its own libpq) is in the bundle: migrate, ingest, read back and verify over PostgreSQL."""
    server = request.getfixturevalue("postgres_server")  # skips with one line when PostgreSQL is not installed
    database = server.create_database("template0")
    try:
        migrated = run(bundle, "migrate", "--database-url", database, "--data-dir", str(tmp_path / "data"))
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        sidecar = BundledSidecar(bundle, tmp_path / "data", env={"AGENTAUDIT_DATABASE_URL": database})
        sidecars.append(sidecar)
        url = sidecar.wait_ready()
        assert http(f"{url}/health") == (200, {"status": "ok", "version": VERSION, "database": "up"})
        email = "owner@bundle-pg.test"
        assert http(f"{url}/api/v1/auth/register", "POST", {"name": "PG", "email": email, "password": PASSWORD})[0] == 201
        status, login = http(f"{url}/api/v1/auth/login", "POST", {"email": email, "password": PASSWORD})
        assert status == 200, login
        jwt = {"Authorization": f"Bearer {login['accessToken']}"}
        status, event = http(f"{url}/api/v1/audit-logs", "POST", {"action": "llm_call", "prompt": "on postgres"}, jwt)
        assert status == 201, event
        status, page = http(f"{url}/api/v1/audit-logs?limit=5", headers=jwt)
        assert status == 200 and [e["id"] for e in page["data"]] == [event["id"]]
        assert sidecar.stop() == 0
        verified = run(bundle, "verify", "--database-url", database, "--data-dir", str(tmp_path / "data"))
        assert verified.returncode == 0 and "RESULT: intact" in verified.stdout, verified.stdout + verified.stderr
    finally:
        server.drop_database(database)


def test_the_archives_install_the_app(bundle: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "packaging" / "dist.py"), "--bundle", str(bundle.parent),
                           "--out", str(tmp_path), "--level", "1"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    tarball, deb = (Path(line) for line in done.stdout.split())
    assert tarball.name == f"agentaudit-{VERSION}-linux-{os.uname().machine}.tar.gz"

    with tarfile.open(tarball) as tar:
        tar.extractall(tmp_path / "unpacked", filter="tar")
    prefix = tmp_path / "prefix"
    install = subprocess.run(["sh", str(tmp_path / "unpacked" / f"agentaudit-{VERSION}" / "install.sh")],
                             env={**os.environ, "PREFIX": str(prefix)}, capture_output=True, text=True, timeout=120)
    assert install.returncode == 0, install.stdout + install.stderr
    assert run(prefix / "bin" / "agentaudit", "--version").stdout.strip() == f"agentaudit {VERSION}"
    entry = (prefix / "share" / "applications" / "agentaudit.desktop").read_text()
    assert f"Exec={prefix}/bin/agentaudit desktop" in entry.splitlines()
    assert (prefix / "share" / "icons" / "hicolor" / "256x256" / "apps" / "agentaudit.png").is_file()
    if shutil.which("desktop-file-validate"):
        checked = subprocess.run(["desktop-file-validate", str(prefix / "share" / "applications" / "agentaudit.desktop")],
                                 capture_output=True, text=True, timeout=30)
        assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")

    fields = subprocess.run(["dpkg-deb", "--field", str(deb), "Package", "Version", "Installed-Size", "Depends"],
                            capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    assert fields[:2] == ["Package: agentaudit", f"Version: {VERSION}"]
    bundle_kb = sum(p.stat().st_size for p in bundle.parent.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
    assert bundle_kb <= int(fields[2].split()[1]) < bundle_kb + 1024  # the bundle plus icons, links counted once
    assert fields[3].startswith(f"Depends: libc6 (>= {platform.libc_ver()[1]}), ")
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, timeout=120,
                             check=True).stdout
    for path in ("./opt/agentaudit/agentaudit", "./usr/bin/agentaudit -> /opt/agentaudit/agentaudit",
                 "./usr/share/applications/agentaudit.desktop", "./usr/share/icons/hicolor/512x512/apps/agentaudit.png"):
        assert path in listing, path
    assert "root/root" in listing.splitlines()[0]


def test_the_bundle_holds_the_app_and_no_tests_or_dev_tools(bundle: Path) -> None:
    listing = subprocess.run([sys.executable, "-m", "PyInstaller.utils.cliutils.archive_viewer", "-r", "-b", str(bundle)],
                             capture_output=True, text=True, timeout=120, check=True).stdout
    modules = {line.strip() for line in listing.splitlines() if line.startswith(" ")}
    assert {"sidecar.cli", "sidecar.cli_ledger", "sidecar.api.app", "desktop.app", "desktop.screenshots",
            "stripe._customer", "re2"} <= modules
    shipped_dev = sorted(m for m in modules if m.split(".")[0] in (
        "tests", "pytest", "_pytest", "pytestqt", "hypothesis", "PyInstaller", "importlinter", "aiosmtpd", "pypdf",
        "langchain_core", "openai", "agents", "httpx", "pydantic", "uvloop", "tkinter"))
    assert shipped_dev == []
    internal = bundle.parent / "_internal"
    packs = internal / "sidecar" / "compliance" / "packs"
    assert sorted(p.name for p in packs.iterdir()) == ["finance.json", "gdpr.json", "hipaa.json", "secrets.json"]
    qt_modules = sorted(p.name.split(".")[0] for p in (internal / "PySide6").glob("Qt*.so"))
    assert qt_modules == ["QtCore", "QtGui", "QtNetwork", "QtWidgets"]
    assert not (internal / "PySide6" / "Qt" / "translations").exists()
    dangling = [p for p in bundle.parent.rglob("*") if p.is_symlink() and not p.exists()]
    assert dangling == []
