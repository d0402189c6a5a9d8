"""Desktop settings: the sidecar's address and data dir, read once from argv, environment and QSettings.

This is the only desktop module that reads ``os.environ``. Precedence: command line, then the sidecar's own
environment variables (so a desktop started next to ``agentaudit serve`` finds it), then the saved settings,
then the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from PySide6.QtCore import QSettings

DEFAULT_URL = "http://127.0.0.1:8731"


@dataclass(frozen=True, slots=True)
class DesktopSettings:
    """Attributes:
        url: the sidecar's base URL, without ``/api/v1``.
        data_dir: the data dir given to a sidecar we start (None: the sidecar's default).
        start_sidecar: start one as a child when none answers (only ever for a loopback address).
        last_email: pre-filled on the login form.
        theme: ``system`` (follow the desktop's light or dark scheme), ``light`` or ``dark``.
    """

    url: str = DEFAULT_URL
    data_dir: str | None = None
    start_sidecar: bool = True
    last_email: str = ""
    theme: str = "system"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 8731

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @classmethod
    def load(cls, store: QSettings | None, environ: Mapping[str, str], *, url: str | None = None,
             data_dir: str | None = None, start_sidecar: bool | None = None) -> DesktopSettings:
        settings = cls()
        if store is not None:
            settings = replace(settings, url=str(store.value("sidecar/url", settings.url)),
                               data_dir=str(store.value("sidecar/dataDir", "")) or None,
                               last_email=str(store.value("login/lastEmail", "")),
                               theme=str(store.value("ui/theme", settings.theme)))
        if environ.get("AGENTAUDIT_PORT") or environ.get("AGENTAUDIT_HOST"):
            host = environ.get("AGENTAUDIT_HOST") or settings.host
            settings = replace(settings, url=f"http://{host}:{environ.get('AGENTAUDIT_PORT') or settings.port}")
        if environ.get("AGENTAUDIT_DATA_DIR"):
            settings = replace(settings, data_dir=environ["AGENTAUDIT_DATA_DIR"])
        if url:
            settings = replace(settings, url=url if "://" in url else f"http://{url}")
        if data_dir:
            settings = replace(settings, data_dir=data_dir)
        if start_sidecar is not None:
            settings = replace(settings, start_sidecar=start_sidecar)
        return replace(settings, url=settings.url.rstrip("/").removesuffix("/api/v1"))

    def save(self, store: QSettings) -> None:
        """Remember the address, data dir, last email and theme for the next start."""
        store.setValue("sidecar/url", self.url)
        store.setValue("sidecar/dataDir", self.data_dir or "")
        store.setValue("login/lastEmail", self.last_email)
        store.setValue("ui/theme", self.theme)


def credentials_from_env(environ: Mapping[str, str]) -> tuple[str, str]:
    """``AGENTAUDIT_EMAIL`` and ``AGENTAUDIT_PASSWORD``, for unattended runs (``--screenshot``)."""
    return environ.get("AGENTAUDIT_EMAIL", ""), environ.get("AGENTAUDIT_PASSWORD", "")
