"""Pure parts of the reports, billing, settings and activity pages: the cron helper, usage bars, form bodies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from desktop.api import schemas
from desktop.models import billing, cron
from desktop.models.activity import details_text
from desktop.models.reports import period, size_text
from desktop.models.settings_form import DeliveryForm, EmailForm, FormError, WebhookForm


@pytest.mark.parametrize(("line", "ok", "text"), [
    ("0 7 * * *", True, "At 07:00"),
    ("0 7 * * 1", True, "At 07:00, only on Monday"),
    ("0 7 * * 0", True, "At 07:00, only on Sunday"),
    ("0 7 * * 7", True, "At 07:00, only on Sunday"),
    ("0 7 1 * *", True, "At 07:00, on day 1 of the month"),
    ("*/15 9-17 * * 1-5", True, "Every 15 minutes, between 09:00 and 17:59, Monday through Friday"),
    ("0 7 * *", False, "a crontab line has 5 fields (minute hour day month weekday), not 4"),
    ("0 24 * * *", False, "the hour must be from 0 to 23, not 24"),
    ("0 7 32 * *", False, "the day of month must be from 1 to 31, not 32"),
    ("0 7 * 13 *", False, "the month must be from 1 to 12, not 13"),
    ("*/0 * * * *", False, "the minute step '0' must be a whole number above 0"),
    ("0 7 * * $", False, "the day of week field '$' has characters cron does not use"),
])
def test_cron_check(line: str, ok: bool, text: str) -> None:
    verdict = cron.check(line)
    assert (verdict.ok, verdict.description if ok else verdict.error) == (ok, text)


def test_cron_presets_are_valid_and_found_again() -> None:
    for index, (_label, line) in enumerate(cron.PRESETS):
        if line:
            assert cron.check(line).ok and cron.preset_of(f"  {line} ") == index
    assert cron.preset_of("5 4 * * *") == len(cron.PRESETS) - 1


def sub(plan: str, used: int, quota: int | None, agents: int, limit: int | None, status: str = "active") -> schemas.Subscription:
    return schemas.Subscription.from_json({"plan": plan, "status": status, "currentPeriodEnd": None,
                                           "usage": {"logsThisMonth": used, "quota": quota, "agents": agents,
                                                     "agentLimit": limit}})


def test_usage_bars_and_upgrades() -> None:
    free = sub("free", 4_200, 5_000, 3, 3)
    assert (billing.events_usage(free).percent, billing.events_usage(free).level) == (84, "high")
    assert (billing.agents_usage(free).text, billing.agents_usage(free).level) == ("3 of 3 (100%)", "full")
    assert billing.events_usage(sub("free", 9_000, 5_000, 0, 3)).percent == 100
    unlimited = sub("self_hosted", 12_345, None, 7, None, status="not_configured")
    assert billing.events_usage(unlimited).text == "12,345 (unlimited)" and billing.events_usage(unlimited).percent == 0
    assert not unlimited.billing_configured and billing.status_text(unlimited).startswith("Billing is not configured")
    prices = schemas.Prices.from_json({"pro": "price_p", "business": "price_b"})
    assert billing.upgrades(free, prices) == [("pro", "price_p"), ("business", "price_b")]
    assert billing.upgrades(sub("pro", 0, 50_000, 0, 25), prices) == [("business", "price_b")]
    assert billing.upgrades(sub("business", 0, 250_000, 0, None), prices) == []


def test_form_bodies() -> None:
    assert WebhookForm("https://h.example/x", "", True, False).changes() == {
        "webhookUrl": "https://h.example/x", "notifyWebhook": True, "allowPrivateWebhookTargets": False}
    assert WebhookForm("", "a-long-enough-secret", True, True).changes()["notifyWebhook"] is False
    with pytest.raises(FormError, match="at least 16"):
        WebhookForm("https://h.example/x", "short", True, False).changes()
    with pytest.raises(FormError, match="http"):
        WebhookForm("ftp://h.example/x", "", True, False).changes()
    body = EmailForm("smtp.example", "2525", "none", "", "", "a@b.example", "x@y.example; z@y.example", True).changes()
    assert body == {"smtp": {"host": "smtp.example", "port": 2525, "security": "none", "username": None,
                             "from": "a@b.example"}, "emailRecipients": ["x@y.example", "z@y.example"],
                    "notifyEmail": True}
    with pytest.raises(FormError, match="port"):
        EmailForm("smtp.example", "99999", "none", "", "", "", "", True).changes()
    assert DeliveryForm("critical", 30).changes() == {"notifyMinSeverity": "critical", "digestMinutes": 30}
    with pytest.raises(FormError):
        DeliveryForm("loud", 30).changes()


def test_small_formats() -> None:
    assert [size_text(v) for v in (None, 812, 14_540, 3_250_000)] == ["—", "812 B", "14.2 KB", "3.1 MB"]
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert period(None, now) == (None, None)
    assert period(7, now) == (datetime(2026, 3, 3, 12, tzinfo=UTC), now)
    assert details_text({"retentionDays": 90, "fields": ["a", "b"]}) == "retention days: 90, fields: a, b"
    assert details_text({"agentId": "agent_1", "packId": "hipaa"}, {"agent_1": "billing-bot"}) == \
        "agent: billing-bot, pack: hipaa"
    assert details_text(None) == "" and details_text({}) == ""


def test_activity_filter_query() -> None:
    flt = schemas.ActivityFilter(actor=" ana@acme.test ", action="", target_type="report",
                                 start=datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC))
    assert flt.to_query() == {"actor": "ana@acme.test", "targetType": "report", "from": "2026-01-02T03:04:05.006Z"}
