"""Failed logins shared by the sidecars on one PostgreSQL database (see :class:`~sidecar.store.models.LoginFailure`)."""

from __future__ import annotations

from collections.abc import Sequence

from sidecar.store.models import LoginFailure


def recent(keys: Sequence[str], since_ms: int) -> dict[str, list[int]]:
    """The failure times (epoch ms, oldest first) of each key since ``since_ms``."""
    found: dict[str, list[int]] = {key: [] for key in keys}
    query = (LoginFailure.select(LoginFailure.key, LoginFailure.at)
             .where(LoginFailure.key.in_(list(keys)) & (LoginFailure.at >= since_ms))
             .order_by(LoginFailure.at))
    for key, at in query.tuples():
        found[key].append(int(at))
    return found


def record(keys: Sequence[str], now_ms: int, *, forget_before_ms: int) -> None:
    """Count one failure for each key, and forget every failure older than the window."""
    LoginFailure.delete().where(LoginFailure.at < forget_before_ms).execute()
    LoginFailure.insert_many([{"key": key, "at": now_ms} for key in keys]).execute()


def clear(key: str) -> None:
    LoginFailure.delete().where(LoginFailure.key == key).execute()
