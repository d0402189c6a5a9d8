"""The ledger: the signed head, checkpoints, event proofs, the chain export, and retention."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sidecar.api import schemas, serialize
from sidecar.api.keys import PRINCIPAL, SERVICES
from sidecar.api.middlewares import requires
from sidecar.errors import FieldError, InvalidInput
from sidecar.services import principal as perms

#: The longest retention that can be set (100 years).
MAX_RETENTION_DAYS = 36500


@requires(perms.READ)
async def head(request: web.Request) -> web.Response:
    view = await request.app[SERVICES].ledger.head(request[PRINCIPAL])
    return serialize.json(serialize.ledger_head_json(view))


@requires(perms.READ)
async def list_checkpoints(request: web.Request) -> web.Response:
    kind = request.query.get("kind") or None
    if kind is not None and kind not in ("head", "pruned"):
        raise InvalidInput.fields([FieldError("kind", "must be head or pruned")])
    limit, offset, _ = schemas.paging(request.query)
    found, total = await request.app[SERVICES].ledger.checkpoints(request[PRINCIPAL], kind=kind, limit=limit,
                                                                  offset=offset)
    return serialize.listing(request, [serialize.checkpoint_json(c) for c in found], total, limit=limit,
                             offset=offset)


@requires(perms.READ)
async def proof(request: web.Request) -> web.Response:
    body = await request.app[SERVICES].ledger.proof(request[PRINCIPAL], request.match_info["log_id"])
    return serialize.json(body)


@requires(perms.READ)
async def export(request: web.Request) -> web.StreamResponse:
    principal = request[PRINCIPAL]
    response = web.StreamResponse(headers={
        "Content-Type": "application/x-ndjson; charset=utf-8",
        "Content-Disposition": f'attachment; filename="ledger-{principal.org_id}.jsonl"',
    })
    await response.prepare(request)
    async for chunk in request.app[SERVICES].ledger.export(principal):
        await response.write(chunk)
    await response.write_eof()
    return response


@requires(perms.READ)
async def get_retention(request: web.Request) -> web.Response:
    view = await request.app[SERVICES].retention.view(request[PRINCIPAL])
    return serialize.json(serialize.retention_json(view))


@requires(perms.SETTINGS_WRITE)
async def set_retention(request: web.Request) -> web.Response:
    days = retention_days(await schemas.json_body(request))
    view = await request.app[SERVICES].retention.set_days(request[PRINCIPAL], days)
    return serialize.json(serialize.retention_json(view))


def retention_days(body: Any) -> int | None:
    """``{"retentionDays": 1..36500 or null}`` (null keeps events for ever)."""
    if not isinstance(body, dict):
        raise InvalidInput.fields([FieldError("body", "must be a JSON object")])
    if "retentionDays" not in body:
        raise InvalidInput.fields([FieldError("retentionDays", "required (a number of days, or null for ever)")])
    days = body["retentionDays"]
    if days is None:
        return None
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise InvalidInput.fields([FieldError("retentionDays", f"must be an integer from 1 to {MAX_RETENTION_DAYS}, "
                                                               "or null to keep events for ever")])
    return days
