"""Alerts leave the outbox as signed webhooks and as emails (critical at once, the rest digested)."""

from __future__ import annotations

import asyncio

import pytest

from sidecar.api.keys import SERVICES
from sidecar.store.models import Delivery
from tests.helpers import PASSWORD, Account, ApiClient, open_db

pytestmark = pytest.mark.both_backends

SSN = "Patient SSN 123-45-6789 in the intake form."       # critical (hipaa phi-ssn, block)
NPI = "Referral signed by provider NPI 1234567893 today."  # warning


async def _until(predicate, timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)


async def _webhook_on(api: ApiClient, owner: Account, receiver, **extra) -> dict:
    reply = await api.patch("notifications/settings", headers=owner.jwt, json={
        "webhookUrl": receiver.url, "notifyWebhook": True, "allowPrivateWebhookTargets": True,
        "notifyMinSeverity": "info", **extra})
    assert reply.status == 200, reply.body
    receiver.secret = reply.body["webhookSecret"].encode()
    return reply.body


async def test_settings_hide_secrets(api: ApiClient, owner: Account, receiver) -> None:
    body = await _webhook_on(api, owner, receiver)
    assert body["webhookSecret"].startswith("whsec_") and body["webhookSecretSet"] is True
    again = await api.get("notifications/settings", headers=owner.jwt)
    assert "webhookSecret" not in again.body and again.body["webhookSecretSet"] is True
    smtp = await api.patch("notifications/settings", headers=owner.jwt,
                           json={"smtp": {"host": "127.0.0.1", "port": 2525, "password": "hunter2-hunter2",
                                          "from": "AgentAudit <audit@acme.test>"}})
    assert smtp.body["smtp"]["passwordSet"] is True and "hunter2" not in str(smtp.body)
    bad = await api.patch("notifications/settings", headers=owner.jwt,
                          json={"webhookUrl": "ftp://x", "emailRecipients": ["nope"], "digestMinutes": 0})
    assert bad.status == 400
    assert {d["field"] for d in bad.body["details"]} == {"webhookUrl", "emailRecipients", "digestMinutes"}
    key_denied = await api.get("notifications/settings", headers=owner.api_key)  # logs:write + logs:read
    assert key_denied.status == 403
    for role in ("auditor", "analyst"):
        added = await api.post("users", headers=owner.jwt, json={"email": f"{role}@acme.test", "name": role,
                                                                  "password": PASSWORD, "role": role})
        assert added.status == 201
    auditor = await _login(api, "auditor@acme.test")
    read = await api.get("notifications/settings", headers=auditor)  # auditors read everything
    assert read.status == 200 and read.body["smtp"]["passwordSet"] is True and "hunter2" not in str(read.body)
    assert (await api.patch("notifications/settings", headers=auditor, json={"digestMinutes": 5})).status == 403
    analyst = await _login(api, "analyst@acme.test")
    assert (await api.get("notifications/settings", headers=analyst)).status == 403


async def _login(api: ApiClient, email: str) -> dict[str, str]:
    reply = await api.post("auth/login", json={"email": email, "password": PASSWORD})
    assert reply.status == 200, reply.body
    return {"Authorization": f"Bearer {reply.body['accessToken']}"}


async def test_alert_webhook_is_signed_and_carries_the_alert(api: ApiClient, owner: Account, receiver) -> None:
    await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)
    await _webhook_on(api, owner, receiver)
    event = await api.post("audit-logs", json={"action": "llm_call", "prompt": SSN, "agentId": "intake"},
                           headers=owner.api_key)
    await _until(lambda: receiver.received)
    [hook] = receiver.received
    assert hook["event"] == "alert.created" and hook["id"].startswith("evt_")
    assert hook["alert"]["auditLogId"] == event.body["id"] and hook["alert"]["severity"] == "critical"
    assert hook["alert"]["agentId"] == "intake" and "123-45-6789" not in str(hook)
    assert hook["_headers"]["X-AgentAudit-Event"] == "alert.created"
    assert receiver.bad_signatures == 0
    stored = await api.get(f"alerts/{hook['alert']['id']}", headers=owner.jwt)
    assert hook["alert"] == stored.body  # the whole alert, as the alerts API shows it
    log = await api.get("notifications/deliveries", headers=owner.jwt)
    await _until(lambda: True)
    assert log.body[0]["channel"] == "webhook" and log.body[0]["eventId"] == hook["id"]


