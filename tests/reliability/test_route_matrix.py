"""Permissions and organisation isolation on every route, generated from the route table.

Two tables written here, independently of the code, say what each route needs and which objects its path
parameters name. A route missing from either table fails the test, so a new route cannot slip by unchecked.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sidecar.api.middlewares import permission_of
from sidecar.api.routes import route_table
from tests.helpers import PASSWORD, Account, ApiClient

ROLES = ("owner", "admin", "analyst", "auditor")
KEY_SCOPES = ("logs:write", "logs:read", "admin")
EVERYONE = frozenset(ROLES)
WRITERS = frozenset({"owner", "admin", "analyst"})
MANAGERS = frozenset({"owner", "admin"})

#: permission name -> (the key scopes that may call it, the user roles that may call it).
#: A key with the ``admin`` scope may do whatever any key may do.
POLICY: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "ingest": (frozenset({"logs:write", "admin"}), WRITERS),
    "read": (frozenset({"logs:read", "admin"}), EVERYONE),
    "triage": (frozenset({"admin"}), WRITERS),
    "manage": (frozenset({"admin"}), MANAGERS),
    "account": (frozenset(), EVERYONE),
    "users": (frozenset(), MANAGERS),
    "keys": (frozenset(), MANAGERS),
    "activity": (frozenset({"admin"}), frozenset({"owner", "admin", "auditor"})),
    "settings": (frozenset({"admin"}), frozenset({"owner", "admin", "auditor"})),
    "settings_write": (frozenset(), MANAGERS),
    "billing": (frozenset(), MANAGERS),
    "billing_read": (frozenset({"admin"}), EVERYONE),
}

A = "/api/v1"
#: (method, path) -> the permission name the route must declare (None: public).
EXPECTED: dict[tuple[str, str], str | None] = {
    ("GET", "/health"): None,
    ("GET", f"{A}/health"): None,
    ("GET", f"{A}/openapi.json"): None,
    ("GET", f"{A}/stream"): "read",
    ("POST", "/v1/traces"): "ingest",
    ("POST", f"{A}/auth/register"): None,
    ("POST", f"{A}/auth/login"): None,
    ("POST", f"{A}/auth/refresh"): None,
    ("POST", f"{A}/auth/logout"): "account",
    ("GET", f"{A}/auth/me"): "account",
    ("PATCH", f"{A}/auth/me"): "account",
    ("POST", f"{A}/auth/api-keys"): "keys",
    ("GET", f"{A}/auth/api-keys"): "keys",
    ("DELETE", f"{A}/auth/api-keys/{{key_id}}"): "keys",
    ("GET", f"{A}/users"): "users",
    ("POST", f"{A}/users"): "users",
    ("PATCH", f"{A}/users/{{user_id}}"): "users",
    ("DELETE", f"{A}/users/{{user_id}}"): "users",
    ("POST", f"{A}/audit-logs"): "ingest",
    ("POST", f"{A}/audit-logs/batch"): "ingest",
    ("GET", f"{A}/audit-logs"): "read",
    ("GET", f"{A}/audit-logs/export"): "read",
    ("GET", f"{A}/audit-logs/trace/{{trace_id}}"): "read",
    ("GET", f"{A}/audit-logs/{{log_id}}"): "read",
    ("GET", f"{A}/audit-logs/{{log_id}}/chain"): "read",
    ("GET", f"{A}/audit-logs/{{log_id}}/ancestors"): "read",
    ("GET", f"{A}/traces"): "read",
    ("GET", f"{A}/traces/{{trace_id}}"): "read",
    ("POST", f"{A}/agents"): "manage",
    ("GET", f"{A}/agents"): "read",
    ("GET", f"{A}/agents/{{agent_id}}"): "read",
    ("PATCH", f"{A}/agents/{{agent_id}}"): "manage",
    ("DELETE", f"{A}/agents/{{agent_id}}"): "manage",
    ("GET", f"{A}/compliance-rules/packs"): "read",
    ("POST", f"{A}/compliance-rules/packs"): "manage",
    ("GET", f"{A}/compliance-rules/packs/installed"): "read",
    ("DELETE", f"{A}/compliance-rules/packs/{{pack_id}}"): "manage",
    ("POST", f"{A}/compliance-rules/packs/{{pack_id}}/upgrade"): "manage",
    ("GET", f"{A}/compliance-rules"): "read",
    ("POST", f"{A}/compliance-rules"): "manage",
    ("GET", f"{A}/compliance-rules/{{rule_id}}"): "read",
    ("PATCH", f"{A}/compliance-rules/{{rule_id}}"): "manage",
    ("DELETE", f"{A}/compliance-rules/{{rule_id}}"): "manage",
    ("POST", f"{A}/compliance/evaluate"): "read",
    ("GET", f"{A}/policies/analytics"): "read",
    ("POST", f"{A}/policies/clone-pack"): "manage",
    ("GET", f"{A}/policies"): "read",
    ("POST", f"{A}/policies"): "manage",
    ("GET", f"{A}/policies/{{policy_id}}"): "read",
    ("PATCH", f"{A}/policies/{{policy_id}}"): "manage",
    ("DELETE", f"{A}/policies/{{policy_id}}"): "manage",
    ("POST", f"{A}/policies/{{policy_id}}/agents"): "manage",
    ("DELETE", f"{A}/policies/{{policy_id}}/agents"): "manage",
    ("POST", f"{A}/policies/{{policy_id}}/rules"): "manage",
    ("PATCH", f"{A}/policies/{{policy_id}}/rules/{{rule_id}}"): "manage",
    ("DELETE", f"{A}/policies/{{policy_id}}/rules/{{rule_id}}"): "manage",
    ("GET", f"{A}/policies/{{policy_id}}/versions"): "read",
    ("POST", f"{A}/policies/{{policy_id}}/versions"): "manage",
    ("GET", f"{A}/policies/{{policy_id}}/versions/{{version_id}}"): "read",
    ("POST", f"{A}/policies/{{policy_id}}/versions/{{version_id}}/restore"): "manage",
    ("GET", f"{A}/policies/{{policy_id}}/analytics"): "read",
    ("GET", f"{A}/alerts"): "read",
    ("GET", f"{A}/alerts/counts"): "read",
    ("POST", f"{A}/alerts/resolve"): "triage",
    ("GET", f"{A}/alerts/{{alert_id}}"): "read",
    ("PATCH", f"{A}/alerts/{{alert_id}}"): "triage",
    ("PATCH", f"{A}/alerts/{{alert_id}}/resolve"): "triage",
    ("GET", f"{A}/activity"): "activity",
    ("GET", f"{A}/notifications/settings"): "settings",
    ("PATCH", f"{A}/notifications/settings"): "settings_write",
    ("GET", f"{A}/notifications/deliveries"): "read",
    ("POST", f"{A}/notifications/test"): "settings_write",
    ("GET", f"{A}/ledger/head"): "read",
    ("GET", f"{A}/ledger/checkpoints"): "read",
    ("GET", f"{A}/ledger/export"): "read",
    ("GET", f"{A}/audit-logs/{{log_id}}/proof"): "read",
    ("GET", f"{A}/settings/retention"): "read",
    ("PATCH", f"{A}/settings/retention"): "settings_write",
    ("GET", f"{A}/billing/prices"): None,
    ("POST", f"{A}/billing/checkout"): "billing",
    ("POST", f"{A}/billing/checkout-session"): "billing",
    ("GET", f"{A}/billing/subscription"): "billing_read",
    ("POST", f"{A}/billing/portal"): "billing",
    ("POST", f"{A}/billing/portal-session"): "billing",
    ("POST", f"{A}/billing/webhook"): None,
    ("POST", f"{A}/reports"): "triage",
    ("GET", f"{A}/reports"): "read",
    ("GET", f"{A}/reports/{{report_id}}"): "read",
    ("GET", f"{A}/reports/{{report_id}}/download"): "read",
    ("DELETE", f"{A}/reports/{{report_id}}"): "triage",
    ("GET", f"{A}/report-schedules"): "read",
    ("POST", f"{A}/report-schedules"): "triage",
    ("GET", f"{A}/report-schedules/{{schedule_id}}"): "read",
    ("DELETE", f"{A}/report-schedules/{{schedule_id}}"): "triage",
    ("GET", f"{A}/unregistered-agents"): "read",
}

#: The bodies that get an id-bearing request past validation, so that only the ownership check can refuse it.
#: Values of the form ``<param>`` are replaced by the caller's own object of that kind.
BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", f"{A}/users/{{user_id}}"): {"name": "renamed"},
    ("PATCH", f"{A}/agents/{{agent_id}}"): {"description": "changed"},
    ("PATCH", f"{A}/compliance-rules/{{rule_id}}"): {"name": "changed"},
    ("PATCH", f"{A}/policies/{{policy_id}}"): {"description": "changed"},
    ("POST", f"{A}/policies/{{policy_id}}/agents"): {"agentId": "<agent_id>"},
    ("DELETE", f"{A}/policies/{{policy_id}}/agents"): {"agentId": "<agent_id>"},
    ("POST", f"{A}/policies/{{policy_id}}/rules"): {"name": "kw", "ruleType": "keyword_match",
                                                     "condition": {"keywords": ["x"]}},
    ("PATCH", f"{A}/policies/{{policy_id}}/rules/{{rule_id}}"): {"name": "changed"},
    ("POST", f"{A}/policies/{{policy_id}}/versions"): {"name": "v"},
    ("PATCH", f"{A}/alerts/{{alert_id}}"): {"status": "acknowledged", "note": "x"},
    ("PATCH", f"{A}/alerts/{{alert_id}}/resolve"): {"note": "x"},
}

SSN = "Patient intake: SSN 123-45-6789, please file the claim."


def _routes() -> list[tuple[str, str, object]]:
    found = []
    for route in route_table():
        path = route.path  # type: ignore[attr-defined]
        found.append((route.method, path, route.handler))
    return found


def test_every_route_has_an_expected_permission() -> None:
    routes = _routes()
    missing = [(m, p) for m, p, _ in routes if (m, p) not in EXPECTED]
    assert missing == [], f"add these routes to EXPECTED in {__file__}"
    stale = set(EXPECTED) - {(m, p) for m, p, _ in routes}
    assert stale == set(), "EXPECTED names routes that no longer exist"
    for method, path, handler in routes:
        declared = permission_of(handler)
        name = None if declared is None else declared.name  # type: ignore[attr-defined]
        assert name == EXPECTED[(method, path)], (method, path, name)
        if name is not None:
            keys, roles = POLICY[name]
            assert declared.key_scope is None if not keys else declared.key_scope in keys  # type: ignore[attr-defined]
            assert declared.roles == roles, (method, path)  # type: ignore[attr-defined]


class _Caller:
    def __init__(self, label: str, headers: dict[str, str], *, scope: str | None = None, role: str | None = None):
        self.label, self.headers, self.scope, self.role = label, headers, scope, role

    def allowed(self, permission: str | None) -> bool:
        if permission is None:
            return True
        keys, roles = POLICY[permission]
        if self.scope is not None:
            return self.scope in keys
        return self.role in roles


async def _callers(api: ApiClient, owner: Account) -> list[_Caller]:
    callers = [_Caller(f"key:{scope}", {"X-API-Key": await api.key_with(owner, [scope])}, scope=scope)
               for scope in KEY_SCOPES]
    callers.append(_Caller("user:owner", owner.jwt, role="owner"))
    for role in ROLES[1:]:
        email = f"{role}@acme.test"
        made = await api.post("users", json={"email": email, "name": role, "password": PASSWORD, "role": role},
                              headers=owner.jwt)
        assert made.status == 201, made.body
        login = await api.post("auth/login", json={"email": email, "password": PASSWORD})
        assert login.status == 200
        callers.append(_Caller(f"user:{role}", {"Authorization": f"Bearer {login.body['accessToken']}"}, role=role))
    return callers


async def _status(api: ApiClient, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, bytes]:
    """The status, and the body unless the response is a live stream (whose headers are all we need)."""
    kwargs: dict[str, Any] = {"headers": headers}
    if method != "GET":
        kwargs["json"] = {} if body is None else body
    async with api.client.request(method, path, **kwargs) as response:
        if response.headers.get("Content-Type", "").startswith("text/event-stream"):
            return response.status, b""
        return response.status, await response.read()


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda m: ids[m.group(1)], path)


async def test_scopes_and_roles_on_every_route(api: ApiClient, owner: Account) -> None:
    callers = await _callers(api, owner)
    fake = {name: f"nope_{name}" for name in ("key_id", "user_id", "trace_id", "log_id", "agent_id", "pack_id",
                                              "rule_id", "policy_id", "version_id", "alert_id", "report_id",
                                              "schedule_id")}
    # logout ends the caller's session, so it goes last
    routes = sorted(_routes(), key=lambda r: r[1].endswith("/auth/logout"))
    checked = 0
    for method, path, _ in routes:
        permission = EXPECTED[(method, path)]
        url = _fill(path, fake)
        status, raw = await _status(api, method, url, {})
        if permission is None:
            assert status not in (401, 403), (method, path, status)
            continue
        assert status == 401, (method, path, status, raw[:200])
        assert json.loads(raw)["code"] == "unauthorized"
        for caller in callers:
            status, raw = await _status(api, method, url, caller.headers)
            if caller.allowed(permission):
                assert status not in (401, 403), (caller.label, method, path, status, raw[:300])
            else:
                assert status == 403, (caller.label, method, path, status, raw[:300])
                assert json.loads(raw)["code"] == "forbidden"
            checked += 1
    assert checked >= 7 * 80


async def _populate(api: ApiClient, who: Account, tag: str) -> dict[str, str]:
    """One object of every kind a path parameter can name, owned by ``who``'s organisation."""
    jwt = who.jwt
    ids: dict[str, str] = {"key_id": who.key_id, "trace_id": f"trace-{tag}"}
    agent = await api.post("agents", json={"name": f"agent-{tag}"}, headers=jwt)
    ids["agent_id"] = agent.body["id"]
    rule = await api.post("compliance-rules", json={"name": f"kw-{tag}", "ruleType": "keyword_match",
                                                    "condition": {"keywords": [f"secret-{tag}"]}}, headers=jwt)
    assert rule.status == 201, rule.body
    ids["rule_id"] = rule.body["id"]
    pack = await api.post("compliance-rules/packs", json={"packId": "gdpr" if tag == "a" else "finance"}, headers=jwt)
    assert pack.status == 201, pack.body
    ids["pack_id"] = "gdpr" if tag == "a" else "finance"
    policy = await api.post("policies/clone-pack", json={"packId": "hipaa", "name": f"hipaa-{tag}", "mode": "flag"},
                            headers=jwt)
    assert policy.status == 201, policy.body
    ids["policy_id"] = policy.body["id"]
    ids["policy_rule_id"] = policy.body["rules"][0]["id"]
    attached = await api.post(f"policies/{ids['policy_id']}/agents", json={"agentId": ids["agent_id"]}, headers=jwt)
    assert attached.status == 200
    versions = await api.get(f"policies/{ids['policy_id']}/versions", headers=jwt)
    ids["version_id"] = versions.body[0]["id"]
    batch = [{"action": "step", "traceId": ids["trace_id"], "spanId": f"s{i}", "agentId": ids["agent_id"],
              "prompt": f"{tag} {SSN}", **({"parentSpanId": "s0"} if i else {})} for i in range(3)]
    stored = await api.post("audit-logs/batch", json=batch, headers=who.api_key)
    assert stored.status == 201
    ids["log_id"] = stored.body["data"][1]["id"]
    ids["unregistered_agent"] = f"unregistered-agent-{tag}"
    seen = await api.post("audit-logs", json={"action": "x", "agentId": ids["unregistered_agent"]}, headers=who.api_key)
    assert seen.status == 201
    alerts = await api.get("alerts", headers=jwt)
    assert alerts.body, "the flag policy raised no alert"
    ids["alert_id"] = alerts.body[0]["id"]
    report = await api.post("reports", json={"type": "audit_log_export", "format": "json"}, headers=jwt)
    assert report.status == 202, report.body
    ids["report_id"] = report.body["id"]
    schedule = await api.post("report-schedules", json={"type": "alert_summary", "format": "csv",
                                                        "cron": "0 6 * * 1"}, headers=jwt)
    assert schedule.status == 201, schedule.body
    ids["schedule_id"] = schedule.body["id"]
    user = await api.post("users", json={"email": f"analyst-{tag}@x.test", "name": "Analyst", "password": PASSWORD,
                                         "role": "analyst"}, headers=jwt)
    assert user.status == 201
    ids["user_id"] = user.body["id"]
    return ids


