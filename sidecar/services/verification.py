"""Offline verification of the ledger (``agentaudit verify``) and ledger exports (``agentaudit export-ledger``).

Reads the SQLite file (or the PostgreSQL database) on a read-only connection of its own, so it works whether or not the sidecar runs.
Each organisation is walked with the streaming :class:`~sidecar.ledger.verify.ChainVerifier` against every
stored checkpoint and the trusted public keys (from files in the data dir, never from the database, which
an attacker may have written to). Then the walk's end is compared with the head that the organisation's row
records, so rows deleted after the newest checkpoint are caught too.

Large chains are split into sequence ranges verified in parallel processes: range k starts from the stored
hash at its first sequence minus one, which range k-1 checks as its last event's hash, so the ranges
together check every link. Whenever a parallel walk reports a break, the organisation is walked again in
one process and one snapshot, and that walk's exact first break is the one reported (this also rules out
a false alarm from a retention purge that ran between the parallel readers' snapshots).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Collection
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from sidecar.ledger.chain import GENESIS_HASH
from sidecar.ledger.checkpoint import Checkpoint
from sidecar.ledger.export import ExportHeader, verify_export, write_export
from sidecar.ledger.report import Break, BreakKind, VerifyReport
from sidecar.ledger.verify import ChainVerifier
from sidecar.store.db import redact_url
from sidecar.store.ledger import ChainHead, ChainReader, PgReadConnection, open_read_only

#: Chains shorter than this are walked in one process.
PARALLEL_MIN_EVENTS = 50_000


@dataclass(frozen=True, slots=True)
class OrgVerification:
    """One organisation's outcome.

    Attributes:
        org_id: the organisation.
        report: the walk's report (its first break, if any).
        first_sequence: where the walk started.
        recorded_last: the head sequence the organisation's row records.
        pruned_checkpoints: how many of its checkpoints are retention's.
    """

    org_id: str
    report: VerifyReport
    first_sequence: int
    recorded_last: int
    pruned_checkpoints: int


@dataclass(frozen=True, slots=True)
class DatabaseVerification:
    """The outcome of ``agentaudit verify`` over a database."""

    orgs: list[OrgVerification]
    elapsed: float
    workers: int = 1
    trusted_keys: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(org.report.ok for org in self.orgs)

    @property
    def events(self) -> int:
        return sum(org.report.events_checked for org in self.orgs)

    @property
    def checkpoints(self) -> int:
        return sum(org.report.checkpoints_checked for org in self.orgs)

    @property
    def first_break(self) -> tuple[str, Break] | None:
        for org in self.orgs:
            if org.report.first_break is not None:
                return org.org_id, org.report.first_break
        return None


class VerifyError(Exception):
    """Verification could not run (no database, unknown organisation, no trusted key)."""


def verify_database(
    path: Path | str,
    *,
    trusted_keys: Collection[str],
    org_id: str | None = None,
    from_seq: int | None = None,
    workers: int | None = None,
) -> DatabaseVerification:
    """Verify every organisation's chain (or one) in the SQLite database at ``path``.

    Args:
        path: the database file, or a ``postgresql://`` URL.
        trusted_keys: base64 public keys allowed to sign checkpoints (at least one).
        org_id: only this organisation.
        from_seq: start each walk at this sequence (the hash before it is taken on trust).
        workers: processes for large chains (default: the number of CPUs; 1 walks in this process).

    Returns:
        The outcome per organisation.

    Raises:
        VerifyError: no database, no trusted key, or an unknown organisation.
    """
    try:
        conn = open_read_only(path)
    except FileNotFoundError as exc:
        raise VerifyError(str(exc)) from None
    if not trusted_keys:
        conn.close()
        raise VerifyError("no trusted public key: run on the sidecar's data dir, or pass --trusted-key")
    workers = max(1, workers if workers is not None else os.cpu_count() or 1)
    started = time.perf_counter()
    results: list[OrgVerification] = []
    pool: ProcessPoolExecutor | None = None
    try:
        with ChainReader(conn) as reader:
            heads = reader.heads(org_id)
            if org_id is not None and not heads:
                raise VerifyError(f"no organisation {org_id} in {redact_url(str(path))}")
            plans = [_plan(reader, head, from_seq) for head in heads]
        for plan in plans:
            parallel = workers > 1 and plan.size >= PARALLEL_MIN_EVENTS
            if parallel and not plan.beyond_head and not plan.problems:
                pool = pool or ProcessPoolExecutor(max_workers=workers)
                report = _walk_parallel(path, plan, trusted_keys, workers, pool)
                if not report.ok:  # confirm, and find the exact first break, in one snapshot
                    report = _walk_serial(conn, plan.head.org_id, from_seq, trusted_keys)
            else:
                report = _walk_serial(conn, plan.head.org_id, from_seq, trusted_keys)
            pruned = sum(1 for cp in plan.checkpoints if cp is not None and cp.kind == "pruned")
            results.append(OrgVerification(plan.head.org_id, report, plan.start, plan.head.last_seq, pruned))
    finally:
        conn.close()
        if pool is not None:
            pool.shutdown()
    return DatabaseVerification(results, time.perf_counter() - started, workers, tuple(trusted_keys))


@dataclass(frozen=True, slots=True)
class _Plan:
    head: ChainHead
    start: int  # the walk's start sequence
    prev: str  # the hash before it
    checkpoints: list[Checkpoint | None]
    problems: list[str]
    beyond_head: bool  # events past the recorded head exist in the same snapshot

    @property
    def size(self) -> int:
        return max(0, self.head.last_seq - max(self.start, self.head.pruned_seq + 1) + 1)


def _plan(reader: ChainReader, head: ChainHead, from_seq: int | None) -> _Plan:
    """Where an organisation's walk starts, and its checkpoints (read in the caller's snapshot)."""
    rows = reader.checkpoints(head.org_id)
    checkpoints = [cp for _, cp, _ in rows]
    problems = [problem for _, cp, problem in rows if cp is None]
    beyond = next(reader.events(head.org_id, head.last_seq + 1), None) is not None
    if from_seq is None or from_seq <= 1:
        return _Plan(head, 1, GENESIS_HASH, checkpoints, problems, beyond)
    # the organisation row's pruned cut is not trusted: from inside the pruned range, start over from 1
    # and let the walk anchor on a signed pruned checkpoint
    prev = reader.stored_hash(head.org_id, from_seq - 1)
    if prev is None:
        return _Plan(head, 1, GENESIS_HASH, checkpoints, problems, beyond)
    return _Plan(head, from_seq, prev, checkpoints, problems, beyond)


def _walk_serial(conn: sqlite3.Connection | PgReadConnection, org_id: str, from_seq: int | None,
                 trusted_keys: Collection[str]) -> VerifyReport:
    """Walk one organisation in one snapshot (exact; used for small chains and to confirm breaks)."""
    with ChainReader(conn) as reader:
        [head] = reader.heads(org_id) or [ChainHead(org_id, 0, GENESIS_HASH, 0, GENESIS_HASH, None)]
        plan = _plan(reader, head, from_seq)
        verifier = ChainVerifier(start_prev_hash=plan.prev, start_sequence=plan.start,
                                 trusted_keys=trusted_keys, organization_id=org_id)
        for problem in plan.problems:
            verifier.report_break(plan.start, BreakKind.MALFORMED, problem)
        for checkpoint in plan.checkpoints:
            if checkpoint is not None:
                verifier.add_checkpoint(checkpoint)
        verifier.feed_canonical(lambda seq: reader.canonical_rows(org_id, seq, head.last_seq),
                                lambda seq: reader.events(org_id, seq, head.last_seq))
        return _against_recorded_head(verifier.finish(), reader, head)


def _against_recorded_head(report: VerifyReport, reader: ChainReader, head: ChainHead, *,
                           same_snapshot: bool = True) -> VerifyReport:
    """Compare the walk's end with the head the organisation's row records (``same_snapshot``: the row was
    read in the reader's snapshot, so events beyond it were added behind the writer's back)."""
    if not report.ok:
        return report
    last = report.last_sequence
    found: Break | None = None
    if last < head.last_seq:
        missing = f"event {last + 1} is" if last + 1 == head.last_seq else f"events {last + 1}..{head.last_seq} are"
        found = Break(last + 1, BreakKind.SEQUENCE_GAP,
                      f"the chain ends at {last} but the organisation's head records {head.last_seq}: "
                      f"{missing} missing")
    elif same_snapshot and next(reader.events(head.org_id, head.last_seq + 1), None) is not None:
        found = Break(head.last_seq + 1, BreakKind.SEQUENCE_ORDER,
                      f"events after {head.last_seq}, the head the organisation's row records, were added")
    elif last == head.last_seq and report.last_hash != head.last_hash:
        found = Break(last, BreakKind.HASH_MISMATCH,
                      f"the organisation's row records head hash {head.last_hash[:16]}… at {last}, "
                      f"but the chain has {report.last_hash[:16]}…")
    return report if found is None else replace(report, ok=False, first_break=found)


def _walk_parallel(path: Path | str, plan: _Plan, trusted_keys: Collection[str], workers: int,
                   pool: ProcessPoolExecutor) -> VerifyReport:
    """Split the chain into ranges, one per worker, and combine their reports."""
    first = max(plan.start, plan.head.pruned_seq + 1)
    last = plan.head.last_seq
    step = -(-(last - first + 1) // workers)
    bounds = [(a, min(a + step - 1, last)) for a in range(first, last + 1, step)]
    jobs = []
    for index, (a, b) in enumerate(bounds):
        low = plan.start if index == 0 else a
        high = None if index == len(bounds) - 1 else b
        mine = [cp for cp in plan.checkpoints if cp is not None and
                (index == 0 or cp.sequence >= a) and (high is None or cp.sequence <= b)]
        jobs.append(pool.submit(_walk_range, str(path), plan.head, low, b, plan.prev if index == 0 else None,
                                mine, tuple(trusted_keys), last_range=high is None))
    reports = [job.result() for job in jobs]
    events = sum(r.events_checked for r in reports)
    checkpoints = sum(r.checkpoints_checked for r in reports)
    broken = next((r for r in reports if not r.ok), None)
    if broken is not None or plan.problems:
        return VerifyReport(False, events, checkpoints, broken.first_break if broken else None,
                            reports[-1].last_sequence, reports[-1].last_hash, plan.head.org_id)
    return VerifyReport(True, events, checkpoints, None, reports[-1].last_sequence, reports[-1].last_hash,
                        plan.head.org_id)


def _walk_range(path: str, head: ChainHead, first: int, last: int, prev: str | None,
                checkpoints: list[Checkpoint], trusted_keys: tuple[str, ...], *, last_range: bool) -> VerifyReport:
    """Verify events ``first..last`` in a worker process (prev None: take the stored hash before ``first``)."""
    conn = open_read_only(path)
    try:
        with ChainReader(conn) as reader:
            if prev is None:
                prev = reader.stored_hash(head.org_id, first - 1)
                if prev is None:
                    return VerifyReport(False, 0, 0, Break(first - 1, BreakKind.SEQUENCE_GAP,
                                                           f"event {first - 1} is missing"), first - 1, GENESIS_HASH)
            verifier = ChainVerifier(start_prev_hash=prev, start_sequence=first, trusted_keys=trusted_keys,
                                     organization_id=head.org_id)
            for checkpoint in checkpoints:
                verifier.add_checkpoint(checkpoint)
            verifier.feed_canonical(lambda seq: reader.canonical_rows(head.org_id, seq, last),
                                    lambda seq: reader.events(head.org_id, seq, last))
            if not last_range and not verifier.broken and verifier.last_sequence < last:
                verifier.report_break(verifier.last_sequence + 1, BreakKind.SEQUENCE_GAP,
                                      f"event {verifier.last_sequence + 1} is missing")
            report = verifier.finish()
            return _against_recorded_head(report, reader, head, same_snapshot=False) if last_range else report
    finally:
        conn.close()


# -- exports ----------------------------------------------------------------------------------------

def export_ledger(path: Path | str, org_id: str, out: Path, *, public_keys: Collection[str]) -> int:
    """Write one organisation's chain and checkpoints as an export file, from one snapshot.

    Returns:
        The number of lines written.

    Raises:
        VerifyError: no database or no such organisation.
    """
    try:
        conn = open_read_only(path)
    except FileNotFoundError as exc:
        raise VerifyError(str(exc)) from None
    try:
        with ChainReader(conn) as reader:
            if not reader.heads(org_id):
                raise VerifyError(f"no organisation {org_id} in {redact_url(str(path))}")
            checkpoints = [cp for _, cp, _ in reader.checkpoints(org_id) if cp is not None]
            header = ExportHeader(organization_id=org_id, public_keys=tuple(public_keys))
            tmp = out.with_name(f".{out.name}.tmp")
            with open(tmp, "wb") as sink:
                lines = write_export(sink.write, header, reader.events(org_id, 1), checkpoints)
                sink.flush()
                os.fsync(sink.fileno())
            tmp.replace(out)
            return lines
    finally:
        conn.close()


def verify_export_file(path: Path, trusted_keys: Collection[str] | None) -> VerifyReport:
    """Verify an export file without any database (trusted_keys None: the keys its header names).

    Raises:
        VerifyError: the file cannot be read.
    """
    try:
        with open(path, "rb") as lines:
            return verify_export(lines, trusted_keys)
    except OSError as exc:
        raise VerifyError(f"cannot read {path}: {exc.strerror or exc}") from None
