"""Credentials against a real sidecar process with debug logging: throttling, expiry, rotation, revocation,
private files, and no secret in any log line or error body."""

from __future__ import annotations

import base64
import os
import sqlite3
import stat
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import call
from tests.helpers import PASSWORD, SidecarProcess

ACCESS_SECONDS = 2


class Recorder:
    """Calls the API and keeps every response body, to search them for secrets afterwards."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.bodies: list[str] = []

    def __call__(self, path: str, method: str = "GET", body: object = None,
                 headers: dict[str, str] | None = None) -> tuple[int, Any]:
        status, reply = call(f"{self.url}/api/v1/{path}", method, body, headers)
        self.bodies.append(repr(reply))
        return status, reply


@pytest.fixture
def live(tmp_path: Path) -> Iterator[SidecarProcess]:
    sidecar = SidecarProcess(tmp_path / "data", env={
        "AGENTAUDIT_LOG_LEVEL": "DEBUG", "AGENTAUDIT_ACCESS_LOG": "1", "PYTHONASYNCIODEBUG": "0",
        "AGENTAUDIT_ACCESS_TOKEN_SECONDS": str(ACCESS_SECONDS), "AGENTAUDIT_NOTIFY_RETRY_BASE_MS": "100"})
    sidecar.start()
    yield sidecar
    sidecar.stop()


def _login_ms(api: Recorder, email: str, password: str) -> tuple[int, float]:
    start = time.perf_counter()
    status, _ = api("auth/login", "POST", {"email": email, "password": password})
    return status, (time.perf_counter() - start) * 1000


def test_credentials_lifecycle_and_no_secret_leaks(live: SidecarProcess) -> None:
    api = Recorder(live.url)
    email = "sec@acme.test"
    new_password = "A-new-Passphrase-77"
    assert api("auth/register", "POST", {"name": "Acme", "email": email, "password": PASSWORD})[0] == 201
    status, login = api("auth/login", "POST", {"email": email, "password": PASSWORD})
    assert status == 200
    access, refresh = login["accessToken"], login["refreshToken"]
    jwt = {"Authorization": f"Bearer {access}"}
    status, created = api("auth/api-keys", "POST", {"name": "agent"}, jwt)
    assert status == 201
    key = created["key"]

    # revoked keys are refused at once
    assert api("audit-logs", "POST", {"action": "a"}, {"X-API-Key": key})[0] == 201
    assert api(f"auth/api-keys/{created['id']}", "DELETE", None, jwt)[0] == 204
    status, refused = api("audit-logs", "POST", {"action": "a"}, {"X-API-Key": key})
    assert (status, refused["code"]) == (401, "unauthorized")
    status, created = api("auth/api-keys", "POST", {"name": "agent 2"}, jwt)
    key = created["key"]

    # webhook secret and SMTP password: write-only, used by a test delivery that fails
    webhook_secret = "whsec-" + "Q" * 24 + "-webhook"
    smtp_password = "smtp-Pa55word-never-shown"
    status, settings = api("notifications/settings", "PATCH", {
        "webhookUrl": "http://127.0.0.1:9/hook", "webhookSecret": webhook_secret, "notifyWebhook": True,
        "allowPrivateWebhookTargets": True, "notifyEmail": True, "emailRecipients": ["ciso@acme.test"],
        "smtp": {"host": "127.0.0.1", "port": 9, "security": "none", "username": "mailer",
                 "password": smtp_password, "from": "audit@acme.test"}}, jwt)
    assert status == 200, settings
    assert settings["webhookSecretSet"] is True and "webhookSecret" not in settings
    status, tested = api("notifications/test", "POST", {"channel": "all"}, jwt)
    assert status in (200, 502), tested
    api("notifications/deliveries", "GET", None, jwt)
    api("notifications/settings", "GET", None, jwt)

    # brute force: five failures for an email, then 429 with Retry-After, even for the right password
    for _ in range(5):
        assert api("auth/login", "POST", {"email": email, "password": "wrong-" + PASSWORD})[0] == 401
    status, throttled = api("auth/login", "POST", {"email": email, "password": PASSWORD})
    assert (status, throttled["code"]) == (429, "rate_limited") and throttled["retryAfter"] >= 1
    # unknown emails cost as much as known ones (no account enumeration by timing)
    known = [_login_ms(api, "other@acme.test", "wrong-password-1")[1] for _ in range(3)]
    api("auth/register", "POST", {"name": "Other", "email": "other2@acme.test", "password": PASSWORD})
    known = [_login_ms(api, "other2@acme.test", f"wrong-password-{i}")[1] for i in range(3)]
    unknown = [_login_ms(api, f"nobody{i}@acme.test", "wrong-password")[1] for i in range(3)]
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.3 < ratio < 3.0, (known, unknown)  # without the dummy hash it would be a small fraction

    # access tokens expire; refresh rotates; a replayed refresh token ends the session
    time.sleep(ACCESS_SECONDS + 1.1)
    status, expired = api("auth/me", "GET", None, jwt)
    assert (status, expired["error"]) == (401, "the token has expired")
    status, rotated = api("auth/refresh", "POST", {"refreshToken": refresh})
    assert status == 200 and rotated["refreshToken"] != refresh
    fresh = {"Authorization": f"Bearer {rotated['accessToken']}"}
    assert api("auth/me", "GET", None, fresh)[0] == 200
    assert api("auth/refresh", "POST", {"refreshToken": refresh})[0] == 401  # replay
    assert api("auth/me", "GET", None, fresh)[0] == 401  # ... revoked the whole session
    assert api("auth/refresh", "POST", {"refreshToken": rotated["refreshToken"]})[0] == 401

    # change the password (after the throttle window of this email has passed for the right password)
    status, login = api("auth/login", "POST", {"email": "other2@acme.test", "password": PASSWORD})
    assert status == 200
    other_jwt = {"Authorization": f"Bearer {login['accessToken']}"}
    assert api("auth/me", "PATCH", {"password": new_password, "currentPassword": "not-it-at-all"}, other_jwt)[0] in (
        400, 401, 403)
    assert api("auth/me", "PATCH", {"password": new_password, "currentPassword": PASSWORD}, other_jwt)[0] == 200
    assert api("auth/login", "POST", {"email": "other2@acme.test", "password": new_password})[0] == 200
    # garbage credentials of every kind
    for headers in ({"X-API-Key": "aa_live_" + "x" * 40}, {"Authorization": "Bearer not.a.jwt"},
                    {"Authorization": f"Bearer {refresh}"}, {"X-API-Key": key[:-2]}):
        assert api("audit-logs", "GET", None, headers)[0] == 401

    # secrets files are private
    data = live.data_dir
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    private = [p for p in (data / "secrets").iterdir()] + [p for p in data.iterdir() if p.name.startswith("agentaudit.db")]
    assert len(private) >= 3
    for path in private:
        assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0, path

    live.stop()
    log = "".join(live.output)
    assert " DEBUG " in log and "POST /api/v1/auth/login" in log  # debug and access logging were on
    secrets = {"password": PASSWORD, "new password": new_password, "api key": key, "revoked key": created["key"],
               "access token": access, "refresh token": refresh, "rotated token": rotated["refreshToken"],
               "webhook secret": webhook_secret, "smtp password": smtp_password,
               "key secret part": key.removeprefix("aa_live_")[8:]}
    for path in (data / "secrets").iterdir():
        raw = path.read_bytes()
        secrets.update({f"secret file {path.name} (hex)": raw.hex(),
                        f"secret file {path.name} (base64)": base64.b64encode(raw).decode().rstrip("=")})
    with sqlite3.connect(data / "agentaudit.db") as db:
        stored = [row[0] for row in db.execute("SELECT password_hash FROM users")]
        stored += [row[0] for row in db.execute("SELECT key_hash FROM api_keys")]
    assert stored
    for stored_hash in stored:  # nor the hashes a stolen log would let someone attack offline
        assert stored_hash not in log
    for name, value in secrets.items():
        assert value not in log, f"the {name} is in the log"
        for body in api.bodies:
            if name in ("api key", "revoked key", "key secret part", "access token", "refresh token", "rotated token"):
                continue  # these are handed out in response bodies by design, once
            assert value not in body, f"the {name} is in a response body"
    errors = [body for body in api.bodies if "'error'" in body]
    assert len(errors) >= 10
    for body in errors:
        for token in (access, refresh, rotated["refreshToken"], rotated["accessToken"], key, created["key"]):
            assert token not in body
