"""Notification settings, the delivery log, and test sends."""

from __future__ import annotations

import ipaddress
from typing import Any

from aiohttp import web

from sidecar.api import compliance_schemas as forms
from sidecar.api import schemas, serialize
from sidecar.api.keys import PRINCIPAL, SERVICES
from sidecar.api.middlewares import requires
from sidecar.api.schemas import Fields
from sidecar.clock import to_iso
from sidecar.compliance.types import SEVERITIES
from sidecar.notify import webhook
from sidecar.services import principal as perms
from sidecar.services.notifications import Settings

_SECURITY = ("none", "starttls", "tls")


def settings_json(settings: Settings, *, generated_secret: str | None = None) -> dict[str, Any]:
    r = settings.record
    body: dict[str, Any] = {
        "webhookUrl": r.webhook_url if r else None,
        "webhookSecretSet": settings.webhook_secret is not None,
        "notifyWebhook": r.notify_webhook if r else False,
        "notifyEmail": r.notify_email if r else False,
        "emailRecipients": list(r.email_recipients) if r else [],
        "notifyMinSeverity": r.min_severity if r else "warning",
        "allowPrivateWebhookTargets": r.allow_private_targets if r else False,
        "digestMinutes": r.digest_minutes if r else 15,
        "includeContent": r.include_content if r else False,
        "mutedRuleIds": list(r.muted_rule_ids) if r else [],
        "smtp": {
            "host": r.smtp_host if r else None, "port": r.smtp_port if r else None,
            "security": r.smtp_security if r else "starttls", "username": r.smtp_username if r else None,
            "from": r.smtp_from if r else None, "passwordSet": settings.smtp_password is not None,
        },
        "updatedAt": to_iso(r.updated_at) if r else None,
    }
    if generated_secret:
        body["webhookSecret"] = generated_secret  # shown once
    return body


def _forbidden_literal(host: str) -> bool:
    """An address literal notifications may never reach (names are vetted when sending, after resolving)."""
    try:
        return webhook.classify(ipaddress.ip_address(host.strip("[]"))) == "forbidden"
    except ValueError:
        return False


def settings_changes(body: Any) -> dict[str, Any]:
    fields = Fields(body)
    b = fields.body
    changes: dict[str, Any] = {}
    if "webhookUrl" in b:
        url = fields.string("webhookUrl", max_len=2000, strip=True) or None
        if url is not None:
            try:
                _, host, _ = webhook.check_url(url)
                if _forbidden_literal(host):
                    fields.bad("webhookUrl", "points at a link-local or cloud metadata address, which notifications "
                                             "may never reach")
            except webhook.TargetRefused as exc:
                fields.bad("webhookUrl", str(exc))
        changes["webhook_url"] = url
    if "webhookSecret" in b:
        secret = fields.string("webhookSecret", max_len=500)
        if secret is not None and len(secret) < 16:
            fields.bad("webhookSecret", "must be at least 16 characters")
        changes["webhook_secret"] = secret
    for wire, column in (("notifyWebhook", "notify_webhook"), ("notifyEmail", "notify_email"),
                         ("allowPrivateWebhookTargets", "allow_private_targets"), ("includeContent", "include_content")):
        if wire in b:
            value = b[wire]
            if not isinstance(value, bool):
                fields.bad(wire, "must be true or false")
            changes[column] = value
    if "emailRecipients" in b:
        recipients = fields.string_list("emailRecipients") or []
        bad = [r for r in recipients if not schemas._EMAIL.fullmatch(r)]
        if bad:
            fields.bad("emailRecipients", f"{bad[0]!r} is not an email address")
        if len(recipients) > 50:
            fields.bad("emailRecipients", "at most 50 recipients")
        changes["email_recipients"] = recipients
    if "mutedRuleIds" in b:
        changes["muted_rule_ids"] = fields.string_list("mutedRuleIds") or []
    if "notifyMinSeverity" in b:
        changes["min_severity"] = fields.choice("notifyMinSeverity", SEVERITIES, required=True)
    if "digestMinutes" in b:
        value = b["digestMinutes"]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1440:
            fields.bad("digestMinutes", "must be an integer from 1 to 1440")
        changes["digest_minutes"] = value
    smtp = b.get("smtp")
    if smtp is not None:
        sub = Fields(smtp, prefix="smtp.")
        s = sub.body
        if "host" in s:
            host = sub.string("host", max_len=255, strip=True) or None
            if host is not None and _forbidden_literal(host):
                sub.bad("host", "is a link-local or cloud metadata address, which notifications may never reach")
            changes["smtp_host"] = host
        if "port" in s:
            port = s["port"]
            if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535):
                sub.bad("port", "must be a TCP port")
            changes["smtp_port"] = port
        if "security" in s:
            changes["smtp_security"] = sub.choice("security", _SECURITY, required=True)
        if "username" in s:
            changes["smtp_username"] = sub.string("username", max_len=255) or None
        if "password" in s:
            changes["smtp_password"] = sub.string("password", max_len=500)
        if "from" in s:
            sender = sub.string("from", max_len=320, strip=True)
            if sender is not None and not schemas._EMAIL.search(sender):
                sub.bad("from", "must contain an email address")
            changes["smtp_from"] = sender
        fields.errors.extend(sub.errors)
    if not changes and not fields.errors:
        fields.bad("body", "send at least one setting to change")
    fields.done()
    return changes


@requires(perms.SETTINGS_READ)
async def get_settings(request: web.Request) -> web.Response:
    settings = await request.app[SERVICES].notifications.settings(request[PRINCIPAL].org_id)
    return serialize.json(settings_json(settings))


@requires(perms.SETTINGS_WRITE)
async def update_settings(request: web.Request) -> web.Response:
    changes = settings_changes(await schemas.json_body(request))
    settings, generated = await request.app[SERVICES].notifications.update_settings(request[PRINCIPAL], changes)
    return serialize.json(settings_json(settings, generated_secret=generated))


@requires(perms.READ)
async def list_deliveries(request: web.Request) -> web.Response:
    limit, offset, _ = schemas.paging(request.query)
    items, total = await request.app[SERVICES].notifications.deliveries(
        request[PRINCIPAL], limit=limit, offset=offset, status=request.query.get("status") or None,
        channel=request.query.get("channel") or None)
    body = [{"id": d.id, "eventId": d.event_id, "eventType": d.event_type, "channel": d.channel, "target": d.target,
             "severity": d.severity, "status": d.status, "attempts": d.attempts,
             "nextAttemptAt": to_iso(d.next_attempt_at) if d.status in ("pending", "digest") else None,
             "lastError": d.last_error, "responseStatus": d.response_status, "createdAt": to_iso(d.created_at),
             "deliveredAt": to_iso(d.delivered_at)} for d in items]
    return serialize.listing(request, body, total, limit=limit, offset=offset)


@requires(perms.SETTINGS_WRITE)
async def send_test(request: web.Request) -> web.Response:
    body = await forms.optional_json_body(request)
    fields = Fields(body)
    channel = fields.choice("channel", ("webhook", "email", "all")) or "all"
    fields.done()
    channels = ("webhook", "email") if channel == "all" else (channel,)
    results = await request.app[SERVICES].notifications.send_test(request[PRINCIPAL], channels)
    return serialize.json(results)
