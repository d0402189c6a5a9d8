"""Sidecar configuration, read once from the environment (and the command line) into a frozen value."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import platformdirs

from sidecar.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8731


def default_data_dir() -> Path:
    """The per-user data directory (``~/.local/share/agentaudit`` on Linux)."""
    return Path(platformdirs.user_data_dir("agentaudit", appauthor=False))


def _int(environ: Mapping[str, str], key: str, default: int, *, minimum: int = 0) -> int:
    raw = environ.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"setting {key} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"setting {key} must be at least {minimum}, got {value}")
    return value


def _float(environ: Mapping[str, str], key: str, default: float) -> float:
    raw = environ.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"setting {key} must be a number, got {raw!r}") from None
    if not value > 0:
        raise ConfigError(f"setting {key} must be greater than 0, got {raw!r}")
    return value


def _bool(environ: Mapping[str, str], key: str, default: bool) -> bool:
    raw = environ.get(key)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"setting {key} must be true or false, got {raw!r}")


def _auto_bool(environ: Mapping[str, str], key: str) -> bool | None:
    """``auto`` (or unset): None; otherwise true or false."""
    raw = environ.get(key)
    if raw is None or raw.strip().lower() in ("", "auto"):
        return None
    return _bool(environ, key, False)


def is_loopback_host(host: str) -> bool:
    """``localhost`` (and names under ``.localhost``) or a loopback address."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def _host_name(value: str) -> str:
    """The name part of a ``Host`` header or setting, lower-cased: ``[::1]:8731`` -> ``::1``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


class HostCheck:
    """The ``Host`` header check of one sidecar (see :meth:`Settings.host_allowed`), built once per app: the allowed
    names are worked out at construction and each distinct header's answer is remembered, so a request costs a
    dict lookup instead of parsing addresses. The memo is bounded (emptied when full), so a stream of made-up
    headers cannot grow it."""

    MAX_REMEMBERED = 256

    def __init__(self, settings: Settings) -> None:
        self._any = "*" in settings.allowed_hosts or (not settings.binds_loopback and not settings.allowed_hosts)
        self._names = frozenset({_host_name(settings.host), *settings.allowed_hosts})
        self._seen: dict[str, bool] = {}

    def allows(self, header: str | None) -> bool:
        """Whether ``header`` names this sidecar; a request without the header (not a browser's) passes."""
        if header is None or self._any:
            return True
        known = self._seen.get(header)
        if known is not None:
            return known
        name = _host_name(header)
        allowed = name in self._names or is_loopback_host(name)
        if len(self._seen) >= self.MAX_REMEMBERED:
            self._seen.clear()
        self._seen[header] = allowed
        return allowed


def _rate(environ: Mapping[str, str], prefix: str, default: tuple[int, int]) -> tuple[int, int]:
    """``<prefix>_PER_SECOND`` and ``<prefix>_BURST`` (the burst defaults to twice the rate)."""
    rate = _int(environ, f"{prefix}_PER_SECOND", default[0])
    burst = _int(environ, f"{prefix}_BURST", default[1] if rate == default[0] else 2 * rate, minimum=1 if rate else 0)
    return rate, max(burst, 1) if rate else 0


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the sidecar needs to know at start.

    Attributes:
        data_dir: where the database, secrets and report files live (created with mode 0700).
        host, port: the listening address; loopback by default.
        database_url: ``sqlite:///path`` (default: ``<data_dir>/agentaudit.db``) or ``postgresql://…``.
        max_body_bytes: request body limit (413 above it).
        read_threads: size of the database read pool.
        access_token_seconds, refresh_token_days: JWT lifetimes.
        allow_registration: whether ``POST /auth/register`` may create new organisations.
        synchronous: SQLite ``synchronous`` pragma for the writer (``FULL`` makes every
            acknowledged commit survive power loss).
        max_group_events: the most events one writer transaction takes.
        access_log: log every request (off by default: it costs throughput).
        notify_retry_base_ms: first retry delay of a failed webhook or email (doubling, at most an hour).
        checkpoint_seconds, checkpoint_events: sign a ledger checkpoint of an organisation's chain when this
            long has passed or this many events arrived since its last one (and always at shutdown).
        retention_interval_seconds: how often the retention purge looks for events older than each
            organisation's ``retentionDays``.
        hash_chain: benchmark only (``AGENTAUDIT_BENCH_NO_CHAIN=1`` turns it off): without it events get no
            chain hash and no checkpoint is signed, so ``bench/verify.py`` can measure what the chain costs.
            Never turn it off for real data: such events cannot be verified.
        stripe_secret_key, stripe_price_pro, stripe_price_business: billing is on when all three are set;
            without them the install is private (plan ``self_hosted``, unlimited).
        stripe_webhook_secret: verifies ``POST /billing/webhook`` (``whsec_…``).
        stripe_api_base: where the Stripe API lives (the local fake for tests and demos); empty: Stripe's own.
        stripe_timeout_seconds: bound on each call to Stripe.
        billing_return_url: where checkout and the customer portal send the browser back to.
        stripe_fake: run the local Stripe fake beside the sidecar (``agentaudit serve --stripe-fake``).
        rate_ingest, rate_read, rate_auth: ``(requests per second, burst)`` token buckets per API key (or user)
            for ingest, for every other authenticated call, and per client address for the public auth routes;
            a rate of 0 switches that limit off.
        report_retention_days: finished reports (rows and files) older than this are removed.
        allow_private_notify_targets: whether notifications (webhooks, the SMTP host) may reach private and
            loopback addresses at all, for organisations that ask for it (``allowPrivateWebhookTargets``).
            None (``auto``, the default): only while the sidecar listens on loopback alone, where every caller
            is a local process that could reach those addresses itself; see
            :attr:`private_notify_targets_allowed`.
        allowed_hosts: the names (or addresses) a request's ``Host`` header may carry beside loopback ones and
            ``host``, the defence against DNS rebinding; see :meth:`host_allowed`. ``("*",)``: any.
    """

    data_dir: Path = field(default_factory=default_data_dir)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    database_url: str = ""
    max_body_bytes: int = 1024 * 1024
    read_threads: int = 3
    access_token_seconds: int = 900
    refresh_token_days: int = 30
    allow_registration: bool = True
    synchronous: str = "FULL"
    max_group_events: int = 2000
    access_log: bool = False
    notify_retry_base_ms: int = 5000
    checkpoint_seconds: float = 60.0
    checkpoint_events: int = 1000
    retention_interval_seconds: int = 3600
    hash_chain: bool = True
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_price_pro: str = ""
    stripe_price_business: str = ""
    stripe_api_base: str = ""
    stripe_timeout_seconds: int = 15
    billing_return_url: str = ""
    stripe_fake: bool = False
    rate_ingest: tuple[int, int] = (5000, 10000)
    rate_read: tuple[int, int] = (500, 1000)
    rate_auth: tuple[int, int] = (20, 40)
    report_retention_days: int = 90
    allow_private_notify_targets: bool | None = None
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Build settings from ``AGENTAUDIT_*`` variables; ``overrides`` (from argv) win when not None.

        Raises:
            ConfigError: a value has the wrong form; the message names the key.
        """
        data_dir = environ.get("AGENTAUDIT_DATA_DIR")
        synchronous = environ.get("AGENTAUDIT_SQLITE_SYNCHRONOUS", "FULL").upper()
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ConfigError(f"setting AGENTAUDIT_SQLITE_SYNCHRONOUS must be FULL, NORMAL or EXTRA, got {synchronous!r}")
        settings = cls(
            data_dir=Path(data_dir).expanduser() if data_dir else default_data_dir(),
            host=environ.get("AGENTAUDIT_HOST", DEFAULT_HOST) or DEFAULT_HOST,
            port=_int(environ, "AGENTAUDIT_PORT", DEFAULT_PORT),
            database_url=environ.get("AGENTAUDIT_DATABASE_URL", ""),
            max_body_bytes=_int(environ, "AGENTAUDIT_MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
            read_threads=_int(environ, "AGENTAUDIT_READ_THREADS", 3, minimum=1),
            access_token_seconds=_int(environ, "AGENTAUDIT_ACCESS_TOKEN_SECONDS", 900, minimum=1),
            refresh_token_days=_int(environ, "AGENTAUDIT_REFRESH_TOKEN_DAYS", 30, minimum=1),
            allow_registration=_bool(environ, "AGENTAUDIT_ALLOW_REGISTRATION", True),
            synchronous=synchronous,
            access_log=_bool(environ, "AGENTAUDIT_ACCESS_LOG", False),
            notify_retry_base_ms=_int(environ, "AGENTAUDIT_NOTIFY_RETRY_BASE_MS", 5000, minimum=10),
            checkpoint_seconds=_float(environ, "AGENTAUDIT_CHECKPOINT_SECONDS", 60.0),
            checkpoint_events=_int(environ, "AGENTAUDIT_CHECKPOINT_EVENTS", 1000, minimum=1),
            retention_interval_seconds=_int(environ, "AGENTAUDIT_RETENTION_INTERVAL_SECONDS", 3600, minimum=1),
            hash_chain=not _bool(environ, "AGENTAUDIT_BENCH_NO_CHAIN", False),
            stripe_secret_key=environ.get("AGENTAUDIT_STRIPE_SECRET_KEY", ""),
            stripe_webhook_secret=environ.get("AGENTAUDIT_STRIPE_WEBHOOK_SECRET", ""),
            stripe_price_pro=environ.get("AGENTAUDIT_STRIPE_PRICE_PRO", ""),
            stripe_price_business=environ.get("AGENTAUDIT_STRIPE_PRICE_BUSINESS", ""),
            stripe_api_base=environ.get("AGENTAUDIT_STRIPE_API_BASE", ""),
            stripe_timeout_seconds=_int(environ, "AGENTAUDIT_STRIPE_TIMEOUT_SECONDS", 15, minimum=1),
            billing_return_url=environ.get("AGENTAUDIT_BILLING_RETURN_URL", ""),
            stripe_fake=_bool(environ, "AGENTAUDIT_STRIPE_FAKE", False),
            rate_ingest=_rate(environ, "AGENTAUDIT_RATE_INGEST", (5000, 10000)),
            rate_read=_rate(environ, "AGENTAUDIT_RATE_READ", (500, 1000)),
            rate_auth=_rate(environ, "AGENTAUDIT_RATE_AUTH", (20, 40)),
            report_retention_days=_int(environ, "AGENTAUDIT_REPORT_RETENTION_DAYS", 90, minimum=1),
            allow_private_notify_targets=_auto_bool(environ, "AGENTAUDIT_ALLOW_PRIVATE_NOTIFY_TARGETS"),
            allowed_hosts=tuple(_host_name(name) for name in environ.get("AGENTAUDIT_ALLOWED_HOSTS", "").split(",")
                                if name.strip()),
        )
        given = {key: value for key, value in overrides.items() if value is not None}
        if "data_dir" in given:
            given["data_dir"] = Path(given["data_dir"]).expanduser()
        settings = replace(settings, **given)
        if not 0 <= settings.port <= 65535:
            raise ConfigError(f"setting AGENTAUDIT_PORT must be a TCP port, got {settings.port}")
        return settings

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the SQLite file in the data dir."""
        return self.database_url or f"sqlite:///{self.data_dir / 'agentaudit.db'}"

    @property
    def billing_enabled(self) -> bool:
        """Billing (plans, quotas, Stripe) is on only with a secret key and both price ids."""
        return bool(self.stripe_secret_key and self.stripe_price_pro and self.stripe_price_business)

    @property
    def binds_loopback(self) -> bool:
        """Whether the sidecar listens on a loopback address only."""
        return is_loopback_host(self.host)

    @property
    def private_notify_targets_allowed(self) -> bool:
        """The install-level half of allowing private notification targets (the organisation's switch is the
        other): as set, or under ``auto`` only while the sidecar listens on loopback alone."""
        if self.allow_private_notify_targets is None:
            return self.binds_loopback
        return self.allow_private_notify_targets

    def host_allowed(self, header: str | None) -> bool:
        """Whether a request's ``Host`` header names this sidecar (the DNS rebinding defence): a loopback name or
        address, ``host`` itself, or one of ``allowed_hosts``. A sidecar bound beyond loopback without
        ``allowed_hosts`` takes any; a request without the header (not a browser's) passes. The app checks
        requests with one :class:`HostCheck` (built by :meth:`host_check`), which remembers the answers."""
        return self.host_check().allows(header)

    def host_check(self) -> HostCheck:
        """A :class:`HostCheck` for these settings (``create_app`` makes one per app)."""
        return HostCheck(self)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
