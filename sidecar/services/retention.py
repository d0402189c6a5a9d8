"""Retention: how long an organisation keeps its events, and the scheduled purge of older ones.

An organisation with ``retentionDays`` loses, on each run of the purge (every
``retention_interval_seconds``), the events created before the cutoff, oldest first, in chunks of at most
:data:`PURGE_CHUNK` events. Each chunk is its own writer transaction (ingest goes on between chunks):
the chunk is verified against the chain, a ``pruned`` checkpoint "deleted up to N, whose hash was H" is
signed and stored, the events are deleted through the retention gate (the only way past the append-only
trigger), and ``organizations.pruned_seq/pruned_hash`` move to N, so what remains verifies from the
signed checkpoint. A chunk that does not verify is kept and logged: deleting it would destroy the
evidence. The chain head is untouched, so the writer's cached heads stay valid while ingest runs.

What goes with the events: their violation facts (analytics would otherwise count events that no longer
exist) and the summaries of traces with no span left. What stays: alerts (a person may still be
triaging one; its ``auditLogId`` then answers 404) and summaries of traces that still have a span.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from peewee import Database

from sidecar import log
from sidecar.clock import datetime_to_ms, utc_now
from sidecar.errors import NotFound
from sidecar.services.principal import Principal
from sidecar.store import activity
from sidecar.store import ledger as store
from sidecar.store import logs as log_store
from sidecar.store.db import ReadPool
from sidecar.store.ledger import ChainBroken, PurgeResult, Signer
from sidecar.store.writer import Writer

#: The most events one purge transaction deletes (the writer is busy that long, about 0.1 s).
PURGE_CHUNK = 5000
#: How soon after start the first purge runs.
FIRST_PURGE_DELAY = 10.0
_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class RetentionView:
    """An organisation's retention and what was purged so far."""

    retention_days: int | None
    pruned_sequence: int
    pruned_hash: str
    oldest_sequence: int | None


class RetentionService:
    """The retention setting and the purge.

    Args:
        writer: the single writer (purges go through it).
        reads: the read pool.
        db: the database.
        sign: signs ``pruned`` checkpoints (the ledger key's, :meth:`LedgerService.sign`).
        interval: seconds between purges.
        enabled: False only for the no-chain benchmark (nothing is purged: there is nothing to sign).
        clock: the current time (timezone-aware).
    """

    def __init__(self, writer: Writer, reads: ReadPool, db: Database, sign: Signer, *, interval: float = 3600.0,
                 enabled: bool = True, clock: Callable[[], datetime] = utc_now) -> None:
        self._writer = writer
        self._reads = reads
        self._db = db
        self._sign = sign
        self._interval = interval
        self._enabled = enabled
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the scheduled purge (first run after :data:`FIRST_PURGE_DELAY`)."""
        if self._enabled and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="retention-purge")

    async def aclose(self) -> None:
        """Stop the schedule (a chunk already handed to the writer still commits whole)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def view(self, principal: Principal) -> RetentionView:
        def read() -> RetentionView:
            head = store.chain_head(self._db, principal.org_id)
            if head is None:
                raise NotFound(f"organisation {principal.org_id} not found")
            first, last = log_store.chain_bounds(self._db, principal.org_id)
            return RetentionView(head.retention_days, head.pruned_seq, head.pruned_hash,
                                 first if first <= last else None)

        return await self._reads.run(read)

    async def set_days(self, principal: Principal, days: int | None) -> RetentionView:
        """Set how many days the caller's organisation keeps events (None: for ever); recorded as activity."""
        now = datetime_to_ms(self._clock())

        def unit() -> None:
            store.set_retention(self._db, principal.org_id, days, now=now)
            activity.record(principal.org_id, actor=principal.actor, action="settings.retention",
                            target_type="organization", target_id=principal.org_id,
                            details={"retentionDays": days}, now=now)

        await self._writer.run(unit)
        return await self.view(principal)

    async def purge(self, *, now: datetime | None = None) -> list[PurgeResult]:
        """Delete every organisation's events older than its retention, chunk by chunk.

        Args:
            now: the time the cutoffs are counted back from (default: the clock's).

        Returns:
            The purged chunks, in order.
        """
        now_ms = datetime_to_ms(now or self._clock())
        heads = await self._reads.run(store.chain_heads, self._db)
        results: list[PurgeResult] = []
        for head in heads:
            if head.retention_days is None:
                continue
            cutoff = now_ms - head.retention_days * _DAY_MS
            while True:
                try:
                    result = await self._writer.run(self._purge_unit, head.org_id, cutoff, now_ms)
                except ChainBroken as exc:
                    log.store.error("%s", exc)
                    break
                if result is None:
                    break
                results.append(result)
                log.store.info("retention purged events %d..%d of %s (%d rows)", result.first, result.last,
                               result.org_id, result.deleted)
        return results

    def _purge_unit(self, org_id: str, cutoff: int, now_ms: int) -> PurgeResult | None:
        result = store.purge_chunk(self._db, org_id, cutoff, max_rows=PURGE_CHUNK, sign=self._sign, now=now_ms)
        if result is not None:
            activity.record(org_id, actor="system", action="ledger.purge", target_type="audit_log", target_id=None,
                            details={"first": result.first, "last": result.last, "deleted": result.deleted,
                                     "hash": result.checkpoint.hash},
                            now=now_ms)
        return result

    async def _loop(self) -> None:
        await asyncio.sleep(min(FIRST_PURGE_DELAY, self._interval))
        while True:
            try:
                await self.purge()
            except Exception:  # e.g. disk full: try again at the next run
                log.store.exception("the retention purge failed; retrying at the next run")
            await asyncio.sleep(self._interval)
