"""Accounts and credentials: registration, login, rotation, logout, expiry, keys, users and roles."""

from __future__ import annotations

import os
import stat
import time

import jwt

from sidecar.services.auth import hash_key
from tests.helpers import PASSWORD, Account, ApiClient, query_db


async def test_register_and_login_shapes(api: ApiClient) -> None:
    reply = await api.post("auth/register", json={"name": "Acme Corp", "email": "Ana@Acme.test", "password": PASSWORD})
    assert reply.status == 201
    assert set(reply.body) == {"id", "name", "email", "plan", "createdAt"}
    assert (reply.body["name"], reply.body["email"], reply.body["plan"]) == ("Acme Corp", "ana@acme.test", "self_hosted")
    login = await api.post("auth/login", json={"email": "ana@acme.test", "password": PASSWORD})
    assert login.status == 200
    assert login.body["organization"] == {"id": reply.body["id"], "email": "ana@acme.test", "plan": "self_hosted",
                                          "name": "Acme Corp"}
    assert login.body["expiresIn"] == 900 and login.body["user"]["role"] == "owner"
    me = await api.get("auth/me", headers={"Authorization": f"Bearer {login.body['accessToken']}"})
    assert me.status == 200 and me.body["email"] == "ana@acme.test" and me.body["organization"]["id"] == reply.body["id"]


async def test_register_validation_and_duplicates(api: ApiClient, owner: Account) -> None:
    reply = await api.post("auth/register", json={"name": "", "email": "not-an-email", "password": "short"})
    assert reply.status == 400
    assert {d["field"] for d in reply.body["details"]} == {"name", "email", "password"}
    reply = await api.post("auth/register", json={"name": "X", "email": "owner@acme.test", "password": PASSWORD})
    assert (reply.status, reply.body["code"]) == (409, "conflict")


async def test_bad_login_is_401_then_throttled(api: ApiClient, owner: Account) -> None:
    for _ in range(5):
        reply = await api.post("auth/login", json={"email": owner.email, "password": "wrong-password"})
        assert (reply.status, reply.body["error"]) == (401, "invalid email or password")
    reply = await api.post("auth/login", json={"email": owner.email, "password": PASSWORD})
    assert reply.status == 429
    assert int(reply.headers["Retry-After"]) >= 1 and reply.body["code"] == "rate_limited"
    unknown = await api.post("auth/login", json={"email": "nobody@acme.test", "password": PASSWORD})
    assert unknown.status == 401


async def test_refresh_rotates_and_reuse_revokes(api: ApiClient, owner: Account) -> None:
    first = await api.post("auth/refresh", json={"refreshToken": owner.refresh})
    assert first.status == 200 and first.body["refreshToken"] != owner.refresh
    replay = await api.post("auth/refresh", json={"refreshToken": owner.refresh})
    assert (replay.status, replay.body["code"]) == (401, "unauthorized")
    # the replay revoked the session: the rotated token and its access token die too
    after = await api.post("auth/refresh", json={"refreshToken": first.body["refreshToken"]})
    assert after.status == 401
    me = await api.get("auth/me", headers={"Authorization": f"Bearer {first.body['accessToken']}"})
    assert me.status == 401


async def test_refresh_token_is_not_an_access_token(api: ApiClient, owner: Account) -> None:
    reply = await api.get("auth/me", headers={"Authorization": f"Bearer {owner.refresh}"})
    assert (reply.status, reply.body["error"]) == (401, "this is a refresh token; it cannot be used here")
    reply = await api.post("auth/refresh", json={"refreshToken": owner.token})
    assert (reply.status, reply.body["error"]) == (401, "this is a access token; it cannot be used here")


async def test_logout_ends_the_session(api: ApiClient, owner: Account) -> None:
    assert (await api.post("auth/logout", headers=owner.jwt)).status == 204
    assert (await api.get("auth/me", headers=owner.jwt)).status == 401
    assert (await api.post("auth/refresh", json={"refreshToken": owner.refresh})).status == 401


