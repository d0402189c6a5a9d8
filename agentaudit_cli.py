"""The ``agentaudit`` command: ``agentaudit desktop`` starts the desktop app; every other command is the sidecar's.

This module is the composition root above the two applications, which never import each other.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "desktop":
        from desktop.app import main as desktop_main

        return int(desktop_main(args[1:]) or 0)
    from sidecar.cli import main as sidecar_main

    return sidecar_main(args)


if __name__ == "__main__":
    sys.exit(main())
