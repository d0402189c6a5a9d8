"""The last resort for exceptions raised in Qt slots: log them with their traceback and tell the user."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from desktop import log

Reporter = Callable[[str], None]


def install(report: Reporter | None = None) -> None:
    """Replace ``sys.excepthook``: every uncaught exception is logged once, then ``report`` gets a summary.

    Without a hook, PySide prints the traceback and carries on, leaving the app in an unknown state; with it
    the user learns that something broke and the log keeps the detail.
    """
    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        text = "".join(traceback.format_exception(kind, value, tb))
        log.root.error("unhandled exception:\n%s", text)
        if report is not None:
            report(f"{kind.__name__}: {value}")
    sys.excepthook = hook
