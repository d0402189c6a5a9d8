"""Upgrading an installed pack to the shipped version keeps rule ids and on/off, takes the new definitions,
adds and removes rules, and what is evaluated afterwards uses the new rules."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from sidecar.compliance.packs import get_pack
from tests.helpers import PASSWORD, Account, ApiClient, open_db, query_db

pytestmark = pytest.mark.both_backends

AWS = "deploy with key=AKIAQ3EGRAXYZ7WB2LHD please"
STRIPE = "STRIPE_SECRET_KEY=sk_live_zzgEOzdmenCkhvMdgaKjIg8x"
OLD_CLOUD_KEYS = {"patterns": ["aws_access_key", "github_token", "openai_key"]}


def _pack_rules(settings: Any, org_id: str, pack_id: str) -> dict[str, str]:
    """``pack_rule_key -> rule id`` of the organisation-wide rules of the pack."""
    rows = query_db(settings, "SELECT pack_rule_key, id FROM rules WHERE org_id = ? AND pack_id = ? "
                              "AND policy_id IS NULL", org_id, pack_id)
    return dict(rows)


def _make_old(settings: Any, org_id: str, policy_id: str) -> str:
    """Turn the installed secrets pack (and the policy cloned from it) into what 1.0.0 installed, plus a rule
    whose key the pack no longer has. Returns that obsolete rule's id."""
    with open_db(settings) as conn:
        conn.execute("UPDATE installed_packs SET version = '1.0.0' WHERE org_id = ? AND pack_id = 'secrets'", (org_id,))
        conn.execute("UPDATE rules SET name = 'Cloud Keys', condition = ?, severity = 'warning' WHERE org_id = ? "
                     "AND pack_id = 'secrets' AND pack_rule_key = 'cloud-keys'",
                     (orjson.dumps(OLD_CLOUD_KEYS).decode(), org_id))
        conn.execute("DELETE FROM rules WHERE org_id = ? AND policy_id IS NULL AND pack_rule_key = 'tokens'", (org_id,))
        conn.execute("UPDATE rules SET condition = ? WHERE policy_id = ? AND name = 'Cloud and API Keys'",
                     (orjson.dumps(OLD_CLOUD_KEYS).decode(), policy_id))
        conn.execute("INSERT INTO rules (id, org_id, policy_id, pack_id, pack_rule_key, name, rule_type, condition, "
                     "severity, action_override, redaction, is_active, position, created_at, updated_at) "
                     "VALUES (?, ?, NULL, 'secrets', 'legacy-words', 'Legacy words', 'keyword_match', ?, 'info', "
                     "'flag', 'none', ?, 0, 1, 1)",
                     ("rule_obsolete", org_id, orjson.dumps({"keywords": ["hunter2"]}).decode(), True))
        conn.execute("UPDATE organizations SET compliance_version = compliance_version + 1 WHERE id = ?", (org_id,))
    return "rule_obsolete"


def _violations(event: dict[str, Any]) -> dict[str, set[str]]:
    """``rule id -> detectors matched`` of an event's verdict."""
    return {v["ruleId"]: {m["detector"] for m in v.get("matches") or ()} for v in event["violationDetails"] or ()}