def _params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def _ids_for(path: str, ids: dict[str, str]) -> dict[str, str]:
    """Map the route's parameter names to objects; ``rule_id`` under a policy is one of that policy's rules."""
    mapped = dict(ids)
    if "/policies/" in path:
        mapped["rule_id"] = ids["policy_rule_id"]
    return mapped


async def _snapshot(api: ApiClient, who: Account, ids: dict[str, str]) -> dict[str, Any]:
    """What the owner sees of each object: must be unchanged by the other organisation's attempts."""
    seen = {}
    for name, path in (("log", f"audit-logs/{ids['log_id']}"), ("agent", f"agents/{ids['agent_id']}"),
                       ("rule", f"compliance-rules/{ids['rule_id']}"), ("policy", f"policies/{ids['policy_id']}"),
                       ("alert", f"alerts/{ids['alert_id']}"), ("trace", f"traces/{ids['trace_id']}"),
                       ("schedule", f"report-schedules/{ids['schedule_id']}"),
                       ("versions", f"policies/{ids['policy_id']}/versions"), ("packs", "compliance-rules/packs/installed"),
                       ("users", "users"), ("keys", "auth/api-keys")):
        reply = await api.get(path, headers=who.jwt)
        assert reply.status == 200, (name, reply.body)
        seen[name] = reply.body
    report = await api.get(f"reports/{ids['report_id']}", headers=who.jwt)
    assert report.status == 200
    seen["report"] = report.body["id"]
    for volatile in ("lastUsedAt",):
        for key in seen["keys"]:
            key.pop(volatile, None)
    seen["agent"].pop("activity", None)
    return seen


