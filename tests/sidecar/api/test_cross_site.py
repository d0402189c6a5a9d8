"""Cross-site requests and DNS rebinding: a JSON body sent without a credential must be declared JSON (a browser
sends text/plain and form posts cross-site without a CORS preflight), and a Host header must name this sidecar."""

from __future__ import annotations

import asyncio
import urllib.request

import orjson
import pytest

from sidecar import settings as settings_module
from sidecar.api.app import create_app
from sidecar.settings import HostCheck, Settings
from tests.helpers import PASSWORD, Account, ApiClient, query_db

BODY = orjson.dumps({"name": "Evil", "email": "evil@example.test", "password": "correct-horse-9"})


@pytest.mark.parametrize("content_type", [None, "text/plain", "text/plain;charset=UTF-8",
                                          "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                          "application/jsonp"])
async def test_a_json_body_in_another_type_is_a_415(api: ApiClient, settings, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    reply = await api.post("auth/register", data=BODY, headers=headers, skip_auto_headers=["Content-Type"])
    assert reply.status == 415
    got = f"got {content_type!r}" if content_type else "none was given"
    assert reply.body == {"error": f"send the body as JSON with Content-Type: application/json ({got})",
                          "status": 415, "code": "unsupported_media_type", "requestId": reply.headers["X-Request-Id"]}
    assert query_db(settings, "SELECT COUNT(*) FROM organizations")[0][0] == 0


async def test_cross_site_logins_cannot_lock_an_owner_out(api: ApiClient, owner: Account) -> None:
    wrong = orjson.dumps({"email": owner.email, "password": "not-the-password"})
    for _ in range(6):
        reply = await api.post("auth/login", data=wrong, headers={"Content-Type": "text/plain"})
        assert reply.status == 415
    login = await api.post("auth/login", json={"email": owner.email, "password": PASSWORD})
    assert login.status == 200, login.body


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON;charset=UTF-8"])
async def test_json_with_or_without_a_charset_is_taken(api: ApiClient, settings, content_type: str) -> None:
    reply = await api.post("auth/register", data=BODY, headers={"Content-Type": content_type})
    assert reply.status == 201, reply.body


async def test_an_optional_body_may_be_absent_and_a_signed_in_callers_is_read_as_json(api: ApiClient,
                                                                                       owner: Account) -> None:
    empty = await api.post("notifications/test", headers=owner.jwt)  # no body at all: every channel
    assert empty.status == 200 and set(empty.body) == {"webhook", "email"}
    typed = await api.post("notifications/test", data=b'{"channel": "email"}',
                           headers={**owner.jwt, "Content-Type": "text/plain"})
    assert typed.status == 200 and set(typed.body) == {"email"}, typed.body


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
async def test_a_key_authenticated_ingest_is_read_as_json_whatever_its_type(api: ApiClient, owner: Account,
                                                                             content_type: str | None) -> None:
    event = orjson.dumps({"action": "tool.call", "agentId": "curl-agent", "prompt": "hello"})
    headers = {**owner.api_key, **({"Content-Type": content_type} if content_type else {})}
    reply = await api.post("audit-logs", data=event, headers=headers, skip_auto_headers=["Content-Type"])
    assert reply.status == 201, reply.body
    stored = await api.get(f"audit-logs/{reply.body['id']}", headers=owner.api_key)
    assert (stored.body["action"], stored.body["agentId"], stored.body["prompt"]) == ("tool.call", "curl-agent",
                                                                                       "hello")
    broken = await api.post("audit-logs", data=b"action=tool.call", headers=headers, skip_auto_headers=["Content-Type"])
    assert (broken.status, broken.body["code"]) == (400, "validation_error")
    assert broken.body["error"].startswith("the request body is not valid JSON")


async def test_urllib_with_data_as_written_for_the_hosted_api_works(api: ApiClient, owner: Account) -> None:
    url = str(api.client.make_url("/api/v1/audit-logs"))
    body = orjson.dumps({"action": "urllib.call", "agentId": "py-agent"})
    request = urllib.request.Request(url, data=body, headers={"X-API-Key": owner.key})  # form type by default

    def send() -> tuple[int, dict, str]:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, orjson.loads(response.read()), request.get_header("Content-type")

    status, created, sent_type = await asyncio.to_thread(send)
    assert (status, sent_type) == (201, "application/x-www-form-urlencoded")
    assert (await api.get(f"audit-logs/{created['id']}", headers=owner.api_key)).body["action"] == "urllib.call"


@pytest.mark.parametrize("path", ["auth/register", "auth/login", "auth/refresh"])
async def test_a_public_route_without_a_credential_still_needs_json(api: ApiClient, owner: Account, settings,
                                                                    path: str) -> None:
    body = {"auth/register": BODY, "auth/login": orjson.dumps({"email": owner.email, "password": PASSWORD}),
            "auth/refresh": orjson.dumps({"refreshToken": owner.refresh})}[path]
    reply = await api.post(path, data=body, headers={"Content-Type": "text/plain"})
    assert (reply.status, reply.body["code"]) == (415, "unsupported_media_type")
    assert reply.body["error"] == "send the body as JSON with Content-Type: application/json (got 'text/plain')"
    assert query_db(settings, "SELECT COUNT(*) FROM organizations")[0][0] == 1


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8731", "127.0.0.1.evil.example", "10.0.0.5"])
async def test_a_foreign_host_header_is_refused_on_a_loopback_sidecar(api: ApiClient, settings, host: str) -> None:
    for path in ("/api/v1/health", "/api/v1/auth/login"):
        reply = await api.request("GET" if path.endswith("health") else "POST", path, headers={"Host": host},
                                  json={"email": "a@b.test", "password": "x"} if path.endswith("login") else None)
        assert reply.status == 421, (path, reply.body)
        assert reply.body["code"] == "misdirected_request" and reply.body["status"] == 421
        assert reply.body["error"].startswith(f"the Host header {host!r} does not name this sidecar")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8731", "localhost:8731", "LOCALHOST.", "[::1]:8731",
                                  "app.localhost"])
async def test_loopback_host_headers_are_taken(api: ApiClient, host: str) -> None:
    reply = await api.get("/api/v1/health", headers={"Host": host})
    assert reply.status == 200, reply.body


async def test_beyond_loopback_any_host_or_the_listed_ones(aiohttp_client, tmp_path) -> None:
    open_lan = ApiClient(await aiohttp_client(create_app(Settings(data_dir=tmp_path / "a", port=0, host="0.0.0.0"))))
    assert (await open_lan.get("/api/v1/health", headers={"Host": "audit.corp.example"})).status == 200
    listed = ApiClient(await aiohttp_client(create_app(Settings(
        data_dir=tmp_path / "b", port=0, host="0.0.0.0", allowed_hosts=("audit.corp.example",)))))
    assert (await listed.get("/api/v1/health", headers={"Host": "Audit.Corp.Example:443"})).status == 200
    assert (await listed.get("/api/v1/health", headers={"Host": "127.0.0.1:8731"})).status == 200
    assert (await listed.get("/api/v1/health", headers={"Host": "evil.example"})).status == 421
    proxied = ApiClient(await aiohttp_client(create_app(Settings(
        data_dir=tmp_path / "c", port=0, allowed_hosts=("audit.corp.example",)))))  # loopback behind a proxy
    assert (await proxied.get("/api/v1/health", headers={"Host": "audit.corp.example"})).status == 200
    assert (await proxied.get("/api/v1/health", headers={"Host": "evil.example"})).status == 421


def test_allowed_hosts_from_the_environment() -> None:
    settings = Settings.from_env({"AGENTAUDIT_ALLOWED_HOSTS": " Audit.Corp:443, [fd00::1]:8731 ,,"})
    assert settings.allowed_hosts == ("audit.corp", "fd00::1")


async def test_the_host_check_parses_each_header_once(api: ApiClient, monkeypatch) -> None:
    parsed: list[str] = []
    real = settings_module.is_loopback_host
    monkeypatch.setattr(settings_module, "is_loopback_host", lambda name: parsed.append(name) or real(name))
    for _ in range(3):
        assert (await api.get("/api/v1/health", headers={"Host": "localhost:8731"})).status == 200
        assert (await api.get("/api/v1/health", headers={"Host": "evil.example"})).status == 421
    assert parsed == ["localhost", "evil.example"]  # the later requests were answered from the memo


def test_the_host_check_memo_is_bounded(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(HostCheck, "MAX_REMEMBERED", 2)
    check = Settings(data_dir=tmp_path, port=0).host_check()
    parsed: list[str] = []
    real = settings_module.is_loopback_host
    monkeypatch.setattr(settings_module, "is_loopback_host", lambda name: parsed.append(name) or real(name))
    answers = [check.allows(h) for h in ("a.example", "a.example", "localhost", "b.example", "b.example", "localhost")]
    assert answers == [False, False, True, False, False, True]
    # two remembered; the third emptied the memo, so localhost is parsed again
    assert parsed == ["a.example", "localhost", "b.example", "localhost"]
