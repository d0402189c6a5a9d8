"""``python -m desktop``: start the desktop app."""

from __future__ import annotations

import sys

from desktop.app import main

sys.exit(main(sys.argv[1:]))
