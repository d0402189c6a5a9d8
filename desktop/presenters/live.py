"""Live updates: the sidecar's server-sent events, with polling as the fallback.

While the stream is open, new events and alerts arrive as they are stored. When it cannot be opened (an older
sidecar without ``/api/v1/stream``, a proxy that buffers, a dropped connection) the feed polls the newest
events and alerts every ``poll_ms`` and keeps trying to reopen the stream with a growing delay.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop import log
from desktop.api import schemas
from desktop.api.client import EventStream, SidecarClient
from desktop.api.errors import ApiError
from desktop.presenters.gather import Gather


class LiveMode(enum.Enum):
    OFF = "off"
    LIVE = "live"
    POLLING = "polling"


class LiveFeed(QObject):
    """Signals:
        log_created(object): a :class:`schemas.LogEvent`, each at most once.
        alert_created(object): a :class:`schemas.Alert`, each at most once.
        report_ready(str): the id of a report that is ready to download (live stream only; the reports
            presenter polls the status of the ones it follows anyway).
        mode_changed(object): a :class:`LiveMode`.
    """

    log_created = Signal(object)
    alert_created = Signal(object)
    report_ready = Signal(str)
    mode_changed = Signal(object)

    def __init__(self, client: SidecarClient, *, poll_ms: int = 2000, reconnect_ms: int = 5000,
                 max_reconnect_ms: int = 60_000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._mode = LiveMode.OFF
        self._stream: EventStream | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self._poll_once)
        self._reconnect = QTimer(self)
        self._reconnect.setSingleShot(True)
        self._reconnect.timeout.connect(self._open)
        self._base_delay = reconnect_ms
        self._delay = reconnect_ms
        self._max_delay = max_reconnect_ms
        self._seen_logs: set[str] = set()
        self._seen_alerts: set[str] = set()
        self._newest_log: str | None = None
        self._alerts_since: datetime | None = None
        self._polling_logs = self._polling_alerts = False
        self._gather: Gather | None = None
        self._running = False
        self._ended_status: int | None = None  # a ``stream.closed`` event's status: why the sidecar ended it

    @property
    def mode(self) -> LiveMode:
        return self._mode

    def start(self) -> None:
        """Begin (after login, and when the sidecar is back)."""
        if self._running:
            return
        self._running = True
        self._delay = self._base_delay
        self._baseline()  # then opens the stream

    def stop(self) -> None:
        """Stop (logout, sidecar gone): close the stream and stop polling."""
        self._running = False
        self._poll.stop()
        self._reconnect.stop()
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
        self._set_mode(LiveMode.OFF)

    def _set_mode(self, mode: LiveMode) -> None:
        if mode != self._mode:
            log.live.info("live updates: %s", mode.value)
            self._mode = mode
            self.mode_changed.emit(mode)

    # -- stream --------------------------------------------------------------------------------------

    def _open(self) -> None:
        if not self._running or self._stream is not None or not self._client.logged_in:
            return
        stream = self._client.open_stream()
        self._stream = stream
        self._ended_status = None
        stream.opened.connect(self._opened)
        stream.received.connect(self._received)
        stream.closed.connect(self._closed)

    def _opened(self) -> None:
        self._delay = self._base_delay
        self._poll.stop()
        self._set_mode(LiveMode.LIVE)
        self._poll_once()  # catch what was stored between the last poll and the stream opening

    def _received(self, event: schemas.StreamEvent) -> None:
        if event.name == "log.created" and (entry := event.log) is not None:
            self._emit_log(entry, polled=False)
        elif event.name == "alert.created" and (alert := event.alert) is not None:
            self._emit_alert(alert)
        elif event.name == "report.ready" and (report_id := event.report_id) is not None:
            self.report_ready.emit(report_id)
        elif event.name == "stream.overflow":  # the sidecar could not send some events live: fetch them
            self._poll_once()
        elif event.name == "stream.closed" and isinstance(event.data, dict):  # e.g. the access token expired
            status = event.data.get("status")
            self._ended_status = status if isinstance(status, int) else None

    def _closed(self, error: ApiError | None) -> None:
        if self.sender() is not self._stream:
            return  # an old stream, replaced since
        self._stream = None
        if not self._running:
            return
        unauthorized = (error is not None and error.status == 401) or self._ended_status == 401
        if unauthorized and self._client.refresh_token:
            refresh = self._client.refresh_session()
            refresh.done.connect(lambda _v: self._reconnect.start(0))
            refresh.failed.connect(lambda _e: None)
        else:
            self._reconnect.start(self._delay)
            self._delay = min(self._delay * 2, self._max_delay)
        self._set_mode(LiveMode.POLLING)
        if not self._poll.isActive():
            self._poll.start()

    # -- polling -------------------------------------------------------------------------------------

    def _baseline(self) -> None:
        """Remember what exists now, so only what comes later is announced; then open the stream."""
        self._alerts_since = datetime.now(UTC) - timedelta(seconds=5)
        self._newest_log = None
        gather = Gather({"logs": self._client.list_logs(schemas.LogFilter(), limit=50),
                         "alerts": self._client.list_alerts(schemas.AlertFilter(start=self._alerts_since),
                                                            limit=100)})
        self._gather = gather
        gather.finished.connect(self._baselined)

    def _baselined(self, results: dict[str, Any], _errors: dict[str, ApiError]) -> None:
        page: schemas.LogPage | None = results.get("logs")
        listing: schemas.Listing | None = results.get("alerts")
        if page is not None:
            self._seen_logs.update(e.id for e in page.items)
        self._newest_log = page.items[0].id if page is not None and page.items else ""
        if listing is not None:
            self._seen_alerts.update(a.id for a in listing.items)
        if self._running:
            self._open()

    def _poll_once(self) -> None:
        if not self._running or not self._client.logged_in or self._newest_log is None:
            return  # not yet: the baseline is still loading
        if not self._polling_logs:
            self._polling_logs = True
            call = self._client.list_logs(schemas.LogFilter(), limit=100)
            call.done.connect(self._polled_logs)
            call.failed.connect(lambda _e: setattr(self, "_polling_logs", False))
        if not self._polling_alerts and self._alerts_since is not None:
            self._polling_alerts = True
            since = self._alerts_since
            call = self._client.list_alerts(schemas.AlertFilter(start=since), limit=100)
            call.done.connect(self._polled_alerts)
            call.failed.connect(lambda _e: setattr(self, "_polling_alerts", False))

    def _polled_logs(self, page: schemas.LogPage) -> None:
        self._polling_logs = False
        for entry in reversed(page.items):  # oldest first
            self._emit_log(entry, polled=True)

    def _polled_alerts(self, listing: schemas.Listing) -> None:
        self._polling_alerts = False
        fresh = sorted((a for a in listing.items if a.id not in self._seen_alerts),
                       key=lambda a: a.created_at or datetime.now(UTC))
        for alert in fresh:
            self._emit_alert(alert)
        if fresh and fresh[-1].created_at is not None:
            self._alerts_since = max(self._alerts_since or fresh[-1].created_at,
                                     fresh[-1].created_at - timedelta(seconds=5))

    # -- dedup ---------------------------------------------------------------------------------------

    def _emit_log(self, entry: schemas.LogEvent, *, polled: bool) -> None:
        if entry.id in self._seen_logs:
            return
        if polled and self._newest_log and entry.id <= self._newest_log:
            self._seen_logs.add(entry.id)  # ids sort by time: an older one seen by polling is not new
            return
        self._seen_logs.add(entry.id)
        if len(self._seen_logs) > 20_000:
            self._seen_logs = set(sorted(self._seen_logs)[-5000:])
        self._newest_log = max(self._newest_log or "", entry.id)
        self.log_created.emit(entry)

    def _emit_alert(self, alert: schemas.Alert) -> None:
        if alert.id in self._seen_alerts:
            return
        self._seen_alerts.add(alert.id)
        if len(self._seen_alerts) > 20_000:
            self._seen_alerts = set(sorted(self._seen_alerts)[-5000:])
        self.alert_created.emit(alert)
