"""Alert triage and the activity log."""

from __future__ import annotations

from collections.abc import Sequence

from sidecar.clock import now_ms
from sidecar.services.principal import Principal
from sidecar.store import activity
from sidecar.store import alerts as store
from sidecar.store.activity import ActivityFilter
from sidecar.store.alerts import AlertFilter
from sidecar.store.db import ReadPool
from sidecar.store.records import ActivityRecord, AlertRecord
from sidecar.store.writer import Writer


class AlertService:
    def __init__(self, writer: Writer, reads: ReadPool) -> None:
        self._writer = writer
        self._reads = reads

    async def list(self, principal: Principal, flt: AlertFilter, *, limit: int, offset: int) -> tuple[list[AlertRecord], int]:
        return await self._reads.run(store.list_alerts, principal.org_id, flt, limit=limit, offset=offset)

    async def get(self, principal: Principal, alert_id: str) -> AlertRecord:
        return await self._reads.run(store.get_alert, principal.org_id, alert_id)

    async def open_counts(self, principal: Principal) -> dict[str, int]:
        return await self._reads.run(store.count_open_by_severity, principal.org_id)

    async def set_status(self, principal: Principal, alert_id: str, *, status: str, note: str | None) -> AlertRecord:
        now = now_ms()

        def unit() -> AlertRecord:
            alert = store.set_status(principal.org_id, alert_id, status=status, note=note, by=principal.actor, now=now)
            activity.record(principal.org_id, actor=principal.actor, action=f"alert.{status}", target_type="alert",
                            target_id=alert_id, details={"note": note} if note else None, now=now)
            return alert

        return await self._writer.run(unit)

    async def set_status_many(self, principal: Principal, *, ids: Sequence[str] | None, flt: AlertFilter | None,
                              status: str, note: str | None) -> list[str]:
        now = now_ms()

        def unit() -> list[str]:
            changed = store.set_status_many(principal.org_id, ids=ids, flt=flt, status=status, note=note,
                                            by=principal.actor, now=now)
            activity.record(principal.org_id, actor=principal.actor, action=f"alert.bulk_{status}",
                            target_type="alert", target_id=None, details={"count": len(changed), "ids": changed[:100]},
                            now=now)
            return changed

        return await self._writer.run(unit)

    async def activity(self, principal: Principal, flt: ActivityFilter, *, limit: int,
                       offset: int) -> tuple[list[ActivityRecord], int]:
        return await self._reads.run(activity.list_activity, principal.org_id, flt, limit=limit, offset=offset)
