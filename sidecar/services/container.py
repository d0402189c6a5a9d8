"""Builds every service over one database, and closes them in order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peewee import Database

from sidecar import VERSION, log
from sidecar.clock import now_ms, utc_now
from sidecar.errors import Unavailable
from sidecar.ledger.checkpoint import CheckpointPolicy
from sidecar.services.alerts import AlertService
from sidecar.services.auth import AuthService
from sidecar.services.billing import BillingService
from sidecar.services.compliance import ComplianceGate
from sidecar.services.events import EventHub
from sidecar.services.ingest import IngestService
from sidecar.services.notifications import NotificationService
from sidecar.services.ledger import LedgerService
from sidecar.services.ledger_keys import load_or_create_signing_key
from sidecar.services.live_relay import LiveRelay
from sidecar.services.policies import PolicyService
from sidecar.services.queries import QueryService
from sidecar.services.report_mail import SmtpReportMailer
from sidecar.services.reports import ReportService
from sidecar.services.retention import RetentionService
from sidecar.services.throttle import SharedLoginThrottle
from sidecar.services.rate_limits import RateLimiter, SharedRateLimiter
from sidecar.services.secrets import ensure_data_dir, load_or_create
from sidecar.settings import Settings
from sidecar.store import migrations
from sidecar.store.db import ReadPool, is_postgres, open_database, secure_file, sqlite_path
from sidecar.store.lock import DatabaseLock
from sidecar.store.models import database_proxy
from sidecar.store.usage import UsageMeter
from sidecar.store.writer import Writer

#: How long a sidecar on PostgreSQL holds a claimed delivery before another may retry it (longer than a
#: webhook's 10 s timeout and an email's 15 s).
CLAIM_LEASE_MS = 120_000


@dataclass
class Services:
    """The sidecar's use cases, sharing one writer and one read pool."""

    settings: Settings
    db: Database
    writer: Writer
    reads: ReadPool
    auth: AuthService
    ingest: IngestService
    queries: QueryService
    gate: ComplianceGate
    policies: PolicyService
    alerts: AlertService
    hub: EventHub
    notifications: NotificationService
    ledger: LedgerService
    retention: RetentionService
    billing: BillingService
    limits: RateLimiter
    reports: ReportService
    relay: LiveRelay | None = None  # PostgreSQL: the live stream hears what other sidecars store
    lock: DatabaseLock | None = None  # SQLite: this process alone serves the file
    version: str = VERSION

    @classmethod
    def build(cls, settings: Settings) -> Services:
        """Open (and migrate) the database, load or create the secrets, start the writer."""
        ensure_data_dir(settings.data_dir)
        db = open_database(settings.resolved_database_url, synchronous=settings.synchronous)
        path = sqlite_path(db)
        lock = DatabaseLock.acquire(path) if path and path != ":memory:" else None  # before reading anything
        try:
            return cls._assemble(settings, db, path, lock)
        except BaseException:
            if lock is not None:  # a start that failed half-way must not keep the database from the next one
                lock.release()
            raise

    @classmethod
    def _assemble(cls, settings: Settings, db: Database, path: str | None, lock: DatabaseLock | None) -> Services:
        database_proxy.initialize(db)
        with db.connection_context():
            before, after = migrations.migrate(db)
            if before and before != after:
                log.store.info("database upgraded from schema %d to %d", before, after)
        if path and path != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                secure_file(Path(path + suffix))
        jwt_secret = load_or_create(settings.data_dir / "secrets" / "jwt.key")
        ledger_key = load_or_create_signing_key(settings.data_dir, now=utc_now())
        writer = Writer(db, max_group=settings.max_group_events, chain=settings.hash_chain)
        reads = ReadPool(db, settings.read_threads)
        hub = EventHub()
        billing = BillingService(settings, db=db, writer=writer, reads=reads, hub=hub)
        writer.meter = UsageMeter(db, billing.quota_for)
        writer.start()
        auth = AuthService(
            writer=writer, reads=reads, jwt_secret=jwt_secret, access_seconds=settings.access_token_seconds,
            refresh_days=settings.refresh_token_days, allow_registration=settings.allow_registration,
            default_plan=billing.default_plan, clock=now_ms,
            throttle=SharedLoginThrottle(writer, reads) if is_postgres(db) else None,
        )
        redaction_key = load_or_create(settings.data_dir / "secrets" / "redaction.key")
        gate = ComplianceGate(reads, db, redaction_key=redaction_key)
        notifications = NotificationService(writer, reads, base_url=settings.base_url,
                                            retry_base_ms=settings.notify_retry_base_ms,
                                            claim_lease_ms=CLAIM_LEASE_MS if is_postgres(db) else None,
                                            install_allows_private=settings.private_notify_targets_allowed,
                                            secret_key=load_or_create(settings.data_dir / "secrets" / "notify.key"))
        ledger = LedgerService(
            writer, reads, db, ledger_key, data_dir=settings.data_dir,
            policy=CheckpointPolicy(every_seconds=settings.checkpoint_seconds, every_events=settings.checkpoint_events),
            enabled=settings.hash_chain,
        )
        retention = RetentionService(writer, reads, db, ledger.sign, interval=settings.retention_interval_seconds,
                                     enabled=settings.hash_chain)
        billing.on_outbox = notifications.wake
        auth.on_credentials_changed = hub.recheck
        policies = PolicyService(writer, reads, db, gate)
        policies.agent_guard = billing.check_agent_limit
        rates = {"ingest": settings.rate_ingest, "read": settings.rate_read, "auth": settings.rate_auth}
        limits = SharedRateLimiter(rates, reads, db) if is_postgres(db) else RateLimiter(rates)
        reports = ReportService(writer, reads, db, hub, data_dir=settings.data_dir,
                                retention_days=settings.report_retention_days,
                                mailer=SmtpReportMailer(notifications, base_url=settings.base_url))
        reports.on_outbox = notifications.wake
        relay = (LiveRelay(settings.resolved_database_url, hub, reads, db, origin=writer.origin)
                 if is_postgres(db) else None)
        return cls(settings=settings, db=db, writer=writer, reads=reads, auth=auth,
                   ingest=IngestService(writer, gate, hub, on_alerts=notifications.wake),
                   queries=QueryService(reads, db), gate=gate, policies=policies,
                   alerts=AlertService(writer, reads), hub=hub, notifications=notifications, ledger=ledger,
                   retention=retention, billing=billing, limits=limits, reports=reports, relay=relay, lock=lock)

    async def health(self) -> dict[str, Any]:
        """``{status, version, database}``; raises when the database does not answer."""
        await self.reads.run(lambda: self.db.execute_sql("SELECT 1").fetchone())
        return {"status": "ok", "version": self.version, "database": "up"}

    async def aclose(self) -> None:
        """Drain the writer (every acknowledged write is committed), then close the readers; the database is free
        for another sidecar afterwards, however the closing went."""
        try:
            self.hub.close()
            await self.reports.aclose()
            try:
                await self.auth.flush_key_uses()
            except Unavailable as exc:  # storage failed: only the keys' "last used" times are behind
                log.store.warning("could not record the API keys' last use (%s)", exc)
            self.writer.close()
            self.reads.close()
            self.billing.close()
        finally:
            if self.lock is not None:
                self.lock.release()