async def test_other_organisation_gets_404_on_every_id_route(api: ApiClient, owner: Account, other: Account) -> None:
    ids_a = await _populate(api, owner, "a")
    ids_b = await _populate(api, other, "b")
    other_admin_key = {"X-API-Key": await api.key_with(other, ["admin"])}
    before = await _snapshot(api, owner, ids_a)
    secrets = {v for k, v in ids_a.items() if k != "pack_id"} | {"123-45-6789"}
    checked = []
    for method, path, _ in sorted(_routes(), key=lambda r: r[0] == "DELETE"):
        params = _params(path)
        if not params:
            continue
        permission = EXPECTED[(method, path)]
        own_a, own_b = _ids_for(path, ids_a), _ids_for(path, ids_b)
        unknown = [p for p in params if p not in own_a]
        assert unknown == [], f"no object for path parameter(s) {unknown} of {method} {path}: add one to _populate"
        # each parameter in turn names A's object while the others name B's own
        for target in params:
            values = {p: (own_a[p] if p == target else own_b[p]) for p in params}
            body = BODIES.get((method, path))
            if isinstance(body, dict):
                body = {k: (own_b[v[1:-1]] if isinstance(v, str) and v.startswith("<") else v) for k, v in body.items()}
            url = _fill(path, values)
            for label, headers in (("jwt", other.jwt), ("admin key", other_admin_key)):
                if label == "admin key" and POLICY[permission][0] == frozenset():
                    continue  # keys may not call it at all (the scope matrix covers that)
                status, raw = await _status(api, method, url, headers, body)
                assert status == 404, (label, method, url, status, raw[:300])
                reply = json.loads(raw)
                assert reply["code"] == "not_found" and reply["status"] == 404
                # naming the id the caller sent is fine; anything else of A's is a leak
                leaked = [s for s in secrets if s in raw.decode() and s not in url]
                assert leaked == [], (method, url, raw[:300])
                checked.append((method, path, target))
    # attaching A's agent to B's policy is refused too (the id in the body)
    attach = await api.post(f"policies/{ids_b['policy_id']}/agents", json={"agentId": ids_a["agent_id"]},
                            headers=other.jwt)
    assert attach.status == 404, attach.body
    assert len({(m, p) for m, p, _ in checked}) == sum(1 for _, p, _ in _routes() if _params(p))
    after = await _snapshot(api, owner, ids_a)
    assert after == before


LISTS = ("audit-logs", "traces", "alerts", "agents", "policies", "compliance-rules", "reports", "report-schedules",
         "users", "auth/api-keys", "activity", "notifications/deliveries", "ledger/checkpoints",
         "compliance-rules/packs/installed", "policies/analytics", "alerts/counts", "unregistered-agents")


async def test_lists_show_nothing_of_the_other_organisation(api: ApiClient, owner: Account, other: Account) -> None:
    ids_a = await _populate(api, owner, "a")
    for path in LISTS:
        mine = await api.get(path, headers=owner.jwt)
        reply = await api.get(path, headers=other.jwt)
        assert reply.status == 200 == mine.status, (path, reply.body)
        text = json.dumps(reply.body)
        leaked = [name for name, value in ids_a.items() if name != "pack_id" and value in text]
        assert leaked == [], (path, leaked)
        assert "123-45-6789" not in text and owner.org_id not in text
    seen_by_owner = await api.get("unregistered-agents", headers=owner.jwt)
    assert ids_a["unregistered_agent"] in json.dumps(seen_by_owner.body)  # so the check above was not vacuous
    totals = await api.get("policies/analytics", headers=other.jwt)
    assert totals.body["totalAudits"] == 0
