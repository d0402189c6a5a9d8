"""The reliability and security suite: switches shared by its tests.

``AGENTAUDIT_TEST_LONG=1`` (``make test-long``) runs the long variants: more fuzzing examples per operation,
more crash-and-restart iterations, more connections. The default run stays short enough for ``make test``.
"""

from __future__ import annotations

import os

LONG = os.environ.get("AGENTAUDIT_TEST_LONG", "") not in ("", "0")


def scale(short: int, long: int) -> int:
    """``short`` in the default run, ``long`` under ``make test-long``."""
    return long if LONG else short
