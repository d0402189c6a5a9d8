"""Notification settings, the outbox and delivery records (sync units of work)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from peewee import Database

from sidecar.ids import new_id
from sidecar.store.models import Delivery, NotificationSettings, OutboxEvent
from sidecar.store.sql import q

_INSERT_EVENT = "INSERT INTO outbox_events (id, org_id, type, payload, created_at) VALUES (?, ?, ?, ?, ?)"


def enqueue_raw(db: Database, cursor: Any, rows: list[tuple[str, str, dict[str, Any], int]]) -> list[str]:
    """Queue outbox events from the writer's hot path: ``(org_id, type, payload, created_at)`` rows."""
    ids = []
    values = []
    for org_id, kind, payload, created in rows:
        event_id = new_id("evt")
        ids.append(event_id)
        values.append((event_id, org_id, kind, orjson.dumps(payload).decode(), created))
    if values:
        cursor.executemany(q(db, _INSERT_EVENT), values)
    return ids


def enqueue(org_id: str, kind: str, payload: dict[str, Any], now: int) -> str:
    """Queue one outbox event inside the current unit of work (report.ready, billing.*, test)."""
    event_id = new_id("evt")
    OutboxEvent.insert(id=event_id, org_id=org_id, type=kind, payload=orjson.dumps(payload).decode(),
                       created_at=now).execute()
    return event_id


@dataclass(frozen=True, slots=True)
class SettingsRecord:
    org_id: str
    webhook_url: str | None
    webhook_secret_enc: str | None
    notify_webhook: bool
    notify_email: bool
    email_recipients: tuple[str, ...]
    min_severity: str
    allow_private_targets: bool
    digest_minutes: int
    include_content: bool
    muted_rule_ids: tuple[str, ...]
    smtp_host: str | None
    smtp_port: int | None
    smtp_security: str
    smtp_username: str | None
    smtp_password_enc: str | None
    smtp_from: str | None
    updated_at: int


def _settings(row: NotificationSettings) -> SettingsRecord:
    return SettingsRecord(
        row.org_id, row.webhook_url, row.webhook_secret_enc, bool(row.notify_webhook), bool(row.notify_email),
        tuple(orjson.loads(row.email_recipients)), row.min_severity, bool(row.allow_private_targets),
        int(row.digest_minutes), bool(row.include_content), tuple(orjson.loads(row.muted_rule_ids)), row.smtp_host,
        row.smtp_port, row.smtp_security, row.smtp_username, row.smtp_password_enc, row.smtp_from, row.updated_at)


def configured_hosts() -> list[tuple[str, str | None, str | None]]:
    """``(org_id, smtp_host, webhook_url)`` of every organisation with either set (one query, at start)."""
    query = (NotificationSettings
             .select(NotificationSettings.org_id, NotificationSettings.smtp_host, NotificationSettings.webhook_url)
             .where(NotificationSettings.smtp_host.is_null(False) | NotificationSettings.webhook_url.is_null(False)))
    return [(row.org_id, row.smtp_host, row.webhook_url) for row in query]


def get_settings(org_id: str) -> SettingsRecord | None:
    row = NotificationSettings.get_or_none(NotificationSettings.org_id == org_id)
    return _settings(row) if row else None


_COLUMNS = {
    "webhook_url", "webhook_secret_enc", "notify_webhook", "notify_email", "email_recipients", "min_severity",
    "allow_private_targets", "digest_minutes", "include_content", "muted_rule_ids", "smtp_host", "smtp_port",
    "smtp_security", "smtp_username", "smtp_password_enc", "smtp_from",
}


def save_settings(org_id: str, changes: dict[str, Any], now: int) -> SettingsRecord:
    """Apply ``changes`` (column names; lists are stored as JSON)."""
    row = NotificationSettings.get_or_none(NotificationSettings.org_id == org_id)
    if row is None:
        row = NotificationSettings(org_id=org_id, updated_at=now)
        created = True
    else:
        created = False
    for key, value in changes.items():
        if key not in _COLUMNS:
            raise KeyError(key)
        if key in ("email_recipients", "muted_rule_ids"):
            value = orjson.dumps(list(value)).decode()
        setattr(row, key, value)
    row.updated_at = now
    row.save(force_insert=created)
    return _settings(row)


# -- dispatch --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class EventRecord:
    id: str
    org_id: str
    type: str
    payload: dict[str, Any]
    created_at: int


def undispatched(limit: int = 500) -> list[EventRecord]:
    rows = (OutboxEvent.select().where(OutboxEvent.dispatched_at.is_null())
            .order_by(OutboxEvent.created_at, OutboxEvent.id).limit(limit))
    return [EventRecord(r.id, r.org_id, r.type, orjson.loads(r.payload), r.created_at) for r in rows]


