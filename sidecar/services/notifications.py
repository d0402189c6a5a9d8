"""Notifications: settings, and the worker that turns outbox events into webhook posts and emails.

Alerts and their outbox events are committed with the event that raised them. This worker
(one asyncio task per sidecar, started and stopped with the app) then:

1. dispatches each new outbox event: according to the organisation's settings *now* it records
   the deliveries it needs (webhook; email at once for critical alerts, in a digest for the rest),
   or none (muted rule, below the minimum severity), in one transaction;
2. delivers what is due: webhooks one by one (signed, with a stable event id for idempotent
   receivers), emails grouped per organisation so a burst of alerts makes one message;
3. retries failures with exponential backoff and jitter for 24 hours (never on a 4xx other than
   408/429), recording every attempt.

A crash between sending and recording means a resend after restart, never a loss; receivers
de-duplicate on the event id. A slow receiver only occupies this task, never ingest.

With several sidecars on one PostgreSQL database (``claim_lease_ms`` set), every worker claims what it
sends (``FOR UPDATE SKIP LOCKED`` plus a lease on the next attempt time), so each delivery is attempted by
one process; dispatching is idempotent already (one delivery per event and channel).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import os
import random
from collections.abc import Sequence
from functools import partial
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import orjson
from cryptography.fernet import Fernet, InvalidToken

from sidecar import log
from sidecar.clock import now_ms, to_iso
from sidecar.errors import FieldError, Forbidden, InvalidInput
from sidecar.notify import email as mail
from sidecar.notify import webhook
from sidecar.notify import targets as vetting
from sidecar.services import notification_targets as targets
from sidecar.services.alert_email import render_alert_email
from sidecar.services import principal as perms
from sidecar.services.principal import Principal
from sidecar.store import activity
from sidecar.store import notifications as store
from sidecar.store.db import ReadPool
from sidecar.store.notifications import DeliveryRecord, EventRecord, SettingsRecord
from sidecar.store.writer import Writer

RETRY_FOR_MS = 24 * 3600 * 1000
_RANK = {"info": 0, "warning": 1, "critical": 2}
_IDLE_SECONDS = 5.0
_WEBHOOK_CONCURRENCY = 8


def backoff_ms(attempt: int, base_ms: int = 5_000) -> int:
    """Delay before attempt ``attempt + 1``: ``base_ms`` doubling to at most an hour, with ±50% jitter."""
    base = min(base_ms * 2 ** max(0, min(attempt - 1, 30)), 3_600_000)
    return int(base * random.uniform(0.5, 1.5))


@dataclass(frozen=True, slots=True)
class Settings:
    """Decrypted notification settings of one organisation."""

    record: SettingsRecord | None
    webhook_secret: bytes | None
    smtp_password: str | None

    @property
    def smtp(self) -> mail.SmtpConfig | None:
        r = self.record
        if r is None or not r.smtp_host or not r.smtp_from:
            return None
        port = r.smtp_port or (465 if r.smtp_security == "tls" else 587 if r.smtp_security == "starttls" else 25)
        return mail.SmtpConfig(r.smtp_host, port, r.smtp_security, r.smtp_username, self.smtp_password, r.smtp_from)


class NotificationService:
    def __init__(self, writer: Writer, reads: ReadPool, *, secret_key: bytes, base_url: str,
                 retry_base_ms: int = 5_000, claim_lease_ms: int | None = None,
                 install_allows_private: bool = False) -> None:
        """``install_allows_private``: whether private and loopback targets may be reached at all
        (``Settings.private_notify_targets_allowed``). It alone decides for the SMTP host; a webhook also needs
        the organisation's ``allowPrivateWebhookTargets``."""
        self._writer = writer
        self._install_allows_private = install_allows_private
        self._lease_ms = claim_lease_ms
        self._retry_base_ms = retry_base_ms
        self._reads = reads
        self._fernet = Fernet(base64.urlsafe_b64encode(secret_key[:32]))
        self._base_url = base_url
        self._wake = asyncio.Event()
        self._in_flight: set[str] = set()
        self._stopping = False

    # -- settings ----------------------------------------------------------------------------------

    def _decrypt(self, token: str | None) -> str | None:
        if not token:
            return None
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            log.jobs.error("a stored notification secret cannot be decrypted (was the data dir's key replaced?)")
            return None

    def _encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    async def settings(self, org_id: str) -> Settings:
        record = await self._reads.run(store.get_settings, org_id)
        if record is None:
            return Settings(None, None, None)
        secret = self._decrypt(record.webhook_secret_enc)
        return Settings(record, secret.encode() if secret else None, self._decrypt(record.smtp_password_enc))

    async def update_settings(self, principal: Principal, changes: dict[str, Any]) -> tuple[Settings, str | None]:
        """Apply changes; returns the settings and a webhook secret generated now (shown once), if any."""
        current = await self.settings(principal.org_id)
        generated = None
        columns: dict[str, Any] = {k: v for k, v in changes.items() if k not in ("webhook_secret", "smtp_password")}
        if "webhook_secret" in changes:
            columns["webhook_secret_enc"] = self._encrypt(changes["webhook_secret"]) if changes["webhook_secret"] else None
        if "smtp_password" in changes:
            columns["smtp_password_enc"] = self._encrypt(changes["smtp_password"]) if changes["smtp_password"] else None
        wants_webhook = columns.get("notify_webhook", current.record.notify_webhook if current.record else False)
        if wants_webhook and current.webhook_secret is None and "webhook_secret_enc" not in columns:
            generated = "whsec_" + base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")
            columns["webhook_secret_enc"] = self._encrypt(generated)
        url = columns.get("webhook_url")
        if url:
            try:
                webhook.check_url(url)
            except webhook.TargetRefused as exc:
                raise InvalidInput.fields([FieldError("webhookUrl", str(exc))]) from None
        now = now_ms()
        fields = sorted(changes)

        def unit() -> SettingsRecord:
            record = store.save_settings(principal.org_id, columns, now)
            activity.record(principal.org_id, actor=principal.actor, action="settings.notifications",
                            target_type="settings", target_id="notifications", details={"fields": fields}, now=now)
            return record

        await self._writer.run(unit)
        return await self.settings(principal.org_id), generated

    async def deliveries(self, principal: Principal, *, limit: int, offset: int, status: str | None,
                         channel: str | None) -> tuple[list[DeliveryRecord], int]:
        """The delivery log. Targets (webhook URL, recipients) in full only for those who may read the
        notification settings; others see the webhook's origin and masked addresses."""
        items, total = await self._reads.run(store.list_deliveries, principal.org_id, limit=limit, offset=offset,
                                             status=status, channel=channel)
        try:
            perms.SETTINGS_READ.check(principal)
        except Forbidden:
            items = [replace(d, target=targets.redact_target(d.channel, d.target),
                             last_error=targets.redact_text(d.last_error)) for d in items]
        return items, total

    # -- the worker --------------------------------------------------------------------------------

    def wake(self) -> None:
        """Something new may be waiting (called after commits that queued outbox events)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """The worker loop; cancelled at shutdown."""
        while not self._stopping:
            self._wake.clear()  # before the round: a wake-up during it triggers another round at once
            try:
                await self.dispatch()
                await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.jobs.exception("the notification worker failed a round; it will try again")
            wait = _IDLE_SECONDS
            upcoming = await self._reads.run(store.next_due_at)
            if upcoming is not None:
                wait = min(wait, max(0.05, (upcoming - now_ms()) / 1000))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except asyncio.TimeoutError:
                pass

    async def dispatch(self) -> int:
        """Turn undispatched outbox events into deliveries. Returns how many events were dispatched."""
        events = await self._reads.run(store.undispatched)
        cache: dict[str, Settings] = {}
        for event in events:
            if event.org_id not in cache:
                cache[event.org_id] = await self.settings(event.org_id)
            plan = self._plan(event, cache[event.org_id])
            await self._writer.run(store.fan_out, event.id, plan, now_ms())
        return len(events)

    def _plan(self, event: EventRecord, settings: Settings) -> list[dict[str, Any]]:
        record = settings.record
        if record is None:
            return []
        now = now_ms()
        severity = event.payload.get("severity") if event.type == "alert.created" else None
        if severity is not None:
            if _RANK.get(severity, 1) < _RANK.get(record.min_severity, 1):
                return []
            if event.payload.get("ruleId") in record.muted_rule_ids:
                return []
        base = {"org_id": event.org_id, "event_type": event.type, "severity": severity}
        plan = []
        if record.notify_webhook and record.webhook_url:
            plan.append({**base, "channel": "webhook", "target": record.webhook_url, "status": "pending",
                         "next_attempt_at": now})
        if record.notify_email and record.email_recipients and event.type == "alert.created":
            immediate = severity == "critical"
            plan.append({**base, "channel": "email", "target": ", ".join(record.email_recipients),
                         "status": "pending" if immediate else "digest",
                         "next_attempt_at": now if immediate else now + record.digest_minutes * 60_000})
        return plan

    async def _due(self) -> list[DeliveryRecord]:
        now = now_ms()
        if self._lease_ms is None:
            return await self._reads.run(store.due, now)
        return await self._writer.run(store.claim_due, now, now + self._lease_ms)

    async def deliver_due(self) -> None:
        due = [d for d in await self._due() if d.id not in self._in_flight]
        if not due:
            return
        payloads = await self._reads.run(store.event_payloads, sorted({d.event_id for d in due}))
        hooks = [d for d in due if d.channel == "webhook"]
        emails: dict[str, list[DeliveryRecord]] = {}
        for item in due:
            if item.channel == "email":
                emails.setdefault(item.org_id, []).append(item)
        semaphore = asyncio.Semaphore(_WEBHOOK_CONCURRENCY)

        async def one(item: DeliveryRecord) -> None:
            async with semaphore:
                await self._send_webhook(item, payloads.get(item.event_id, {}))

        for item in due:
            self._in_flight.add(item.id)
        try:
            await asyncio.gather(*(one(item) for item in hooks),
                                 *(self._send_emails(org_id, items, payloads) for org_id, items in emails.items()))
        finally:
            self._in_flight.difference_update(item.id for item in due)

    def webhook_body(self, event_id: str, event_type: str, created_at: int, payload: dict[str, Any]) -> bytes:
        body: dict[str, Any] = {"event": event_type, "id": event_id, "createdAt": to_iso(created_at)}
        body["alert" if event_type == "alert.created" else "data"] = payload
        return orjson.dumps(body)

    async def _send_webhook(self, item: DeliveryRecord, payload: dict[str, Any]) -> None:
        settings = await self.settings(item.org_id)
        record = settings.record
        if record is None or not record.webhook_url or settings.webhook_secret is None:
            await self._writer.run(store.mark, [item.id], status="failed", now=now_ms(),
                                   error="webhooks were turned off or have no secret")
            return
        body = self.webhook_body(item.event_id, item.event_type, item.created_at, payload)
        try:
            target = await self._resolve_webhook(record)
        except webhook.TargetRefused as exc:  # a policy refusal: retrying changes nothing
            await self._writer.run(store.mark, [item.id], status="failed", now=now_ms(), error=str(exc))
            return
        except webhook.ResolveFailed as exc:  # DNS down for now: retried like a connection failure
            await self._record(item, False, True, str(exc), None)
            return
        outcome = await webhook.deliver(target, body, secret=settings.webhook_secret, event_type=item.event_type,
                                        delivery_id=item.id)
        await self._record(item, outcome.ok, outcome.retry, outcome.error, outcome.status)

    async def _record(self, item: DeliveryRecord, ok: bool, retry: bool, error: str | None, status: int | None) -> None:
        now = now_ms()
        if ok:
            await self._writer.run(store.mark, [item.id], status="delivered", now=now, response_status=status)
        elif retry and now - item.created_at < RETRY_FOR_MS:
            await self._writer.run(store.mark, [item.id], status="pending", now=now, error=error,
                                   response_status=status, retry_at=now + backoff_ms(item.attempts + 1, self._retry_base_ms))
        else:
            await self._writer.run(store.mark, [item.id], status="failed", now=now, error=error, response_status=status)

    async def _send_emails(self, org_id: str, items: list[DeliveryRecord], payloads: dict[str, dict[str, Any]]) -> None:
        """One message for everything due for an organisation (criticals at once; a digest for the rest)."""
        settings = await self.settings(org_id)
        config = settings.smtp
        record = settings.record
        if record is None or config is None or not record.email_recipients:
            await self._writer.run(store.mark, [i.id for i in items], status="failed", now=now_ms(),
                                   error="email is turned off or SMTP is not configured")
            return
        digest = [i for i in items if i.status == "digest"]
        if digest:  # the first due digest entry closes the window: send everything the org has waiting
            if self._lease_ms is None:
                waiting = await self._reads.run(_waiting_digest, org_id)
            else:
                waiting = await self._writer.run(store.claim_waiting_digest, org_id, now_ms() + self._lease_ms)
            seen = {i.id for i in items}
            items = items + [w for w in waiting if w.id not in seen and w.id not in self._in_flight]
            self._in_flight.update(w.id for w in waiting)
        alerts = [payloads.get(i.event_id) or {} for i in items]
        missing = [i.event_id for i in items if i.event_id not in payloads]
        if missing:
            extra = await self._reads.run(store.event_payloads, missing)
            alerts = [payloads.get(i.event_id) or extra.get(i.event_id, {}) for i in items]
        message = render_alert_email(config.sender, list(record.email_recipients), alerts, base_url=self._base_url,
                                     digest=bool(digest), window_minutes=record.digest_minutes)
        try:
            await self.send_mail(settings, message)
        except mail.SendFailed as exc:
            for item in items:
                await self._record(item, False, not exc.permanent, str(exc), None)
            return
        await self._writer.run(store.mark, [i.id for i in items], status="delivered", now=now_ms())

    # -- targets -------------------------------------------------------------------------------------

    INSTALL_HINT = ("this sidecar does not allow private notification targets (it listens beyond loopback, or "
                    "AGENTAUDIT_ALLOW_PRIVATE_NOTIFY_TARGETS is false; set AGENTAUDIT_ALLOW_PRIVATE_NOTIFY_TARGETS "
                    "where it runs; see SECURITY.md)")

    async def warn_refused_private_targets(self) -> int:
        """At start on a sidecar that refuses private targets under ``auto`` (bound beyond loopback): log one
        WARNING if any organisation's SMTP host or webhook target is private or loopback, and return how many
        organisations. One query and no DNS: only address literals and ``localhost`` names are recognised (a
        name that resolves to a private address is found when a delivery is refused, with the same hint)."""
        if self._install_allows_private:
            return 0
        rows = await self._reads.run(store.configured_hosts)
        orgs = {org_id for org_id, smtp_host, url in rows
                if _private_literal(smtp_host) or (url is not None and _private_literal(urlsplit(url).hostname))}
        if orgs:
            log.jobs.warning("%d organisation(s) have a private or loopback SMTP host or webhook target, which this "
                             "sidecar refuses: it listens beyond loopback and AGENTAUDIT_ALLOW_PRIVATE_NOTIFY_TARGETS "
                             "is auto (set it to true to allow them; see SECURITY.md)", len(orgs))
        return len(orgs)

    async def _resolve_webhook(self, record: SettingsRecord) -> webhook.Target:
        """The vetted webhook target: private and loopback only when the install allows them AND the
        organisation asked for them (allowPrivateWebhookTargets). Raises TargetRefused or ResolveFailed."""
        assert record.webhook_url
        allow = self._install_allows_private and record.allow_private_targets
        hint = webhook.PRIVATE_HINT if self._install_allows_private else self.INSTALL_HINT
        return await webhook.resolve(record.webhook_url, allow_private=allow, private_hint=hint)

    async def send_mail(self, settings: Settings, message: Any) -> None:
        """Vet the organisation's SMTP host (as webhook targets are vetted) and send one message through the
        vetted address. Raises mail.SendFailed (saying what failed, never quoting the server)."""
        config, record = settings.smtp, settings.record
        if config is None or record is None:
            raise mail.SendFailed("SMTP is not configured (PATCH /notifications/settings)", permanent=True)
        # a relay on the workstation or the LAN is the common setup: the install's switch alone decides (the
        # organisation's allowPrivateWebhookTargets is about webhooks); link-local and metadata never pass
        try:
            vetted = await vetting.resolve(config.host, config.port, allow_private=self._install_allows_private,
                                           what="the SMTP host", private_hint=self.INSTALL_HINT)
        except vetting.TargetRefused as exc:
            raise mail.SendFailed(str(exc), permanent=True) from None
        except vetting.ResolveFailed as exc:
            raise mail.SendFailed(str(exc)) from None
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(None, partial(mail.send, config, message,
                                                                      address=vetted.address)), config.timeout + 5)
        except asyncio.TimeoutError:
            raise mail.SendFailed("timed out talking to the SMTP server") from None
        except mail.SendFailed as exc:
            log.jobs.info("email through %s failed: %s (%s)", config.host, exc, exc.__cause__.__class__.__name__)
            raise

    # -- test sends --------------------------------------------------------------------------------

    async def send_test(self, principal: Principal, channels: Sequence[str]) -> dict[str, Any]:
        """Send a test notification on each channel now and say how it went (also in the delivery log)."""
        settings = await self.settings(principal.org_id)
        record = settings.record
        results: dict[str, Any] = {}
        now = now_ms()
        payload = {"message": "AgentAudit test notification", "organizationId": principal.org_id,
                   "sentBy": principal.actor}
        event_id = await self._writer.run(_test_event, principal.org_id, payload, now)
        if "webhook" in channels:
            if record is None or not record.webhook_url or settings.webhook_secret is None:
                results["webhook"] = {"ok": False, "error": "set webhookUrl (and turn webhooks on) first"}
            else:
                try:
                    target = await self._resolve_webhook(record)
                    outcome = await webhook.deliver(target, self.webhook_body(event_id, "test", now, payload),
                                                    secret=settings.webhook_secret, event_type="test",
                                                    delivery_id=f"test-{event_id}")
                    results["webhook"] = {"ok": outcome.ok, "status": outcome.status, "error": outcome.error}
                except (webhook.TargetRefused, webhook.ResolveFailed) as exc:
                    results["webhook"] = {"ok": False, "status": None, "error": str(exc)}
                await self._writer.run(_log_test, principal.org_id, event_id, "webhook", record.webhook_url,
                                       results["webhook"], now)
        if "email" in channels:
            config = settings.smtp
            if record is None or config is None or not record.email_recipients:
                results["email"] = {"ok": False, "error": "configure smtp and emailRecipients first"}
            else:
                message = mail.build(sender=config.sender, recipients=list(record.email_recipients),
                                     subject="[AgentAudit] Test notification",
                                     text="This is a test from AgentAudit. Email notifications work.\n",
                                     html="<p>This is a test from AgentAudit. Email notifications work.</p>")
                try:
                    await self.send_mail(settings, message)
                    results["email"] = {"ok": True, "error": None}
                except mail.SendFailed as exc:
                    results["email"] = {"ok": False, "error": str(exc)}
                await self._writer.run(_log_test, principal.org_id, event_id, "email",
                                       ", ".join(record.email_recipients), results["email"], now)
        return results


def _private_literal(host: str | None) -> bool:
    """Whether ``host`` is, without resolving it, a private or loopback address (or a ``localhost`` name)."""
    if not host:
        return False
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return vetting.classify(ipaddress.ip_address(name.split("%")[0])) == "private"
    except ValueError:
        return False


def _waiting_digest(org_id: str) -> list[DeliveryRecord]:
    return store.waiting_digest(org_id)


def _test_event(org_id: str, payload: dict[str, Any], now: int) -> str:
    event_id = store.enqueue(org_id, "test", payload, now)
    store.fan_out(event_id, [], now)  # dispatched by hand below, not by the worker
    return event_id


def _log_test(org_id: str, event_id: str, channel: str, target: str, result: dict[str, Any], now: int) -> None:
    store.record_attempt(org_id=org_id, event_id=event_id, event_type="test", channel=channel, target=target,
                         ok=bool(result["ok"]), error=result.get("error"), response_status=result.get("status"),
                         now=now)