async def test_min_severity_and_muted_rules(api: ApiClient, owner: Account, receiver) -> None:
    await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)
    await _webhook_on(api, owner, receiver, notifyMinSeverity="critical")
    await api.post("audit-logs", json={"action": "x", "prompt": NPI}, headers=owner.api_key)  # warning: below
    await api.post("audit-logs", json={"action": "x", "prompt": SSN}, headers=owner.api_key)  # critical
    await _until(lambda: receiver.received)
    await asyncio.sleep(0.3)
    assert [h["alert"]["severity"] for h in receiver.received] == ["critical"]
    rule_id = receiver.received[0]["alert"]["ruleId"]
    await api.patch("notifications/settings", json={"mutedRuleIds": [rule_id]}, headers=owner.jwt)
    await api.post("audit-logs", json={"action": "x", "prompt": SSN}, headers=owner.api_key)
    await asyncio.sleep(0.5)
    assert len(receiver.received) == 1


async def test_receiver_down_then_up_gets_each_event_once(api: ApiClient, owner: Account, receiver) -> None:
    await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)
    await _webhook_on(api, owner, receiver)
    receiver.mode = "down"
    for i in range(5):
        await api.post("audit-logs", json={"action": "x", "prompt": SSN, "agentId": f"a{i}"}, headers=owner.api_key)
    await _until(lambda: receiver.attempts >= 10)  # retried with backoff while down
    receiver.mode = "ok"
    await _until(lambda: len(receiver.unique_ids) == 5)
    await asyncio.sleep(0.3)
    assert len(receiver.received) == 5  # exactly once each
    services = api.client.server.app[SERVICES]
    rows = await services.reads.run(lambda: list(Delivery.select().where(Delivery.channel == "webhook").dicts()))
    assert {r["status"] for r in rows} == {"delivered"} and all(r["attempts"] >= 2 for r in rows)


async def test_4xx_is_not_retried(api: ApiClient, owner: Account, receiver) -> None:
    await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)
    await _webhook_on(api, owner, receiver)
    receiver.mode = "reject"
    await api.post("audit-logs", json={"action": "x", "prompt": SSN}, headers=owner.api_key)
    await _until(lambda: receiver.attempts >= 1)
    await asyncio.sleep(0.5)
    assert receiver.attempts == 1
    log = await api.get("notifications/deliveries", params={"channel": "webhook"}, headers=owner.jwt)
    # a private target's exact status is not recorded (no status oracle of an internal network), only its class
    assert (log.body[0]["status"], log.body[0]["responseStatus"]) == ("failed", None)
    assert log.body[0]["lastError"] == ("the receiver answered with a 4xx status (the exact status of a private "
                                        "target is not recorded)")


async def test_private_targets_need_consent_and_metadata_is_never_called(api: ApiClient, owner: Account,
                                                                         receiver) -> None:
    await api.patch("notifications/settings", headers=owner.jwt,
                    json={"webhookUrl": receiver.url, "notifyWebhook": True})
    result = await api.post("notifications/test", json={"channel": "webhook"}, headers=owner.jwt)
    assert result.body["webhook"]["ok"] is False
    assert "allow private webhook targets" in result.body["webhook"]["error"]
    refused = await api.patch("notifications/settings", headers=owner.jwt, json={
        "webhookUrl": "http://169.254.169.254/latest/meta-data", "allowPrivateWebhookTargets": True})
    assert refused.status == 400 and refused.body["details"][0]["field"] == "webhookUrl"
    await api.patch("notifications/settings", headers=owner.jwt, json={"allowPrivateWebhookTargets": True})
    with open_db(api.client.server.app[SERVICES].settings) as conn:  # saved before address literals were checked
        conn.execute("UPDATE notification_settings SET webhook_url = ? WHERE org_id = ?",
                     ("http://169.254.169.254/latest/meta-data", owner.org_id))
    result = await api.post("notifications/test", json={"channel": "webhook"}, headers=owner.jwt)
    assert "may never reach" in result.body["webhook"]["error"]
    assert receiver.attempts == 0


