"""API resources as namespaces (``client.agents.create(...)``): each method builds a :class:`Call` and hands it
to the client's ``send``, which runs it synchronously (``AgentAuditClient``) or returns an awaitable
(``AsyncAgentAuditClient``). So one definition serves both clients.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, TypeVar

from agentaudit._http import Call, Response, path_id
from agentaudit._models import (Agent, Alert, AuditLog, Chain, Download, Listing, Model, Page, Pack, Policy,
                                PolicyAnalytics, PolicyVersion, Report, ReportSchedule, Rule, Trace, TraceSummary,
                                page_parser)

M = TypeVar("M", bound=Model)
Send = Callable[[Call[Any]], Any]
_FILENAME = re.compile(r'filename="?([^";]+)"?')


def one(model: type[M]) -> Callable[[Response], M]:
    return lambda r: model.from_json(r.json())


def many(model: type[M]) -> Callable[[Response], Listing[M]]:
    def parse(r: Response) -> Listing[M]:
        out: Listing[M] = Listing(model.list_from_json(r.json()))
        total = r.headers.get("x-total-count")
        out.total = int(total) if total and total.isdigit() else None
        return out
    return parse


def nothing(_: Response) -> None:
    return None


def raw_json(r: Response) -> Any:
    return r.json()


def download(r: Response) -> Download:
    found = _FILENAME.search(r.headers.get("content-disposition", ""))
    return Download(r.body, found.group(1) if found else None, r.headers.get("content-type"))


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body from keyword arguments (already camelCase), None values left out."""
    return {k: v for k, v in fields.items() if v is not None}


def log_filters(agent_id: str | None, action: str | None, trace_id: str | None, enforcement_action: str | None,
                flagged: bool | None, from_: str | None, to: str | None, q: str | None) -> dict[str, Any]:
    return {"agentId": agent_id, "action": action, "traceId": trace_id, "enforcementAction": enforcement_action,
            "flagged": flagged, "from": from_, "to": to, "q": q}


class Resource:
    def __init__(self, send: Send) -> None:
        self._send = send


class Logs(Resource):
    """Audit logs: query, fetch, export, chain and ancestors (writing is ``client.log``/``log_batch``)."""

    def list(self, *, agent_id: str | None = None, action: str | None = None, trace_id: str | None = None,
             enforcement_action: str | None = None, flagged: bool | None = None, from_: str | None = None,
             to: str | None = None, q: str | None = None, limit: int | None = None, offset: int | None = None,
             page: int | None = None, before: str | None = None) -> Page[AuditLog]:
        query = log_filters(agent_id, action, trace_id, enforcement_action, flagged, from_, to, q)
        query.update(limit=limit, offset=offset, page=page, before=before)
        return self._send(Call("GET", "/audit-logs", page_parser(AuditLog), query=query))  # type: ignore[no-any-return]

    def get(self, log_id: str) -> AuditLog:
        return self._send(Call("GET", f"/audit-logs/{path_id(log_id)}", one(AuditLog)))  # type: ignore[no-any-return]

    def export(self, format: str = "jsonl", *, file: IO[bytes] | None = None, agent_id: str | None = None,
               action: str | None = None, trace_id: str | None = None, enforcement_action: str | None = None,
               flagged: bool | None = None, from_: str | None = None, to: str | None = None,
               q: str | None = None) -> Download:
        """The export (``csv``, ``json`` or ``jsonl``); with ``file`` it streams there and ``content`` is empty."""
        query = {"format": format, **log_filters(agent_id, action, trace_id, enforcement_action, flagged, from_, to, q)}
        return self._send(Call("GET", "/audit-logs/export", download, query=query, sink=file))  # type: ignore[no-any-return]

    def trace_spans(self, trace_id: str, *, limit: int | None = None, offset: int | None = None,
                    page: int | None = None, after: str | None = None, before: str | None = None) -> Page[AuditLog]:
        """A page of a trace's spans, oldest first: by ``offset``/``page``, or just after or just before the span
        whose id is ``after`` or ``before`` (cursors: pass the page's ``next_cursor`` as ``after``)."""
        return self._send(Call("GET", f"/audit-logs/trace/{path_id(trace_id)}", page_parser(AuditLog),  # type: ignore[no-any-return]
                               query={"limit": limit, "offset": offset, "page": page, "after": after,
                                      "before": before}))

    def chain(self, log_id: str) -> Chain:
        return self._send(Call("GET", f"/audit-logs/{path_id(log_id)}/chain", one(Chain)))  # type: ignore[no-any-return]

    def ancestors(self, log_id: str) -> list[AuditLog]:
        return self._send(Call("GET", f"/audit-logs/{path_id(log_id)}/ancestors",  # type: ignore[no-any-return]
                               lambda r: AuditLog.list_from_json(_items(r.json()))))


