"""Work-arounds for bugs in the Qt binding we run on, each detected before it is applied.

PySide6 6.12.0 on CPython 3.11 returns the singletons ``None`` (from every method returning ``void``, e.g.
``QLabel.setText``) and ``True`` (from ``SignalInstance.emit()``) without taking a new reference to them, as
if they were immortal, which they are only from CPython 3.12 on. Each such call lowers the singleton's
reference count by one; after a few thousand calls the interpreter aborts (``none_dealloc: deallocating
None``, ``bool_dealloc``), sooner or later, often at exit. We measure the loss with a probe and, only if it
is there, give ``None``, ``True`` and ``False`` a reference count no run can exhaust (2**40), which is what
CPython 3.12's immortal objects do. Nothing changes on an interpreter or binding without the bug.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

_HEADROOM = 1 << 40
_PROBES = 8
_applied = False


class _Probe(QObject):
    fired = Signal()


def _loss(value: object, run: object) -> int:
    before = sys.getrefcount(value)
    for _ in range(_PROBES):
        run()  # type: ignore[operator]
    lost = before - sys.getrefcount(value)
    for _ in range(max(0, lost)):  # give back what the probe took
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(value))
    return lost


def binding_leaks_singletons() -> bool:
    """True when calls into the binding lower the reference count of ``None`` or ``True``."""
    probe = _Probe()
    return _loss(None, lambda: probe.setObjectName("probe")) > 0 or _loss(True, probe.fired.emit) > 0


def apply() -> bool:
    """Apply the work-around when needed (idempotent). Returns whether it was applied."""
    global _applied
    if _applied or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return _applied
    if binding_leaks_singletons():
        for value in (None, True, False):
            ctypes.c_ssize_t.from_address(id(value)).value += _HEADROOM
        _applied = True
    return _applied
