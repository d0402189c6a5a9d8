"""Bulk triage by filter: a filter that does not say exactly which alerts is a 400, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from sidecar.api.keys import SERVICES
from sidecar.errors import InvalidInput
from sidecar.services.principal import Principal
from sidecar.store.alerts import AlertFilter
from tests.helpers import Account, ApiClient

pytestmark = pytest.mark.both_backends


async def _alerts(api: ApiClient, owner: Account) -> list[dict[str, Any]]:
    """Six alerts: a warning and a critical one for each of three agents; one of them a false positive."""
    for name, severity in (("Alpha word", "warning"), ("Beta word", "critical")):
        reply = await api.post("compliance-rules", json={"name": name, "ruleType": "keyword_match",
                                                         "condition": {"keywords": [name.split()[0].lower()]},
                                                         "severity": severity, "actionOverride": "flag"},
                               headers=owner.jwt)
        assert reply.status == 201, reply.body
    for agent in ("bot-0", "bot-1", "other-agent"):
        event = await api.post("audit-logs", json={"action": "llm_call", "prompt": "alpha and beta", "agentId": agent},
                               headers=owner.api_key)
        assert event.status == 201 and event.body["enforcementAction"] == "flag", event.body
    alerts = (await api.get("alerts", headers=owner.jwt)).body
    assert len(alerts) == 6
    fp = await api.patch(f"alerts/{alerts[0]['id']}", json={"status": "false_positive"}, headers=owner.jwt)
    assert fp.status == 200
    return (await api.get("alerts", headers=owner.jwt)).body


def _state(alerts: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return [(a["id"], a["status"], a["resolvedAt"]) for a in alerts]


@pytest.mark.parametrize(("bulk", "details"), [
    ({"filter": {"severty": "warning"}, "status": "acknowledged"},
     [("filter.severty", "is not an alert filter; use status, isResolved, severity, agentId, ruleId, policyId, "
                         "auditLogId, from, startDate, to, endDate")]),
    ({"filter": {"agent": "other-agent"}}, [("filter.agent", None)]),
    ({"filter": {"severity": "warn"}}, [("filter.severity", "must be one of info, warning, critical")]),
    ({"filter": {"status": "closed"}}, [("filter.status", "must be among open, acknowledged, resolved, false_positive")]),
    ({"filter": {"isResolved": "no"}}, [("filter.isResolved", "must be true or false")]),
    ({"filter": {"agentId": ""}}, [("filter.agentId", "must not be empty")]),
    ({"filter": {"agentId": 7}}, [("filter.agentId", "must be a string, got number")]),
    ({"filter": {"from": "yesterday"}}, [("filter.from", None)]),
    ({"filter": {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}}, [("filter.to", None)]),
    ({"filter": {}}, [("filter", None)]),
    ({"filter": {"agentId": None}}, [("filter", None)]),
    ({"ids": None, "filter": None}, [("ids", None)]),
    ({"filter": {"agentId": "bot-0", "severty": "info", "severity": "warn", "status": "closed"}},
     [("filter.severty", None), ("filter.status", None), ("filter.severity", None)]),
    ({"ids": ["alert_x"], "filter": {"agentId": "bot-0"}}, [("filter", "send ids or a filter, not both")]),
])
async def test_a_bad_filter_is_a_400_naming_each_field_and_changes_nothing(
        api: ApiClient, owner: Account, bulk: dict[str, Any], details: list[tuple[str, str | None]]) -> None:
    before = await _alerts(api, owner)
    reply = await api.post("alerts/resolve", json=bulk, headers=owner.jwt)
    assert (reply.status, reply.body["status"], reply.body["code"]) == (400, 400, "validation_error"), reply.body
    assert sorted(d["field"] for d in reply.body["details"]) == sorted(field for field, _ in details)
    wanted = {field: message for field, message in details if message is not None}
    assert {d["field"]: d["message"] for d in reply.body["details"] if d["field"] in wanted} == wanted
    assert reply.body["error"].startswith("invalid request: ")
    assert _state((await api.get("alerts", headers=owner.jwt)).body) == _state(before)
    activity = await api.get("activity", params={"targetType": "alert"}, headers=owner.jwt)
    assert [a["action"] for a in activity.body] == ["alert.false_positive"]


async def test_a_valid_filter_changes_only_what_it_names(api: ApiClient, owner: Account) -> None:
    before = {a["id"]: a for a in await _alerts(api, owner)}
    reply = await api.post("alerts/resolve", json={"filter": {"agentId": "other-agent", "severity": "warning",
                                                              "status": ["open"], "isResolved": False},
                                                   "status": "acknowledged"}, headers=owner.jwt)
    wanted = [a["id"] for a in before.values() if (a["agentId"], a["severity"], a["status"]) ==
              ("other-agent", "warning", "open")]
    assert (reply.status, reply.body["updated"], reply.body["ids"]) == (200, 1, wanted)
    after = (await api.get("alerts", headers=owner.jwt)).body
    assert {a["id"]: a["status"] for a in after} == {
        i: "acknowledged" if i in wanted else a["status"] for i, a in before.items()}
    by_status = await api.post("alerts/resolve", json={"filter": {"status": "open,acknowledged"}}, headers=owner.jwt)
    assert by_status.body["updated"] == 5
    after = (await api.get("alerts", headers=owner.jwt)).body
    assert sorted(a["status"] for a in after) == ["false_positive"] + ["resolved"] * 5


async def test_the_store_refuses_a_bulk_change_without_a_criterion(api: ApiClient, owner: Account) -> None:
    before = await _alerts(api, owner)
    service = api.client.server.app[SERVICES].alerts
    principal = Principal(org_id=owner.org_id, kind="user", user_id="user_x", role="owner")
    for flt in (None, AlertFilter()):
        with pytest.raises(InvalidInput):
            await service.set_status_many(principal, ids=None, flt=flt, status="resolved", note=None)
    assert _state((await api.get("alerts", headers=owner.jwt)).body) == _state(before)
