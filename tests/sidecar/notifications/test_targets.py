"""How delivery targets and errors look to callers who may not read the notification settings."""

from __future__ import annotations

import ipaddress

import pytest

from sidecar.notify.targets import classify
from sidecar.services.notification_targets import redact_target, redact_text
from sidecar.settings import Settings


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


@pytest.mark.parametrize("address", [
    "169.254.169.254", "168.63.129.16", "100.100.100.200", "192.0.0.192", "fd00:ec2::254", "fe80::1",
    "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1", "::ffff:168.63.129.16", "0.0.0.0", "::",
    "224.0.0.1"])
def test_metadata_and_link_local_addresses_are_always_refused(address: str) -> None:
    assert classify(ipaddress.ip_address(address)) == "forbidden"


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "private"), ("::1", "private"), ("10.1.2.3", "private"), ("192.168.1.10", "private"),
    ("100.64.0.1", "private"), ("::ffff:127.0.0.1", "private"), ("64:ff9b::a00:1", "private"), ("fd12::1", "private"),
    ("93.184.215.14", "public"), ("2606:4700::1111", "public")])
def test_private_and_public_addresses(address: str, kind: str) -> None:
    assert classify(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(("environ", "allowed"), [
    ({}, True),                                                   # auto, bound to loopback
    ({"AGENTAUDIT_HOST": "::1"}, True),
    ({"AGENTAUDIT_HOST": "0.0.0.0"}, False),                      # auto, reachable from the network
    ({"AGENTAUDIT_HOST": "192.168.1.5", "AGENTAUDIT_ALLOW_PRIVATE_NOTIFY_TARGETS": "auto"}, False),
    ({"AGENTAUDIT_HOST": "0.0.0.0", "AGENTAUDIT_ALLOW_PRIVATE_NOTIFY_TARGETS": "true"}, True),
    ({"AGENTAUDIT_ALLOW_PRIVATE_NOTIFY_TARGETS": "false"}, False)])
def test_the_install_level_switch(environ: dict[str, str], allowed: bool) -> None:
    assert Settings.from_env(environ).private_notify_targets_allowed is allowed
