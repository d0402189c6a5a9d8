"""Read queries behind reports: aggregates computed in SQL and row iterators read in chunks.

Nothing here holds a period's events in memory: counts come from indexes (sequence ranges, the
partial ``flagged`` index, the violations fact table) and long lists are iterated by keyset paging.
Every query is scoped by organisation. Times are epoch milliseconds, windows inclusive.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from peewee import Database

from sidecar.store import logs as log_store
# the event queries live in report_events; the report builders reach them through this module
from sidecar.store.report_events import (DAY_MS, OUTCOMES, Window, bucket_count, bucket_ms, bucket_origin,
                                         event_scope, event_totals, events_per_bucket, first_and_last, iter_events,
                                         scoped_flagged_traces)
from sidecar.store.sql import q

SEVERITIES = ("critical", "warning", "info")


def tune_for_reports(db: Database) -> None:
    """Set up the calling thread's connection for report queries: large GROUP BY sorts and DISTINCT sets
    spill to temporary files instead of memory, and the page cache stays small, so a report's memory does
    not grow with the number of events. (The API's connections keep their in-memory temp store.)"""
    from sidecar.store.db import is_sqlite

    if is_sqlite(db):
        db.execute_sql("PRAGMA temp_store = FILE")
        db.execute_sql("PRAGMA cache_size = -8000")


def _violation_where(w: Window) -> tuple[str, list[Any]]:
    clauses = ["org_id = ?", "created_at >= ?", "created_at <= ?"]
    params: list[Any] = [w.org_id, w.start_ms, w.end_ms]
    if w.agent_id is not None:
        clauses.append("agent_id = ?")
        params.append(w.agent_id)
    if w.policy_id is not None:
        clauses.append("policy_id = ?")
        params.append(w.policy_id)
    return " AND ".join(clauses), params


def _rows(db: Database, statement: str, params: list[Any] | tuple[Any, ...]) -> list[tuple[Any, ...]]:
    return db.execute_sql(q(db, statement), params).fetchall()


# -- events ----------------------------------------------------------------------------------------

def organization(db: Database, org_id: str) -> dict[str, Any]:
    row = db.execute_sql(q(db, "SELECT name, email, last_seq, last_hash, pruned_seq FROM organizations WHERE id = ?"),
                         (org_id,)).fetchone()
    if row is None:
        return {"name": org_id, "email": "", "lastSeq": 0, "lastHash": "0" * 64, "prunedSeq": 0}
    return {"name": row[0], "email": row[1], "lastSeq": int(row[2]), "lastHash": row[3], "prunedSeq": int(row[4])}


# -- violations ------------------------------------------------------------------------------------

def violation_breakdowns(db: Database, w: Window, *, top: int = 25, top_agents: int = 15) -> dict[str, Any]:
    """Violations by severity, action, pack, rule and agent (GROUP BYs over the fact table's time index)."""
    where, params = _violation_where(w)
    by_severity = {s: 0 for s in SEVERITIES}
    for severity, n in _rows(db, f"SELECT severity, COUNT(*) FROM violations WHERE {where} GROUP BY severity", params):
        by_severity[severity] = by_severity.get(severity, 0) + int(n)
    by_action = {a: int(n) for a, n in _rows(db, f"SELECT action, COUNT(*) FROM violations WHERE {where} GROUP BY action",
                                             params)}
    packs = [{"packId": p, "violations": int(n), "events": int(e), "critical": int(c)} for p, n, e, c in _rows(
        db, f"SELECT pack_id, COUNT(*), COUNT(DISTINCT audit_log_id), SUM(CASE WHEN severity = 'critical' THEN 1 ELSE 0 END) "
            f"FROM violations WHERE {where} GROUP BY pack_id ORDER BY COUNT(*) DESC", params)]
    rules = [{"ruleId": r[0], "ruleName": r[1], "ruleType": r[2], "severity": r[3], "packId": r[4], "violations": int(r[5]),
              "block": int(r[6]), "flag": int(r[7]), "log": int(r[8]), "policyId": r[9]} for r in _rows(
        db, f"SELECT rule_id, MAX(rule_name), MAX(rule_type), MAX(severity), MAX(pack_id), COUNT(*), "
            f"SUM(CASE WHEN action = 'block' THEN 1 ELSE 0 END), SUM(CASE WHEN action = 'flag' THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN action = 'log' THEN 1 ELSE 0 END), MAX(policy_id) FROM violations WHERE {where} "
            f"GROUP BY rule_id ORDER BY COUNT(*) DESC, MAX(rule_name) LIMIT ?", [*params, top])]
    rule_count = int(_rows(db, f"SELECT COUNT(DISTINCT rule_id) FROM violations WHERE {where}", params)[0][0])
    agents = [{"agentId": a, "violations": int(n), "events": int(e), "critical": int(c)} for a, n, e, c in _rows(
        db, f"SELECT agent_id, COUNT(*), COUNT(DISTINCT audit_log_id), "
            f"SUM(CASE WHEN severity = 'critical' THEN 1 ELSE 0 END) FROM violations WHERE {where} "
            f"GROUP BY agent_id ORDER BY COUNT(*) DESC LIMIT ?", [*params, top_agents])]
    agent_count = int(_rows(db, f"SELECT COUNT(DISTINCT COALESCE(agent_id, '')) FROM violations WHERE {where}",
                            params)[0][0])
    events = int(_rows(db, f"SELECT COUNT(DISTINCT audit_log_id) FROM violations WHERE {where}", params)[0][0])
    return {"total": sum(by_severity.values()), "events": events, "bySeverity": by_severity, "byAction": by_action,
            "byPack": packs, "byRule": rules, "ruleCount": rule_count, "byAgent": agents, "agentCount": agent_count}


def violations_per_bucket(db: Database, w: Window, width: int) -> dict[str, list[int]]:
    """Violations per bucket and severity."""
    where, params = _violation_where(w)
    count = bucket_count(w, width)
    out = {s: [0] * count for s in SEVERITIES}
    for bucket, severity, n in _rows(db, f"SELECT (created_at - ?) / ?, severity, COUNT(*) FROM violations "
                                         f"WHERE {where} GROUP BY 1, 2", [bucket_origin(w.start_ms), width, *params]):
        if int(bucket) >= 0 and severity in out:
            out[severity][min(int(bucket), count - 1)] += int(n)
    return out


# -- traces ----------------------------------------------------------------------------------------

def top_flagged_traces(db: Database, w: Window, *, limit: int = 10) -> list[dict[str, Any]]:
    """Traces with the most flagged spans: for the whole organisation, traces active in the window by their
    own counts; under an agent or a policy, the spans of the window's events in that scope, so a trace's
    flagged and blocked spans (and its outcome) count what the scope covers."""
    if w.agent_id is not None or w.policy_id is not None:
        out = []
        for trace_id, flagged, blocked, rank in scoped_flagged_traces(db, w, limit=limit):
            summary = trace_summary(db, w.org_id, trace_id)
            if summary is not None:
                out.append({**summary, "flaggedCount": flagged, "blockedCount": blocked,
                            "enforcementAction": OUTCOMES[rank]})
        return out
    rows = _rows(db, "SELECT trace_id, root_action, agent_ids, span_count, flagged_count, blocked_count, enforcement, "
                     "started_at, ended_at FROM traces WHERE org_id = ? AND flagged_count > 0 AND ended_at >= ? "
                     "AND started_at <= ? ORDER BY flagged_count DESC, blocked_count DESC, last_seq DESC LIMIT ?",
                 [w.org_id, w.start_ms, w.end_ms, limit])
    return [{"traceId": r[0], "rootAction": r[1], "agentIds": orjson.loads(r[2]), "spanCount": int(r[3]),
             "flaggedCount": int(r[4]), "blockedCount": int(r[5]), "enforcementAction": r[6], "startedAt": int(r[7]),
             "endedAt": int(r[8])} for r in rows]


def trace_summary(db: Database, org_id: str, trace_id: str) -> dict[str, Any] | None:
    row = db.execute_sql(q(db, "SELECT trace_id, root_action, agent_ids, span_count, flagged_count, blocked_count, "
                               "enforcement, started_at, ended_at FROM traces WHERE org_id = ? AND trace_id = ?"),
                         (org_id, trace_id)).fetchone()
    if row is None:
        return None
    return {"traceId": row[0], "rootAction": row[1], "agentIds": orjson.loads(row[2]), "spanCount": int(row[3]),
            "flaggedCount": int(row[4]), "blockedCount": int(row[5]), "enforcementAction": row[6],
            "startedAt": int(row[7]), "endedAt": int(row[8])}


# -- alerts ----------------------------------------------------------------------------------------

def _alert_where(w: Window) -> tuple[str, list[Any]]:
    clauses = ["org_id = ?", "created_at >= ?", "created_at <= ?"]
    params: list[Any] = [w.org_id, w.start_ms, w.end_ms]
    if w.agent_id is not None:
        clauses.append("agent_id = ?")
        params.append(w.agent_id)
    if w.policy_id is not None:
        clauses.append("policy_id = ?")
        params.append(w.policy_id)
    return " AND ".join(clauses), params


def alert_triage(db: Database, w: Window) -> dict[str, Any]:
    """Alerts raised in the window by status and severity, with resolution times."""
    where, params = _alert_where(w)
    matrix: dict[str, dict[str, int]] = {}
    for status, severity, n in _rows(db, f"SELECT status, severity, COUNT(*) FROM alerts WHERE {where} "
                                         "GROUP BY status, severity", params):
        matrix.setdefault(status, {s: 0 for s in SEVERITIES})[severity] = int(n)
    closed = _rows(db, f"SELECT COUNT(*), AVG(resolved_at - created_at), MAX(resolved_at - created_at) FROM alerts "
                       f"WHERE {where} AND resolved_at IS NOT NULL", params)[0]
    oldest_open = _rows(db, f"SELECT MIN(created_at) FROM alerts WHERE {where} AND status IN ('open', 'acknowledged')",
                        params)[0][0]
    return {"byStatus": matrix, "total": sum(sum(v.values()) for v in matrix.values()),
            "closed": int(closed[0] or 0), "meanResolveMs": float(closed[1]) if closed[1] is not None else None,
            "maxResolveMs": int(closed[2]) if closed[2] is not None else None,
            "oldestOpenAt": int(oldest_open) if oldest_open is not None else None}


def alerts_by_rule(db: Database, w: Window, *, top: int = 25) -> list[dict[str, Any]]:
    where, params = _alert_where(w)
    rows = _rows(db, f"SELECT rule_id, MAX(severity_rank), COUNT(*), "
                     f"SUM(CASE WHEN status IN ('open', 'acknowledged') THEN 1 ELSE 0 END), MIN(details) "
                     f"FROM alerts WHERE {where} GROUP BY rule_id ORDER BY COUNT(*) DESC LIMIT ?", [*params, top])
    out = []
    for rule_id, rank, n, open_n, details in rows:
        name = (orjson.loads(details) or {}).get("ruleName") if details else None
        out.append({"ruleId": rule_id, "ruleName": name or rule_id or "(deleted rule)",
                    "severity": {2: "critical", 1: "warning"}.get(int(rank), "info"), "alerts": int(n),
                    "open": int(open_n)})
    return out


def iter_alerts(db: Database, w: Window, *, chunk: int = 1000) -> Iterator[list[dict[str, Any]]]:
    """The window's alerts, oldest first, in chunks (keyset paging on the time-sortable id)."""
    where, params = _alert_where(w)
    after = ""
    while True:
        rows = _rows(db, f"SELECT id, created_at, severity, status, message, rule_id, policy_id, audit_log_id, agent_id, "
                         f"details, note, resolved_at, resolved_by FROM alerts WHERE {where} AND id > ? ORDER BY id "
                         f"LIMIT ?", [*params, after, chunk])
        if not rows:
            return
        events = _events_by_id(db, w.org_id, {r[7] for r in rows if r[7]})
        actors = _actors_by_id(db, w.org_id, {r[12] for r in rows if r[12]})
        yield [{"id": r[0], "createdAt": int(r[1]), "severity": r[2], "status": r[3], "message": r[4], "ruleId": r[5],
                "policyId": r[6], "auditLogId": r[7], "agentId": r[8],
                "ruleName": (orjson.loads(r[9]) or {}).get("ruleName") if r[9] else None, "note": r[10],
                "resolvedAt": int(r[11]) if r[11] is not None else None, "resolvedBy": r[12],
                "event": events.get(r[7]), "resolver": actors.get(r[12])} for r in rows]
        after = rows[-1][0]
        if len(rows) < chunk:
            return


def _events_by_id(db: Database, org_id: str, ids: set[str]) -> dict[str, dict[str, Any]]:
    """``{id: {sequence, action, enforcementAction}}`` of the events alerts point at (one query per chunk)."""
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    return {r[0]: {"sequence": int(r[1]), "action": r[2], "enforcementAction": r[3]} for r in _rows(
        db, f"SELECT id, seq, action, enforcement FROM audit_logs WHERE org_id = ? AND id IN ({marks})",
        [org_id, *sorted(ids)])}


def _actors_by_id(db: Database, org_id: str, ids: set[str]) -> dict[str, dict[str, Any]]:
    """``{id: {email, name}}`` for the users (and ``{name}`` for the API keys) that triaged alerts."""
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    found: dict[str, dict[str, Any]] = {r[0]: {"email": r[1], "name": r[2]} for r in _rows(
        db, f"SELECT id, email, name FROM users WHERE org_id = ? AND id IN ({marks})", [org_id, *sorted(ids)])}
    found.update({r[0]: {"email": None, "name": f"API key {r[1]}"} for r in _rows(
        db, f"SELECT id, name FROM api_keys WHERE org_id = ? AND id IN ({marks})", [org_id, *sorted(ids)])})
    return found


def rule_sources(db: Database, org_id: str, rule_ids: set[str]) -> dict[str, dict[str, Any]]:
    """``{rule id: {policyId, policyName, packId}}``: where each rule comes from (a policy, possibly cloned from a
    pack, or an organisation-wide pack or custom rule). Rules deleted since are missing."""
    if not rule_ids:
        return {}
    marks = ", ".join("?" * len(rule_ids))
    return {r[0]: {"policyId": r[1], "policyName": r[2], "packId": r[3]} for r in _rows(
        db, f"SELECT r.id, r.policy_id, p.name, r.pack_id FROM rules r LEFT JOIN policies p ON p.id = r.policy_id "
            f"WHERE r.org_id = ? AND r.id IN ({marks})", [org_id, *sorted(rule_ids)])}


def policy_names(db: Database, org_id: str) -> dict[str, str]:
    return dict(_rows(db, "SELECT id, name FROM policies WHERE org_id = ?", [org_id]))


# -- agents ----------------------------------------------------------------------------------------

def agent_activity(db: Database, w: Window) -> list[dict[str, Any]]:
    """Per agent in the window (and scope): events, flagged, blocked, first and last seen, top action; names."""
    lo, hi = log_store.seq_range(db, w.org_id, w.start_ms, w.end_ms)
    s = event_scope(db, w)
    rows = _rows(db, f"SELECT agent_id, COUNT(*), SUM(CASE WHEN {s.rank} IS NOT NULL THEN 1 ELSE 0 END), "
                     f"SUM(CASE WHEN {s.rank} = 3 THEN 1 ELSE 0 END), MIN(created_at), MAX(created_at), "
                     f"COUNT(DISTINCT action), COUNT(DISTINCT trace_id) "
                     f"FROM {s.source} WHERE org_id = ? AND seq BETWEEN ? AND ?{s.where} GROUP BY agent_id "
                     "ORDER BY COUNT(*) DESC", s.params(w.org_id, lo, hi))
    violations = {a: (int(n), int(c)) for a, n, c in _rows(
        db, f"SELECT agent_id, COUNT(*), SUM(CASE WHEN severity = 'critical' THEN 1 ELSE 0 END) FROM violations "
            f"WHERE {_violation_where(w)[0]} GROUP BY agent_id", _violation_where(w)[1])}
    names = {}
    for agent_id, name, kind in _rows(db, "SELECT id, name, type FROM agents WHERE org_id = ?", [w.org_id]):
        names[agent_id] = (name, kind)
        names.setdefault(name, (name, kind))
    out = []
    for agent_id, n, flagged, blocked, first, last, actions, traces in rows:
        name, kind = names.get(agent_id, (None, None)) if agent_id is not None else (None, None)
        v, crit = violations.get(agent_id, (0, 0))
        out.append({"agentId": agent_id, "name": name, "type": kind, "events": int(n), "flagged": int(flagged or 0),
                    "blocked": int(blocked or 0), "violations": v, "critical": crit, "firstSeen": int(first),
                    "lastSeen": int(last), "actions": int(actions), "traces": int(traces)})
    return out


def agent_actions(db: Database, w: Window, *, top: int = 40) -> list[dict[str, Any]]:
    """Events per (agent, action) in the window (and scope), most frequent first."""
    lo, hi = log_store.seq_range(db, w.org_id, w.start_ms, w.end_ms)
    s = event_scope(db, w)
    return [{"agentId": a, "action": act, "events": int(n), "flagged": int(f or 0)} for a, act, n, f in _rows(
        db, f"SELECT agent_id, action, COUNT(*), SUM(CASE WHEN {s.rank} IS NOT NULL THEN 1 ELSE 0 END) "
            f"FROM {s.source} WHERE org_id = ? AND seq BETWEEN ? AND ?{s.where} GROUP BY agent_id, action "
            "ORDER BY COUNT(*) DESC LIMIT ?", [*s.params(w.org_id, lo, hi), top])]


# -- policies --------------------------------------------------------------------------------------

def policies_in_force(db: Database, w: Window) -> list[dict[str, Any]]:
    """Per policy: the version in force at the window's end, and how many versions were made inside it."""
    clauses = "org_id = ?"
    params: list[Any] = [w.org_id]
    if w.policy_id is not None:
        clauses += " AND id = ?"
        params.append(w.policy_id)
    policies = _rows(db, f"SELECT id, name, mode, priority, is_active, source_pack_id, version FROM policies "
                         f"WHERE {clauses} ORDER BY priority DESC, name", params)
    out = []
    for policy_id, name, mode, priority, active, pack, current in policies:
        row = db.execute_sql(q(db, "SELECT version_number, name, snapshot, created_at, created_by FROM policy_versions "
                                   "WHERE policy_id = ? AND org_id = ? AND created_at <= ? ORDER BY version_number DESC "
                                   "LIMIT 1"), (policy_id, w.org_id, w.end_ms)).fetchone()
        changes = int(db.execute_sql(q(db, "SELECT COUNT(*) FROM policy_versions WHERE policy_id = ? AND org_id = ? "
                                           "AND created_at >= ? AND created_at <= ?"),
                                     (policy_id, w.org_id, w.start_ms, w.end_ms)).fetchone()[0])
        entry: dict[str, Any] = {"policyId": policy_id, "name": name, "mode": mode, "priority": int(priority),
                                 "isActive": bool(active), "sourcePackId": pack, "currentVersion": int(current),
                                 "changesInPeriod": changes, "versionInForce": None}
        if row is not None:
            snap = orjson.loads(row[2])
            rules = snap.get("rules") or []
            entry["versionInForce"] = {"versionNumber": int(row[0]), "name": row[1] or f"v{row[0]}",
                                       "createdAt": int(row[3]), "createdBy": row[4], "mode": snap.get("mode", mode),
                                       "isActive": bool(snap.get("isActive", active)),
                                       "ruleCount": len(rules),
                                       "activeRules": sum(1 for r in rules if r.get("isActive", True))}
        out.append(entry)
    return out


def org_rules(db: Database, org_id: str, as_of: int) -> list[dict[str, Any]]:
    """Organisation-wide rules by pack (``None``: custom rules) that existed at ``as_of``, with installed pack
    versions (packs installed after ``as_of`` are left out)."""
    installed = {p: (v, int(at)) for p, v, at in _rows(
        db, "SELECT pack_id, version, installed_at FROM installed_packs WHERE org_id = ?", [org_id])}
    rows = _rows(db, "SELECT pack_id, COUNT(*), SUM(CASE WHEN is_active THEN 1 ELSE 0 END) FROM rules "
                     "WHERE org_id = ? AND policy_id IS NULL AND created_at <= ? GROUP BY pack_id ORDER BY pack_id",
                 [org_id, as_of])
    out = []
    for pack, n, active in rows:
        version, at = installed.get(pack, (None, None)) if pack else (None, None)
        if at is not None and at > as_of:
            continue
        out.append({"packId": pack, "version": version, "installedAt": at, "rules": int(n), "activeRules": int(active or 0)})
    return out
