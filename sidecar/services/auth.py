"""Accounts and credentials: registration, login, token rotation, API keys, users and roles.

Access tokens are short-lived HS256 JWTs (``typ: access``) bound to a session; refresh
tokens are JWTs of ``typ: refresh`` whose id the session stores, so each refresh
rotates it and a replayed old one revokes the whole session. API keys are
``aa_live_`` + 32 random bytes; only their SHA-256 is stored (they are random, so a
slow hash adds nothing) and a short prefix is kept for display.

Credential lookups are cached in memory for a few seconds to keep them off the
hot path; revoking, deleting or changing a role in this process drops the cache
entry at once. A request that outlives its start (the live stream) re-checks its
caller with :meth:`AuthService.recheck`, and is woken through
``on_credentials_changed`` when a credential of its organisation ends here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import jwt

from sidecar.errors import FieldError, Forbidden, InvalidInput, RateLimited, Unauthenticated
from sidecar.ids import new_id
from sidecar.services.passwords import burn_time, hash_password, verify_password
from sidecar.services.principal import DEFAULT_KEY_SCOPES, Principal
from sidecar.services.throttle import LoginThrottle, SharedLoginThrottle
from sidecar.store import accounts, activity
from sidecar.store.accounts import ApiKeyRecord, OrgRecord, UserRecord
from sidecar.store.db import ReadPool
from sidecar.store.writer import Writer

T = TypeVar("T")

KEY_PREFIX = "aa_live_"
_CACHE_SECONDS = 5.0
_TOUCH_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: UserRecord
    org: OrgRecord


@dataclass(frozen=True, slots=True)
class NewApiKey:
    record: ApiKeyRecord
    key: str


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class _TTLCache:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds, self._clock = seconds, clock
        self._items: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> tuple[bool, Any]:
        hit = self._items.get(key)
        if hit is None or hit[0] < self._clock():
            return False, None
        return True, hit[1]

    def put(self, key: str, value: Any) -> None:
        if len(self._items) > 10_000:
            self._items.clear()
        self._items[key] = (self._clock() + self._seconds, value)

    def drop(self, key: str) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()


class AuthService:
    """Everything about who may call the sidecar."""

    def __init__(
        self,
        *,
        writer: Writer,
        reads: ReadPool,
        jwt_secret: bytes,
        access_seconds: int,
        refresh_days: int,
        allow_registration: bool,
        default_plan: str,
        clock: Callable[[], int],
        throttle: LoginThrottle | SharedLoginThrottle | None = None,
    ) -> None:
        self._writer = writer
        self._reads = reads
        self._secret = jwt_secret
        self._access_seconds = access_seconds
        self._refresh_seconds = refresh_days * 86400
        self._allow_registration = allow_registration
        self._default_plan = default_plan
        self._clock = clock
        self._keys = _TTLCache(_CACHE_SECONDS)
        self._key_ids = _TTLCache(_CACHE_SECONDS)
        self._users = _TTLCache(_CACHE_SECONDS)
        self._sessions = _TTLCache(_CACHE_SECONDS)
        self._throttle = throttle or LoginThrottle()
        self._key_uses: dict[str, int] = {}
        self._last_touch = time.monotonic()
        #: Told the organisation id whenever a credential ends or changes here (key revoked, logout, user removed,
        #: role or password changed), so open live streams re-check theirs at once.
        self.on_credentials_changed: Callable[[str], None] | None = None

    # -- registration and login ------------------------------------------------------------------

    async def register(self, *, name: str, email: str, password: str) -> tuple[OrgRecord, UserRecord]:
        if not self._allow_registration:
            raise Forbidden("registration is disabled on this sidecar; ask an owner to add you")
        password_hash = await asyncio.get_running_loop().run_in_executor(None, hash_password, password)
        return await self._writer.run(
            accounts.create_org_with_owner, name=name, email=email.lower(), password_hash=password_hash,
            plan=self._default_plan, now=self._clock(),
        )

    async def login(self, *, email: str, password: str, client: str) -> TokenPair:
        email = email.lower()
        wait = await self._throttle.retry_after(email, client)
        if wait:
            raise RateLimited(f"too many failed logins; try again in {wait} s", wait)
        user = await self._reads.run(accounts.user_by_email, email)
        loop = asyncio.get_running_loop()
        if user is None:
            await loop.run_in_executor(None, burn_time, password)
            ok = False
        else:
            ok = await loop.run_in_executor(None, verify_password, password, user.password_hash)
        if not ok or user is None:
            await self._throttle.failed(email, client)
            raise Unauthenticated("invalid email or password")
        await self._throttle.succeeded(email, client)
        return await self._open_session(user)

    async def _open_session(self, user: UserRecord) -> TokenPair:
        now = self._clock()
        jti = secrets.token_hex(16)
        session = await self._writer.run(
            accounts.create_session, user_id=user.id, org_id=user.org_id, refresh_jti=jti,
            expires_at=now + self._refresh_seconds * 1000, now=now,
        )
        org = await self._reads.run(accounts.get_org, user.org_id)
        return self._pair(user, org, session.id, jti, now)

    def _pair(self, user: UserRecord, org: OrgRecord, session_id: str, jti: str, now: int) -> TokenPair:
        issued = now // 1000
        access = jwt.encode(
            {"typ": "access", "sub": user.id, "org": user.org_id, "sid": session_id, "iat": issued,
             "exp": issued + self._access_seconds, "jti": secrets.token_hex(8)},
            self._secret, algorithm="HS256",
        )
        refresh = jwt.encode(
            {"typ": "refresh", "sub": user.id, "sid": session_id, "jti": jti, "iat": issued,
             "exp": issued + self._refresh_seconds},
            self._secret, algorithm="HS256",
        )
        return TokenPair(access, refresh, self._access_seconds, user, org)

    def _decode(self, token: str, typ: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"], options={"require": ["exp", "sub", "sid"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("the token is invalid") from None
        if claims.get("typ") != typ:
            raise Unauthenticated(f"this is a {claims.get('typ', 'untyped')} token; it cannot be used here")
        return claims

    async def refresh(self, refresh_token: str) -> TokenPair:
        claims = self._decode(refresh_token, "refresh")
        now = self._clock()
        new_jti = secrets.token_hex(16)
        session = await self._writer.run(
            accounts.rotate_session, claims["sid"], presented_jti=str(claims.get("jti")), new_jti=new_jti,
            expires_at=now + self._refresh_seconds * 1000, now=now,
        )
        self._sessions.drop(claims["sid"])
        if session is None:
            user = await self._user(str(claims["sub"]))
            if user is not None:  # a replay may have just ended the session: its streams re-check
                self._changed(user.org_id)
            raise Unauthenticated("the refresh token has been used, revoked or has expired; log in again")
        user = await self._reads.run(accounts.user_by_id, session.user_id)
        if user is None:
            raise Unauthenticated("the user no longer exists")
        org = await self._reads.run(accounts.get_org, user.org_id)
        return self._pair(user, org, session.id, new_jti, now)

    async def logout(self, principal: Principal) -> None:
        if principal.session_id:
            await self._writer.run(accounts.revoke_session, principal.session_id, now=self._clock())
            self._sessions.drop(principal.session_id)
            self._changed(principal.org_id)

    # -- authenticating requests -----------------------------------------------------------------

    async def from_api_key(self, raw: str) -> Principal:
        if not raw.startswith("aa_") or len(raw) > 200:
            raise Unauthenticated("invalid API key")
        digest = hash_key(raw)
        hit, record = self._keys.get(digest)
        if not hit:
            record = await self._reads.run(accounts.api_key_by_hash, digest)
            self._keys.put(digest, record)
        if record is None or record.revoked_at is not None:
            raise Unauthenticated("invalid or revoked API key")
        self._note_use(record.id)
        return Principal(org_id=record.org_id, kind="key", key_id=record.id, scopes=record.scopes)

    async def from_access_token(self, token: str) -> Principal:
        claims = self._decode(token, "access")
        session_id = claims["sid"]
        await self._live_session(session_id)
        user = await self._user(claims["sub"])
        if user is None:
            raise Unauthenticated("the user no longer exists")
        return Principal(org_id=user.org_id, kind="user", user_id=user.id, role=user.role, session_id=session_id,
                         expires_at=int(claims["exp"]))

    async def recheck(self, principal: Principal) -> Principal:
        """The caller as of now, for a request that outlives its start (the live stream): the same checks as at
        the start, from the same caches, without decoding the token again.

        Returns the principal (with the user's current role). Raises Unauthenticated, naming why, when the key
        was revoked, the session ended (logout, a password change elsewhere, a replayed refresh token), the user
        was removed or the access token expired.
        """
        if principal.kind == "key":
            key_id = principal.key_id or ""
            hit, record = self._key_ids.get(key_id)
            if not hit:
                record = await self._reads.run(accounts.api_key_by_id, principal.org_id, key_id)
                self._key_ids.put(key_id, record)
            if record is None or record.revoked_at is not None:
                raise Unauthenticated("the API key has been revoked")
            return principal
        if principal.expires_at is not None and self._clock() >= principal.expires_at * 1000:
            raise Unauthenticated("the token has expired")
        await self._live_session(principal.session_id or "")
        user = await self._user(principal.user_id or "")
        if user is None or user.org_id != principal.org_id:
            raise Unauthenticated("the user no longer exists")
        return principal if user.role == principal.role else dataclasses.replace(principal, role=user.role)

    def seconds_left(self, principal: Principal) -> float | None:
        """Seconds until the caller's access token expires (None for an API key, which does not)."""
        if principal.expires_at is None:
            return None
        return max(0.0, principal.expires_at - self._clock() / 1000)

    async def _live_session(self, session_id: str) -> None:
        hit, session = self._sessions.get(session_id)
        if not hit:
            session = await self._reads.run(accounts.get_session, session_id)
            self._sessions.put(session_id, session)
        if session is None or session.revoked_at is not None:
            raise Unauthenticated("the session has ended; log in again")

    def _changed(self, org_id: str) -> None:
        if self.on_credentials_changed is not None:
            self.on_credentials_changed(org_id)

    async def _user(self, user_id: str) -> UserRecord | None:
        hit, user = self._users.get(user_id)
        if not hit:
            user = await self._reads.run(accounts.user_by_id, user_id)
            self._users.put(user_id, user)
        return user  # type: ignore[no-any-return]

    def _note_use(self, key_id: str) -> None:
        self._key_uses[key_id] = self._clock()
        if time.monotonic() - self._last_touch >= _TOUCH_SECONDS:
            self._last_touch = time.monotonic()
            task = asyncio.ensure_future(self.flush_key_uses())
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def flush_key_uses(self) -> None:
        """Write the buffered "last used" times (a lost update loses only a timestamp)."""
        if not self._key_uses:
            return
        used, self._key_uses = self._key_uses, {}
        await self._writer.run(accounts.touch_api_keys, used)

    # -- me, users -------------------------------------------------------------------------------

    async def me(self, principal: Principal) -> tuple[UserRecord, OrgRecord]:
        user = await self._reads.run(accounts.get_user, principal.org_id, principal.user_id or "")
        org = await self._reads.run(accounts.get_org, principal.org_id)
        return user, org

    async def update_me(self, principal: Principal, *, name: str | None, password: str | None,
                        current_password: str | None) -> UserRecord:
        password_hash = None
        if password is not None:
            user = await self._reads.run(accounts.get_user, principal.org_id, principal.user_id or "")
            loop = asyncio.get_running_loop()
            if current_password is None or not await loop.run_in_executor(
                None, verify_password, current_password, user.password_hash
            ):
                raise InvalidInput.fields([FieldError("currentPassword", "must be your current password to change it")])
            password_hash = await loop.run_in_executor(None, hash_password, password)
        changed = [field for field, value in (("name", name), ("password", password)) if value is not None]
        now = self._clock()

        def change() -> UserRecord:
            user = accounts.update_user(principal.org_id, principal.user_id or "", name=name, role=None,
                                        password_hash=password_hash, now=now)
            if password_hash is not None:  # whoever else held the old password is logged out; this session stays
                accounts.revoke_other_sessions(user.id, keep=principal.session_id, now=now)
            return user

        updated = await self._recorded(principal, "user.update", "user", change, target=lambda user: user.id,
                                       details={"fields": changed})
        self._users.drop(updated.id)
        if password_hash is not None:
            self._sessions.clear()  # cached by session id: drop them all (cheap; refilled on next use)
            self._changed(principal.org_id)
        return updated

    async def list_users(self, principal: Principal) -> list[UserRecord]:
        return await self._reads.run(accounts.list_users, principal.org_id)

    async def create_user(self, principal: Principal, *, email: str, name: str, password: str, role: str) -> UserRecord:
        if role == "owner" and principal.role != "owner":
            raise Forbidden("only an owner can add another owner")
        password_hash = await asyncio.get_running_loop().run_in_executor(None, hash_password, password)
        return await self._recorded(principal, "user.create", "user", accounts.create_user, target=lambda user: user.id,
                                    details={"email": email.lower(), "role": role}, org_id=principal.org_id,
                                    email=email.lower(), name=name, password_hash=password_hash, role=role,
                                    now=self._clock())

    async def update_user(self, principal: Principal, user_id: str, *, name: str | None, role: str | None) -> UserRecord:
        target = await self._reads.run(accounts.get_user, principal.org_id, user_id)
        if principal.role != "owner" and ("owner" in (role, target.role)):
            raise Forbidden("only an owner can grant or change the owner role")
        details: dict[str, Any] = {"fields": [f for f, v in (("name", name), ("role", role)) if v is not None]}
        if role is not None and role != target.role:
            details["role"] = {"from": target.role, "to": role}
        updated = await self._recorded(principal, "user.update", "user", accounts.update_user, principal.org_id,
                                       user_id, target=lambda user: user.id, details=details, name=name, role=role,
                                       password_hash=None, now=self._clock())
        self._users.drop(user_id)
        self._changed(principal.org_id)
        return updated

    async def delete_user(self, principal: Principal, user_id: str) -> None:
        target = await self._reads.run(accounts.get_user, principal.org_id, user_id)
        if target.role == "owner" and principal.role != "owner":
            raise Forbidden("only an owner can remove an owner")
        await self._recorded(principal, "user.delete", "user", accounts.delete_user, principal.org_id, user_id,
                             target=lambda _: user_id, details={"email": target.email, "role": target.role},
                             now=self._clock())
        self._users.drop(user_id)
        self._sessions.clear()
        self._changed(principal.org_id)

    # -- API keys --------------------------------------------------------------------------------

    async def create_api_key(self, principal: Principal, *, name: str, scopes: list[str] | None) -> NewApiKey:
        raw = KEY_PREFIX + secrets.token_urlsafe(32)
        chosen = list(scopes or DEFAULT_KEY_SCOPES)
        record = await self._recorded(
            principal, "key.create", "api_key", accounts.create_api_key, target=lambda key: key.id,
            details={"name": name, "scopes": chosen}, org_id=principal.org_id, name=name, prefix=raw[:12],
            key_hash=hash_key(raw), scopes=chosen, created_by=principal.actor, now=self._clock(),
        )
        return NewApiKey(record, raw)

    async def list_api_keys(self, principal: Principal) -> list[ApiKeyRecord]:
        await self.flush_key_uses()
        return await self._reads.run(accounts.list_api_keys, principal.org_id)

    async def revoke_api_key(self, principal: Principal, key_id: str) -> None:
        await self._recorded(principal, "key.revoke", "api_key", accounts.revoke_api_key, principal.org_id, key_id,
                             target=lambda key: key.id, now=self._clock())
        self._keys.clear()  # cached by hash, not id: drop them all (cheap; refilled on next use)
        self._key_ids.drop(key_id)
        self._changed(principal.org_id)

    async def _recorded(self, principal: Principal, action: str, target_type: str, fn: Callable[..., T], *args: Any,
                        target: Callable[[T], str | None], details: dict[str, Any] | None = None, **kwargs: Any) -> T:
        """Run an administrative change on the writer and record who made it in the activity log, in one
        transaction (never a secret: no password, no key)."""
        now = self._clock()

        def unit() -> T:
            result = fn(*args, **kwargs)
            activity.record(principal.org_id, actor=principal.actor, action=action, target_type=target_type,
                            target_id=target(result), details=details, now=now)
            return result

        return await self._writer.run(unit)

    async def has_accounts(self) -> bool:
        return bool(await self._reads.run(accounts.count_orgs))

