"""SidecarClient: one typed method per endpoint, each returning a :class:`Call` at once.

The client holds the login (access and refresh tokens). A call that gets 401 while a refresh token is held
waits for one silent ``POST /auth/refresh`` (shared by every call that failed meanwhile) and is sent again
with the new token; if the refresh is refused the client forgets the session and emits ``session_expired``.
"""

from __future__ import annotations

import weakref
from datetime import UTC, datetime, timedelta
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

from PySide6.QtCore import QObject, QTimer, Signal

from desktop import log
from desktop.api import schemas
from desktop.api.calls import Call, EventStream
from desktop.api.errors import ApiError
from desktop.api.transport import PendingRequest, Response, Transport

API = "/api/v1"
T = TypeVar("T")
Parser = Callable[[Response], Any]
Sender = Callable[[dict[str, str]], PendingRequest]


def _json(parse: Callable[[Any], T]) -> Parser:
    return lambda response: parse(response.json())


def _listing(parse: Callable[[Any], T]) -> Parser:
    def run(response: Response) -> schemas.Listing:
        rows = response.json()
        if not isinstance(rows, list):
            raise ValueError("expected a JSON array")
        items = tuple(parse(row) for row in rows if isinstance(row, Mapping))
        total = response.headers.get("x-total-count", "")
        return schemas.Listing(items, int(total) if total.isdigit() else len(items))
    return run


def _total(response: Response) -> int:
    total = response.headers.get("x-total-count", "")
    if total.isdigit():
        return int(total)
    body = response.json()
    if isinstance(body, dict):
        return schemas.LogPage.from_json(body).total
    return len(body) if isinstance(body, list) else 0


def _raw_spans(response: Response) -> schemas.RawSpans:
    """The body as it came, and the ``after`` cursor of the ``Link: <…>; rel="next"`` header, if any."""
    cursor = None
    for link in response.headers.get("link", "").split(","):
        target, _, params = link.partition(";")
        if 'rel="next"' in params.replace(" ", ""):
            values = parse_qs(urlsplit(target.strip().strip("<>")).query).get("after")
            cursor = values[0] if values else None
    return schemas.RawSpans(response.body, cursor)


def _nothing(response: Response) -> None:
    return None


