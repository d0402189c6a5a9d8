"""Alerts and violation facts: written with their event by the writer, triaged by people later."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from peewee import Database

from sidecar.errors import FieldError, InvalidInput, NotFound
from sidecar.store.models import Alert
from sidecar.store.records import AlertRecord
from sidecar.store.sql import placeholders, q

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
STATUSES = ("open", "acknowledged", "resolved", "false_positive")
CLOSED = ("resolved", "false_positive")

_ALERT_COLUMNS = ("id", "org_id", "severity", "severity_rank", "status", "message", "rule_id", "policy_id",
                  "audit_log_id", "agent_id", "details", "created_at", "updated_at")
INSERT_ALERT = f"INSERT INTO alerts ({', '.join(_ALERT_COLUMNS)}) VALUES ({placeholders(len(_ALERT_COLUMNS))})"
_VIOLATION_COLUMNS = ("org_id", "audit_log_id", "rule_id", "policy_id", "pack_id", "agent_id", "rule_name", "rule_type",
                      "severity", "action", "created_at")
INSERT_VIOLATION = (f"INSERT INTO violations ({', '.join(_VIOLATION_COLUMNS)}) "
                    f"VALUES ({placeholders(len(_VIOLATION_COLUMNS))})")


def insert_alerts(db: Database, cursor: Any, rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows in :data:`_ALERT_COLUMNS` order; runs on the writer thread inside the event's transaction."""
    if rows:
        cursor.executemany(q(db, INSERT_ALERT), rows)


def insert_violations(db: Database, cursor: Any, rows: Sequence[tuple[Any, ...]]) -> None:
    if rows:
        cursor.executemany(q(db, INSERT_VIOLATION), rows)


@dataclass(frozen=True, slots=True)
class AlertFilter:
    status: tuple[str, ...] = ()
    is_resolved: bool | None = None
    severity: str | None = None
    agent_id: str | None = None
    rule_id: str | None = None
    policy_id: str | None = None
    audit_log_id: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None


def alert_rows_of_events(db: Database, org_id: str, event_ids: Sequence[str]) -> list[tuple[Any, ...]]:
    """The alerts raised by these events, as the writer inserted them (:data:`_ALERT_COLUMNS`), oldest first."""
    if not event_ids:
        return []
    sql = (f"SELECT {', '.join(_ALERT_COLUMNS)} FROM alerts WHERE org_id = ? "
           f"AND audit_log_id IN ({placeholders(len(event_ids))}) ORDER BY id")
    return [tuple(row) for row in db.execute_sql(q(db, sql), (org_id, *event_ids)).fetchall()]


def _filtered(org_id: str, flt: AlertFilter) -> Any:
    query = Alert.select().where(Alert.org_id == org_id)
    if flt.status:
        query = query.where(Alert.status.in_(flt.status))
    if flt.is_resolved is not None:
        query = query.where(Alert.status.in_(CLOSED) if flt.is_resolved else Alert.status.not_in(CLOSED))
    if flt.severity:
        query = query.where(Alert.severity == flt.severity)
    if flt.agent_id:
        query = query.where(Alert.agent_id == flt.agent_id)
    if flt.rule_id:
        query = query.where(Alert.rule_id == flt.rule_id)
    if flt.policy_id:
        query = query.where(Alert.policy_id == flt.policy_id)
    if flt.audit_log_id:
        query = query.where(Alert.audit_log_id == flt.audit_log_id)
    if flt.start_ms is not None:
        query = query.where(Alert.created_at >= flt.start_ms)
    if flt.end_ms is not None:
        query = query.where(Alert.created_at <= flt.end_ms)
    return query


def list_alerts(org_id: str, flt: AlertFilter, *, limit: int, offset: int) -> tuple[list[AlertRecord], int]:
    """Critical first, then newest."""
    query = _filtered(org_id, flt)
    total = query.count()
    rows = query.order_by(Alert.severity_rank.desc(), Alert.id.desc()).limit(limit).offset(offset)
    return [AlertRecord.of(row) for row in rows], int(total)


def count_open_by_severity(org_id: str) -> dict[str, int]:
    from peewee import fn

    rows = (Alert.select(Alert.severity, fn.COUNT(Alert.id)).where((Alert.org_id == org_id) & Alert.status.not_in(CLOSED))
            .group_by(Alert.severity).tuples())
    found = {severity: 0 for severity in SEVERITY_RANK}
    found.update({severity: int(count) for severity, count in rows})
    return found


def get_alert(org_id: str, alert_id: str) -> AlertRecord:
    row = Alert.get_or_none((Alert.id == alert_id) & (Alert.org_id == org_id))
    if row is None:
        raise NotFound(f"alert {alert_id} not found")
    return AlertRecord.of(row)


def set_status(org_id: str, alert_id: str, *, status: str, note: str | None, by: str, now: int) -> AlertRecord:
    row = Alert.get_or_none((Alert.id == alert_id) & (Alert.org_id == org_id))
    if row is None:
        raise NotFound(f"alert {alert_id} not found")
    _apply(row, status=status, note=note, by=by, now=now)
    return AlertRecord.of(row)


def _apply(row: Alert, *, status: str, note: str | None, by: str, now: int) -> None:
    row.status = status
    if note is not None:
        row.note = note
    row.updated_at = now
    if status in CLOSED:
        row.resolved_at, row.resolved_by = now, by
    else:
        row.resolved_at = row.resolved_by = None
    row.save()


def set_status_many(org_id: str, *, ids: Sequence[str] | None, flt: AlertFilter | None, status: str, note: str | None,
                    by: str, now: int) -> list[str]:
    """Change many alerts (by ids or by filter); returns the ids changed. Unknown ids are skipped. A filter
    without any criterion is refused (InvalidInput): it would change every alert of the organisation."""
    query = Alert.select().where(Alert.org_id == org_id)
    if ids is not None:
        query = query.where(Alert.id.in_(list(ids)))
    elif flt is None or flt == AlertFilter():
        raise InvalidInput.fields([FieldError("filter", "a bulk change needs ids or a filter with a criterion")])
    else:
        query = _filtered(org_id, flt)
    changed = []
    for row in query.where(Alert.status != status).limit(10_000):
        _apply(row, status=status, note=note, by=by, now=now)
        changed.append(row.id)
    return changed


def details_json(details: dict[str, Any]) -> str:
    return orjson.dumps(details).decode()