async def test_a_hanging_receiver_does_not_hold_up_ingest(api: ApiClient, owner: Account, receiver) -> None:
    await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)
    await _webhook_on(api, owner, receiver)
    receiver.mode = "hang"
    await api.post("audit-logs", json={"action": "x", "prompt": SSN}, headers=owner.api_key)
    await _until(lambda: receiver.attempts >= 1)  # a webhook is now stuck for 10 s
    replies = await asyncio.wait_for(asyncio.gather(*[
        api.post("audit-logs", json={"action": f"y{i}", "prompt": SSN}, headers=owner.api_key) for i in range(30)
    ]), timeout=5)
    assert all(r.status == 201 for r in replies)


async def test_email_critical_at_once_and_warnings_digested(api: ApiClient, owner: Account, smtp) -> None:
    await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)
    reply = await api.patch("notifications/settings", headers=owner.jwt, json={
        "notifyEmail": True, "emailRecipients": ["ciso@acme.test", "dpo@acme.test"], "notifyMinSeverity": "warning",
        "digestMinutes": 15, "smtp": {"host": "127.0.0.1", "port": smtp.port, "security": "none",
                                      "from": "AgentAudit <audit@acme.test>"}})
    assert reply.status == 200
    batch = [{"action": "llm_call", "prompt": SSN, "agentId": f"agent-{i}"} for i in range(50)]
    assert (await api.post("audit-logs/batch", json=batch, headers=owner.api_key)).status == 201
    await _until(lambda: smtp.inbox.messages)
    await asyncio.sleep(0.3)
    assert len(smtp.inbox.messages) == 1  # fifty critical alerts, one email
    rcpts, message = smtp.inbox.messages[0]
    assert sorted(rcpts) == ["ciso@acme.test", "dpo@acme.test"]
    assert message["Subject"] == "[AgentAudit] CRITICAL: 50 new alerts"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_payload()[0].get_payload(decode=True).decode()
    html = message.get_payload()[1].get_payload(decode=True).decode()
    assert "50 new alerts (50 critical)" in text and "agent-49" in text and "<table" in html
    assert "123-45-6789" not in text + html  # no event content unless the organisation opts in

    for i in range(3):
        await api.post("audit-logs", json={"action": "x", "prompt": NPI, "agentId": f"w{i}"}, headers=owner.api_key)
    services = api.client.server.app[SERVICES]
    await _until(lambda: _count(services, "digest") == 3)
    assert len(smtp.inbox.messages) == 1  # warnings wait for the digest window
    await services.writer.run(lambda: Delivery.update(next_attempt_at=0).where(Delivery.status == "digest").execute())
    services.notifications.wake()
    await _until(lambda: len(smtp.inbox.messages) == 2)
    digest = smtp.inbox.messages[1][1]
    assert digest["Subject"] == "[AgentAudit] 3 alerts in the last 15 min"


def _count(services, status: str) -> int:

    with open_db(services.settings) as conn:
        return conn.execute("SELECT COUNT(*) FROM deliveries WHERE status = ?", (status,)).fetchone()[0]


async def test_test_endpoint_sends_both(api: ApiClient, owner: Account, receiver, smtp) -> None:
    await _webhook_on(api, owner, receiver)
    await api.patch("notifications/settings", headers=owner.jwt, json={
        "notifyEmail": True, "emailRecipients": ["ops@acme.test"],
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "security": "none", "from": "audit@acme.test"}})
    result = await api.post("notifications/test", headers=owner.jwt)
    assert result.body["webhook"] == {"ok": True, "status": None, "error": None}  # private: no exact status
    assert result.body["email"] == {"ok": True, "error": None}
    assert receiver.received[0]["event"] == "test"
    assert smtp.inbox.messages[0][1]["Subject"] == "[AgentAudit] Test notification"
    log = await api.get("notifications/deliveries", headers=owner.jwt)
    assert {(d["channel"], d["status"]) for d in log.body} == {("webhook", "delivered"), ("email", "delivered")}


