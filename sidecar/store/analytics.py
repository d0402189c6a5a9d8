"""Policy analytics: aggregates over the violations table (one row per violated rule per event)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peewee import Database

from sidecar.clock import to_iso
from sidecar.store import logs as log_store
from sidecar.store.logs import LogFilter
from sidecar.store.sql import q

_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class AnalyticsFilter:
    start_ms: int
    end_ms: int
    agent_id: str | None = None
    rule_type: str | None = None
    severity: str | None = None
    policy_id: str | None = None  # None: every policy and organisation-wide rule


def _where(org_id: str, flt: AnalyticsFilter) -> tuple[str, list[Any]]:
    clauses = ["org_id = ?", "created_at >= ?", "created_at <= ?"]
    params: list[Any] = [org_id, flt.start_ms, flt.end_ms]
    for column, value in (("policy_id", flt.policy_id), ("agent_id", flt.agent_id), ("rule_type", flt.rule_type),
                          ("severity", flt.severity)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    return " AND ".join(clauses), params


def policy_analytics(db: Database, org_id: str, flt: AnalyticsFilter) -> dict[str, Any]:
    """Counts, per-rule and per-agent breakdowns and a daily trend for the window."""
    where, params = _where(org_id, flt)
    total_audits = log_store.list_logs(db, org_id, LogFilter(agent_id=flt.agent_id, start_ms=flt.start_ms,
                                                             end_ms=flt.end_ms), limit=1, offset=0).total
    events = db.execute_sql(q(db, f"SELECT action, COUNT(DISTINCT audit_log_id), COUNT(*) FROM violations WHERE {where} "
                                  "GROUP BY action"), params).fetchall()
    by_action = {action: (int(distinct), int(count)) for action, distinct, count in events}
    rules = db.execute_sql(q(db, f"SELECT rule_id, rule_name, rule_type, severity, action, policy_id, COUNT(*) "
                                 f"FROM violations WHERE {where} "
                                 "GROUP BY rule_id, rule_name, rule_type, severity, action, policy_id "
                                 "ORDER BY COUNT(*) DESC LIMIT 100"), params).fetchall()
    agents = db.execute_sql(q(db, f"SELECT agent_id, COUNT(*), COUNT(DISTINCT audit_log_id) FROM violations "
                                  f"WHERE {where} GROUP BY agent_id ORDER BY COUNT(*) DESC LIMIT 100"), params).fetchall()
    days = db.execute_sql(q(db, f"SELECT created_at / {_DAY_MS}, action, COUNT(*) FROM violations WHERE {where} "
                                "GROUP BY created_at / 86400000, action ORDER BY 1"), params).fetchall()
    trend: dict[int, dict[str, Any]] = {}
    for day, action, count in days:
        entry = trend.setdefault(int(day), {"date": (to_iso(int(day) * _DAY_MS) or "")[:10], "violations": 0,
                                            "block": 0, "flag": 0, "log": 0})
        entry["violations"] += int(count)
        if action in ("block", "flag", "log"):
            entry[action] += int(count)
    return {
        "window": {"startDate": to_iso(flt.start_ms), "endDate": to_iso(flt.end_ms)},
        "totalAudits": total_audits,
        "totalViolations": sum(count for _, count in by_action.values()),
        "violatingEvents": sum(distinct for distinct, _ in by_action.values()),
        "blockCount": by_action.get("block", (0, 0))[1],
        "flagCount": by_action.get("flag", (0, 0))[1],
        "logCount": by_action.get("log", (0, 0))[1],
        "ruleBreakdown": [{"ruleId": r[0], "ruleName": r[1], "ruleType": r[2], "severity": r[3], "action": r[4],
                           "policyId": r[5], "count": int(r[6])} for r in rules],
        "agentBreakdown": [{"agentId": a[0], "violations": int(a[1]), "events": int(a[2])} for a in agents],
        "dailyTrend": list(trend.values()),
    }