def _items(data: Any) -> Any:
    return data.get("data", []) if isinstance(data, dict) else data


class Traces(Resource):
    def list(self, *, agent_id: str | None = None, action: str | None = None, enforcement_action: str | None = None,
             flagged: bool | None = None, from_: str | None = None, to: str | None = None, q: str | None = None,
             limit: int | None = None, offset: int | None = None, page: int | None = None,
             before: str | None = None) -> Page[TraceSummary]:
        query = log_filters(agent_id, action, None, enforcement_action, flagged, from_, to, q)
        query.update(limit=limit, offset=offset, page=page, before=before)
        return self._send(Call("GET", "/traces", page_parser(TraceSummary), query=query))  # type: ignore[no-any-return]

    def get(self, trace_id: str) -> Trace:
        return self._send(Call("GET", f"/traces/{path_id(trace_id)}", one(Trace)))  # type: ignore[no-any-return]


class Alerts(Resource):
    def list(self, *, status: str | Sequence[str] | None = None, is_resolved: bool | None = None,
             severity: str | None = None, agent_id: str | None = None, rule_id: str | None = None,
             policy_id: str | None = None, audit_log_id: str | None = None, from_: str | None = None,
             to: str | None = None, limit: int | None = None, offset: int | None = None) -> Listing[Alert]:
        query = {"status": status, "isResolved": is_resolved, "severity": severity, "agentId": agent_id,
                 "ruleId": rule_id, "policyId": policy_id, "auditLogId": audit_log_id, "from": from_, "to": to,
                 "limit": limit, "offset": offset}
        return self._send(Call("GET", "/alerts", many(Alert), query=query))  # type: ignore[no-any-return]

    def get(self, alert_id: str) -> Alert:
        return self._send(Call("GET", f"/alerts/{path_id(alert_id)}", one(Alert)))  # type: ignore[no-any-return]

    def update(self, alert_id: str, *, status: str, note: str | None = None) -> Alert:
        return self._send(Call("PATCH", f"/alerts/{path_id(alert_id)}", one(Alert),  # type: ignore[no-any-return]
                               body=body(status=status, note=note)))

    def resolve(self, alert_id: str, *, note: str | None = None) -> Alert:
        return self._send(Call("PATCH", f"/alerts/{path_id(alert_id)}/resolve", one(Alert),  # type: ignore[no-any-return]
                               body=body(note=note)))

    def resolve_many(self, *, ids: Sequence[str] | None = None, filter: Mapping[str, Any] | None = None,
                     status: str | None = None, note: str | None = None) -> dict[str, Any]:
        """Bulk triage by ids or by a filter (``{"severity": "info", "isResolved": False}``) → ``{updated, ids, status}``."""
        return self._send(Call("POST", "/alerts/resolve", raw_json,  # type: ignore[no-any-return]
                               body=body(ids=list(ids) if ids is not None else None, filter=filter, status=status,
                                         note=note)))

    def counts(self) -> dict[str, Any]:
        """Open alerts by severity: ``{"open": {...}, "openTotal": n}``."""
        return self._send(Call("GET", "/alerts/counts", raw_json))  # type: ignore[no-any-return]


class Agents(Resource):
    def create(self, name: str, *, type: str | None = None, description: str | None = None,
               metadata: Mapping[str, Any] | None = None, config: Mapping[str, Any] | None = None) -> Agent:
        return self._send(Call("POST", "/agents", one(Agent), body=body(  # type: ignore[no-any-return]
            name=name, type=type, description=description, metadata=metadata, config=config)))

    def list(self, *, limit: int | None = None, offset: int | None = None) -> Listing[Agent]:
        return self._send(Call("GET", "/agents", many(Agent), query={"limit": limit, "offset": offset}))  # type: ignore[no-any-return]

    def get(self, agent_id: str) -> Agent:
        return self._send(Call("GET", f"/agents/{path_id(agent_id)}", one(Agent)))  # type: ignore[no-any-return]

    def update(self, agent_id: str, *, name: str | None = None, type: str | None = None,
               description: str | None = None, metadata: Mapping[str, Any] | None = None,
               config: Mapping[str, Any] | None = None) -> Agent:
        return self._send(Call("PATCH", f"/agents/{path_id(agent_id)}", one(Agent), body=body(  # type: ignore[no-any-return]
            name=name, type=type, description=description, metadata=metadata, config=config)))

    def delete(self, agent_id: str) -> None:
        return self._send(Call("DELETE", f"/agents/{path_id(agent_id)}", nothing))  # type: ignore[no-any-return]


