"""Client configuration, read once from arguments and the environment (the only ``os.environ`` reader)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from agentaudit._errors import ConfigError

DEFAULT_BASE_URL = "http://127.0.0.1:8731/api/v1"
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 2


@dataclass(frozen=True)
class Config:
    """Where the sidecar is and how to talk to it.

    Attributes:
        api_key: the ``aa_…`` key sent as ``X-API-Key`` (may be empty for unauthenticated calls such as health).
        base_url: the API root, e.g. ``http://127.0.0.1:8731/api/v1``.
        agent_id: default ``agentId`` for events that do not name one.
        timeout: seconds for each network wait (connect, send, each read).
        max_retries: extra attempts of a waited call on 429, 5xx and connection errors.
        max_retry_wait: longest single pause between attempts, whatever ``Retry-After`` says.
    """

    api_key: str
    base_url: str = DEFAULT_BASE_URL
    agent_id: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    max_retry_wait: float = 30.0

    def __post_init__(self) -> None:
        if not isinstance(self.api_key, str):
            raise ConfigError(f"api_key must be a string, got {type(self.api_key).__name__}")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"base_url must be an http(s) URL, got {self.base_url!r}")
        if self.timeout <= 0:
            raise ConfigError(f"timeout must be positive, got {self.timeout!r}")
        if self.max_retries < 0:
            raise ConfigError(f"max_retries must be 0 or more, got {self.max_retries!r}")

    @classmethod
    def resolve(cls, *, api_key: str | None = None, base_url: str | None = None, agent_id: str | None = None,
                timeout: float | None = None, max_retries: int | None = None,
                environ: Mapping[str, str] | None = None) -> Config:
        """Arguments win, then ``AGENTAUDIT_API_KEY`` / ``AGENTAUDIT_BASE_URL`` / ``AGENTAUDIT_AGENT_ID`` /
        ``AGENTAUDIT_TIMEOUT`` / ``AGENTAUDIT_MAX_RETRIES``, then the defaults.

        Raises:
            ConfigError: a value is malformed; the message names the setting.
        """
        env = os.environ if environ is None else environ
        return cls(
            api_key=api_key if api_key is not None else env.get("AGENTAUDIT_API_KEY", ""),
            base_url=(base_url or env.get("AGENTAUDIT_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
            agent_id=agent_id if agent_id is not None else env.get("AGENTAUDIT_AGENT_ID") or None,
            timeout=timeout if timeout is not None else _number(env, "AGENTAUDIT_TIMEOUT", DEFAULT_TIMEOUT, float),
            max_retries=max_retries if max_retries is not None
            else _number(env, "AGENTAUDIT_MAX_RETRIES", DEFAULT_MAX_RETRIES, int),
        )


def _number(env: Mapping[str, str], key: str, default: float, cast: type) -> float:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return cast(raw)  # type: ignore[no-any-return]
    except ValueError:
        raise ConfigError(f"{key} must be a number, got {raw!r}") from None


def legacy_retries(max_retries: int | None, retry_backoff: float | None,
                   environ: Mapping[str, str] | None = None) -> tuple[int, float]:
    """The older client's retry settings: arguments, then ``AGENTAUDIT_MAX_RETRIES`` / ``AGENTAUDIT_RETRY_BACKOFF``,
    then its defaults (3 retries, a backoff base of 1 second).

    Raises:
        ConfigError: a value is malformed or negative.
    """
    env = os.environ if environ is None else environ
    retries = int(max_retries if max_retries is not None else _number(env, "AGENTAUDIT_MAX_RETRIES", 3, int))
    backoff = float(retry_backoff if retry_backoff is not None
                    else _number(env, "AGENTAUDIT_RETRY_BACKOFF", 1.0, float))
    if backoff < 0:
        raise ConfigError(f"retry_backoff must be 0 or more, got {backoff!r}")
    return retries, backoff