async def test_report_ready_is_a_webhook_too(api: ApiClient, owner: Account, receiver) -> None:
    await _webhook_on(api, owner, receiver)
    await api.post("audit-logs", json={"action": "x"}, headers=owner.api_key)
    created = await api.post("reports", json={"type": "audit_log_export", "format": "json",
                                              "from": "2000-01-01T00:00:00Z", "to": "2999-01-01T00:00:00Z"},
                             headers=owner.jwt)
    assert created.status == 202, created.body
    await _until(lambda: any(h["event"] == "report.ready" for h in receiver.received), timeout=30)
    hook = next(h for h in receiver.received if h["event"] == "report.ready")
    report = await api.get(f"reports/{created.body['id']}", headers=owner.jwt)
    assert hook["data"]["id"] == created.body["id"] and hook["data"]["sha256"] == report.body["sha256"]


async def test_alert_text_says_what_happened_to_the_event(api: ApiClient, owner: Account, receiver, smtp) -> None:
    """An IBAN rule flags, the SSN rule blocks: the event is blocked, and every alert, webhook and email says so,
    naming the rule's own action where it differs."""
    for pack in ("hipaa", "gdpr", "finance", "secrets"):
        assert (await api.post("compliance-rules/packs", json={"packId": pack}, headers=owner.jwt)).status == 201
    await _webhook_on(api, owner, receiver, notifyEmail=True, emailRecipients=["ciso@acme.test"],
                      smtp={"host": "127.0.0.1", "port": smtp.port, "security": "none",
                            "from": "AgentAudit <audit@acme.test>"})
    event = await api.post("audit-logs", json={"action": "llm_call", "agentId": "pay-bot",
                                               "prompt": "IBAN DE89 3704 0044 0532 0130 00 and SSN 536-22-1234"},
                           headers=owner.api_key)
    assert event.status == 201 and event.body["enforcementAction"] == "block"
    actions = {v["name"]: v["action"] for v in event.body["violationDetails"]}
    assert (actions["Bank Account (IBAN)"], actions["SSN Detection"]) == ("flag", "block")

    alerts = {a["details"]["ruleName"]: a for a in (await api.get("alerts", headers=owner.jwt)).body}
    assert set(alerts) == set(actions)
    where = "critical pii_detect violation in llm_call from agent pay-bot (prompt)"
    assert alerts["Bank Account (IBAN)"]["message"] == (
        f"Bank Account (IBAN): {where}; event blocked (this rule's action: flag)")
    assert alerts["SSN Detection"]["message"] == f"SSN Detection: {where}; event blocked"
    assert all("event flagged" not in a["message"] for a in alerts.values())

    await _until(lambda: len(receiver.received) == len(alerts))
    assert {h["alert"]["id"]: h["alert"]["message"] for h in receiver.received} == {
        a["id"]: a["message"] for a in alerts.values()}

    await _until(lambda: smtp.inbox.messages)  # the critical alerts, at once
    text = smtp.inbox.messages[0][1].get_payload()[0].get_payload(decode=True).decode()
    html = smtp.inbox.messages[0][1].get_payload()[1].get_payload(decode=True).decode()
    iban = next(line for line in text.splitlines() if "Bank Account (IBAN)" in line)
    ssn = next(line for line in text.splitlines() if "SSN Detection" in line)
    assert "| event blocked (this rule's action: flag) |" in iban and "| event blocked |" in ssn
    assert "<th>Outcome</th>" in html and "event blocked (this rule&#x27;s action: flag)" in html


