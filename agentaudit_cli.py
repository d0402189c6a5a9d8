"""The ``agentaudit`` command: ``agentaudit desktop`` starts the desktop app; every other command is the sidecar's.

With no command at all it starts the desktop app, as a double-click on the installed app does; on a machine
without a display it says how to run the sidecar instead. This module is the composition root above the two
applications, which never import each other, and the entry point of the bundled app (agentaudit.spec).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Mapping, Sequence

NO_DISPLAY = ("agentaudit: no display to open the desktop app on. Run the sidecar alone with 'agentaudit serve', "
              "or see 'agentaudit --help'.")


def has_display(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether a desktop window can open: always on Windows and macOS; on Linux and the BSDs when an X11 or
    Wayland display is set, or Qt is told which platform plugin to use (``QT_QPA_PLATFORM=offscreen``)."""
    if platform in ("win32", "darwin"):
        return True
    return any(environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        if not has_display(os.environ):
            print(NO_DISPLAY, file=sys.stderr)
            return 2
        args = ["desktop"]
    if args[0] == "desktop":
        from desktop.app import main as desktop_main

        return int(desktop_main(args[1:]) or 0)
    from sidecar.cli import main as sidecar_main

    return sidecar_main(args)


if __name__ == "__main__":
    multiprocessing.freeze_support()  # the bundled app's worker processes (agentaudit verify --jobs) start here
    sys.exit(main())
