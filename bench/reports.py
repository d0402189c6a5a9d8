"""Report benchmark: time and peak RSS of a compliance_summary PDF over 100,000 and 1,000,000 events.

    .venv/bin/python bench/reports.py [--events 100000 1000000] [--export] [--keep DIR]
    .venv/bin/python bench/reports.py --docs          # render the README's sample pages into docs/

The database is written directly (like bench/ingest.py's query database): events spread over 30 days
across 200 agents, one in twelve with violations (rules of the hipaa, finance and secrets packs, with
their violation facts and alerts), trace summaries, two policies with versions and installed packs.
Each report is built in a fresh child process (``agentaudit report``'s code path: one read
connection, the renderer streaming to the file), so its peak RSS is the report's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DAY = 86_400_000
ORG = "org_bench_reports"
AGENTS = ["claims-intake", "billing-assistant", "support-bot", "triage-agent", "coding-agent", "records-clerk",
          "refund-desk", "scheduler"]
PROMPT = ("Summarise the customer's last three tickets and suggest a reply. Keep it under 120 words and mention the "
          "refund policy where it applies.")
RESPONSE = "The customer reported a delayed delivery twice. Suggested reply: apologise and offer a voucher."
#: (pack, rule key, weight): how often each rule is violated among flagged events
RULE_MIX = [("hipaa", "phi-ssn", 14), ("hipaa", "phi-contact", 22), ("hipaa", "phi-dob", 9),
            ("hipaa", "phi-medical-ids", 6), ("hipaa", "phi-patient-names", 12), ("finance", "pci-pan", 10),
            ("finance", "bank-accounts", 5), ("finance", "tax-ids", 3), ("secrets", "cloud-keys", 4),
            ("secrets", "tokens", 5), ("secrets", "prompt-injection", 6), ("hipaa", "phi-keywords", 8)]
_RANK = {"allow": 0, "log": 1, "flag": 2, "block": 3}


def _packs() -> dict[str, dict]:
    return {p: json.loads((ROOT / "sidecar" / "compliance" / "packs" / f"{p}.json").read_text())
            for p in ("hipaa", "finance", "secrets")}


def build_db(data_dir: Path, events: int, *, days: int = 30, seed: int = 7, org_name: str = "Bench Health") -> None:
    """Fill ``data_dir`` with an organisation holding ``events`` events over ``days`` days ending now."""
    from sidecar.ids import IdGenerator
    from sidecar.ledger.chain import GENESIS_HASH
    from sidecar.store import migrations
    from sidecar.store.db import open_database
    from sidecar.store.models import database_proxy
    from sidecar.store.writer import LOG_COLUMNS

    rng = random.Random(seed)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "agentaudit.db"
    db = open_database(f"sqlite:///{path}")
    database_proxy.initialize(db)
    with db.connection_context():
        migrations.migrate(db)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=OFF")
    end = int(time.time() * 1000)
    start = end - days * DAY
    ids = IdGenerator()
    packs = _packs()
    rules: dict[tuple[str, str], tuple[str, dict]] = {}
    conn.execute("BEGIN")
    conn.execute("INSERT INTO organizations (id, name, email, plan, last_seq, last_hash, pruned_seq, pruned_hash, "
                 "compliance_version, created_at, updated_at) VALUES (?, ?, 'security@bench.test', 'self_hosted', 0, "
                 "?, 0, ?, 1, ?, ?)", (ORG, org_name, GENESIS_HASH, GENESIS_HASH, start - DAY, start - DAY))
    for pack_id, pack in packs.items():
        conn.execute("INSERT INTO installed_packs (org_id, pack_id, version, installed_at) VALUES (?, ?, ?, ?)",
                     (ORG, pack_id, pack["version"], start - DAY))
        for position, rule in enumerate(pack["rules"]):
            rule_id = ids.new("rule", now_ms=start - DAY)
            rules[(pack_id, rule["key"])] = (rule_id, rule)
            conn.execute("INSERT INTO rules (id, org_id, policy_id, pack_id, pack_rule_key, name, rule_type, condition, "
                         "severity, action_override, redaction, is_active, position, created_at, updated_at) VALUES "
                         "(?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, 'mask', 1, ?, ?, ?)",
                         (rule_id, ORG, pack_id, rule["key"], rule["name"], rule["ruleType"],
                          json.dumps(rule["condition"]), rule["severity"], rule.get("action"), position,
                          start - DAY, start - DAY))
    for number, (name, mode, versions) in enumerate((("Card data handling", "block", 3), ("PHI minimum necessary",
                                                                                         "flag", 2))):
        policy_id = ids.new("pol", now_ms=start - DAY)
        conn.execute("INSERT INTO policies (id, org_id, name, description, mode, priority, conditions, is_active, "
                     "source_pack_id, redaction, version, created_at, updated_at) VALUES (?, ?, ?, NULL, ?, ?, NULL, 1, "
                     "?, 'mask', ?, ?, ?)", (policy_id, ORG, name, mode, 10 - number,
                                             "finance" if number == 0 else "hipaa", versions, start - DAY, end))
        for version in range(1, versions + 1):
            at = start - DAY if version == 1 else start + version * 6 * DAY
            snapshot = {"name": name, "mode": mode, "priority": 10 - number, "description": None, "conditions": None,
                        "isActive": True, "redaction": "mask",
                        "rules": [{"name": f"rule {i}", "isActive": True} for i in range(4 + version)]}
            conn.execute("INSERT INTO policy_versions (id, org_id, policy_id, version_number, name, snapshot, "
                         "restored_from_id, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, NULL, 'user_bench', ?)",
                         (ids.new("polv", now_ms=at), ORG, policy_id, version, None, json.dumps(snapshot), at))
    conn.execute("COMMIT")

    mix = [rules[(p, k)] for p, k, _ in RULE_MIX]
    weights = [w for _, _, w in RULE_MIX]
    pack_of = {rule_id: p for (p, _), (rule_id, _) in rules.items()}
    statuses = ["open"] * 55 + ["acknowledged"] * 10 + ["resolved"] * 28 + ["false_positive"] * 7
    insert_log = f"INSERT INTO audit_logs ({', '.join(LOG_COLUMNS)}) VALUES ({', '.join('?' * len(LOG_COLUMNS))})"
    insert_violation = ("INSERT INTO violations (org_id, audit_log_id, rule_id, policy_id, pack_id, agent_id, rule_name, "
                        "rule_type, severity, action, created_at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)")
    insert_alert = ("INSERT INTO alerts (id, org_id, severity, severity_rank, status, message, rule_id, policy_id, "
                    "audit_log_id, agent_id, details, note, created_at, updated_at, resolved_at, resolved_by) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL, ?, ?, ?, ?)")
    meta = json.dumps({"model": "gpt-4o", "tokens": 340, "latency_ms": 812})
    traces: dict[str, list] = {}
    # a working week's rhythm: weekends carry about a third of a weekday's events
    day_weights = [(0.35 if ((start // DAY + d) + 4) % 7 >= 5 else 1.0) * rng.uniform(0.85, 1.15) for d in range(days)]
    per_day = [int(events * w / sum(day_weights)) for w in day_weights]
    per_day[-1] += events - sum(per_day)
    times = (start + d * DAY + int(i * DAY / max(1, n)) for d, n in enumerate(per_day) for i in range(n))
    trace_agent: dict[int, str] = {}
    seq = 0
    while seq < events:
        logs, facts, alerts = [], [], []
        for _ in range(min(10_000, events - seq)):
            seq += 1
            created = next(times)
            run = seq // 40
            if run not in trace_agent:
                trace_agent[run] = AGENTS[rng.randrange(len(AGENTS))] if rng.random() < 0.85 else f"agent-{run % 200}"
            agent = trace_agent[run]
            trace = f"run-{run}"
            event_id = ids.new("log", now_ms=created)
            flags, violations, enforcement = None, None, "allow"
            # busier on weekdays, and a spike in the third week
            weekday = ((created // DAY) + 4) % 7 < 5
            spike = 14 * DAY < created - start < 17 * DAY
            if rng.random() < (0.085 if weekday else 0.05) * (2.2 if spike else 1):
                chosen = rng.choices(mix, weights)[0]
                extra = rng.choices(mix, weights)[0] if rng.random() < 0.2 else None
                found = [chosen] + ([extra] if extra and extra[0] != chosen[0] else [])
                details = []
                for (rule_id, rule) in found:
                    action = rule.get("action") or "log"
                    pack = pack_of[rule_id]
                    facts.append((ORG, event_id, rule_id, pack, agent, rule["name"], rule["ruleType"], rule["severity"],
                                  action, created))
                    details.append({"ruleId": rule_id, "policyId": None, "name": rule["name"],
                                    "ruleType": rule["ruleType"], "severity": rule["severity"], "action": action,
                                    "matches": [{"field": "prompt", "start": 10, "end": 21, "detector": "ssn"}]})
                    if _RANK[action] > _RANK[enforcement]:
                        enforcement = action
                    if action in ("flag", "block"):
                        status = statuses[rng.randrange(len(statuses))]
                        closed = created + rng.randrange(600_000, 3 * DAY) if status in ("resolved",
                                                                                           "false_positive") else None
                        rank = {"critical": 2, "warning": 1}.get(rule["severity"], 0)
                        alerts.append((ids.new("alert", now_ms=created), ORG, rule["severity"], rank, status,
                                       f"{rule['name']}: {rule['severity']} {rule['ruleType']} violation in llm_call",
                                       rule_id, event_id, agent, json.dumps({"ruleName": rule["name"]}), created,
                                       closed or created, closed, "user_bench" if closed else None))
                flags = json.dumps([f"{r['severity'].upper()}_{r['ruleType']}_{r['name']}" for _, r in found])
                violations = json.dumps(details)
            logs.append((event_id, ORG, seq, "llm_call" if seq % 5 else "tool_use", agent, trace, f"s{seq}", None,
                         PROMPT, RESPONSE, meta, created, created + 40, created, flags, enforcement, bool(flags),
                         violations, "%064x" % rng.getrandbits(256)))
            agg = traces.setdefault(trace, [created, created, 0, 0, 0, "allow", set(), seq])
            agg[1] = created
            agg[2] += 1
            agg[3] += 1 if flags else 0
            agg[4] += 1 if enforcement == "block" else 0
            agg[5] = enforcement if _RANK[enforcement] > _RANK[agg[5]] else agg[5]
            agg[6].add(agent)
            agg[7] = seq
        conn.execute("BEGIN")
        conn.executemany(insert_log, logs)
        conn.executemany(insert_violation, facts)
        conn.executemany(insert_alert, alerts)
        conn.execute("COMMIT")
    last_hash = conn.execute("SELECT hash FROM audit_logs WHERE org_id = ? AND seq = ?", (ORG, seq)).fetchone()[0]
    conn.execute("BEGIN")
    conn.execute("UPDATE organizations SET last_seq = ?, last_hash = ? WHERE id = ?", (seq, last_hash, ORG))
    conn.executemany("INSERT INTO traces (org_id, trace_id, root_action, root_started_at, root_parentless, agent_ids, "
                     "span_count, flagged_count, blocked_count, enforcement, started_at, ended_at, last_seq) VALUES "
                     "(?, ?, 'plan', ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [(ORG, t, a[0], json.dumps(sorted(a[6])), a[2], a[3], a[4], a[5], a[0], a[1] + 40, a[7])
                      for t, a in traces.items()])
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def child(args: argparse.Namespace) -> int:
    """Build one report in this (fresh) process; print seconds and peak RSS as JSON."""
    from sidecar.clock import now_ms
    from sidecar.ids import new_id
    from sidecar.services.report_content import BuildContext
    from sidecar.services.reports import render_report
    from sidecar.store.db import open_database
    from sidecar.store.report_queries import tune_for_reports

    db = open_database(f"sqlite:///{Path(args.child) / 'agentaudit.db'}")
    db.connect()
    db.execute_sql("PRAGMA query_only = 1")
    tune_for_reports(db)
    end = now_ms()
    ctx = BuildContext(new_id("report"), ORG, args.type, {"from": end - 31 * DAY, "to": end}, end)
    started = time.perf_counter()
    with db.atomic():
        result = render_report(db, ctx, args.format, Path(args.out))
    elapsed = time.perf_counter() - started
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "rss_mb": rss_kb / 1024, "bytes": result.size}))
    return 0


def measure(data_dir: Path, kind: str, fmt: str, out: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", str(data_dir), "--type", kind, "--format", fmt,
                           "--out", str(out)], capture_output=True, text=True, timeout=1800, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def baseline_rss() -> float:
    """Peak RSS of a child that only imports what a build imports (the floor under every figure)."""
    code = ("import resource, sidecar.services.reports, sidecar.reports.pdf; "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    return float(done.stdout.strip())


def docs() -> int:
    """Render the sample compliance summary shown in the README (pages 1 and 2 as PNG under docs/)."""
    if shutil.which("pdftoppm") is None:
        print("needs pdftoppm (apt-get install poppler-utils)")
        return 1
    work = Path(tempfile.mkdtemp(prefix="agentaudit-docs-"))
    try:
        build_db(work / "data", 24_000, org_name="Acme Health")
        pdf = work / "compliance-summary.pdf"
        measure(work / "data", "compliance_summary", "pdf", pdf)
        target = ROOT / "docs"
        target.mkdir(exist_ok=True)
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "2", str(pdf),
                        str(target / "report-compliance-summary")], check=True, timeout=120)
        for found in sorted(target.glob("report-compliance-summary-*.png")):
            print(f"wrote {found.relative_to(ROOT)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--export", action="store_true", help="also time an audit_log_export CSV (every event)")
    parser.add_argument("--keep", help="build the databases in this directory and keep them")
    parser.add_argument("--docs", action="store_true", help="render the README's sample pages")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--type", default="compliance_summary", help=argparse.SUPPRESS)
    parser.add_argument("--format", default="pdf", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    if args.docs:
        return docs()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="agentaudit-bench-reports-"))
    floor = baseline_rss()
    print(f"# AgentAudit report benchmark ({os.cpu_count()} cores); each build in a fresh process; "
          f"import floor {floor:.0f} MB RSS")
    print(f"{'report':<34}{'events':>11}{'seconds':>9}{'peak RSS MB':>13}{'file':>12}")
    try:
        for n in args.events:
            data = work / f"db-{n}"
            if not (data / "agentaudit.db").exists():
                t0 = time.perf_counter()
                build_db(data, n)
                print(f"  (built a {n:,}-event database in {time.perf_counter() - t0:.0f} s)", flush=True)
            runs = [("compliance_summary", "pdf")] + ([("audit_log_export", "csv")] if args.export else [])
            for kind, fmt in runs:
                got = measure(data, kind, fmt, work / f"{kind}-{n}.{fmt}")
                print(f"{kind + ' ' + fmt:<34}{n:>11,}{got['seconds']:>9.2f}{got['rss_mb']:>13.0f}"
                      f"{got['bytes'] / 1024:>10.0f} KB", flush=True)
        print("goal: compliance_summary PDF over 100,000 events in < 10 s and < 300 MB; RSS flat from 100k to 1M")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