async def test_delivery_targets_are_shown_in_full_only_to_settings_readers(api: ApiClient, owner: Account, receiver,
                                                                         smtp) -> None:
    """A webhook URL is a credential and recipients are settings: analysts and logs:read keys, who may not read
    the notification settings, see the webhook's origin and masked addresses in the delivery log."""
    await _webhook_on(api, owner, receiver)
    await api.patch("notifications/settings", headers=owner.jwt, json={
        "notifyEmail": True, "emailRecipients": ["ciso@acme.test", "dpo@acme.test"],
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "security": "none", "from": "audit@acme.test"}})
    result = await api.post("notifications/test", headers=owner.jwt)
    assert (result.body["webhook"]["ok"], result.body["email"]["ok"]) == (True, True), result.body
    for role in ("auditor", "analyst"):
        added = await api.post("users", headers=owner.jwt, json={"email": f"{role}@acme.test", "name": role,
                                                                  "password": PASSWORD, "role": role})
        assert added.status == 201
    full = {"webhook": receiver.url, "email": "ciso@acme.test, dpo@acme.test"}
    redacted = {"webhook": "http://127.0.0.1/…", "email": "c***@acme.test, d***@acme.test"}
    admin_key = await api.key_with(owner, ["admin"])
    read_key = await api.key_with(owner, ["logs:read"])
    callers = {"owner": (owner.jwt, full), "auditor": (await _login(api, "auditor@acme.test"), full),
               "admin key": ({"X-API-Key": admin_key}, full),
               "analyst": (await _login(api, "analyst@acme.test"), redacted),
               "logs:read key": ({"X-API-Key": read_key}, redacted)}
    for who, (headers, expected) in callers.items():
        log = await api.get("notifications/deliveries", headers=headers)
        assert log.status == 200, (who, log.body)
        assert {d["channel"]: d["target"] for d in log.body} == expected, who
        assert {d["channel"]: d["status"] for d in log.body} == {"webhook": "delivered", "email": "delivered"}


