"""The client's report, billing, settings and activity methods against the real seeded sidecar: each answer
parses into its schema (the contract between the two apps)."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.api import schemas
from desktop.api.client import SidecarClient
from desktop.api.errors import ApiError
from tests.desktop.conftest import wait_call


def test_billing_without_stripe(qtbot: Any, client: SidecarClient) -> None:
    sub = wait_call(qtbot, client.billing_subscription())
    assert isinstance(sub, schemas.Subscription)
    assert (sub.plan, sub.status, sub.billing_configured, sub.quota, sub.agent_limit) == (
        "self_hosted", "not_configured", False, None, None)
    assert sub.logs_this_month > 0 and sub.agents == 5
    with pytest.raises(ApiError) as refused:
        wait_call(qtbot, client.billing_prices())
    assert (refused.value.status, refused.value.code) == (503, "billing_not_configured")
    with pytest.raises(ApiError) as refused:
        wait_call(qtbot, client.billing_checkout("price_x"))
    assert refused.value.code == "billing_not_configured"


def test_settings_retention_activity_and_reports_parse(qtbot: Any, client: SidecarClient) -> None:
    settings = wait_call(qtbot, client.notification_settings())
    assert isinstance(settings, schemas.NotificationSettings)
    assert settings.min_severity in schemas.SEVERITIES and 1 <= settings.digest_minutes <= 1440
    retention = wait_call(qtbot, client.retention())
    assert isinstance(retention, schemas.Retention) and retention.pruned_sequence >= 0
    activity = wait_call(qtbot, client.list_activity(schemas.ActivityFilter(target_type="alert"), limit=2))
    assert activity.total >= 4 and len(activity.items) == 2  # the demo triaged four alerts
    assert all(a.target_type == "alert" and a.actor_name == "demo@agentaudit.local" for a in activity.items)
    assert activity.items[0].created_at >= activity.items[1].created_at
    reports = wait_call(qtbot, client.list_reports())
    assert all(isinstance(r, schemas.Report) and r.status in schemas.REPORT_STATUSES for r in reports.items)
    with pytest.raises(ApiError) as missing:
        wait_call(qtbot, client.get_report("report_nope"))
    assert missing.value.status == 404
    with pytest.raises(ApiError) as bad:
        wait_call(qtbot, client.create_schedule("compliance_summary", "pdf", "0 7 * *"))
    assert bad.value.status == 400 and bad.value.details[0].field == "cron"