def rule_body(name: str | None, rule_type: str | None, condition: Mapping[str, Any] | None, severity: str | None,
              action_override: str | None, is_active: bool | None, redaction: str | None,
              policy_id: str | None = None) -> dict[str, Any]:
    return body(name=name, ruleType=rule_type, condition=condition, severity=severity, actionOverride=action_override,
                isActive=is_active, redaction=redaction, policyId=policy_id)


class Rules(Resource):
    """Organisation-wide compliance rules (rules inside a policy: ``client.policies.add_rule``)."""

    def list(self, *, rule_type: str | None = None, policy_id: str | None = None, pack_id: str | None = None,
             is_active: bool | None = None, limit: int | None = None, offset: int | None = None) -> Listing[Rule]:
        query = {"ruleType": rule_type, "policyId": policy_id, "packId": pack_id, "isActive": is_active,
                 "limit": limit, "offset": offset}
        return self._send(Call("GET", "/compliance-rules", many(Rule), query=query))  # type: ignore[no-any-return]

    def create(self, name: str, rule_type: str, condition: Mapping[str, Any], *, severity: str = "warning",
               action_override: str | None = None, is_active: bool | None = None,
               redaction: str | None = None) -> Rule:
        return self._send(Call("POST", "/compliance-rules", one(Rule),  # type: ignore[no-any-return]
                               body=rule_body(name, rule_type, condition, severity, action_override, is_active,
                                              redaction)))

    def get(self, rule_id: str) -> Rule:
        return self._send(Call("GET", f"/compliance-rules/{path_id(rule_id)}", one(Rule)))  # type: ignore[no-any-return]

    def update(self, rule_id: str, *, name: str | None = None, condition: Mapping[str, Any] | None = None,
               severity: str | None = None, action_override: str | None = None, is_active: bool | None = None,
               redaction: str | None = None) -> Rule:
        return self._send(Call("PATCH", f"/compliance-rules/{path_id(rule_id)}", one(Rule),  # type: ignore[no-any-return]
                               body=rule_body(name, None, condition, severity, action_override, is_active, redaction)))

    def delete(self, rule_id: str) -> None:
        return self._send(Call("DELETE", f"/compliance-rules/{path_id(rule_id)}", nothing))  # type: ignore[no-any-return]


class Packs(Resource):
    """Rule packs (``hipaa``, ``gdpr``, ``finance``, ``secrets``)."""

    def list(self, *, limit: int | None = None, offset: int | None = None) -> Listing[Pack]:
        return self._send(Call("GET", "/compliance-rules/packs", many(Pack),  # type: ignore[no-any-return]
                               query={"limit": limit, "offset": offset}))

    def install(self, pack_id: str) -> list[Rule]:
        """Install a pack's rules for the whole organisation (ConflictError if already installed)."""
        return self._send(Call("POST", "/compliance-rules/packs", many(Rule), body={"packId": pack_id}))  # type: ignore[no-any-return]

    def installed(self) -> list[dict[str, Any]]:
        return self._send(Call("GET", "/compliance-rules/packs/installed", raw_json))  # type: ignore[no-any-return]

    def uninstall(self, pack_id: str) -> None:
        return self._send(Call("DELETE", f"/compliance-rules/packs/{path_id(pack_id)}", nothing))  # type: ignore[no-any-return]

    def upgrade(self, pack_id: str) -> dict[str, Any]:
        """Bring an installed pack to the version the sidecar ships: rules keep their ids and on/off switches and
        take the new definitions. Returns ``{packId, fromVersion, toVersion, added, updated, removed, rules}``
        (zero counts when it is current; NotFoundError when the pack is not installed)."""
        return self._send(Call("POST", f"/compliance-rules/packs/{path_id(pack_id)}/upgrade",  # type: ignore[no-any-return]
                               raw_json))
