"""The activity log filtered by who acted: by actor id or by a user's email, never across organisations."""

from __future__ import annotations

from tests.helpers import Account, ApiClient


async def test_activity_by_actor_id_or_email(api: ApiClient, owner: Account) -> None:
    other = await api.new_account("someone-else@acme.test")
    for account, days in ((owner, 90), (other, 30)):
        reply = await api.patch("settings/retention", json={"retentionDays": days}, headers=account.jwt)
        assert reply.status == 200, reply.body
    mine = await api.get("activity", headers=owner.jwt)
    # the retention change, and the API key the account was set up with
    assert [(a["action"], a["actorName"]) for a in mine.body] == [("settings.retention", owner.email),
                                                                  ("key.create", owner.email)]
    actor_id = mine.body[0]["actor"]

    by_id = await api.get("activity", params={"actor": actor_id}, headers=owner.jwt)
    by_email = await api.get("activity", params={"actor": owner.email.upper()}, headers=owner.jwt)
    assert [a["id"] for a in by_id.body] == [a["id"] for a in by_email.body] == [a["id"] for a in mine.body]
    assert by_email.headers["X-Total-Count"] == "2"
    # another organisation's user is not found through this organisation's log
    assert (await api.get("activity", params={"actor": other.email}, headers=owner.jwt)).body == []
    assert (await api.get("activity", params={"actor": "nobody@acme.test"}, headers=owner.jwt)).body == []
