"""``AgentAudit`` and ``AgentAuditAsync``: the older ``agentaudit-client`` (1.0.6) API, on this client.

They are ``AgentAuditClient`` / ``AsyncAgentAuditClient`` with the older constructor
(``api_key, base_url, agent_id, timeout, max_retries, retry_backoff``, positional or by name; 3 retries by default)
and the older results and errors on the older method names:

- ``query_logs``, ``get_alerts``, ``resolve_alert`` and ``register_agent`` return the sidecar's JSON (dicts and
  lists), as the older client did; ``log_batch`` returns a list; ``assign_policy`` an :class:`AgentPolicy`.
- ``guardrail().severity`` is ``"critical"`` when a violation is critical, else ``"warning"`` (never None).
- every 4xx but 401 and 429 raised by those methods is also a ``ValidationError`` (see ``_errors.legacy_error``).

The rest (``client.logs``, ``client.trace``, ``wait=False``, ...) is the current API, unchanged.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from agentaudit._async_client import QUEUED, AsyncAgentAuditClient
from agentaudit._client import AgentAuditClient
from agentaudit._config import legacy_retries
from agentaudit._errors import APIStatusError, legacy_error
from agentaudit._http import RetryPolicy
from agentaudit._models import BatchResult, GuardrailResult, Model

BACKOFF_CAP = 30.0  # the older client's longest pause between attempts


@dataclasses.dataclass(frozen=True)
class AgentPolicy(Model):
    """A policy attached to an agent, as ``assign_policy`` returns it (``["agentId"]`` also works)."""

    id: str = ""
    agent_id: str = ""
    policy_id: str = ""
    created_at: str | None = None


def legacy_severity(violations: list[str]) -> str:
    """The older client's severity of a verdict: ``critical`` if a violation is, else ``warning``."""
    return "critical" if any("CRITICAL" in v for v in violations) else "warning"


def _same(result: Any) -> Any:
    return result


def _json(result: Any) -> Any:
    return None if result is None else result.raw


def _json_list(result: Any) -> list[Any]:
    return [item.raw for item in result]


class BatchList(list):  # type: ignore[type-arg]
    """What ``AgentAudit.log_batch`` returns: the stored events as a list (the older client's result) that also
    has :class:`BatchResult`'s ``processed``, ``errors`` and ``data`` (code written for ``AgentAuditClient``)."""

    def __init__(self, result: BatchResult) -> None:
        super().__init__(result.data)
        self.data = result.data
        self.processed = result.processed
        self.errors = result.errors


def _listed(result: Any) -> Any:
    return None if result is None else BatchList(result)


def _verdict(result: GuardrailResult) -> GuardrailResult:
    return dataclasses.replace(result, severity=legacy_severity(result.violations))


def _assignment(result: Any) -> AgentPolicy:
    return AgentPolicy.from_json(result)


def _legacy(call: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
            convert: Callable[[Any], Any]) -> Any:
    """Run a current method the older way: its result converted, its 4xx errors in the older tree. An awaitable
    (the async client) is converted when awaited."""
    try:
        result = call(*args, **kwargs)
    except APIStatusError as exc:
        _reraise(exc)
    if result is QUEUED:  # queued already; awaiting it or not both work
        return result
    if inspect.isawaitable(result):
        return _awaited(result, convert)
    return convert(result)


async def _awaited(result: Awaitable[Any], convert: Callable[[Any], Any]) -> Any:
    try:
        value = await result
    except APIStatusError as exc:
        _reraise(exc)
    return convert(value)


def _reraise(exc: APIStatusError) -> NoReturn:
    legacy = legacy_error(exc)
    if legacy is exc:
        raise exc
    raise legacy.with_traceback(exc.__traceback__) from None


class LegacyClient:
    """The older constructor, results and errors; mixed in before ``AgentAuditClient`` or its async twin."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None, agent_id: str | None = None,
                 timeout: float | None = None, max_retries: int | None = None, retry_backoff: float | None = None,
                 **background: Any) -> None:
        """Args as the older client's; ``retry_backoff`` is the base of the exponential pause between attempts
        (seconds). ``background`` takes the current client's background options."""
        retries, backoff = legacy_retries(max_retries, retry_backoff)
        super().__init__(api_key, base_url, agent_id, timeout=timeout, max_retries=retries,  # type: ignore[call-arg]
                         **background)
        self.retry_backoff = backoff
        transport = self._transport  # type: ignore[attr-defined]
        transport.policy = RetryPolicy(base=backoff, cap=BACKOFF_CAP, max_wait=transport.policy.max_wait)

    def log(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().log, args, kwargs, _same)  # type: ignore[misc]

    def log_batch(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().log_batch, args, kwargs, _listed)  # type: ignore[misc]

    def guardrail(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().guardrail, args, kwargs, _verdict)  # type: ignore[misc]

    def health_check(self) -> Any:
        return _legacy(super().health_check, (), {}, _same)  # type: ignore[misc]

    def query_logs(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().query_logs, args, kwargs, _json)  # type: ignore[misc]

    def get_alerts(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().get_alerts, args, kwargs, _json_list)  # type: ignore[misc]

    def resolve_alert(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().resolve_alert, args, kwargs, _json)  # type: ignore[misc]

    def register_agent(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().register_agent, args, kwargs, _json)  # type: ignore[misc]

    def assign_policy(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().assign_policy, args, kwargs, _assignment)  # type: ignore[misc]

    def list_policies(self) -> Any:
        return _legacy(super().list_policies, (), {}, _same)  # type: ignore[misc]

    def create_policy(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().create_policy, args, kwargs, _same)  # type: ignore[misc]

    def get_policy(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().get_policy, args, kwargs, _same)  # type: ignore[misc]

    def clone_pack(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().clone_pack, args, kwargs, _same)  # type: ignore[misc]

    def remove_policy(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().remove_policy, args, kwargs, _same)  # type: ignore[misc]

    def get_policy_analytics(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().get_policy_analytics, args, kwargs, _same)  # type: ignore[misc]

    def get_all_policy_analytics(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().get_all_policy_analytics, args, kwargs, _same)  # type: ignore[misc]

    def create_policy_version(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().create_policy_version, args, kwargs, _same)  # type: ignore[misc]

    def list_policy_versions(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().list_policy_versions, args, kwargs, _same)  # type: ignore[misc]

    def get_policy_version(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().get_policy_version, args, kwargs, _same)  # type: ignore[misc]

    def restore_policy_version(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy(super().restore_policy_version, args, kwargs, _same)  # type: ignore[misc]


class AgentAudit(LegacyClient, AgentAuditClient):
    """The older ``agentaudit.AgentAudit``: ``AgentAuditClient`` with the older constructor, results and errors."""


class AgentAuditAsync(LegacyClient, AsyncAgentAuditClient):
    """The older ``agentaudit.AgentAuditAsync``: ``AsyncAgentAuditClient`` with the older constructor, results and
    errors (``await audit.guardrail(...)``)."""


class AgentAuditCallback:
    """The older client's callback helper: ``on_action(action, **fields)`` logs one event and returns it."""

    def __init__(self, api_key: str, agent_id: str | None = None) -> None:
        self.client = AgentAudit(api_key=api_key, agent_id=agent_id)

    def on_action(self, action: str, **kwargs: Any) -> Any:
        return self.client.log(action=action, **kwargs)