async def test_upgrade_keeps_ids_and_switches_and_takes_new_definitions(api: ApiClient, owner: Account,
                                                                         settings: Any) -> None:
    assert (await api.post("compliance-rules/packs", json={"packId": "secrets"}, headers=owner.jwt)).status == 201
    clone = await api.post("policies/clone-pack", json={"packId": "secrets", "name": "Our secrets", "mode": "log"},
                           headers=owner.jwt)
    assert clone.status == 201
    obsolete = _make_old(settings, owner.org_id, clone.body["id"])
    before = _pack_rules(settings, owner.org_id, "secrets")
    assert set(before) == {"cloud-keys", "private-keys", "passwords", "prompt-injection", "legacy-words"}
    off = await api.patch(f"compliance-rules/{before['private-keys']}", json={"isActive": False}, headers=owner.jwt)
    assert (off.status, off.body["isActive"]) == (200, False)
    listed = (await api.get("compliance-rules/packs/installed", headers=owner.jwt)).body
    assert [(p["version"], p["latestVersion"]) for p in listed] == [("1.0.0", "1.1.0")]

    # under the old rules: an AWS key raises an alert; a Stripe key is not a cloud key yet
    aws = await api.post("audit-logs", json={"action": "llm_call", "prompt": AWS}, headers=owner.api_key)
    assert _violations(aws.body).get(before["cloud-keys"]) == {"aws_access_key"}
    alert = next(a for a in (await api.get("alerts", headers=owner.jwt)).body if a["ruleId"] == before["cloud-keys"])
    stripe = await api.post("audit-logs", json={"action": "llm_call", "prompt": STRIPE}, headers=owner.api_key)
    assert before["cloud-keys"] not in _violations(stripe.body)

    reply = await api.post("compliance-rules/packs/secrets/upgrade", headers=owner.jwt)
    assert reply.status == 200, reply.body
    body = reply.body
    assert {k: body[k] for k in ("packId", "fromVersion", "toVersion", "added", "updated", "removed", "kept",
                                 "stayedDeleted")} == {
        "packId": "secrets", "fromVersion": "1.0.0", "toVersion": "1.1.0", "added": 0, "updated": 1, "removed": 1,
        "kept": 1, "stayedDeleted": 1}
    shipped = {rule.key: rule for rule in get_pack("secrets").rules}  # type: ignore[union-attr]
    after = _pack_rules(settings, owner.org_id, "secrets")
    assert set(after) == set(shipped) - {"tokens"}  # in 1.0.0 already and deleted by the organisation: stays deleted
    kept_keys = set(before) - {"legacy-words"}
    assert {k: after[k] for k in kept_keys} == {k: before[k] for k in kept_keys}
    assert obsolete not in after.values()
    rules = {r["id"]: r for r in body["rules"]}
    assert set(rules) == set(after.values())
    by_key = {key: rules[rule_id] for key, rule_id in after.items()}
    for key, rule in by_key.items():
        want = shipped[key]
        assert (rule["name"], rule["ruleType"], rule["condition"], rule["severity"], rule["actionOverride"],
                rule["redaction"], rule["packId"], rule["policyId"]) == (
            want.name, want.rule_type, want.condition, want.severity, want.action, want.redaction, "secrets", None)
        assert rule["isActive"] is (key != "private-keys")
    assert by_key["cloud-keys"]["updatedAt"] > by_key["cloud-keys"]["createdAt"]
    assert by_key["passwords"]["updatedAt"] == by_key["passwords"]["createdAt"]  # unchanged: not rewritten

    listed = (await api.get("compliance-rules/packs/installed", headers=owner.jwt)).body
    assert [(p["version"], p["latestVersion"], p["ruleCount"]) for p in listed] == [("1.1.0", "1.1.0", 4)]
    activity = (await api.get("activity", params={"action": "pack.upgrade"}, headers=owner.jwt)).body
    assert [(a["action"], a["targetId"], a["details"]["from"], a["details"]["to"], a["details"]["kept"],
             a["details"]["stayedDeleted"]) for a in activity] == [("pack.upgrade", "secrets", "1.0.0", "1.1.0", 1, 1)]
    kept = await api.get(f"alerts/{alert['id']}", headers=owner.jwt)
    assert kept.body["ruleId"] == before["cloud-keys"]
    assert (await api.get(f"compliance-rules/{kept.body['ruleId']}", headers=owner.jwt)).body["name"] == \
        "Cloud and API Keys"

    # the policy cloned from the pack is the organisation's own copy: unchanged
    policy = (await api.get(f"policies/{clone.body['id']}", headers=owner.jwt)).body
    assert next(r for r in policy["rules"] if r["name"] == "Cloud and API Keys")["condition"] == OLD_CLOUD_KEYS
    assert policy["version"] == clone.body["version"]

    # what is evaluated from now on uses the new rules
    stripe = await api.post("audit-logs", json={"action": "llm_call", "prompt": STRIPE}, headers=owner.api_key)
    assert _violations(stripe.body).get(before["cloud-keys"]) == {"stripe_key"}
    assert stripe.body["enforcementAction"] == "block"
    words = await api.post("audit-logs", json={"action": "llm_call", "prompt": "the password is hunter2"},
                           headers=owner.api_key)
    assert obsolete not in _violations(words.body)


