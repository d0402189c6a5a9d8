"""``agentaudit verify`` and ``agentaudit export-ledger``: argv in, a printed report and an exit status out."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sidecar.errors import ConfigError
from sidecar.ledger.keys import key_id
from sidecar.ledger.report import VerifyReport
from sidecar.services.ledger_keys import trusted_public_keys
from sidecar.services.verification import (
    DatabaseVerification,
    VerifyError,
    export_ledger,
    verify_database,
    verify_export_file,
)
from sidecar.settings import Settings
from sidecar.store.db import is_postgres_url, redact_url

OK, BROKEN, CANNOT = 0, 1, 2


def _database_path(settings: Settings) -> Path | str:
    """The SQLite file, or the ``postgresql://`` URL as given."""
    url = settings.resolved_database_url
    if is_postgres_url(url):
        return url
    if not url.startswith("sqlite:///"):
        raise ConfigError(f"agentaudit verify reads SQLite or PostgreSQL databases, not {url.split(':', 1)[0]}")
    return Path(url[len("sqlite:///"):])


def _keys_text(keys: list[str] | tuple[str, ...]) -> str:
    ids = []
    for key in keys:
        try:
            ids.append(key_id(key))
        except ValueError:
            ids.append("<invalid key>")
    return ", ".join(ids)


def _check_trusted_keys(keys: list[str]) -> None:
    """A ``--trusted-key`` that is no public key is a mistake in the command, not a forged trail."""
    for key in keys:
        try:
            key_id(key)
        except ValueError:
            raise VerifyError(f"--trusted-key {key!r} is not a public key: give the base64 Ed25519 public key "
                              "(GET /api/v1/ledger/head names it as publicKey), not its short id") from None


def verify_command(args: argparse.Namespace) -> int:
    """Run ``agentaudit verify``; returns 0 when intact, 1 on a break, 2 when it could not run."""
    try:
        _check_trusted_keys(list(args.trusted_key))
        if args.export:
            return _verify_export(args)
        settings = Settings.from_env(os.environ, data_dir=args.data_dir, database_url=args.database_url)
        path = _database_path(settings)
        keys = list(args.trusted_key) or trusted_public_keys(settings.data_dir)
        if args.from_seq is not None and args.from_seq < 1:
            raise VerifyError("--from must be a sequence number >= 1")
        print(f"verifying {redact_url(str(path))} (trusted keys: {_keys_text(keys) or 'none'})", flush=True)
        outcome = verify_database(path, trusted_keys=keys, org_id=args.org, from_seq=args.from_seq,
                                  workers=args.jobs)
    except (VerifyError, ConfigError) as exc:
        print(f"agentaudit verify: {exc}", file=sys.stderr)
        return CANNOT
    _print_outcome(outcome)
    return OK if outcome.ok else BROKEN


def _print_outcome(outcome: DatabaseVerification) -> None:
    for org in outcome.orgs:
        report = org.report
        first = report.last_sequence - report.events_checked + 1
        span = f"events {first}..{report.last_sequence}" if report.events_checked else "no events"
        pruned = f" ({org.pruned_checkpoints} pruned)" if org.pruned_checkpoints else ""
        status = "OK" if report.ok else "BROKEN"
        print(f"  {org.org_id}: {span}, {report.events_checked:,} events and {report.checkpoints_checked:,} "
              f"checkpoints{pruned} verified; head recorded at {org.recorded_last}: {status}")
        if report.first_break is not None:
            brk = report.first_break
            print(f"    first break at sequence {brk.sequence} ({brk.kind}): {brk.message}")
    rate = outcome.events / outcome.elapsed if outcome.elapsed > 0 else 0.0
    print(f"checked {outcome.events:,} events, {outcome.checkpoints:,} checkpoints, {len(outcome.orgs)} "
          f"organisation(s) in {outcome.elapsed:.2f} s ({rate:,.0f} events/s, {outcome.workers} process(es))")
    found = outcome.first_break
    if found is None:
        print("RESULT: intact")
    else:
        org_id, brk = found
        print(f"RESULT: BROKEN: organisation {org_id}, sequence {brk.sequence}: {brk.kind}")


def _verify_export(args: argparse.Namespace) -> int:
    if args.trusted_key:
        keys: list[str] | None = list(args.trusted_key)
        source = "the keys given"
    elif args.data_dir:
        keys = trusted_public_keys(Path(args.data_dir).expanduser())
        source = f"the keys of {args.data_dir}"
    else:
        keys = None
        source = "the keys the file names itself (pass --trusted-key for an independent check)"
    print(f"verifying export {args.export} against {source}", flush=True)
    import time

    started = time.perf_counter()
    report = verify_export_file(Path(args.export), keys)
    elapsed = time.perf_counter() - started
    _print_export(report, elapsed)
    return OK if report.ok else BROKEN


def _print_export(report: VerifyReport, elapsed: float) -> None:
    rate = report.events_checked / elapsed if elapsed > 0 else 0.0
    print(f"  {report.organization_id}: {report.events_checked:,} events and {report.checkpoints_checked:,} "
          f"checkpoints verified, up to sequence {report.last_sequence}")
    if report.first_break is not None:
        brk = report.first_break
        print(f"    first break at sequence {brk.sequence} ({brk.kind}): {brk.message}")
    print(f"checked {report.events_checked:,} events, {report.checkpoints_checked:,} checkpoints in {elapsed:.2f} s "
          f"({rate:,.0f} events/s)")
    print("RESULT: intact" if report.ok else
          f"RESULT: BROKEN: sequence {report.first_break.sequence}: {report.first_break.kind}"  # type: ignore[union-attr]
          )


def export_command(args: argparse.Namespace) -> int:
    """Run ``agentaudit export-ledger``."""
    try:
        settings = Settings.from_env(os.environ, data_dir=args.data_dir, database_url=args.database_url)
        path = _database_path(settings)
        keys = trusted_public_keys(settings.data_dir)
        lines = export_ledger(path, args.org, Path(args.out), public_keys=keys)
    except (VerifyError, ConfigError) as exc:
        print(f"agentaudit export-ledger: {exc}", file=sys.stderr)
        return CANNOT
    print(f"wrote {lines:,} lines to {args.out} (organisation {args.org}; signed by {_keys_text(keys)})")
    return OK
