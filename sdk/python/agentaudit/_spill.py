"""A local JSON-lines file that holds events while the sidecar is down, replayed when it returns.

Delivery from the file is at least once: if the process dies in the middle of a replay, the part already
replayed is sent again by the next one. Lines cut short by a crash are skipped and counted.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Deliver = Callable[[list[dict[str, Any]]], bool]


class SpillFile:
    """Append events, replay them in batches, keep whatever could not be replayed.

    Args:
        path: the file (its folder is created); one per process.
        max_bytes: past this size new events are not written (counted in ``overflow``) rather than fill the disk.
    """

    def __init__(self, path: str | os.PathLike[str], *, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.overflow = 0
        self.corrupt = 0
        self._lock = threading.Lock()
        self._size = self.path.stat().st_size if self.path.exists() else 0

    @property
    def size(self) -> int:
        return self._size

    def append(self, events: Sequence[dict[str, Any]]) -> int:
        """Write ``events`` (flushed to the OS, not fsynced); returns how many were written."""
        data = "".join(json.dumps(e, separators=(",", ":"), ensure_ascii=False, default=str) + "\n" for e in events)
        raw = data.encode("utf-8")
        with self._lock:
            if self._size + len(raw) > self.max_bytes:
                self.overflow += len(events)
                return 0
            with open(self.path, "ab") as fh:
                fh.write(raw)
            self._size += len(raw)
        return len(events)

    def replay(self, deliver: Deliver, batch_size: int) -> int:
        """Hand the stored events to ``deliver`` in batches, oldest first, until it returns False.

        Returns how many events were handed over and accepted; the rest stay in the file.
        """
        with self._lock:
            if self._size == 0:
                return 0
            with open(self.path, "rb") as fh:
                lines = fh.read().splitlines()
            events: list[dict[str, Any]] = []
            for line in lines:
                try:
                    event = json.loads(line)
                except ValueError:
                    self.corrupt += 1
                    continue
                if isinstance(event, dict):
                    events.append(event)
            done = 0
            while done < len(events):
                if not deliver(events[done:done + batch_size]):
                    break
                done += len(events[done:done + batch_size])
            self._rewrite(events[done:])
            return done

    def _rewrite(self, remaining: list[dict[str, Any]]) -> None:
        if not remaining:
            with open(self.path, "wb"):
                pass
            self._size = 0
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        data = "".join(json.dumps(e, separators=(",", ":"), ensure_ascii=False) + "\n" for e in remaining)
        tmp.write_bytes(data.encode("utf-8"))
        os.replace(tmp, self.path)
        self._size = self.path.stat().st_size