async def test_upgrade_keeps_the_organisations_edits_and_readds_only_rules_new_since(
        api: ApiClient, owner: Account, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from sidecar.compliance import packs as pack_module

    assert (await api.post("compliance-rules/packs", json={"packId": "secrets"}, headers=owner.jwt)).status == 201
    with open_db(settings) as conn:
        conn.execute("UPDATE installed_packs SET version = '1.0.0' WHERE org_id = ? AND pack_id = 'secrets'",
                     (owner.org_id,))
        conn.execute("UPDATE rules SET condition = ? WHERE org_id = ? AND pack_rule_key = 'cloud-keys'",
                     (orjson.dumps(OLD_CLOUD_KEYS).decode(), owner.org_id))
    ids = _pack_rules(settings, owner.org_id, "secrets")
    edit = await api.patch(f"compliance-rules/{ids['cloud-keys']}",
                           json={"severity": "info", "actionOverride": "log", "redaction": "mask", "isActive": False},
                           headers=owner.jwt)
    assert edit.status == 200, edit.body
    for key in ("tokens", "passwords"):
        assert (await api.delete(f"compliance-rules/{ids[key]}", headers=owner.jwt)).status in (200, 204)
    # as if "tokens" had been added to the pack in 1.1.0: a rule newer than the installed version comes back
    real = pack_module.get_pack("secrets")
    assert real is not None
    changed = dataclasses.replace(real, rules=tuple(dataclasses.replace(r, since="1.1.0") if r.key == "tokens" else r
                                                    for r in real.rules))
    monkeypatch.setattr("sidecar.services.policies.get_pack", lambda pack_id: changed)

    reply = await api.post("compliance-rules/packs/secrets/upgrade", headers=owner.jwt)
    assert reply.status == 200, reply.body
    assert {k: reply.body[k] for k in ("added", "kept", "stayedDeleted")} == {"added": 1, "kept": 1, "stayedDeleted": 1}
    after = _pack_rules(settings, owner.org_id, "secrets")
    assert "passwords" not in after and "tokens" in after and after["tokens"] != ids["tokens"]
    rule = next(r for r in reply.body["rules"] if r["id"] == ids["cloud-keys"])
    shipped = next(r for r in real.rules if r.key == "cloud-keys")
    assert (rule["severity"], rule["actionOverride"], rule["redaction"], rule["isActive"]) == ("info", "log", "mask", False)
    assert (rule["name"], rule["condition"]) == (shipped.name, shipped.condition)
    tokens = next(r for r in reply.body["rules"] if r["id"] == after["tokens"])
    assert tokens["isActive"] is True


async def test_upgrade_again_changes_nothing(api: ApiClient, owner: Account, settings: Any) -> None:
    await api.post("compliance-rules/packs", json={"packId": "hipaa"}, headers=owner.jwt)
    ids = _pack_rules(settings, owner.org_id, "hipaa")
    current = await api.post("compliance-rules/packs/hipaa/upgrade", headers=owner.jwt)
    assert current.status == 200
    assert {k: current.body[k] for k in ("fromVersion", "toVersion", "added", "updated", "removed")} == {
        "fromVersion": "1.1.0", "toVersion": "1.1.0", "added": 0, "updated": 0, "removed": 0}
    assert {r["id"] for r in current.body["rules"]} == set(ids.values())

    # a 1.0.0 install (the health rule then used special_category), upgraded by its other name, twice
    with open_db(settings) as conn:
        conn.execute("UPDATE installed_packs SET version = '1.0.0' WHERE org_id = ?", (owner.org_id,))
        conn.execute("UPDATE rules SET condition = ? WHERE org_id = ? AND pack_rule_key = 'phi-health-status'",
                     (orjson.dumps({"patterns": ["special_category"]}).decode(), owner.org_id))
    first = await api.post("compliance-rules/packs/hippo/upgrade", headers=owner.jwt)
    again = await api.post("compliance-rules/packs/hipaa/upgrade", headers=owner.jwt)
    assert [(r.body["fromVersion"], r.body["toVersion"], r.body["added"], r.body["updated"], r.body["removed"])
            for r in (first, again)] == [("1.0.0", "1.1.0", 0, 1, 0), ("1.1.0", "1.1.0", 0, 0, 0)]
    assert first.body["packId"] == "hipaa" and first.body["rules"] == again.body["rules"]
    assert _pack_rules(settings, owner.org_id, "hipaa") == ids
    activity = (await api.get("activity", params={"action": "pack.upgrade"}, headers=owner.jwt)).body
    assert len(activity) == 1  # the no-op upgrades record nothing


async def test_upgrade_unknown_or_not_installed_pack_is_404(api: ApiClient, owner: Account, other: Account) -> None:
    unknown = await api.post("compliance-rules/packs/sox/upgrade", headers=owner.jwt)
    assert (unknown.status, unknown.body["code"]) == (404, "not_found")
    assert unknown.body["error"].startswith("pack sox not found (available: ")
    missing = await api.post("compliance-rules/packs/gdpr/upgrade", headers=owner.jwt)
    assert (missing.status, missing.body["error"]) == (404, "pack gdpr is not installed")
    await api.post("compliance-rules/packs", json={"packId": "gdpr"}, headers=owner.jwt)
    theirs = await api.post("compliance-rules/packs/gdpr/upgrade", headers=other.jwt)
    assert (theirs.status, theirs.body["error"]) == (404, "pack gdpr is not installed")


async def test_only_owners_admins_and_admin_keys_upgrade(api: ApiClient, owner: Account, settings: Any) -> None:
    await api.post("compliance-rules/packs", json={"packId": "secrets"}, headers=owner.jwt)
    with open_db(settings) as conn:
        conn.execute("UPDATE installed_packs SET version = '1.0.0' WHERE org_id = ?", (owner.org_id,))
    for role in ("analyst", "auditor"):
        email = f"{role}@acme.test"
        made = await api.post("users", json={"email": email, "name": role, "password": PASSWORD, "role": role},
                              headers=owner.jwt)
        assert made.status == 201
        token = (await api.post("auth/login", json={"email": email, "password": PASSWORD})).body["accessToken"]
        refused = await api.post("compliance-rules/packs/secrets/upgrade", headers={"Authorization": f"Bearer {token}"})
        assert (refused.status, refused.body["code"]) == (403, "forbidden")
    refused = await api.post("compliance-rules/packs/secrets/upgrade", headers=owner.api_key)
    assert (refused.status, refused.body["error"]) == (403, "this API key lacks the 'admin' scope")
    assert query_db(settings, "SELECT version FROM installed_packs WHERE org_id = ?", owner.org_id) == [("1.0.0",)]
    admin_key = await api.key_with(owner, ["admin"])
    done = await api.post("compliance-rules/packs/secrets/upgrade", headers={"X-API-Key": admin_key})
    assert (done.status, done.body["toVersion"]) == (200, "1.1.0")
