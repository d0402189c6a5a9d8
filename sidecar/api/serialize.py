"""Domain values to wire JSON (camelCase), and JSON responses."""

from __future__ import annotations

import math
from typing import Any

import orjson
from aiohttp import web

from sidecar.clock import to_iso
from sidecar.services.queries import TraceView
from sidecar.store.accounts import ApiKeyRecord, OrgRecord, UserRecord


def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json", headers=headers)


def listing(request: web.Request, items: list[Any], total: int, *, limit: int, offset: int) -> web.Response:
    """A plain JSON array with ``X-Total-Count`` and a ``Link`` header (the non-log collections)."""
    links = []
    url = request.url
    if offset + limit < total:
        links.append(f'<{url.update_query(offset=offset + limit, limit=limit)}>; rel="next"')
    if offset > 0:
        links.append(f'<{url.update_query(offset=max(0, offset - limit), limit=limit)}>; rel="prev"')
    headers = {"X-Total-Count": str(total)}
    if links:
        headers["Link"] = ", ".join(links)
    return json(items, headers=headers)


def paginated(items: list[dict[str, Any]], total: int, *, page: int, limit: int, offset: int) -> dict[str, Any]:
    """The ``{data, pagination}`` envelope of audit logs and traces."""
    pagination: dict[str, Any] = {
        "page": page, "limit": limit, "offset": offset, "total": total,
        "totalPages": math.ceil(total / limit) if limit else 0,
    }
    if items and "id" in items[-1] and len(items) == limit:
        pagination["nextCursor"] = items[-1]["id"]
    return {"data": items, "pagination": pagination}


def org(record: OrgRecord) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "email": record.email, "plan": record.plan,
            "createdAt": to_iso(record.created_at)}


def user(record: UserRecord) -> dict[str, Any]:
    return {"id": record.id, "organizationId": record.org_id, "email": record.email, "name": record.name,
            "role": record.role, "createdAt": to_iso(record.created_at), "updatedAt": to_iso(record.updated_at)}


def api_key(record: ApiKeyRecord) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "prefix": record.prefix, "scopes": list(record.scopes),
            "lastUsedAt": to_iso(record.last_used_at), "createdAt": to_iso(record.created_at)}


def trace(view: TraceView) -> dict[str, Any]:
    return {"traceId": view.trace_id, "spans": view.spans, "tree": view.tree, "summary": view.summary}
