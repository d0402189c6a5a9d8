"""Desktop benchmark for the reports, billing, settings and activity pages, against a seeded sidecar.

    .venv/bin/python bench/desktop_admin.py [--runs 5]

A sidecar (child process, with the local Stripe fake so billing is on) is seeded with the demo data. In one
offscreen app, logged in, each run times (median of --runs):
- request -> ready: clicking "Request report" for a 30-day compliance summary PDF until the build is reported
  ready by polling (includes the sidecar's build and the 500 ms poll interval);
- open: downloading that PDF and showing it in the embedded viewer (or handing it to the system viewer);
- billing, settings, activity: from showing the page (its data requested) to its data on screen.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QObject, QTimer, QUrl, Slot  # noqa: E402
from PySide6.QtGui import QDesktopServices  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop import qtcompat, theme  # noqa: E402
from desktop.api.client import SidecarClient  # noqa: E402
from desktop.api.transport import Transport  # noqa: E402
from desktop.presenters.shell import Shell  # noqa: E402
from desktop.sidecar_process import SidecarManager  # noqa: E402
from desktop.views import reports as reports_view  # noqa: E402
from desktop.views.main_window import MainWindow  # noqa: E402
from sidecar import demo  # noqa: E402
from tests.helpers import SidecarProcess  # noqa: E402


class _Sink(QObject):
    """Takes the system viewer's place: records the URL instead of launching a program."""

    @Slot(QUrl)
    def handle(self, url: QUrl) -> None:
        self.last = url


def wait(done: Callable[[], object], timeout: float = 60.0) -> float:
    """Run a nested event loop until ``done()`` is true (checked every millisecond); return the seconds."""
    start = time.perf_counter()
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(1)

    def check() -> None:
        if done() or time.perf_counter() - start > timeout:
            loop.quit()
    timer.timeout.connect(check)
    timer.start()
    if not done():
        loop.exec()
    timer.stop()
    if not done():
        raise TimeoutError("gave up waiting")
    return time.perf_counter() - start


def upgrade_then_seed(url: str) -> None:
    """Seed the demo organisation; the free plan allows 3 agents, so pay for Pro on the fake's page first."""
    import json
    import urllib.request

    def call(path: str, body: object = None, token: str = "") -> dict[str, str]:
        request = urllib.request.Request(path if path.startswith("http") else f"{url}/api/v1{path}",
                                         data=json.dumps(body).encode() if body is not None else b"",
                                         headers={"Content-Type": "application/json",
                                                  **({"Authorization": f"Bearer {token}"} if token else {})})
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return json.loads(raw) if raw[:1] == b"{" else {}
    call("/auth/register", {"name": "Northwind Health (demo)", "email": demo.DEMO_EMAIL, "password": demo.DEMO_PASSWORD})
    token = call("/auth/login", {"email": demo.DEMO_EMAIL, "password": demo.DEMO_PASSWORD})["accessToken"]
    call(call("/billing/checkout", {"priceId": "price_fake_pro"}, token)["url"] + "/pay")
    if demo.seed(demo.Api(url), demo.DEMO_EMAIL, demo.DEMO_PASSWORD, force=True, traces=10) != 0:
        raise RuntimeError("could not seed the demo data")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    qtcompat.apply()
    app = QApplication([])
    theme.apply(app)
    sink = _Sink()
    QDesktopServices.setUrlHandler("file", sink, "handle")
    with tempfile.TemporaryDirectory() as tmp:
        process = SidecarProcess(Path(tmp) / "data", env={"AGENTAUDIT_STRIPE_FAKE": "1"})
        url = process.start()
        try:
            upgrade_then_seed(url)
            client = SidecarClient(Transport(url))
            shell = Shell(client, SidecarManager(client, port=int(url.rsplit(":", 1)[1]), may_start=False))
            window = MainWindow(shell, tray=False)
            window.show()
            logged: list[object] = []
            shell.logged_in.connect(lambda: logged.append(True))
            shell.session.login(demo.DEMO_EMAIL, demo.DEMO_PASSWORD)
            wait(lambda: logged)
            times: dict[str, list[float]] = {"request -> ready": [], "open": [], "billing": [], "settings": [],
                                             "activity": []}
            for _ in range(args.runs):
                finished: list[object] = []
                shell.reports.finished.connect(finished.append)
                window.show_page("reports")
                window.reports.kind.setCurrentIndex(window.reports.kind.findData("compliance_summary"))
                window.reports.fmt.setCurrentIndex(window.reports.fmt.findData("pdf"))
                window.reports.request_button.click()
                times["request -> ready"].append(wait(lambda: finished))
                shell.reports.finished.disconnect(finished.append)
                viewed: list[object] = []
                shell.reports.viewable.connect(lambda *a: viewed.append(a))
                window.reports.table.selectRow(shell.reports.reports.row_of(finished[0].id))  # type: ignore[attr-defined]
                start = time.perf_counter()
                window.reports.open_button.click()
                wait(lambda: viewed)
                times["open"].append(time.perf_counter() - start)
                for page, presenter, signal in (("billing", shell.billing, shell.billing.changed),
                                                ("settings", shell.settings, shell.settings.retention_changed),
                                                ("activity", shell.activity, shell.activity.page_changed)):
                    got: list[object] = []
                    signal.connect(lambda *a, got=got: got.append(a))
                    shell._loaded.discard(page)  # measure a first showing each time
                    start = time.perf_counter()
                    window.show_page(page)
                    wait(lambda got=got: got)
                    times[page].append(time.perf_counter() - start)
            print(f"embedded PDF view: {reports_view.PDF_EMBEDDED}; runs: {args.runs}")
            for name, values in times.items():
                print(f"{name:>18}: median {statistics.median(values) * 1000:7.1f} ms, max {max(values) * 1000:7.1f} ms")
            shell.live.stop()
            client.transport.close()
        finally:
            process.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
