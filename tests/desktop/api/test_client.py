"""SidecarClient against a real sidecar: login, errors, paging, silent refresh, logout, export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.api import schemas
from desktop.api.client import SidecarClient
from desktop.api.errors import ApiError
from desktop.api.transport import Transport
from tests.desktop.conftest import Seeded, free_port, http, wait_call


def test_login_holds_the_session_and_me_answers(qtbot: Any, seeded: Seeded) -> None:
    client = SidecarClient(Transport(seeded.url))
    with qtbot.waitSignal(client.session_changed, timeout=10_000):
        session = wait_call(qtbot, client.login(seeded.email, seeded.password))
    assert client.logged_in and session.organization.name == "Northwind Health (demo)"
    me = wait_call(qtbot, client.me())
    assert (me.email, me.role) == (seeded.email, "owner")


def test_wrong_password_is_a_401_with_the_sidecars_message(qtbot: Any, seeded: Seeded) -> None:
    client = SidecarClient(Transport(seeded.url))
    with pytest.raises(ApiError) as caught:
        wait_call(qtbot, client.login(seeded.email, "not-the-password"))
    assert (caught.value.status, caught.value.code, caught.value.message) == (401, "unauthorized",
                                                                              "invalid email or password")
    assert not client.logged_in


def test_calls_without_a_login_fail_without_touching_the_network(qtbot: Any, seeded: Seeded) -> None:
    client = SidecarClient(Transport(seeded.url))
    call = client.list_logs(schemas.LogFilter())
    assert not call.finished  # failure is delivered on the next loop turn, after the caller connected
    with pytest.raises(ApiError) as caught:
        wait_call(qtbot, call)
    assert caught.value.status == 401


def test_cursor_paging_walks_every_event_once(qtbot: Any, client: SidecarClient, seeded: Seeded) -> None:
    total = wait_call(qtbot, client.count_logs(schemas.LogFilter()))
    seen: list[str] = []
    cursor = None
    while True:
        page = wait_call(qtbot, client.list_logs(schemas.LogFilter(), limit=100, before=cursor))
        seen.extend(event.id for event in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == total > 200
    assert seen == sorted(seen, reverse=True)  # newest first; ids sort by time


def test_unknown_event_is_a_not_found_error(qtbot: Any, client: SidecarClient) -> None:
    with pytest.raises(ApiError) as caught:
        wait_call(qtbot, client.get_log("log_does_not_exist"))
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    assert caught.value.request_id


def test_an_expired_access_token_is_refreshed_silently(qtbot: Any, client: SidecarClient) -> None:
    old_refresh = client.refresh_token
    client._access = "expired-or-garbage"  # what an expired token looks like to the sidecar: a 401
    calls = [client.count_logs(schemas.LogFilter()), client.list_logs(schemas.LogFilter(), limit=5)]
    total, page = (wait_call(qtbot, call) for call in calls)
    assert total > 0 and len(page.items) == 5
    assert client.refresh_token != old_refresh  # rotated, once for both calls
    assert client.logged_in


def test_a_refused_refresh_ends_the_session(qtbot: Any, client: SidecarClient) -> None:
    client._access, client._refresh = "garbage", "also-garbage"
    with qtbot.waitSignal(client.session_expired, timeout=10_000):
        call = client.count_logs(schemas.LogFilter())
    with pytest.raises(ApiError) as caught:
        wait_call(qtbot, call)
    assert caught.value.code == "session_expired" and not client.logged_in


def test_logout_revokes_the_refresh_token(qtbot: Any, client: SidecarClient, seeded: Seeded) -> None:
    refresh = client.refresh_token
    wait_call(qtbot, client.logout())
    assert not client.logged_in
    status, body, _ = http(f"{seeded.url}/api/v1/auth/refresh", "POST", {"refreshToken": refresh})
    assert status == 401, body


def test_export_streams_the_filtered_events_to_a_file(qtbot: Any, client: SidecarClient, tmp_path: Path) -> None:
    flt = schemas.LogFilter(agent_id="billing-bot")
    expected = wait_call(qtbot, client.count_logs(flt))
    target = tmp_path / "billing.jsonl"
    assert wait_call(qtbot, client.export_logs(flt, "jsonl", target)) == target
    lines = target.read_text().splitlines()
    assert len(lines) == expected > 0
    assert all('"agentId":"billing-bot"' in line for line in lines)
    assert not (tmp_path / "billing.jsonl.part").exists()


def test_no_sidecar_is_a_network_error_not_an_exception(qtbot: Any) -> None:
    client = SidecarClient(Transport(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(ApiError) as caught:
        wait_call(qtbot, client.health())
    assert caught.value.is_network and caught.value.code == "network_error"
