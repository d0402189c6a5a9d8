"""The ``agentaudit`` entry point: no command opens the desktop app, or says what to run where there is no display."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

from agentaudit_cli import NO_DISPLAY, has_display
from sidecar.services.container import VERSION
from tests.helpers import ROOT


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "agentaudit_cli.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def _headless() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}


def test_no_command_without_a_display_points_to_serve() -> None:
    done = _run(env=_headless())
    assert (done.returncode, done.stdout, done.stderr.strip()) == (2, "", NO_DISPLAY)


def test_version_is_the_sidecars() -> None:
    done = _run("--version", env=_headless())
    assert (done.returncode, done.stdout.strip()) == (0, f"agentaudit {VERSION}")


def test_which_environments_have_a_display() -> None:
    assert not has_display({}, "linux")
    assert not has_display({"DISPLAY": ""}, "linux")
    assert has_display({"DISPLAY": ":0"}, "linux")
    assert has_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert has_display({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert has_display({}, "win32") and has_display({}, "darwin")


def test_version_matches_the_distribution() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert VERSION == project["version"]


def test_help_names_every_command_the_desktop_included() -> None:
    done = _run("--help", env=_headless())
    assert done.returncode == 0
    listed = {line.split()[0] for line in done.stdout.split("positional arguments:")[1].split("options:")[0]
              .splitlines()[2:] if line.startswith("    ") and not line.startswith("     ")}
    assert {"serve", "init", "demo", "verify", "report", "migrate", "copy", "desktop"} <= listed, done.stdout
    desktop_help = _run("desktop", "--help", env={**_headless(), "QT_QPA_PLATFORM": "offscreen"})
    assert desktop_help.returncode == 0 and "--screenshot" in desktop_help.stdout, desktop_help.stderr
