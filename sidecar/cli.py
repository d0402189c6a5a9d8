"""The ``agentaudit`` command: the only place that reads argv.

    agentaudit serve [--host H] [--port P] [--data-dir DIR]   run the sidecar (--stripe-fake: billing demo)
    agentaudit init --email E [--name N] [--password P]       first account + API key on a running sidecar
    agentaudit demo [--data-dir DIR]                          seed demo data
    agentaudit verify [--data-dir DIR] [--org ID] [--from SEQ] check every organisation's hash chain and checkpoints
    agentaudit verify --export FILE [--trusted-key KEY]       check a ledger export without any database
    agentaudit export-ledger --org ID --out FILE              write an organisation's chain as an export file
    agentaudit report --type T --from A --to B --format pdf --out FILE [--data-dir DIR] [--org ID]
                                                              build a report headless, from the database
    agentaudit migrate [--data-dir DIR] [--database-url URL]   bring the database's schema up to date (once)
    agentaudit copy --from URL --to URL [--data-dir DIR]      copy every table to another database, then verify
    agentaudit desktop                                        the desktop app (agentaudit_cli starts it)
    agentaudit --version
"""

from __future__ import annotations

import argparse
import gc
import asyncio
import getpass
import json
import logging
import os
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from sidecar.errors import ConfigError
from sidecar import VERSION
from sidecar.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentaudit", description="AgentAudit: audit trail and compliance for AI agents")
    parser.add_argument("--version", action="version", version=f"agentaudit {VERSION}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the sidecar (HTTP API on 127.0.0.1:8731 by default)")
    serve.add_argument("--host", help="address to bind (env AGENTAUDIT_HOST; default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind, 0 for any free port (env AGENTAUDIT_PORT; default 8731)")
    serve.add_argument("--data-dir", help="database, secrets and reports (env AGENTAUDIT_DATA_DIR)")
    serve.add_argument("--database-url", help="sqlite:///path or postgresql://… (env AGENTAUDIT_DATABASE_URL; default: in the data dir)")
    serve.add_argument("--first-run-hint", action="store_true", help="say how to create the first account and key")
    serve.add_argument("--log-level", default=os.environ.get("AGENTAUDIT_LOG_LEVEL", "INFO"))
    serve.add_argument("--stripe-fake", action="store_true",
                       help="turn billing on against a local fake of Stripe (demo; env AGENTAUDIT_STRIPE_FAKE)")

    init = commands.add_parser("init", help="create the first account and an API key on a running sidecar")
    init.add_argument("--email", required=True)
    init.add_argument("--name", help="organisation name (default: the email's domain)")
    init.add_argument("--password", help="account password (asked for when omitted; env AGENTAUDIT_PASSWORD)")
    init.add_argument("--url", help="sidecar base URL (default http://127.0.0.1:8731)")
    init.add_argument("--key-name", default="first-key")
    init.add_argument("--scopes", default="logs:write,logs:read",
                      help="the key's scopes, comma-separated (default logs:write,logs:read; add admin for alert "
                           "triage, agents, rules, packs and policies)")

    report = commands.add_parser("report", help="build a report from the database, without a running sidecar")
    report.add_argument("--type", required=True, help="compliance_summary, audit_log_export, alert_summary, "
                                                      "agent_activity or trace")
    report.add_argument("--format", default="pdf", help="pdf (default), csv or json")
    report.add_argument("--from", dest="start", help="period start, ISO 8601 (default: 30 days before --to)")
    report.add_argument("--to", dest="end", help="period end, ISO 8601; a bare date means the end of that day "
                                                 "(default: now)")
    report.add_argument("--out", required=True, help="file to write")
    report.add_argument("--data-dir", help="the sidecar's data dir (env AGENTAUDIT_DATA_DIR)")
    report.add_argument("--database-url", help="sqlite:///path or postgresql://… (env AGENTAUDIT_DATABASE_URL; default: in the data dir)")
    report.add_argument("--org", help="organisation id (needed when the database holds several)")
    report.add_argument("--agent-id", help="only this agent")
    report.add_argument("--policy-id", help="only this policy's violations and alerts")
    report.add_argument("--trace-id", help="the trace of a trace report")
    report.add_argument("--name", help="a name shown on the report")
    report.add_argument("--show-sensitive", action="store_true", help="do not mask matched sensitive values")

    demo = commands.add_parser("demo", help="seed realistic demo data (agents, traces, flagged events, alerts)",
                               add_help=False)
    demo.add_argument("rest", nargs=argparse.REMAINDER)

    verify = commands.add_parser(
        "verify", help="check the hash chains and signed checkpoints (exit 1 on any break)",
        description="Walk every organisation's hash chain (or one), check every event's hash and every checkpoint's "
                    "signature against the trusted public keys, and print the first break. Opens the database "
                    "read-only: it works while the sidecar runs and when it is stopped. Exit status: 0 intact, "
                    "1 a break was found, 2 verification could not run.")
    verify.add_argument("--data-dir", help="the sidecar's data dir (env AGENTAUDIT_DATA_DIR)")
    verify.add_argument("--database-url", help="sqlite:///path or postgresql://… (env AGENTAUDIT_DATABASE_URL; default: in the data dir)")
    verify.add_argument("--org", help="only this organisation id")
    verify.add_argument("--from", dest="from_seq", type=int, metavar="SEQ",
                        help="start at this sequence number (the hash before it is taken on trust)")
    verify.add_argument("--export", metavar="FILE", help="verify this ledger export file instead of a database")
    verify.add_argument("--trusted-key", action="append", default=[], metavar="KEY",
                        help="trust only this base64 Ed25519 public key (repeatable) instead of the data dir's list")
    verify.add_argument("--jobs", type=int, help="processes for large chains (default: one per CPU)")

    export = commands.add_parser("export-ledger", help="write one organisation's chain and checkpoints to a file",
                                 description="Write an export that 'agentaudit verify --export FILE' (or anyone with "
                                             "sidecar.ledger.export.verify_export) checks without the database.")
    export.add_argument("--org", required=True, help="the organisation id")
    export.add_argument("--out", required=True, help="the file to write (JSON Lines)")
    export.add_argument("--data-dir", help="the sidecar's data dir (env AGENTAUDIT_DATA_DIR)")
    export.add_argument("--database-url", help="sqlite:///path or postgresql://… (env AGENTAUDIT_DATABASE_URL; default: in the data dir)")

    migrate = commands.add_parser("migrate", help="bring the database's schema up to date, then exit",
                                  description="Run the migrations the database has not applied yet. On PostgreSQL "
                                              "they run under an advisory lock: sidecars and other 'migrate' runs "
                                              "starting together wait, and the migrations run once.")
    migrate.add_argument("--data-dir", help="the sidecar's data dir (env AGENTAUDIT_DATA_DIR)")
    migrate.add_argument("--database-url", help="sqlite:///path or postgresql://user@host:port/db "
                                                "(env AGENTAUDIT_DATABASE_URL; default: in the data dir)")

    copy = commands.add_parser("copy", help="copy every table to another (empty) database, then verify the chains",
                               description="Copy a whole database, e.g. a workstation's SQLite file to PostgreSQL: "
                                           "the source is read in one snapshot and not changed; the target is "
                                           "migrated, must be empty, and is written in one transaction. Then every "
                                           "chain in the target is verified against the data dir's trusted keys. "
                                           "Exit status: 0 copied and intact, 1 the copy does not verify, 2 it "
                                           "could not run.")
    copy.add_argument("--from", dest="source", required=True, help="the source URL (sqlite:///path)")
    copy.add_argument("--to", dest="target", required=True, help="the target URL (postgresql://…)")
    copy.add_argument("--data-dir", help="the data dir whose trusted keys verify the copy (env AGENTAUDIT_DATA_DIR)")

    # listed here so that --help names every command; the 'agentaudit' entry point starts it before this parser
    commands.add_parser("desktop", help="open the desktop app (what 'agentaudit' with no command does; "
                                        "'agentaudit desktop --help' for its options)", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw and raw[0] == "demo":  # the demo seeder parses its own options
        from sidecar.demo import main as demo_main

        return demo_main(raw[1:])
    args = _parser().parse_args(raw)
    if args.command is None:
        _parser().print_help()
        return 2
    try:
        if args.command == "serve":
            return _serve_command(args)
        if args.command == "init":
            return _init_command(args)
        if args.command == "verify":
            from sidecar.cli_ledger import verify_command

            return verify_command(args)
        if args.command == "export-ledger":
            from sidecar.cli_ledger import export_command

            return export_command(args)
        if args.command == "report":
            from sidecar.cli_report import report_command

            return report_command(args)
        if args.command == "demo":
            from sidecar.demo import main as demo_main

            return demo_main(args.rest)
        if args.command == "migrate":
            return _migrate_command(args)
        if args.command == "copy":
            return _copy_command(args)
        if args.command == "desktop":  # only reached as 'python -m sidecar desktop'
            print("agentaudit: the desktop app starts from the 'agentaudit' command (agentaudit desktop), not from "
                  "'python -m sidecar'", file=sys.stderr)
            return 2
    except ConfigError as exc:
        print(f"agentaudit: {exc}", file=sys.stderr)
        return 2
    return 2


# -- serve -----------------------------------------------------------------------------------------

def _serve_command(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    settings = Settings.from_env(os.environ, host=args.host, port=args.port, data_dir=args.data_dir,
                                 database_url=args.database_url, stripe_fake=True if args.stripe_fake else None)
    # peewee's DEBUG lines carry every SQL parameter (password hashes, key hashes, encrypted secrets): never
    # let them out, whatever the log level
    logging.getLogger("peewee").setLevel(max(logging.INFO, logging.getLogger().level))
    # access lines are logged at INFO: keep them only when AGENTAUDIT_ACCESS_LOG asks for them
    logging.getLogger("aiohttp.access").setLevel(logging.INFO if settings.access_log else logging.WARNING)
    _raise_open_file_limit()
    try:
        asyncio.run(_serve(settings, hint=args.first_run_hint))
    except OSError as exc:
        if exc.filename is not None:  # the data dir, not the socket (a read-only or full disk, permissions)
            print(f"agentaudit: cannot use the data dir {settings.data_dir}: {exc.strerror or exc} ({exc.filename})",
                  file=sys.stderr)
        else:
            print(f"agentaudit: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}",
                  file=sys.stderr)
        return 1
    return 0


OPEN_FILES_WANTED = 65536


def _raise_open_file_limit() -> None:
    """Lift the soft limit on open files toward the hard one (at most 65,536), as servers do: with the common
    default of 1,024 a thousand idle clients would lock everyone else out."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES_WANTED if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES_WANTED)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def _serve(settings: Settings, *, hint: bool) -> None:
    from aiohttp import web

    from sidecar.api.app import create_app
    from sidecar.api.keys import SERVICES

    fake = None
    if settings.stripe_fake:
        settings, fake = await _start_stripe_fake(settings)
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
                           handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, backlog=2048, reuse_address=True)
        await site.start()
        port = settings.port
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            port = server.sockets[0].getsockname()[1]
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        gc.freeze()  # what startup built lives for good: keep full collections from walking it on the hot path
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # before saying "listening": a stop from then on is graceful
            loop.add_signal_handler(sig, stop.set)
        print(f"AgentAudit sidecar {VERSION} listening on http://{host}:{port} (data: {settings.data_dir})", flush=True)
        if app[SERVICES].lock is not None:  # a second sidecar on this database says where the first one listens
            app[SERVICES].lock.describe(f"http://{host}:{port}")
        if fake is not None:
            fake.webhook_url = f"http://{host}:{port}/api/v1/billing/webhook"
            print(f"Billing demo: Stripe fake at {fake.public_url} (prices: {', '.join(fake.prices)})", flush=True)
        if hint and not await app[SERVICES].auth.has_accounts():
            print(
                "No account yet. In another terminal, create one and a first API key with:\n"
                f"    {_command_name()} init --email you@example.com --url http://{host}:{port}\n"
                f"or see the README quickstart (POST http://{host}:{port}/api/v1/auth/register).",
                flush=True,
            )
        await stop.wait()
        print("AgentAudit sidecar stopping: finishing queued writes", flush=True)
    finally:
        await runner.cleanup()
        if fake is not None:
            await fake.stop()


async def _start_stripe_fake(settings: Settings) -> tuple[Settings, Any]:
    """Start the local Stripe fake and point billing at it (real settings given in the environment win)."""
    import dataclasses

    from sidecar import billing_fake

    pro = settings.stripe_price_pro or "price_fake_pro"
    business = settings.stripe_price_business or "price_fake_business"
    fake = billing_fake.FakeStripe(
        secret_key=settings.stripe_secret_key or billing_fake.DEMO_SECRET_KEY,
        webhook_secret=settings.stripe_webhook_secret or billing_fake.DEMO_WEBHOOK_SECRET,
        prices={pro: billing_fake.DEMO_PRICES["price_fake_pro"], business: billing_fake.DEMO_PRICES["price_fake_business"]},
    )
    url = await fake.start("127.0.0.1", 0)
    return dataclasses.replace(settings, stripe_secret_key=fake.secret_key, stripe_webhook_secret=fake.webhook_secret,
                               stripe_price_pro=pro, stripe_price_business=business, stripe_api_base=url), fake


# -- init ------------------------------------------------------------------------------------------

def _call(url: str, payload: dict[str, Any], token: str | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"{}")
        except ValueError:
            return exc.code, {"error": exc.reason}


def _init_command(args: argparse.Namespace) -> int:
    settings = Settings.from_env(os.environ)
    base = (args.url or settings.base_url).rstrip("/") + "/api/v1"
    scopes = [scope.strip() for scope in args.scopes.split(",") if scope.strip()]
    password = args.password or os.environ.get("AGENTAUDIT_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("agentaudit: no password given and no terminal to ask on: pass --password or set "
                  "AGENTAUDIT_PASSWORD", file=sys.stderr)
            return 2
        try:
            password = getpass.getpass("Password (8+ characters): ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 2
    name = args.name or args.email.split("@")[-1]
    try:
        status, body = _call(f"{base}/auth/register", {"name": name, "email": args.email, "password": password})
        if status not in (201, 409):
            print(f"agentaudit: could not create the account: {body.get('error', status)}", file=sys.stderr)
            return 1
        status, body = _call(f"{base}/auth/login", {"email": args.email, "password": password})
        if status != 200:
            print(f"agentaudit: could not log in: {body.get('error', status)}", file=sys.stderr)
            return 1
        token = body["accessToken"]
        status, key = _call(f"{base}/auth/api-keys", {"name": args.key_name, "scopes": scopes}, token)
        if status != 201:
            print(f"agentaudit: could not create an API key: {key.get('error', status)}", file=sys.stderr)
            return 1
    except urllib.error.URLError as exc:
        print(f"agentaudit: no sidecar answers at {base} ({exc.reason}); start it with 'make run'", file=sys.stderr)
        return 1
    print(f"Account: {args.email} (organisation {body['organization']['id']})")
    print(f"API key (shown once, keep it safe): {key['key']} (scopes: {', '.join(key.get('scopes', scopes))})")
    print(f"Try it:\n  curl -X POST {base}/audit-logs -H 'X-API-Key: {key['key']}' "
          "-H 'Content-Type: application/json' -d '{\"action\": \"llm_call\", \"prompt\": \"hello\"}'")
    return 0


def _command_name() -> str:
    """How the user runs this command: the installed app's ``agentaudit``, or the checkout's ``.venv`` one."""
    return "agentaudit" if getattr(sys, "frozen", False) else ".venv/bin/agentaudit"


# -- migrate and copy ------------------------------------------------------------------------------

def _migrate_command(args: argparse.Namespace) -> int:
    from sidecar.store import migrations
    from sidecar.store.db import open_database, redact_url, sqlite_path
    from sidecar.store.lock import DatabaseLock
    from sidecar.store.models import database_proxy

    settings = Settings.from_env(os.environ, data_dir=args.data_dir, database_url=args.database_url)
    url = settings.resolved_database_url
    db = open_database(url, synchronous=settings.synchronous)
    database_proxy.initialize(db)
    path = sqlite_path(db)
    lock = DatabaseLock.acquire(path) if path and path != ":memory:" else None  # not under a running sidecar
    try:
        with db.connection_context():
            before, after = migrations.migrate(db)
    except RuntimeError as exc:
        print(f"agentaudit migrate: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the database refused or is unreachable: say which, without a traceback
        print(f"agentaudit migrate: {redact_url(url)}: {str(exc).strip() or type(exc).__name__}", file=sys.stderr)
        return 2
    finally:
        if lock is not None:
            lock.release()
    if before == after:
        print(f"{redact_url(url)}: schema version {after}, up to date")
    else:
        print(f"{redact_url(url)}: schema version {before} -> {after}")
    return 0


def _copy_command(args: argparse.Namespace) -> int:
    from sidecar.services.ledger_keys import trusted_public_keys
    from sidecar.services.verification import VerifyError, verify_database
    from sidecar.store.copy import CopyError, copy_database
    from sidecar.store.db import open_database, redact_url

    settings = Settings.from_env(os.environ, data_dir=args.data_dir)
    if args.source.startswith("sqlite:///") and not os.path.exists(args.source[len("sqlite:///"):]):
        print(f"agentaudit copy: no database at {args.source}", file=sys.stderr)
        return 2
    keys = trusted_public_keys(settings.data_dir)
    if not keys:
        print(f"agentaudit copy: no trusted ledger key in {settings.data_dir} to verify the copy with; "
              "pass the source sidecar's --data-dir", file=sys.stderr)
        return 2
    source, target = open_database(args.source), open_database(args.target)
    print(f"copying {redact_url(args.source)} -> {redact_url(args.target)}", flush=True)
    try:
        result = copy_database(source, target, progress=lambda table, rows: print(f"  {table}: {rows:,} rows",
                                                                                  flush=True))
    except CopyError as exc:
        print(f"agentaudit copy: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a database refused or is unreachable: say which, without a traceback
        print(f"agentaudit copy: {str(exc).strip() or type(exc).__name__}", file=sys.stderr)
        return 2
    print(f"copied {result.rows:,} rows in {len(result.tables)} tables; verifying the chains in the target", flush=True)
    target_url = args.target if args.target.startswith(("postgresql://", "postgres://")) else args.target[len("sqlite:///"):]
    try:
        outcome = verify_database(target_url, trusted_keys=keys, workers=1)
    except VerifyError as exc:
        print(f"agentaudit copy: the copy could not be verified: {exc}", file=sys.stderr)
        return 2
    for org in outcome.orgs:
        status = "OK" if org.report.ok else f"BROKEN at {org.report.first_break.sequence}"  # type: ignore[union-attr]
        print(f"  {org.org_id}: {org.report.events_checked:,} events, {org.report.checkpoints_checked:,} "
              f"checkpoints: {status}")
    print("RESULT: copied, intact" if outcome.ok else "RESULT: copied, but the copy does NOT verify")
    return 0 if outcome.ok else 1
