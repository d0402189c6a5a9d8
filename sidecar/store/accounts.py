"""Organisations, users, API keys and login sessions: sync units of work returning plain records.

Functions that change data run on the writer thread (``Writer.run``); the others on the read pool.
Every lookup but the credential ones takes the organisation id, so nothing crosses tenants.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from peewee import IntegrityError

from sidecar.errors import Conflict, NotFound
from sidecar.ids import new_id
from sidecar.store.models import ApiKey, Organization, Session, User


@dataclass(frozen=True, slots=True)
class OrgRecord:
    id: str
    name: str
    email: str
    plan: str
    retention_days: int | None
    last_seq: int
    created_at: int


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    org_id: str
    email: str
    name: str
    role: str
    password_hash: str
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    org_id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: int
    last_used_at: int | None
    revoked_at: int | None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    user_id: str
    org_id: str
    refresh_jti: str
    expires_at: int
    revoked_at: int | None


def _org(row: Organization) -> OrgRecord:
    return OrgRecord(row.id, row.name, row.email, row.plan, row.retention_days, row.last_seq, row.created_at)


def _user(row: User) -> UserRecord:
    return UserRecord(row.id, row.org_id, row.email, row.name, row.role, row.password_hash, row.created_at, row.updated_at)


def _key(row: ApiKey) -> ApiKeyRecord:
    return ApiKeyRecord(row.id, row.org_id, row.name, row.prefix, tuple(orjson.loads(row.scopes)), row.created_at,
                        row.last_used_at, row.revoked_at)


def _session(row: Session) -> SessionRecord:
    return SessionRecord(row.id, row.user_id, row.org_id, row.refresh_jti, row.expires_at, row.revoked_at)


# -- organisations and users ---------------------------------------------------------------------

def create_org_with_owner(*, name: str, email: str, password_hash: str, plan: str, now: int) -> tuple[OrgRecord, UserRecord]:
    """Create an organisation and its owner. Raises Conflict when the email has an account."""
    if User.select().where(User.email == email).exists():
        raise Conflict("an account with this email already exists")
    org = Organization.create(id=new_id("org"), name=name, email=email, plan=plan, created_at=now, updated_at=now)
    try:
        user = User.create(id=new_id("user"), org_id=org.id, email=email, name=name, password_hash=password_hash,
                           role="owner", created_at=now, updated_at=now)
    except IntegrityError:
        raise Conflict("an account with this email already exists") from None
    return _org(org), _user(user)


def count_orgs() -> int:
    return int(Organization.select().count())


def get_org(org_id: str) -> OrgRecord:
    row = Organization.get_or_none(Organization.id == org_id)
    if row is None:
        raise NotFound("organization not found")
    return _org(row)


def user_by_email(email: str) -> UserRecord | None:
    row = User.get_or_none(User.email == email)
    return _user(row) if row else None


def get_user(org_id: str, user_id: str) -> UserRecord:
    row = User.get_or_none((User.id == user_id) & (User.org_id == org_id))
    if row is None:
        raise NotFound(f"user {user_id} not found")
    return _user(row)


def user_by_id(user_id: str) -> UserRecord | None:
    row = User.get_or_none(User.id == user_id)
    return _user(row) if row else None


def list_users(org_id: str) -> list[UserRecord]:
    return [_user(row) for row in User.select().where(User.org_id == org_id).order_by(User.created_at, User.id)]


def create_user(*, org_id: str, email: str, name: str, password_hash: str, role: str, now: int) -> UserRecord:
    if User.select().where(User.email == email).exists():
        raise Conflict("an account with this email already exists")
    row = User.create(id=new_id("user"), org_id=org_id, email=email, name=name, password_hash=password_hash,
                      role=role, created_at=now, updated_at=now)
    return _user(row)


def _owners(org_id: str) -> int:
    return int(User.select().where((User.org_id == org_id) & (User.role == "owner")).count())


def update_user(org_id: str, user_id: str, *, name: str | None, role: str | None, password_hash: str | None,
                now: int) -> UserRecord:
    """Change a user. Raises NotFound, or Conflict when it would leave the organisation without an owner."""
    row = User.get_or_none((User.id == user_id) & (User.org_id == org_id))
    if row is None:
        raise NotFound(f"user {user_id} not found")
    if role is not None and row.role == "owner" and role != "owner" and _owners(org_id) <= 1:
        raise Conflict("the last owner of an organization cannot be given another role")
    if name is not None:
        row.name = name
    if role is not None:
        row.role = role
    if password_hash is not None:
        row.password_hash = password_hash
    row.updated_at = now
    row.save()
    return _user(row)


def delete_user(org_id: str, user_id: str, *, now: int) -> None:
    row = User.get_or_none((User.id == user_id) & (User.org_id == org_id))
    if row is None:
        raise NotFound(f"user {user_id} not found")
    if row.role == "owner" and _owners(org_id) <= 1:
        raise Conflict("the last owner of an organization cannot be removed")
    Session.update(revoked_at=now).where((Session.user_id == user_id) & Session.revoked_at.is_null()).execute()
    row.delete_instance()


# -- API keys ------------------------------------------------------------------------------------

def create_api_key(*, org_id: str, name: str, prefix: str, key_hash: str, scopes: list[str], created_by: str | None,
                   now: int) -> ApiKeyRecord:
    row = ApiKey.create(id=new_id("key"), org_id=org_id, name=name, prefix=prefix, key_hash=key_hash,
                        scopes=orjson.dumps(scopes).decode(), created_by=created_by, created_at=now)
    return _key(row)


def api_key_by_hash(key_hash: str) -> ApiKeyRecord | None:
    row = ApiKey.get_or_none(ApiKey.key_hash == key_hash)
    return _key(row) if row else None


def api_key_by_id(org_id: str, key_id: str) -> ApiKeyRecord | None:
    """The key, revoked or not (a long-lived request re-checks its key by id), or None."""
    row = ApiKey.get_or_none((ApiKey.id == key_id) & (ApiKey.org_id == org_id))
    return _key(row) if row else None


def list_api_keys(org_id: str) -> list[ApiKeyRecord]:
    query = (ApiKey.select().where((ApiKey.org_id == org_id) & ApiKey.revoked_at.is_null())
             .order_by(ApiKey.created_at.desc(), ApiKey.id.desc()))
    return [_key(row) for row in query]


def revoke_api_key(org_id: str, key_id: str, *, now: int) -> ApiKeyRecord:
    row = ApiKey.get_or_none((ApiKey.id == key_id) & (ApiKey.org_id == org_id) & ApiKey.revoked_at.is_null())
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    row.revoked_at = now
    row.save()
    return _key(row)


def touch_api_keys(used: dict[str, int]) -> None:
    """Record last use times (batched; called at most every few seconds)."""
    for key_id, when in used.items():
        ApiKey.update(last_used_at=when).where(ApiKey.id == key_id).execute()


# -- sessions ------------------------------------------------------------------------------------

def create_session(*, user_id: str, org_id: str, refresh_jti: str, expires_at: int, now: int) -> SessionRecord:
    row = Session.create(id=new_id("sess"), user_id=user_id, org_id=org_id, refresh_jti=refresh_jti,
                         created_at=now, refreshed_at=now, expires_at=expires_at)
    return _session(row)


def get_session(session_id: str) -> SessionRecord | None:
    row = Session.get_or_none(Session.id == session_id)
    return _session(row) if row else None


def rotate_session(session_id: str, *, presented_jti: str, new_jti: str, expires_at: int, now: int) -> SessionRecord | None:
    """Swap the refresh token. A stale token (already rotated) revokes the session: it was stolen or replayed.

    Returns the session, or None when it is unknown, revoked, expired or the token is stale.
    """
    row = Session.get_or_none(Session.id == session_id)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.refresh_jti != presented_jti:
        row.revoked_at = now
        row.save()
        return None
    row.refresh_jti, row.refreshed_at, row.expires_at = new_jti, now, expires_at
    row.save()
    return _session(row)


def revoke_session(session_id: str, *, now: int) -> None:
    Session.update(revoked_at=now).where((Session.id == session_id) & Session.revoked_at.is_null()).execute()


def revoke_other_sessions(user_id: str, *, keep: str | None, now: int) -> int:
    """End every open session of a user but ``keep`` (after a password change). Returns how many ended."""
    query = Session.update(revoked_at=now).where((Session.user_id == user_id) & Session.revoked_at.is_null())
    if keep is not None:
        query = query.where(Session.id != keep)
    return int(query.execute())