class _Banner:
    """A real TCP service on 127.0.0.1 that greets like OpenSSH: what an SMTP host or webhook aimed at an
    internal port meets."""

    BANNER = b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5\r\n"

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0
        self._server: asyncio.AbstractServer | None = None

    async def _greet(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(self.BANNER)
        await writer.drain()
        try:
            await asyncio.wait_for(reader.read(4096), timeout=2)
        except asyncio.TimeoutError:
            pass
        writer.close()

    async def __aenter__(self) -> _Banner:
        self._server = await asyncio.start_server(self._greet, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await asyncio.wait_for(self._server.wait_closed(), timeout=5)


async def _smtp_to(api: ApiClient, owner: Account, host: str, port: int, *, private: bool) -> None:
    reply = await api.patch("notifications/settings", headers=owner.jwt, json={
        "notifyEmail": True, "emailRecipients": ["x@example.com"], "allowPrivateWebhookTargets": private,
        "smtp": {"host": host, "port": port, "security": "none", "from": "a@example.com"}})
    assert reply.status == 200, reply.body


async def test_smtp_host_is_vetted_and_never_quoted(api: ApiClient, owner: Account) -> None:
    """The SMTP host gets the webhook's address checks, and a failure says what failed without echoing the
    service that answered (here an SSH banner)."""
    async with _Banner() as ssh:
        await _smtp_to(api, owner, "127.0.0.1", ssh.port, private=False)  # loopback: the install allows it
        answered = await api.post("notifications/test", json={"channel": "email"}, headers=owner.jwt)
        assert answered.body["email"] == {"ok": False,
                                          "error": "could not connect: the server did not greet as an SMTP server"}
        assert ssh.connections == 1
        for host in ("169.254.169.254", "168.63.129.16", "100.100.100.200", "::ffff:169.254.169.254", "fe80::1"):
            saved = await api.patch("notifications/settings", headers=owner.jwt, json={"smtp": {"host": host}})
            assert saved.status == 400 and saved.body["details"] == [{"field": "smtp.host", "message": (
                "is a link-local or cloud metadata address, which notifications may never reach")}], host
        await _smtp_to(api, owner, "localhost", ssh.port, private=True)  # a name: vetted once resolved
        resolved = await api.post("notifications/test", json={"channel": "email"}, headers=owner.jwt)
        assert resolved.body["email"]["error"] == "could not connect: the server did not greet as an SMTP server"
        with open_db(api.client.server.app[SERVICES].settings) as conn:  # saved before addresses were checked
            conn.execute("UPDATE notification_settings SET smtp_host = ? WHERE org_id = ?",
                         ("169.254.169.254", owner.org_id))
        metadata = await api.post("notifications/test", json={"channel": "email"}, headers=owner.jwt)
        assert metadata.body["email"] == {"ok": False, "error": "the SMTP host 169.254.169.254 resolves to "
                                          "169.254.169.254, an address notifications may never reach"}
        log = await api.get("notifications/deliveries", params={"channel": "email"}, headers=owner.jwt)
        assert len(log.body) == 3 and all(d["status"] == "failed" for d in log.body)
        assert ssh.connections == 2
        everything = str(answered.body) + str(resolved.body) + str(log.body)
        assert "SSH" not in everything and "OpenSSH" not in everything and "SMTPConnectError" not in everything


async def test_a_webhook_at_a_non_http_service_is_not_quoted(api: ApiClient, owner: Account, receiver) -> None:
    async with _Banner() as ssh:
        await _webhook_on(api, owner, receiver)
        await api.patch("notifications/settings", headers=owner.jwt,
                        json={"webhookUrl": f"http://127.0.0.1:{ssh.port}/"})
        result = await api.post("notifications/test", json={"channel": "webhook"}, headers=owner.jwt)
        assert result.body["webhook"] == {"ok": False, "status": None,
                                          "error": "the receiver's answer was not valid HTTP"}
        log = await api.get("notifications/deliveries", headers=owner.jwt)
        assert log.body[0]["lastError"] == "the receiver's answer was not valid HTTP"
        assert "SSH" not in str(result.body) + str(log.body) and ssh.connections == 1


@pytest.mark.sqlite_only
@pytest.mark.parametrize("install", [{"allow_private_notify_targets": False}, {"host": "0.0.0.0"}],
                         ids=["switched-off", "auto-beyond-loopback"])
async def test_private_targets_need_the_install_to_allow_them(aiohttp_client, tmp_path, receiver, smtp,
                                                              install: dict) -> None:
    """``AGENTAUDIT_ALLOW_PRIVATE_NOTIFY_TARGETS=false`` (and ``auto`` on a sidecar bound beyond loopback):
    an organisation's allowPrivateWebhookTargets alone reaches nothing private, and the refusal names the
    install's setting."""
    from sidecar.api.app import create_app
    from sidecar.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", port=0, **install)
    api = ApiClient(await aiohttp_client(create_app(settings)))
    owner = await api.new_account("owner@acme.test", name="Acme")
    await _webhook_on(api, owner, receiver)
    await _smtp_to(api, owner, "127.0.0.1", smtp.port, private=True)
    result = await api.post("notifications/test", headers=owner.jwt)
    for channel in ("webhook", "email"):
        assert result.body[channel]["ok"] is False
        assert result.body[channel]["error"].endswith(
            "this sidecar does not allow private notification targets (it listens beyond loopback, or "
            "AGENTAUDIT_ALLOW_PRIVATE_NOTIFY_TARGETS is false; set AGENTAUDIT_ALLOW_PRIVATE_NOTIFY_TARGETS where it "
            "runs; see SECURITY.md)"), channel
    assert receiver.attempts == 0 and smtp.inbox.messages == []


async def test_a_local_smtp_relay_needs_no_webhook_switch(api: ApiClient, owner: Account, receiver, smtp) -> None:
    """A relay on the workstation keeps working after an upgrade: on a sidecar that allows private targets
    (``auto`` on loopback) the SMTP host needs no allowPrivateWebhookTargets; a private webhook still does."""
    await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)
    await _smtp_to(api, owner, "127.0.0.1", smtp.port, private=False)
    await api.patch("notifications/settings", headers=owner.jwt,
                    json={"webhookUrl": receiver.url, "notifyWebhook": True})
    await api.post("audit-logs", json={"action": "x", "prompt": SSN}, headers=owner.api_key)
    await _until(lambda: smtp.inbox.messages)
    services = api.client.server.app[SERVICES]
    await _until(lambda: _count(services, "pending") == 0)
    assert {r["status"] for r in await _deliveries(api, "email")} == {"delivered"}
    webhooks = await _deliveries(api, "webhook")
    assert [r["status"] for r in webhooks] == ["failed"] and receiver.attempts == 0
    assert "allow private webhook targets" in webhooks[0]["last_error"]
    result = await api.post("notifications/test", json={"channel": "email"}, headers=owner.jwt)
    assert result.body["email"] == {"ok": True, "error": None}


async def _deliveries(api: ApiClient, channel: str) -> list[dict]:
    services = api.client.server.app[SERVICES]
    return await services.reads.run(
        lambda: list(Delivery.select().where(Delivery.channel == channel).order_by(Delivery.id).dicts()))


async def test_a_name_that_does_not_resolve_is_retried_and_a_refused_address_is_not(api: ApiClient, owner: Account,
                                                                                   receiver) -> None:
    """A DNS failure is transient (the delivery stays pending and is tried again); only a policy refusal (an
    address notifications may not reach) fails for good. ``.invalid`` never resolves (RFC 6761)."""
    await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)
    await _webhook_on(api, owner, receiver, webhookUrl="http://nonexistent.invalid/hook")
    await _smtp_to(api, owner, "nonexistent.invalid", 25, private=True)
    await api.post("audit-logs", json={"action": "x", "prompt": SSN}, headers=owner.api_key)
    services = api.client.server.app[SERVICES]

    def retried(channel: str) -> bool:
        with open_db(services.settings) as conn:
            row = conn.execute("SELECT MAX(attempts) FROM deliveries WHERE channel = ?", (channel,)).fetchone()
        return bool(row[0] and row[0] >= 2)

    await _until(lambda: retried("webhook") and retried("email"))
    for channel in ("webhook", "email"):
        rows = await _deliveries(api, channel)
        assert [r["status"] for r in rows] == ["pending"], channel
        assert rows[0]["last_error"].startswith("cannot resolve the "), rows[0]

    # the same deliveries now meet an address that is never allowed: failed at once, not retried
    with open_db(services.settings) as conn:
        conn.execute("UPDATE notification_settings SET smtp_host = ?, webhook_url = ? WHERE org_id = ?",
                     ("169.254.169.254", "http://169.254.169.254/hook", owner.org_id))
    await _until(lambda: _count(services, "pending") == 0)
    for channel in ("webhook", "email"):
        rows = await _deliveries(api, channel)
        assert [r["status"] for r in rows] == ["failed"], channel
        assert "an address notifications may never reach" in rows[0]["last_error"], rows[0]
    assert receiver.attempts == 0


@pytest.mark.sqlite_only
async def test_start_beyond_loopback_warns_of_private_targets(aiohttp_client, tmp_path, smtp, caplog) -> None:
    """Bound beyond loopback under ``auto``, a private SMTP host configured earlier is refused: one WARNING at
    start says so and names the setting; none on a loopback-bound sidecar."""
    from sidecar.api.app import create_app
    from sidecar.settings import Settings

    local = ApiClient(await aiohttp_client(create_app(Settings(data_dir=tmp_path / "data", port=0))))
    owner = await local.new_account("owner@acme.test", name="Acme")
    await _smtp_to(local, owner, "127.0.0.1", smtp.port, private=False)
    await local.client.close()
    assert not [r for r in caplog.records if "AGENTAUDIT_ALLOW_PRIVATE_NOTIFY_TARGETS" in r.getMessage()]

    await aiohttp_client(create_app(Settings(data_dir=tmp_path / "data", port=0, host="0.0.0.0")))
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and "AGENTAUDIT_ALLOW_PRIVATE_NOTIFY_TARGETS"
                in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].getMessage().startswith("1 organisation(s) have a private or loopback")
