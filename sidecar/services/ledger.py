"""The ledger use cases: signing checkpoints off the hot path, head, checkpoints, proofs and exports.

Signing. Ingest never signs: the writer hashes each event into its organisation's chain in the
transaction that stores it, and after each commit tells :meth:`LedgerService.on_commit` the newest
sequence per organisation (a few dictionary writes per commit). A background task signs a ``head``
checkpoint of an organisation's current head, through the writer, when :class:`CheckpointPolicy` says
so (every ``checkpoint_events`` events or ``checkpoint_seconds`` seconds), and :meth:`aclose` signs every
head that moved since its last checkpoint, so a graceful stop always leaves the final head signed; a
killed sidecar's unsigned head is signed at the next start.

On demand. ``GET /ledger/head`` of an organisation that has no checkpoint yet, and a proof of an event
newer than the newest checkpoint, sign the current head at once (at most once a second per
organisation; a proof request that still finds its event uncovered is a 409 to retry).

Retention (``pruned`` checkpoints) lives in :mod:`sidecar.services.retention`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from peewee import Database

from sidecar import log
from sidecar.clock import datetime_to_ms, utc_now
from sidecar.errors import Conflict, NotFound, Unavailable
from sidecar.ledger.checkpoint import Checkpoint, CheckpointKind, CheckpointPolicy, format_timestamp, sign_checkpoint
from sidecar.ledger.export import ExportHeader, export_lines
from sidecar.ledger.keys import public_key_b64
from sidecar.ledger.proof import build_proof
from sidecar.services.ledger_keys import trusted_public_keys
from sidecar.services.principal import Principal
from sidecar.store import ledger as store
from sidecar.store import logs as log_store
from sidecar.store.db import ReadPool
from sidecar.store.writer import Writer

#: The least time between two on-demand checkpoints of one organisation.
ON_DEMAND_INTERVAL = 1.0


@dataclass(slots=True)
class _OrgState:
    """What the signer knows of one organisation: the newest sequence seen and the newest signed."""

    seen_seq: int = 0
    signed_seq: int = 0
    signed_at: datetime | None = None
    on_demand_at: float = 0.0


@dataclass(frozen=True, slots=True)
class HeadView:
    """The newest signed checkpoint and the current (maybe newer, unsigned) head."""

    checkpoint: Checkpoint
    current_sequence: int
    current_hash: str
    pruned_sequence: int


class LedgerService:
    """Checkpoints, proofs and exports over one writer and read pool.

    Args:
        writer: the single writer (checkpoints go through it).
        reads: the read pool.
        db: the database.
        key: the ledger signing key.
        data_dir: where the trusted public keys are listed.
        policy: when to sign head checkpoints.
        enabled: False only for the no-chain benchmark (nothing is signed).
        clock: the current time (timezone-aware).
    """

    def __init__(
        self,
        writer: Writer,
        reads: ReadPool,
        db: Database,
        key: Ed25519PrivateKey,
        *,
        data_dir: Path,
        policy: CheckpointPolicy,
        enabled: bool = True,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._writer = writer
        self._reads = reads
        self._db = db
        self._key = key
        self._data_dir = data_dir
        self.public_key = public_key_b64(key)
        self.policy = policy
        self._enabled = enabled
        self._clock = clock
        self._orgs: dict[str, _OrgState] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._sign_lock = asyncio.Lock()
        self._started = False

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load each organisation's newest checkpoint, listen to commits, start the signer."""
        if self._started or not self._enabled:
            return
        self._started = True

        def load() -> list[tuple[str, int, Checkpoint | None]]:
            return [(h.org_id, h.last_seq, store.latest_checkpoint(self._db, h.org_id)) for h in
                    store.chain_heads(self._db)]

        for org_id, last_seq, latest in await self._reads.run(load):
            state = self._orgs.setdefault(org_id, _OrgState())
            state.seen_seq = max(state.seen_seq, last_seq)
            if latest is not None:
                self._note_signed(org_id, latest)
        self._writer.add_listener(self.on_commit)
        # a previous run that was killed (no graceful stop) may have left events unsigned: sign them now
        recovered = await self.sign_due(final=True)
        if recovered:
            log.store.info("signed the ledger head of %d organisation(s) left unsigned by the last run",
                           len(recovered))
        self._tasks = [asyncio.create_task(self._signer_loop(), name="ledger-signer")]

    async def aclose(self) -> None:
        """Stop the background tasks, then sign every head that moved since its last checkpoint."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._started:
            self._started = False
            try:
                signed = await self.sign_due(final=True)
            except Unavailable as exc:  # the storage failed: the next start signs these heads
                log.store.warning("could not sign the final ledger heads (%s); the next start signs them", exc)
                return
            if signed:
                log.store.info("signed the final ledger head of %d organisation(s)", len(signed))

    # -- signing ------------------------------------------------------------------------------------

    def on_commit(self, stored: list[dict[str, Any]]) -> None:
        """Writer listener (on the loop, after each commit): note the newest sequence per organisation."""
        newest: dict[str, int] = {}
        for event in stored:  # in sequence order per organisation: the last one wins
            newest[event["organizationId"]] = event["sequence"]
        every_events = self.policy.every_events
        for org_id, seq in newest.items():
            state = self._orgs.get(org_id)
            if state is None:
                state = self._orgs[org_id] = _OrgState()
            was_pending = state.seen_seq > state.signed_seq
            if seq > state.seen_seq:
                state.seen_seq = seq
            # wake the signer when it must learn a new deadline, or when a checkpoint is due by count
            if not was_pending or state.signed_at is None or state.seen_seq - state.signed_seq >= every_events:
                self._wake.set()

    def _due(self, state: _OrgState, now: datetime) -> bool:
        return self.policy.due(now, state.seen_seq - state.signed_seq, state.signed_at)

    def _note_signed(self, org_id: str, checkpoint: Checkpoint) -> None:
        state = self._orgs.setdefault(org_id, _OrgState())
        if checkpoint.kind == "head" and checkpoint.sequence >= state.signed_seq:
            state.signed_seq = checkpoint.sequence
            state.signed_at = datetime.fromisoformat(checkpoint.signed_at.replace("Z", "+00:00"))
        state.seen_seq = max(state.seen_seq, checkpoint.sequence)

    def sign(self, org_id: str, sequence: int, digest: str, kind: CheckpointKind) -> Checkpoint:
        """Sign ``(org_id, sequence, digest)`` now with the ledger key (a :data:`store.ledger.Signer`)."""
        return sign_checkpoint(self._key, organization_id=org_id, sequence=sequence, hash=digest,
                               signed_at=format_timestamp(self._clock()), kind=kind)

    async def _sign_orgs(self, org_ids: list[str]) -> list[Checkpoint]:
        """Sign the current head of each organisation (one writer unit); skip heads already covered."""
        if not org_ids:
            return []
        now = datetime_to_ms(self._clock())

        def unit() -> list[Checkpoint]:
            signed = []
            for org_id in org_ids:
                checkpoint = store.sign_head(self._db, org_id, self.sign, now=now)
                if checkpoint is None:
                    checkpoint = store.latest_checkpoint(self._db, org_id, "head")
                if checkpoint is not None:
                    signed.append(checkpoint)
            return signed

        async with self._sign_lock:
            checkpoints = await self._writer.run(unit)
        for checkpoint in checkpoints:
            self._note_signed(checkpoint.organization_id, checkpoint)
        return checkpoints

    async def sign_due(self, *, final: bool = False) -> list[Checkpoint]:
        """Sign the heads the policy says are due (``final``: every head with unsigned events)."""
        if not self._enabled:
            return []
        now = self._clock()
        due = [org_id for org_id, state in self._orgs.items()
               if (state.seen_seq > state.signed_seq if final else self._due(state, now))]
        return await self._sign_orgs(due)

    def _next_deadline(self) -> float | None:
        """Seconds until the earliest time-based checkpoint falls due, or None when nothing is pending."""
        now = self._clock()
        waits = []
        for state in self._orgs.values():
            if state.seen_seq <= state.signed_seq:
                continue
            if state.signed_at is None:
                return 0.0
            waits.append(self.policy.every_seconds - (now - state.signed_at).total_seconds())
        return max(0.0, min(waits)) if waits else None

    async def _signer_loop(self) -> None:
        while True:
            timeout = self._next_deadline()
            if timeout is None or timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            try:
                await self.sign_due()
            except Unavailable as exc:  # storage refused (full, read-only, connection lost): try again later
                log.store.warning("signing a ledger checkpoint failed (%s); retrying later", exc)
                await asyncio.sleep(1.0)
            except Exception:  # anything else must not end the signer either
                log.store.exception("signing a ledger checkpoint failed; retrying later")
                await asyncio.sleep(1.0)

    async def _on_demand(self, org_id: str) -> None:
        """Sign the organisation's head now, at most once per :data:`ON_DEMAND_INTERVAL`."""
        state = self._orgs.setdefault(org_id, _OrgState())
        loop = asyncio.get_running_loop()
        if loop.time() - state.on_demand_at < ON_DEMAND_INTERVAL:
            return
        state.on_demand_at = loop.time()
        await self._sign_orgs([org_id])

    # -- reads ----------------------------------------------------------------------------------------

    async def head(self, principal: Principal) -> HeadView:
        """The newest checkpoint (signed now if there is none yet) and the current head."""
        org_id = principal.org_id

        def read() -> tuple[store.ChainHead | None, Checkpoint | None]:
            return store.chain_head(self._db, org_id), store.latest_checkpoint(self._db, org_id)

        head, latest = await self._reads.run(read)
        if head is None:
            raise NotFound(f"organisation {org_id} not found")
        if latest is None and self._enabled:
            now = datetime_to_ms(self._clock())
            latest = await self._writer.run(
                lambda: store.sign_head(self._db, org_id, self.sign, now=now, force=True))
            head = await self._reads.run(store.chain_head, self._db, org_id)
            assert head is not None
        if latest is None:
            raise Conflict("the hash chain is turned off on this sidecar (benchmark mode): nothing is signed")
        self._note_signed(org_id, latest)
        return HeadView(latest, head.last_seq, head.last_hash, head.pruned_seq)

    async def checkpoints(self, principal: Principal, *, kind: str | None, limit: int,
                          offset: int) -> tuple[list[Checkpoint], int]:
        return await self._reads.run(store.list_checkpoints, self._db, principal.org_id, kind=kind, limit=limit,
                                     offset=offset)

    async def proof(self, principal: Principal, event_id: str) -> dict[str, Any]:
        """Everything needed to check one event against the first checkpoint at or after it, offline.

        Raises:
            NotFound: no such event in the caller's organisation.
            Conflict: no checkpoint covers the event yet (an on-demand one was signed under a second ago).
        """
        org_id = principal.org_id

        def covering() -> tuple[dict[str, Any] | None, Checkpoint | None]:
            event = log_store.get_log(self._db, org_id, event_id)
            if event is None:
                return None, None
            return event, store.first_head_checkpoint_at_or_after(self._db, org_id, event["sequence"])

        event, checkpoint = await self._reads.run(covering)
        if event is None:
            raise NotFound(f"audit log {event_id} not found")
        if checkpoint is None and self._enabled:
            await self._on_demand(org_id)
            event, checkpoint = await self._reads.run(covering)
            if event is None:  # purged meanwhile
                raise NotFound(f"audit log {event_id} not found")
        if checkpoint is None:
            raise Conflict(f"no signed checkpoint covers event {event['sequence']} yet; retry in a second")
        found = checkpoint

        def build() -> dict[str, Any]:
            head = store.chain_head(self._db, org_id)
            assert head is not None and event is not None
            prev = store.hash_before(self._db, head, event["sequence"])
            if prev is None:
                raise NotFound(f"audit log {event_id} not found")
            later = store.events_between(self._db, org_id, event["sequence"] + 1, found.sequence)
            return build_proof(event, prev, later, found)

        try:
            return await self._reads.run(build)
        except ValueError as exc:  # the stored chain does not verify: say so rather than serve a bad proof
            log.store.error("cannot build a proof for %s of %s: %s", event_id, org_id, exc)
            raise Conflict(f"the stored chain does not verify around this event ({exc}); run 'agentaudit verify'") \
                from None

    def trusted_keys(self) -> list[str]:
        """The public keys this sidecar has signed with (its data dir's list)."""
        keys = trusted_public_keys(self._data_dir)
        return keys if self.public_key in keys else [*keys, self.public_key]

    async def export(self, principal: Principal) -> AsyncIterator[bytes]:
        """The organisation's chain as export lines (see :mod:`sidecar.ledger.export`), read in chunks.

        Each chunk is its own read; a retention purge that runs during the export can make it fail to
        verify (run it again). ``agentaudit export-ledger`` reads one snapshot.
        """
        org_id = principal.org_id
        checkpoints = await self._reads.run(store.all_checkpoints, self._db, org_id)
        header = ExportHeader(organization_id=org_id, public_keys=tuple(self.trusted_keys()))
        events = (event for chunk in store.iter_events(self._db, org_id) for event in chunk)
        lines = export_lines(header, events, checkpoints)
        while True:  # the generator reads the database, so it only ever runs on the read pool
            batch = await self._reads.run(_take, lines, 1000)
            if not batch:
                return
            yield b"".join(batch)


def _take(lines: Iterator[bytes], count: int) -> list[bytes]:
    return list(itertools.islice(lines, count))
