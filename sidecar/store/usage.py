"""Monthly event usage, counted and enforced by the writer in the same transaction as the events.

The writer thread owns a :class:`UsageMeter`. For each ingest job it asks :meth:`UsageMeter.admit`
whether the job's events fit the organisation's monthly quota; a job that does not fit is refused
whole (nothing of it is stored) and its neighbours in the group are unaffected. Counts are cached per
organisation (loaded once per month), deltas of one group are kept apart until the group commits, and
one UPSERT per organisation per group commit persists them. So counting is exact under any
concurrency (one thread decides) and costs a few dictionary operations per event.

On PostgreSQL other sidecars count too, so the meter keeps no count between groups: it reads the
committed count again in each group, after the writer has locked the organisation's row (every
writer counts an organisation only under that lock), so the quota holds across processes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from peewee import Database

from sidecar.clock import to_iso
from sidecar.errors import QuotaExceeded
from sidecar.store.db import is_postgres
from sidecar.store.sql import q

_LOAD = ("SELECT o.plan, u.events FROM organizations o LEFT JOIN usage_counts u "
         "ON u.org_id = o.id AND u.period = ? WHERE o.id = ?")
_UPSERT = ("INSERT INTO usage_counts (org_id, period, events, updated_at) VALUES (?, ?, ?, ?) "
           "ON CONFLICT (org_id, period) DO UPDATE SET events = usage_counts.events + excluded.events, "
           "updated_at = excluded.updated_at")


class _HasOrg(Protocol):
    org_id: str


def month_of(ms: int) -> tuple[str, int, int]:
    """``("YYYY-MM", first ms of the month, first ms of the next month)``, in UTC."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    end = datetime(moment.year + (moment.month == 12), moment.month % 12 + 1, 1, tzinfo=UTC)
    return f"{moment.year:04d}-{moment.month:02d}", int(start.timestamp() * 1000), int(end.timestamp() * 1000)


class UsageMeter:
    """Counts stored events per organisation and month; refuses jobs over the plan's quota. Writer thread only.

    Args:
        db: the database (for placeholder style).
        quota_for: the monthly event quota of a stored plan name (None: unlimited).
    """

    def __init__(self, db: Database, quota_for: Callable[[str | None], int | None]) -> None:
        self._db = db
        self._quota_for = quota_for
        self._orgs: dict[str, tuple[str, int, int | None]] = {}  # org -> (period, committed count, quota)
        self._pending: dict[str, int] = {}
        self._month: tuple[str, int, int] = ("", 0, 0)
        self._upsert = q(db, _UPSERT)
        self._load_sql = q(db, _LOAD)
        self._shared = is_postgres(db)

    def _state(self, cursor: Any, org_id: str, period: str) -> tuple[str, int, int | None]:
        state = self._orgs.get(org_id)
        if state is None or state[0] != period:
            cursor.execute(self._load_sql, (period, org_id))
            row = cursor.fetchone()
            plan, used = (row[0], int(row[1] or 0)) if row else (None, 0)
            state = self._orgs[org_id] = (period, used, self._quota_for(plan))
        return state

    def admit(self, cursor: Any, events: Sequence[_HasOrg], now: int) -> QuotaExceeded | None:
        """Count the events if they all fit their organisations' quotas; otherwise count none and say why."""
        month = self._month
        if not month[1] <= now < month[2]:
            month = self._month = month_of(now)
        org_id = events[0].org_id
        count = len(events)
        if count > 1 and any(event.org_id != org_id for event in events):
            return self._admit_mixed(cursor, events, month)
        state = self._orgs.get(org_id)
        if state is None or state[0] != month[0]:
            state = self._state(cursor, org_id, month[0])
        pending = self._pending.get(org_id, 0)
        if state[2] is not None and state[1] + pending + count > state[2]:
            return self._refusal(state[1] + pending, state[2], count, month[2])
        self._pending[org_id] = pending + count
        return None

    def _admit_mixed(self, cursor: Any, events: Sequence[_HasOrg], month: tuple[str, int, int]) -> QuotaExceeded | None:
        wanted: dict[str, int] = {}
        for event in events:
            wanted[event.org_id] = wanted.get(event.org_id, 0) + 1
        for org_id, count in wanted.items():
            _, used, quota = self._state(cursor, org_id, month[0])
            used += self._pending.get(org_id, 0)
            if quota is not None and used + count > quota:
                return self._refusal(used, quota, count, month[2])
        for org_id, count in wanted.items():
            self._pending[org_id] = self._pending.get(org_id, 0) + count
        return None

    @staticmethod
    def _refusal(used: int, quota: int, count: int, next_month: int) -> QuotaExceeded:
        left = max(0, quota - used)
        return QuotaExceeded(
            f"the monthly quota of {quota:,} events is used up ({used:,} stored this month, {left:,} left, "
            f"{count:,} sent); it resets at {to_iso(next_month)} or with a bigger plan",
            resets_at=to_iso(next_month),
        )

    def flush(self, cursor: Any, now: int) -> None:
        """Persist this group's counts: one UPSERT per organisation, inside the group's transaction."""
        if self._pending:
            period = self._month[0]
            cursor.executemany(self._upsert, [(org_id, period, count, now) for org_id, count in self._pending.items()])

    def commit(self) -> None:
        """The group committed: fold its counts into the cache (or forget them when other processes count too)."""
        if self._shared:
            self._orgs.clear()
            self._pending.clear()
            return
        for org_id, count in self._pending.items():
            state = self._orgs.get(org_id)
            if state is not None:
                self._orgs[org_id] = (state[0], state[1] + count, state[2])
        self._pending.clear()

    def rollback(self) -> None:
        """The group failed: forget its counts."""
        self._pending.clear()
        if self._shared:
            self._orgs.clear()

    def forget(self, org_id: str) -> None:
        """Reload the organisation's plan and count next time (after a plan change). Writer thread only."""
        self._orgs.pop(org_id, None)