async def test_expired_and_forged_jwts(api: ApiClient, owner: Account, settings) -> None:
    secret = (settings.data_dir / "secrets" / "jwt.key").read_bytes()
    claims = jwt.decode(owner.token, secret, algorithms=["HS256"])
    expired = jwt.encode({**claims, "exp": int(time.time()) - 10}, secret, algorithm="HS256")
    reply = await api.get("audit-logs", headers={"Authorization": f"Bearer {expired}"})
    assert (reply.status, reply.body["error"]) == (401, "the token has expired")
    forged = jwt.encode(claims, b"another-secret-entirely-32-bytes-long", algorithm="HS256")
    reply = await api.get("audit-logs", headers={"Authorization": f"Bearer {forged}"})
    assert (reply.status, reply.body["error"]) == (401, "the token is invalid")


async def test_secrets_and_database_are_private(api: ApiClient, owner: Account, settings) -> None:
    for path in (settings.data_dir / "secrets" / "jwt.key", settings.data_dir / "agentaudit.db"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert stat.S_IMODE(os.stat(settings.data_dir).st_mode) == 0o700


async def test_api_keys_are_shown_once_and_stored_hashed(api: ApiClient, owner: Account, settings) -> None:
    import sqlite3

    created = await api.post("auth/api-keys", json={"name": "ci", "scopes": ["logs:read"]}, headers=owner.jwt)
    assert created.status == 201
    key = created.body["key"]
    assert key.startswith("aa_live_") and created.body["prefix"] == key[:12] and created.body["scopes"] == ["logs:read"]
    listed = await api.get("auth/api-keys", headers=owner.jwt)
    assert listed.status == 200 and listed.headers["X-Total-Count"] == "2"
    assert all("key" not in item for item in listed.body)
    assert {item["name"] for item in listed.body} == {"agent", "ci"}
    with sqlite3.connect(settings.data_dir / "agentaudit.db") as conn:
        rows = conn.execute("SELECT key_hash, prefix FROM api_keys").fetchall()
    assert (hash_key(key), key[:12]) in rows
    assert all(key not in row[0] for row in rows)


async def test_revoked_key_is_refused_at_once(api: ApiClient, owner: Account) -> None:
    assert (await api.post("audit-logs", json={"action": "a"}, headers=owner.api_key)).status == 201
    assert (await api.delete(f"auth/api-keys/{owner.key_id}", headers=owner.jwt)).status == 204
    reply = await api.post("audit-logs", json={"action": "a"}, headers=owner.api_key)
    assert (reply.status, reply.body["error"]) == (401, "invalid or revoked API key")
    again = await api.delete(f"auth/api-keys/{owner.key_id}", headers=owner.jwt)
    assert again.status == 404


async def test_last_used_is_recorded(api: ApiClient, owner: Account) -> None:
    await api.get("audit-logs", headers=owner.api_key)
    listed = await api.get("auth/api-keys", headers=owner.jwt)
    assert listed.body[0]["lastUsedAt"] is not None


async def test_keys_cannot_manage_keys_or_users(api: ApiClient, owner: Account) -> None:
    admin_key = await api.key_with(owner, ["admin"])
    reply = await api.post("auth/api-keys", json={"name": "x"}, headers={"X-API-Key": admin_key})
    assert reply.status == 403
    assert reply.body["error"] == "this operation needs a user login (Bearer token); API keys cannot do it"
    assert (await api.get("users", headers={"X-API-Key": admin_key})).status == 403


async def test_admin_key_cannot_change_settings(api: ApiClient, owner: Account, settings) -> None:
    """The ``admin`` scope covers agents, policies, rules, packs, triage and reports; settings (retention purges
    history; notifications choose where alerts go) need an owner's or admin's login."""
    admin_key = {"X-API-Key": await api.key_with(owner, ["admin"])}
    attempts = [("PATCH", "settings/retention", {"retentionDays": 1}),
                ("PATCH", "notifications/settings", {"webhookUrl": "https://example.test/hook", "notifyWebhook": True}),
                ("POST", "notifications/test", {"channel": "webhook"})]
    for method, path, body in attempts:
        reply = await api.request(method, path, json=body, headers=admin_key)
        assert (reply.status, reply.body["code"]) == (403, "forbidden"), (path, reply.body)
        assert reply.body["error"] == "this operation needs a user login (Bearer token); API keys cannot do it"
    assert query_db(settings, "SELECT retention_days FROM organizations WHERE id = ?", owner.org_id) == [(None,)]
    assert (await api.get("notifications/settings", headers=owner.jwt)).body["webhookUrl"] in (None, "")
    changed = await api.patch("settings/retention", json={"retentionDays": 400}, headers=owner.jwt)
    assert changed.status == 200 and changed.body["retentionDays"] == 400


async def _login(api: ApiClient, email: str) -> dict[str, str]:
    reply = await api.post("auth/login", json={"email": email, "password": PASSWORD})
    assert reply.status == 200, reply.body
    return {"Authorization": f"Bearer {reply.body['accessToken']}"}


async def test_users_and_roles(api: ApiClient, owner: Account) -> None:
    for role in ("admin", "analyst", "auditor"):
        reply = await api.post("users", headers=owner.jwt,
                               json={"email": f"{role}@acme.test", "name": role.title(), "password": PASSWORD, "role": role})
        assert reply.status == 201 and reply.body["role"] == role
    listed = await api.get("users", headers=owner.jwt)
    assert [u["role"] for u in listed.body] == ["owner", "admin", "analyst", "auditor"]
    auditor = await _login(api, "auditor@acme.test")
    analyst = await _login(api, "analyst@acme.test")
    admin = await _login(api, "admin@acme.test")
    assert (await api.get("audit-logs", headers=auditor)).status == 200
    denied = await api.post("audit-logs", json={"action": "a"}, headers=auditor)
    assert denied.status == 403 and denied.body["error"].startswith("your role 'auditor' cannot do this")
    assert (await api.post("audit-logs", json={"action": "a"}, headers=analyst)).status == 201
    assert (await api.get("users", headers=analyst)).status == 403
    assert (await api.post("auth/api-keys", json={"name": "k"}, headers=analyst)).status == 403
    # admins manage users but cannot touch owners
    owner_id = listed.body[0]["id"]
    assert (await api.patch(f"users/{owner_id}", json={"role": "admin"}, headers=admin)).status == 403
    analyst_id = listed.body[2]["id"]
    changed = await api.patch(f"users/{analyst_id}", json={"role": "auditor"}, headers=admin)
    assert changed.status == 200 and changed.body["role"] == "auditor"
    assert (await api.post("audit-logs", json={"action": "a"}, headers=analyst)).status == 403  # takes effect at once
    # the last owner stays
    reply = await api.patch(f"users/{owner_id}", json={"role": "admin"}, headers=owner.jwt)
    assert (reply.status, reply.body["error"]) == (409, "the last owner of an organization cannot be given another role")
    reply = await api.delete(f"users/{owner_id}", headers=owner.jwt)
    assert (reply.status, reply.body["error"]) == (409, "the last owner of an organization cannot be removed")
    assert (await api.delete(f"users/{analyst_id}", headers=owner.jwt)).status == 204
    assert (await api.get("audit-logs", headers=analyst)).status == 401
    bad = await api.post("users", headers=owner.jwt, json={"email": "x@acme.test", "name": "X", "password": PASSWORD,
                                                         "role": "superuser"})
    assert bad.status == 400 and bad.body["details"][0]["field"] == "role"


async def test_change_password_needs_current(api: ApiClient, owner: Account) -> None:
    reply = await api.patch("auth/me", json={"password": "new-password-1"}, headers=owner.jwt)
    assert reply.status == 400 and reply.body["details"][0]["field"] == "currentPassword"
    reply = await api.patch("auth/me", json={"password": "new-password-1", "currentPassword": PASSWORD, "name": "Ana"},
                            headers=owner.jwt)
    assert reply.status == 200 and reply.body["name"] == "Ana"
    assert (await api.post("auth/login", json={"email": owner.email, "password": "new-password-1"})).status == 200


async def test_changing_the_password_ends_the_other_sessions(api: ApiClient, owner: Account, settings) -> None:
    elsewhere = await api.post("auth/login", json={"email": owner.email, "password": PASSWORD})
    assert elsewhere.status == 200
    stolen = {"Authorization": f"Bearer {elsewhere.body['accessToken']}"}
    assert (await api.get("auth/me", headers=stolen)).status == 200  # cached as live before the change
    changed = await api.patch("auth/me", json={"password": "new-password-1", "currentPassword": PASSWORD},
                              headers=owner.jwt)
    assert changed.status == 200
    # the other login's access token and refresh token are dead at once
    reply = await api.get("auth/me", headers=stolen)
    assert (reply.status, reply.body["error"]) == (401, "the session has ended; log in again")
    assert (await api.get("audit-logs", headers=stolen)).status == 401
    refreshed = await api.post("auth/refresh", json={"refreshToken": elsewhere.body["refreshToken"]})
    assert refreshed.status == 401
    # the session that made the change goes on, and can still refresh
    assert (await api.get("auth/me", headers=owner.jwt)).status == 200
    mine = await api.post("auth/refresh", json={"refreshToken": owner.refresh})
    assert mine.status == 200
    assert (await api.get("auth/me", headers={"Authorization": f"Bearer {mine.body['accessToken']}"})).status == 200
    user_id = (await api.get("auth/me", headers=owner.jwt)).body["id"]
    open_sessions = query_db(settings, "SELECT COUNT(*) FROM sessions WHERE user_id = ? AND revoked_at IS NULL",
                             user_id)
    assert open_sessions == [(1,)]
    assert (await api.post("auth/login", json={"email": owner.email, "password": PASSWORD})).status == 401
    assert (await api.post("auth/login", json={"email": owner.email, "password": "new-password-1"})).status == 200


async def test_changing_only_the_name_keeps_other_sessions(api: ApiClient, owner: Account) -> None:
    elsewhere = await api.post("auth/login", json={"email": owner.email, "password": PASSWORD})
    renamed = await api.patch("auth/me", json={"name": "Ana"}, headers=owner.jwt)
    assert renamed.status == 200 and renamed.body["name"] == "Ana"
    me = await api.get("auth/me", headers={"Authorization": f"Bearer {elsewhere.body['accessToken']}"})
    assert me.status == 200 and me.body["name"] == "Ana"


async def test_unknown_route_and_method(api: ApiClient, owner: Account) -> None:
    reply = await api.get("nope", headers=owner.api_key)
    assert (reply.status, reply.body["code"]) == (404, "not_found")
    reply = await api.delete("audit-logs", headers=owner.api_key)
    assert (reply.status, reply.body["code"]) == (405, "method_not_allowed")
    assert "GET" in reply.headers["Allow"]


async def test_user_and_key_administration_is_in_the_activity_log(api: ApiClient, owner: Account) -> None:
    added = await api.post("users", headers=owner.jwt,
                           json={"email": "ops@acme.test", "name": "Ops", "password": PASSWORD, "role": "analyst"})
    user_id = added.body["id"]
    assert (await api.patch(f"users/{user_id}", json={"role": "auditor"}, headers=owner.jwt)).status == 200
    created = await api.post("auth/api-keys", json={"name": "ci runner", "scopes": ["logs:write"]}, headers=owner.jwt)
    key_id = created.body["id"]
    assert (await api.delete(f"auth/api-keys/{key_id}", headers=owner.jwt)).status in (200, 204)
    assert (await api.patch("auth/me", json={"password": "new-password-1", "currentPassword": PASSWORD},
                            headers=owner.jwt)).status == 200
    assert (await api.delete(f"users/{user_id}", headers=owner.jwt)).status == 204
    refused = await api.patch(f"users/{user_id}", json={"role": "admin"}, headers=owner.jwt)
    assert refused.status == 404  # a refused change is not recorded

    listed = await api.get("activity", headers=owner.jwt)
    mine = [(a["action"], a["targetType"], a["targetId"], a["targetName"], a["details"], a["actorName"])
            for a in reversed(listed.body) if a["targetType"] in ("user", "api_key") and a["targetId"] != owner.key_id]
    owner_id = next(a["actor"] for a in listed.body if a["action"] == "user.create")
    assert mine == [
        ("user.create", "user", user_id, "ops@acme.test", {"email": "ops@acme.test", "role": "analyst"}, owner.email),
        ("user.update", "user", user_id, "ops@acme.test",
         {"fields": ["role"], "role": {"from": "analyst", "to": "auditor"}}, owner.email),
        ("key.create", "api_key", key_id, "ci runner", {"name": "ci runner", "scopes": ["logs:write"]}, owner.email),
        ("key.revoke", "api_key", key_id, "ci runner", None, owner.email),
        ("user.update", "user", owner_id, owner.email, {"fields": ["password"]}, owner.email),
        ("user.delete", "user", user_id, "ops@acme.test", {"email": "ops@acme.test", "role": "auditor"}, owner.email),
    ]
    text = str(listed.body)
    assert PASSWORD not in text and "new-password-1" not in text and created.body["key"] not in text


async def test_small_collections_page_like_every_other(api: ApiClient, owner: Account) -> None:
    """Users, API keys, packs, installed packs and policy versions take limit and offset, with X-Total-Count and
    a Link to the next page, like every other collection."""
    for i in range(3):
        assert (await api.post("auth/api-keys", json={"name": f"k{i}"}, headers=owner.jwt)).status == 201
        assert (await api.post("users", headers=owner.jwt, json={"email": f"u{i}@acme.test", "name": f"U{i}",
                                                                  "password": PASSWORD, "role": "analyst"})).status == 201
    for pack in ("hipaa", "gdpr", "secrets"):
        assert (await api.post("compliance-rules/packs", json={"packId": pack}, headers=owner.jwt)).status == 201
    policy = (await api.post("policies", json={"name": "P"}, headers=owner.jwt)).body
    for _ in range(3):
        assert (await api.post(f"policies/{policy['id']}/versions", json={}, headers=owner.jwt)).status == 201
    everything = {}
    for path in ("users", "auth/api-keys", "compliance-rules/packs", "compliance-rules/packs/installed",
                 f"policies/{policy['id']}/versions"):
        whole = await api.get(path, params={"limit": 500}, headers=owner.jwt)
        total = len(whole.body)
        assert total >= 3 and whole.headers["X-Total-Count"] == str(total) and "Link" not in whole.headers, path
        first = await api.get(path, params={"limit": 2}, headers=owner.jwt)
        assert first.body == whole.body[:2] and first.headers["X-Total-Count"] == str(total), path
        assert 'rel="next"' in first.headers["Link"] and "offset=2" in first.headers["Link"], path
        rest = await api.get(path, params={"limit": 2, "offset": 2}, headers=owner.jwt)
        assert rest.body == whole.body[2:4] and 'rel="prev"' in rest.headers["Link"], path
        page = await api.get(path, params={"limit": 2, "page": 2}, headers=owner.jwt)
        assert page.body == rest.body, path
        everything[path] = total
    assert everything["users"] == 4 and everything["auth/api-keys"] == 4
