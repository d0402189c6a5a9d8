"""Accounts: register, login, refresh, logout, me, users, API keys."""

from __future__ import annotations

from aiohttp import web

from sidecar.api import schemas, serialize
from sidecar.api.keys import PRINCIPAL, SERVICES
from sidecar.api.middlewares import requires
from sidecar.services import principal as perms
from sidecar.services.auth import TokenPair


def _tokens(pair: TokenPair) -> dict[str, object]:
    return {
        "accessToken": pair.access_token,
        "refreshToken": pair.refresh_token,
        "tokenType": "Bearer",
        "expiresIn": pair.expires_in,
        "organization": {"id": pair.org.id, "email": pair.org.email, "plan": pair.org.plan, "name": pair.org.name},
        "user": serialize.user(pair.user),
    }


@requires(None)
async def register(request: web.Request) -> web.Response:
    name, email, password = schemas.register(await schemas.json_body(request))
    org, _ = await request.app[SERVICES].auth.register(name=name, email=email, password=password)
    return serialize.json(serialize.org(org), status=201)


@requires(None)
async def login(request: web.Request) -> web.Response:
    email, password = schemas.login(await schemas.json_body(request))
    pair = await request.app[SERVICES].auth.login(email=email, password=password, client=request.remote or "")
    return serialize.json(_tokens(pair))


@requires(None)
async def refresh(request: web.Request) -> web.Response:
    token = schemas.refresh(await schemas.json_body(request))
    pair = await request.app[SERVICES].auth.refresh(token)
    return serialize.json(_tokens(pair))


@requires(perms.ACCOUNT)
async def logout(request: web.Request) -> web.Response:
    await request.app[SERVICES].auth.logout(request[PRINCIPAL])
    return web.Response(status=204)


@requires(perms.ACCOUNT)
async def me(request: web.Request) -> web.Response:
    user, org = await request.app[SERVICES].auth.me(request[PRINCIPAL])
    return serialize.json({**serialize.user(user), "organization": serialize.org(org)})


@requires(perms.ACCOUNT)
async def update_me(request: web.Request) -> web.Response:
    name, password, current = schemas.update_me(await schemas.json_body(request))
    user = await request.app[SERVICES].auth.update_me(request[PRINCIPAL], name=name, password=password,
                                                      current_password=current)
    return serialize.json(serialize.user(user))


@requires(perms.USERS)
async def list_users(request: web.Request) -> web.Response:
    limit, offset, _ = schemas.paging(request.query)
    users = await request.app[SERVICES].auth.list_users(request[PRINCIPAL])
    return serialize.listing_of(request, [serialize.user(u) for u in users], limit=limit, offset=offset)


@requires(perms.USERS)
async def create_user(request: web.Request) -> web.Response:
    email, name, password, role = schemas.new_user(await schemas.json_body(request))
    user = await request.app[SERVICES].auth.create_user(request[PRINCIPAL], email=email, name=name, password=password,
                                                        role=role)
    return serialize.json(serialize.user(user), status=201)


@requires(perms.USERS)
async def update_user(request: web.Request) -> web.Response:
    name, role = schemas.user_change(await schemas.json_body(request))
    user = await request.app[SERVICES].auth.update_user(request[PRINCIPAL], request.match_info["user_id"], name=name,
                                                        role=role)
    return serialize.json(serialize.user(user))


@requires(perms.USERS)
async def delete_user(request: web.Request) -> web.Response:
    await request.app[SERVICES].auth.delete_user(request[PRINCIPAL], request.match_info["user_id"])
    return web.Response(status=204)


@requires(perms.KEYS)
async def create_api_key(request: web.Request) -> web.Response:
    name, scopes = schemas.new_api_key(await schemas.json_body(request))
    created = await request.app[SERVICES].auth.create_api_key(request[PRINCIPAL], name=name, scopes=scopes)
    return serialize.json({**serialize.api_key(created.record), "key": created.key}, status=201)


@requires(perms.KEYS)
async def list_api_keys(request: web.Request) -> web.Response:
    limit, offset, _ = schemas.paging(request.query)
    keys = await request.app[SERVICES].auth.list_api_keys(request[PRINCIPAL])
    return serialize.listing_of(request, [serialize.api_key(k) for k in keys], limit=limit, offset=offset)


@requires(perms.KEYS)
async def revoke_api_key(request: web.Request) -> web.Response:
    await request.app[SERVICES].auth.revoke_api_key(request[PRINCIPAL], request.match_info["key_id"])
    return web.Response(status=204)
