"""Work-arounds for bugs in the Qt binding we run on, each detected before it is applied.

PySide6 6.12.0: ``SignalInstance.emit()`` returns ``True`` without taking a new reference to it. On CPython
3.12+ ``True`` is immortal and nothing happens; on 3.11 every emit whose result is dropped lowers ``True``'s
reference count by one, and after a few hundred emits the interpreter aborts (``bool_dealloc: deallocating
True or False``), typically at exit. We measure the leak with a probe signal and, only if it is there, give
``True`` and ``False`` a reference count that no run can exhaust: what 3.12's immortal objects do.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

_HEADROOM = 1 << 40
_applied = False


class _Probe(QObject):
    fired = Signal()


def emit_leaks_true() -> bool:
    """True when dropping ``emit()``'s result lowers ``True``'s reference count."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.fired.emit()
    lost = before - sys.getrefcount(True)
    for _ in range(max(0, lost)):  # give back what the probe took
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return lost > 0


def apply() -> bool:
    """Apply the work-around when needed (idempotent). Returns whether it was applied."""
    global _applied
    if _applied or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return _applied
    if emit_leaks_true():
        for value in (True, False):
            ctypes.c_ssize_t.from_address(id(value)).value += _HEADROOM
        _applied = True
    return _applied