class SidecarClient(QObject):
    """The sidecar's HTTP API as typed methods. The :class:`Transport` is injected.

    Signals:
        session_changed(): logged in, refreshed or logged out.
        session_expired(): the refresh token was refused; the user must log in again.
    """

    session_changed = Signal()
    session_expired = Signal()

    def __init__(self, transport: Transport, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._transport = transport
        self._access: str | None = None
        self._refresh: str | None = None
        self.organization: schemas.Organization | None = None
        self.user: schemas.User | None = None
        self._inflight: set[Call] = set()
        self._waiting: list[Callable[[ApiError | None], None]] = []
        self._refreshing = False

    # -- session -------------------------------------------------------------------------------------

    @property
    def transport(self) -> Transport:
        return self._transport

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def logged_in(self) -> bool:
        return self._access is not None

    @property
    def refresh_token(self) -> str | None:
        return self._refresh

    def set_session(self, session: schemas.Session) -> None:
        """Adopt a login or refresh answer (keeps the known user and organisation when it omits them)."""
        self._access, self._refresh = session.access_token, session.refresh_token
        self.organization = session.organization or self.organization
        self.user = session.user or self.user
        self.session_changed.emit()

    def clear_session(self) -> None:
        had = self._access is not None
        self._access = self._refresh = None
        self.organization = self.user = None
        if had:
            self.session_changed.emit()

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._access}"} if self._access else {}

    # -- plumbing ------------------------------------------------------------------------------------

    def _call(self, what: str, method: str, path: str, parse: Parser, *, query: Mapping[str, object] | None = None,
              body: Any = None, auth: bool = True, timeout_ms: int | None = None) -> Call:
        def send(headers: dict[str, str]) -> PendingRequest:
            return self._transport.request(method, API + path, query=query, body=body, headers=headers,
                                           timeout_ms=timeout_ms)
        return self._start(what, send, parse, auth=auth)

    def _start(self, what: str, send: Sender, parse: Parser, *, auth: bool) -> Call:
        call = self._track(Call(what))
        if auth and self._access is None:
            error = ApiError(401, "unauthorized", "not logged in")
            QTimer.singleShot(0, lambda: call._fail(error))  # never before the caller has connected
            return call
        self._dispatch(call, send, parse, auth=auth, retried=False)
        return call

    def _track(self, call: Call) -> Call:
        """Keep a call alive while it runs, and for one more loop turn after it ends (never free a QObject
        while it is emitting)."""
        self._inflight.add(call)
        ref = weakref.ref(call)  # a strong reference here would be a cycle through the C++ connection

        def release(_value: object) -> None:
            QTimer.singleShot(0, lambda: self._inflight.discard(ref()))  # type: ignore[arg-type]
        call.done.connect(release)
        call.failed.connect(release)
        return call

    def _dispatch(self, call: Call, send: Sender, parse: Parser, *, auth: bool, retried: bool) -> None:
        pending = send(self._auth_headers() if auth else {})
        # A weak reference: when the request object is deleted, its connections go with it; if they held the
        # last reference to the call, the call would be destroyed inside that destructor (a crash in ~QObject).
        # The call lives in ``_inflight`` until one loop turn after it ends.
        ref = weakref.ref(call)

        def answer(response: Response) -> None:
            target = ref()
            if target is not None:
                self._answer(target, send, parse, response, auth=auth, retried=retried)
        pending.finished.connect(answer)

    def _answer(self, call: Call, send: Sender, parse: Parser, response: Response, *, auth: bool,
                retried: bool) -> None:
        if response.error is not None:
            call._fail(ApiError.network(f"the sidecar at {self.base_url} did not answer ({response.error})",
                                        timeout=response.timed_out))
            return
        if response.status == 401 and auth and not retried and self._refresh is not None:
            def retry(problem: ApiError | None) -> None:
                if problem is not None:
                    call._fail(problem)
                else:
                    self._dispatch(call, send, parse, auth=auth, retried=True)
            self._waiting.append(retry)
            self._refresh_now()
            return
        if not 200 <= response.status < 300:
            call._fail(ApiError.from_response(response.status, response.body, dict(response.headers)))
            return
        try:
            value = parse(response)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            call._fail(ApiError(response.status, "bad_response", f"unexpected answer from the sidecar: {exc}"))
            return
        call._succeed(value)

    def _refresh_now(self) -> None:
        if self._refreshing:
            return
        self._refreshing = True
        pending = self._transport.request("POST", API + "/auth/refresh", body={"refreshToken": self._refresh})
        pending.finished.connect(self._refreshed)

    def _refreshed(self, response: Response) -> None:
        self._refreshing = False
        waiting, self._waiting = self._waiting, []
        problem: ApiError | None = None
        if response.ok:
            try:
                self.set_session(schemas.Session.from_json(response.json()))
            except ValueError:
                problem = ApiError(response.status, "bad_response", "unexpected answer to a token refresh")
        elif response.error is not None:
            problem = ApiError.network(f"the sidecar at {self.base_url} did not answer ({response.error})")
        else:
            problem = ApiError(401, "session_expired", "your session has ended; log in again")
        if problem is not None and not problem.is_network:
            log.http.info("token refresh refused: %s", response.status)
            self.clear_session()
            self.session_expired.emit()
        for retry in waiting:
            retry(problem)

    def refresh_session(self) -> Call:
        """Refresh the tokens now (the stream uses it after a 401); done(None) once new tokens are held."""
        call = self._track(Call("refresh the session"))
        if self._refresh is None:
            error = ApiError(401, "unauthorized", "not logged in")
            QTimer.singleShot(0, lambda: call._fail(error))
            return call
        self._waiting.append(lambda problem: call._fail(problem) if problem else call._succeed(None))
        self._refresh_now()
        return call

    # -- system and accounts -------------------------------------------------------------------------

    def health(self, *, timeout_ms: int = 3000) -> Call:
        def send(_headers: dict[str, str]) -> PendingRequest:
            return self._transport.request("GET", "/health", timeout_ms=timeout_ms)
        return self._start("health", send, _json(schemas.Health.from_json), auth=False)

    def register(self, name: str, email: str, password: str) -> Call:
        return self._call("create the organisation", "POST", "/auth/register", _json(schemas.Organization.from_json),
                          body={"name": name, "email": email, "password": password}, auth=False)

    def login(self, email: str, password: str) -> Call:
        """Log in; on success the client holds the session (``done`` gets the :class:`schemas.Session`)."""
        def adopt(response: Response) -> schemas.Session:
            session = schemas.Session.from_json(response.json())
            if not session.access_token:
                raise ValueError("no access token in the answer")
            self.set_session(session)
            return session
        return self._call("log in", "POST", "/auth/login", adopt, body={"email": email, "password": password},
                          auth=False)

    def logout(self) -> Call:
        """Revoke the refresh token on the sidecar and forget the session (at once, whatever the answer)."""
        refresh = self._refresh
        headers = self._auth_headers()
        self.clear_session()

        def send(_headers: dict[str, str]) -> PendingRequest:
            return self._transport.request("POST", API + "/auth/logout", body={"refreshToken": refresh},
                                           headers=headers)
        return self._start("log out", send, _nothing, auth=False)

    def me(self) -> Call:
        return self._call("who am I", "GET", "/auth/me", _json(schemas.User.from_json))

    # -- audit logs and traces -----------------------------------------------------------------------

    def list_logs(self, flt: schemas.LogFilter, *, limit: int = 200, before: str | None = None) -> Call:
        query: dict[str, object] = {**flt.to_query(), "limit": limit}
        if before:
            query["before"] = before
        return self._call("list events", "GET", "/audit-logs", _json(schemas.LogPage.from_json), query=query)

    def count_logs(self, flt: schemas.LogFilter) -> Call:
        """The number of events matching ``flt`` (``pagination.total`` of a one-row page)."""
        return self._call("count events", "GET", "/audit-logs", _total, query={**flt.to_query(), "limit": 1})

    def get_log(self, log_id: str) -> Call:
        return self._call("load the event", "GET", f"/audit-logs/{log_id}", _json(schemas.LogEvent.from_json))

    def export_logs(self, flt: schemas.LogFilter, fmt: str, destination: Path) -> Call:
        """Stream ``GET /audit-logs/export`` into ``destination``; done(destination)."""
        query = {**flt.to_query(), "format": fmt}

        def send(headers: dict[str, str]) -> PendingRequest:
            return self._transport.download(API + "/audit-logs/export", destination, query=query, headers=headers)
        return self._start("export events", send, lambda _response: destination, auth=True)

    def list_traces(self, flt: schemas.LogFilter, *, limit: int = 100) -> Call:
        return self._call("list traces", "GET", "/traces", _json(schemas.TracePage.from_json),
                          query={**flt.to_query(), "limit": limit})

    # -- alerts --------------------------------------------------------------------------------------

    def list_alerts(self, flt: schemas.AlertFilter, *, limit: int = 100, offset: int = 0) -> Call:
        return self._call("list alerts", "GET", "/alerts", _listing(schemas.Alert.from_json),
                          query={**flt.to_query(), "limit": limit, "offset": offset})

    def count_alerts(self, flt: schemas.AlertFilter) -> Call:
        return self._call("count alerts", "GET", "/alerts", _total, query={**flt.to_query(), "limit": 1})

    def get_alert(self, alert_id: str) -> Call:
        return self._call("load the alert", "GET", f"/alerts/{alert_id}", _json(schemas.Alert.from_json))

    def update_alert(self, alert_id: str, status: str, note: str = "") -> Call:
        """Triage one alert: ``status`` is acknowledged, resolved, false_positive or open."""
        return self._call("update the alert", "PATCH", f"/alerts/{alert_id}", _json(schemas.Alert.from_json),
                          body={"status": status, "note": note})

    def resolve_alert(self, alert_id: str, note: str = "") -> Call:
        return self._call("resolve the alert", "PATCH", f"/alerts/{alert_id}/resolve",
                          _json(schemas.Alert.from_json), body={"note": note} if note else {})

    def resolve_alerts(self, ids: list[str], note: str = "") -> Call:
        body: dict[str, Any] = {"ids": ids}
        if note:
            body["note"] = note
        return self._call("resolve alerts", "POST", "/alerts/resolve", _json(lambda data: data), body=body)

    # -- configuration -------------------------------------------------------------------------------

    def list_agents(self, *, limit: int = 500) -> Call:
        return self._call("list agents", "GET", "/agents", _listing(schemas.Agent.from_json), query={"limit": limit})

    def list_rules(self, *, limit: int = 500) -> Call:
        return self._call("list rules", "GET", "/compliance-rules", _listing(schemas.Rule.from_json),
                          query={"limit": limit})

    def list_policies(self, *, limit: int = 500) -> Call:
        return self._call("list policies", "GET", "/policies", _listing(schemas.Policy.from_json),
                          query={"limit": limit})

    def install_pack(self, pack_id: str) -> Call:
        return self._call("install the pack", "POST", "/compliance-rules/packs", _json(lambda data: data),
                          body={"packId": pack_id})

    # -- API keys ------------------------------------------------------------------------------------

    def list_api_keys(self) -> Call:
        return self._call("list API keys", "GET", "/auth/api-keys", _listing(schemas.ApiKey.from_json),
                          query={"limit": 500})

    def create_api_key(self, name: str, scopes: list[str]) -> Call:
        return self._call("create the API key", "POST", "/auth/api-keys", _json(schemas.CreatedApiKey.from_json),
                          body={"name": name, "scopes": scopes})

    def revoke_api_key(self, key_id: str) -> Call:
        return self._call("revoke the API key", "DELETE", f"/auth/api-keys/{key_id}", _nothing)

    # -- users ---------------------------------------------------------------------------------------

    def list_users(self) -> Call:
        """The organisation's users (owners and admins only; others get 403)."""
        return self._call("list users", "GET", "/users", _listing(schemas.User.from_json), query={"limit": 500})

    def create_user(self, email: str, name: str, password: str, role: str) -> Call:
        return self._call("add the user", "POST", "/users", _json(schemas.User.from_json),
                          body={"email": email, "name": name, "password": password, "role": role})

    def update_user(self, user_id: str, *, role: str | None = None, name: str | None = None) -> Call:
        """``PATCH /users/:id`` with the fields given (at least one)."""
        body = {key: value for key, value in (("role", role), ("name", name)) if value is not None}
        return self._call("change the user", "PATCH", f"/users/{quote(user_id, safe='')}",
                          _json(schemas.User.from_json), body=body)

    def delete_user(self, user_id: str) -> Call:
        return self._call("remove the user", "DELETE", f"/users/{quote(user_id, safe='')}", _nothing)

    # -- live ----------------------------------------------------------------------------------------

    def open_stream(self) -> EventStream:
        """Open ``GET /api/v1/stream`` with the current token."""
        return EventStream(self._transport.stream(API + "/stream", headers=self._auth_headers()))

    # -- reports -------------------------------------------------------------------------------------

    def create_report(self, kind: str, fmt: str, *, start: datetime | None = None, end: datetime | None = None,
                      name: str = "", trace_id: str = "") -> Call:
        """``POST /reports``; done(:class:`schemas.Report`) with status ``pending`` (built in the background)."""
        body: dict[str, Any] = {"type": kind, "format": fmt}
        if start is not None:
            body["from"] = schemas.format_time(start)
        if end is not None:
            body["to"] = schemas.format_time(end)
        if name.strip():
            body["name"] = name.strip()
        if trace_id.strip():
            body["traceId"] = trace_id.strip()
        return self._call("request the report", "POST", "/reports", _json(schemas.Report.from_json), body=body)

    def get_report(self, report_id: str) -> Call:
        return self._call("load the report", "GET", f"/reports/{report_id}", _json(schemas.Report.from_json))

    def list_reports(self, *, limit: int = 200) -> Call:
        return self._call("list reports", "GET", "/reports", _listing(schemas.Report.from_json),
                          query={"limit": limit})

    def delete_report(self, report_id: str) -> Call:
        return self._call("delete the report", "DELETE", f"/reports/{report_id}", _nothing)

    def download_report(self, report_id: str, destination: Path) -> Call:
        """Stream ``GET /reports/:id/download`` into ``destination``; done(destination)."""
        def send(headers: dict[str, str]) -> PendingRequest:
            return self._transport.download(f"{API}/reports/{report_id}/download", destination, headers=headers)
        return self._start("download the report", send, lambda _response: destination, auth=True)

    def list_schedules(self, *, limit: int = 200) -> Call:
        return self._call("list report schedules", "GET", "/report-schedules",
                          _listing(schemas.ReportSchedule.from_json), query={"limit": limit})

    def create_schedule(self, kind: str, fmt: str, cron: str, timezone: str = "UTC", *, name: str = "",
                        email_recipients: list[str] | None = None) -> Call:
        body: dict[str, Any] = {"type": kind, "format": fmt, "cron": cron, "timezone": timezone}
        if name.strip():
            body["name"] = name.strip()
        if email_recipients:
            body["emailRecipients"] = email_recipients
        return self._call("create the schedule", "POST", "/report-schedules",
                          _json(schemas.ReportSchedule.from_json), body=body)

    def delete_schedule(self, schedule_id: str) -> Call:
        return self._call("delete the schedule", "DELETE", f"/report-schedules/{schedule_id}", _nothing)

    # -- billing -------------------------------------------------------------------------------------

    def billing_subscription(self) -> Call:
        return self._call("load the subscription", "GET", "/billing/subscription",
                          _json(schemas.Subscription.from_json))

    def billing_prices(self) -> Call:
        return self._call("load the prices", "GET", "/billing/prices", _json(schemas.Prices.from_json), auth=False)

    def billing_checkout(self, price_id: str) -> Call:
        """``POST /billing/checkout``; done(the Stripe Checkout URL)."""
        return self._call("start the checkout", "POST", "/billing/checkout", _json(lambda data: str(data["url"])),
                          body={"priceId": price_id})

    def billing_portal(self) -> Call:
        """``POST /billing/portal``; done(the customer portal URL)."""
        return self._call("open the billing portal", "POST", "/billing/portal", _json(lambda data: str(data["url"])),
                          body={})

    # -- notifications, retention and activity -------------------------------------------------------

    def notification_settings(self) -> Call:
        return self._call("load the notification settings", "GET", "/notifications/settings",
                          _json(schemas.NotificationSettings.from_json))

    def update_notification_settings(self, changes: Mapping[str, Any]) -> Call:
        """``PATCH /notifications/settings`` with the wire names (``webhookUrl``, ``smtp: {...}``...)."""
        return self._call("save the notification settings", "PATCH", "/notifications/settings",
                          _json(schemas.NotificationSettings.from_json), body=dict(changes))

    def send_test_notification(self, channel: str) -> Call:
        """``POST /notifications/test``: ``channel`` is webhook, email or all."""
        return self._call("send a test notification", "POST", "/notifications/test",
                          _json(schemas.SendResults.from_json), body={"channel": channel}, timeout_ms=40_000)

    def list_deliveries(self, *, limit: int = 50) -> Call:
        return self._call("list deliveries", "GET", "/notifications/deliveries", _listing(schemas.Delivery.from_json),
                          query={"limit": limit})

    def retention(self) -> Call:
        return self._call("load the retention", "GET", "/settings/retention", _json(schemas.Retention.from_json))

    def set_retention(self, days: int | None) -> Call:
        """Keep events ``days`` days (None: for ever)."""
        return self._call("save the retention", "PATCH", "/settings/retention", _json(schemas.Retention.from_json),
                          body={"retentionDays": days})

    def list_activity(self, flt: schemas.ActivityFilter, *, limit: int = 50, offset: int = 0) -> Call:
        return self._call("list activity", "GET", "/activity", _listing(schemas.Activity.from_json),
                          query={**flt.to_query(), "limit": limit, "offset": offset})

    # -- packs, policies and agents (editing) --------------------------------------------------------

    def list_packs(self) -> Call:
        return self._call("list packs", "GET", "/compliance-rules/packs", _listing(schemas.Pack.from_json),
                          query={"limit": 500})

    def installed_packs(self) -> Call:
        return self._call("list installed packs", "GET", "/compliance-rules/packs/installed",
                          _listing(schemas.InstalledPack.from_json), query={"limit": 500})

    def uninstall_pack(self, pack_id: str) -> Call:
        return self._call("uninstall the pack", "DELETE", f"/compliance-rules/packs/{pack_id}", _nothing)

    def upgrade_pack(self, pack_id: str) -> Call:
        """Bring the installed pack to the version the sidecar ships (done: :class:`schemas.PackUpgrade`)."""
        return self._call("update the pack", "POST", f"/compliance-rules/packs/{pack_id}/upgrade",
                          _json(schemas.PackUpgrade.from_json))

    def clone_pack(self, pack_id: str, name: str, mode: str = "flag", description: str = "") -> Call:
        body: dict[str, Any] = {"packId": pack_id, "name": name, "mode": mode}
        if description:
            body["description"] = description
        return self._call("clone the pack", "POST", "/policies/clone-pack", _json(schemas.PolicyDetail.from_json),
                          body=body)

    def list_policy_details(self, *, limit: int = 500) -> Call:
        """Policies with their rules and agents (:class:`schemas.PolicyDetail`)."""
        return self._call("list policies", "GET", "/policies", _listing(schemas.PolicyDetail.from_json),
                          query={"limit": limit})

    def get_policy(self, policy_id: str) -> Call:
        return self._call("load the policy", "GET", f"/policies/{policy_id}", _json(schemas.PolicyDetail.from_json))

    def create_policy(self, body: Mapping[str, Any]) -> Call:
        return self._call("create the policy", "POST", "/policies", _json(schemas.PolicyDetail.from_json),
                          body=dict(body))

    def update_policy(self, policy_id: str, changes: Mapping[str, Any]) -> Call:
        """Change name, description, mode, priority, conditions, isActive or redaction (saves a version)."""
        return self._call("save the policy", "PATCH", f"/policies/{policy_id}",
                          _json(schemas.PolicyDetail.from_json), body=dict(changes))

    def delete_policy(self, policy_id: str) -> Call:
        return self._call("delete the policy", "DELETE", f"/policies/{policy_id}", _nothing)

    def add_policy_rule(self, policy_id: str, rule: Mapping[str, Any]) -> Call:
        return self._call("add the rule", "POST", f"/policies/{policy_id}/rules", _json(schemas.RuleDetail.from_json),
                          body=dict(rule))

    def update_policy_rule(self, policy_id: str, rule_id: str, changes: Mapping[str, Any]) -> Call:
        return self._call("save the rule", "PATCH", f"/policies/{policy_id}/rules/{rule_id}",
                          _json(schemas.RuleDetail.from_json), body=dict(changes))

    def delete_policy_rule(self, policy_id: str, rule_id: str) -> Call:
        return self._call("delete the rule", "DELETE", f"/policies/{policy_id}/rules/{rule_id}", _nothing)

    def attach_agent(self, policy_id: str, agent_id: str) -> Call:
        return self._call("attach the agent", "POST", f"/policies/{policy_id}/agents", _json(lambda data: data),
                          body={"agentId": agent_id})

    def detach_agent(self, policy_id: str, agent_id: str) -> Call:
        return self._call("detach the agent", "DELETE", f"/policies/{policy_id}/agents", _json(lambda data: data),
                          body={"agentId": agent_id})

    def list_versions(self, policy_id: str) -> Call:
        return self._call("list versions", "GET", f"/policies/{policy_id}/versions",  # the newest 500
                          _listing(schemas.PolicyVersion.from_json), query={"limit": 500})

    def get_version(self, policy_id: str, version_id: str) -> Call:
        return self._call("load the version", "GET", f"/policies/{policy_id}/versions/{version_id}",
                          _json(schemas.PolicyVersion.from_json))

    def save_version(self, policy_id: str, name: str = "") -> Call:
        return self._call("save a version", "POST", f"/policies/{policy_id}/versions",
                          _json(schemas.PolicyVersion.from_json), body={"name": name} if name else {})

    def restore_version(self, policy_id: str, version_id: str) -> Call:
        return self._call("restore the version", "POST", f"/policies/{policy_id}/versions/{version_id}/restore",
                          _json(schemas.PolicyVersion.from_json), body={})

    def all_analytics(self, start: datetime, end: datetime | None = None) -> Call:
        """Violation counts over every policy and organisation-wide rule, by rule, agent and day."""
        query = {"startDate": schemas.format_time(start)}
        if end is not None:
            query["endDate"] = schemas.format_time(end)
        return self._call("load violation analytics", "GET", "/policies/analytics",
                          _json(schemas.PolicyAnalytics.from_json), query=query)

    def policy_analytics(self, policy_id: str, *, days: int = 30) -> Call:
        start = schemas.format_time(datetime.now(UTC) - timedelta(days=days))
        return self._call("load policy analytics", "GET", f"/policies/{policy_id}/analytics",
                          _json(schemas.PolicyAnalytics.from_json), query={"startDate": start})

    def evaluate(self, *, prompt: str = "", response: str = "", metadata: Mapping[str, Any] | None = None,
                 rule: Mapping[str, Any] | None = None, policy_id: str | None = None,
                 agent_id: str | None = None) -> Call:
        """A dry run: the verdict such an event would get; nothing is stored."""
        body: dict[str, Any] = {}
        if metadata is not None:
            body["metadata"] = dict(metadata)
        if prompt:
            body["prompt"] = prompt
        if response:
            body["response"] = response
        if rule is not None:
            body["rule"] = dict(rule)
        if policy_id:
            body["policyId"] = policy_id
        if agent_id:
            body["agentId"] = agent_id
        return self._call("test the rule", "POST", "/compliance/evaluate", _json(schemas.Verdict.from_json),
                          body=body)

    def list_agent_details(self, *, limit: int = 500) -> Call:
        return self._call("list agents", "GET", "/agents", _listing(schemas.AgentDetail.from_json),
                          query={"limit": limit})

    def get_agent(self, agent_id: str) -> Call:
        return self._call("load the agent", "GET", f"/agents/{agent_id}", _json(schemas.AgentDetail.from_json))

    def create_agent(self, name: str, type: str = "", description: str = "") -> Call:
        body: dict[str, Any] = {"name": name}
        if type:
            body["type"] = type
        if description:
            body["description"] = description
        return self._call("register the agent", "POST", "/agents", _json(schemas.AgentDetail.from_json), body=body)

    def update_agent(self, agent_id: str, changes: Mapping[str, Any]) -> Call:
        return self._call("save the agent", "PATCH", f"/agents/{agent_id}", _json(schemas.AgentDetail.from_json),
                          body=dict(changes))

    def delete_agent(self, agent_id: str) -> Call:
        return self._call("delete the agent", "DELETE", f"/agents/{agent_id}", _nothing)

    def unregistered_agents(self, *, limit: int = 100) -> Call:
        return self._call("list unregistered agent ids", "GET", "/unregistered-agents",
                          _listing(schemas.SeenAgent.from_json), query={"limit": limit})


    # -- trace visualizer ----------------------------------------------------------------------------

    def trace_spans_raw(self, trace_id: str, *, limit: int = 500, after: str | None = None, offset: int = 0) -> Call:
        """One page of ``GET /audit-logs/trace/{traceId}`` (oldest first), at ``offset`` or after the cursor
        ``after``; done(:class:`schemas.RawSpans`), the undecoded body and the next page's cursor.

        A 30,000-span trace is 60 pages of about 300 KB: the caller asks for the next page at once and
        decodes this one off the GUI thread with :func:`schemas.LogPage.from_json`.
        """
        query: dict[str, object] = {"limit": limit}
        if after:
            query["after"] = after
        elif offset:
            query["offset"] = offset
        return self._call("load the trace's spans", "GET", f"/audit-logs/trace/{quote(trace_id, safe='')}",
                          _raw_spans, query=query)
