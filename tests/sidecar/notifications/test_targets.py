"""How delivery targets and errors look to callers who may not read the notification settings."""

from __future__ import annotations

from sidecar.services.notification_targets import redact_target, redact_text


def test_webhook_urls_keep_only_scheme_and_host() -> None:
    assert redact_target("webhook", "https://hooks.slack.com/services/T0/B0/s3cr3t?x=1") == "https://hooks.slack.com/…"
    assert redact_target("webhook", "http://user:pw@[::1]:8080/x") == "http://[::1]/…"
    assert redact_target("webhook", "not a url") == "…"


def test_recipients_are_masked() -> None:
    assert redact_target("email", "ciso@acme.test, dpo@acme.test") == "c***@acme.test, d***@acme.test"


def test_free_text_loses_paths_and_addresses() -> None:
    text = "POST https://user:pw@hooks.slack.com/services/T0/B0/s3cr3t failed; rcpt ciso@acme.test refused"
    assert redact_text(text) == "POST https://hooks.slack.com/… failed; rcpt c***@acme.test refused"
    assert redact_text(None) is None