def fan_out(event_id: str, deliveries: list[dict[str, Any]], now: int) -> None:
    """Record the event as dispatched together with the deliveries it needs (idempotent per channel)."""
    for item in deliveries:
        Delivery.insert(id=new_id("dlv"), event_id=event_id, created_at=now, attempts=0, **item).on_conflict_ignore().execute()
    OutboxEvent.update(dispatched_at=now).where(OutboxEvent.id == event_id).execute()


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: str
    org_id: str
    event_id: str
    event_type: str
    channel: str
    target: str
    severity: str | None
    status: str
    attempts: int
    next_attempt_at: int
    last_error: str | None
    response_status: int | None
    created_at: int
    delivered_at: int | None


def _delivery(row: Delivery) -> DeliveryRecord:
    return DeliveryRecord(row.id, row.org_id, row.event_id, row.event_type, row.channel, row.target, row.severity,
                          row.status, row.attempts, row.next_attempt_at, row.last_error, row.response_status,
                          row.created_at, row.delivered_at)


def due(now: int, limit: int = 200) -> list[DeliveryRecord]:
    """Pending deliveries whose time has come, and digest entries whose digest window has closed."""
    rows = (Delivery.select().where(Delivery.status.in_(("pending", "digest")) & (Delivery.next_attempt_at <= now))
            .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit))
    return [_delivery(row) for row in rows]


def claim_due(now: int, lease_until: int, limit: int = 200) -> list[DeliveryRecord]:
    """Take the due deliveries for this process (several sidecars on PostgreSQL): lock them with
    ``FOR UPDATE SKIP LOCKED`` and push their next attempt to ``lease_until``, in the writer's transaction.

    Another process skips the rows while they are locked and finds them not due once this commits, so
    each delivery is attempted by one process; if that process dies before recording the outcome, the
    lease runs out and another one retries it (at least once, never lost).
    """
    due_ids = (Delivery.select(Delivery.id)
               .where(Delivery.status.in_(("pending", "digest")) & (Delivery.next_attempt_at <= now))
               .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit).for_update(skip_locked=True))
    rows = list(Delivery.update(next_attempt_at=lease_until).where(Delivery.id.in_(due_ids)).returning(Delivery)
                .execute())
    return sorted((_delivery(row) for row in rows), key=lambda d: d.id)


def claim_waiting_digest(org_id: str, lease_until: int) -> list[DeliveryRecord]:
    """Take an organisation's waiting digest entries for this process (see :func:`claim_due`)."""
    waiting = (Delivery.select(Delivery.id).where((Delivery.org_id == org_id) & (Delivery.status == "digest"))
               .limit(1000).for_update(skip_locked=True))
    rows = list(Delivery.update(next_attempt_at=lease_until).where(Delivery.id.in_(waiting)).returning(Delivery)
                .execute())
    return sorted((_delivery(row) for row in rows), key=lambda d: d.id)


def next_due_at() -> int | None:
    row = (Delivery.select(Delivery.next_attempt_at).where(Delivery.status.in_(("pending", "digest")))
           .order_by(Delivery.next_attempt_at).first())
    return int(row.next_attempt_at) if row else None


def event_payloads(event_ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = OutboxEvent.select(OutboxEvent.id, OutboxEvent.payload).where(OutboxEvent.id.in_(event_ids))
    return {row.id: orjson.loads(row.payload) for row in rows}


def mark(delivery_ids: list[str], *, status: str, now: int, error: str | None = None, response_status: int | None = None,
         retry_at: int | None = None) -> None:
    """Record an attempt's outcome for one or more deliveries."""
    changes: dict[Any, Any] = {Delivery.status: status, Delivery.attempts: Delivery.attempts + 1,
                               Delivery.last_error: error, Delivery.response_status: response_status}
    if status == "delivered":
        changes[Delivery.delivered_at] = now
    if retry_at is not None:
        changes[Delivery.next_attempt_at] = retry_at
    Delivery.update(changes).where(Delivery.id.in_(delivery_ids)).execute()


def list_deliveries(org_id: str, *, limit: int, offset: int, status: str | None = None,
                    channel: str | None = None) -> tuple[list[DeliveryRecord], int]:
    query = Delivery.select().where(Delivery.org_id == org_id)
    if status:
        query = query.where(Delivery.status == status)
    if channel:
        query = query.where(Delivery.channel == channel)
    total = query.count()
    return [_delivery(row) for row in query.order_by(Delivery.id.desc()).limit(limit).offset(offset)], int(total)


def waiting_digest(org_id: str) -> list[DeliveryRecord]:
    rows = Delivery.select().where((Delivery.org_id == org_id) & (Delivery.status == "digest")).limit(1000)
    return [_delivery(row) for row in rows]


def record_attempt(*, org_id: str, event_id: str, event_type: str, channel: str, target: str, ok: bool,
                   error: str | None, response_status: int | None, now: int) -> None:
    """A delivery made outside the worker (test sends), recorded for the delivery log."""
    Delivery.insert(id=new_id("dlv"), org_id=org_id, event_id=event_id, event_type=event_type, channel=channel,
                    target=target, severity=None, status="delivered" if ok else "failed", attempts=1,
                    next_attempt_at=now, last_error=error, response_status=response_status, created_at=now,
                    delivered_at=now if ok else None).execute()
