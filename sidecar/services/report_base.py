"""What every report shares: the build context, the title facts, the integrity block, small formatters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from peewee import Database

from sidecar.clock import to_iso
from sidecar.reports.document import Document, FieldsBlock
from sidecar.reports.values import period_label, short_time
from sidecar.store import ledger as ledger_store
from sidecar.store import report_queries as rq
from sidecar.store.report_queries import Window
from sidecar.store.sql import q

TYPES = ("compliance_summary", "audit_log_export", "alert_summary", "agent_activity", "trace")
FORMATS = ("pdf", "csv", "json")
TITLES = {"compliance_summary": "Compliance summary", "audit_log_export": "Audit log export",
          "alert_summary": "Alert summary", "agent_activity": "Agent activity", "trace": "Trace report"}
SEVERITY_COLORS = {"critical": "#B91C1C", "warning": "#D97706", "info": "#3B82F6"}
PDF_EVENT_LIMIT = 5_000
PDF_ALERT_LIMIT = 5_000
PDF_SPAN_LIMIT = 5_000
RULE_TYPE_LABELS = {"pii_detect": "PII detector", "keyword_match": "Keywords", "regex_match": "Pattern",
                    "metadata_match": "Metadata", "rate_limit": "Rate limit", "sentiment_analysis": "Sentiment",
                    "prompt_injection": "Injection"}

#: Returns the integrity block for an organisation: the chain head now (and, once the ledger signs
#: checkpoints, the latest signed checkpoint). See :func:`chain_head_integrity`.
IntegritySource = Callable[[Database, str], dict[str, Any]]


def chain_head_integrity(db: Database, org_id: str) -> dict[str, Any]:
    """The organisation's hash-chain head at build time, and its newest signed checkpoint (None before the
    first one is signed)."""
    org = rq.organization(db, org_id)
    checkpoint = ledger_store.latest_checkpoint(db, org_id)
    return {"sequence": org["lastSeq"], "hash": org["lastHash"], "prunedThrough": org["prunedSeq"],
            "checkpoint": checkpoint.to_wire() if checkpoint is not None else None}


@dataclass(slots=True)
class BuildContext:
    """Who the report is for and how it is built."""

    report_id: str
    org_id: str
    type: str
    params: dict[str, Any]
    generated_at: int
    integrity: IntegritySource = chain_head_integrity
    progress: Callable[[float], None] = field(default=lambda fraction: None)

    @property
    def window(self) -> Window:
        return Window(self.org_id, int(self.params["from"]), int(self.params["to"]), self.params.get("agentId"),
                      self.params.get("policyId"))

    @property
    def show_sensitive(self) -> bool:
        return bool(self.params.get("showSensitive"))



# -- shared pieces ---------------------------------------------------------------------------------

#: What a policy-scoped report counts (every figure of it, events and violations alike).
POLICY_EVENTS = ("the events this policy's rules applied to: its attached agents' events since each was attached, "
                 "and any event that violated one of its rules")
POLICY_SCOPE_NOTE = (
    "Scope: every figure counts only the policy's events, those of the agents attached to it (by id, or by "
    "name as ingest resolves them) received since each was attached, plus any event that violated one of its "
    "rules (such as an agent's detached since). Under this scope an event is flagged when it violated a rule of "
    "the policy, and its outcome is the strongest action among those rules (block > flag > log), whatever "
    "other rules did; the event's own outcome, across all rules, is in the audit log. The policy's conditions "
    "(time of day, agent types, metadata) are not recorded per event, so an attached agent's event counts even "
    "if a condition kept the policy off it.")


def flag_terms(w: Window) -> dict[str, str]:
    """How a report names its events and their flagged, blocked and let-through shares in the window's scope."""
    if w.policy_id is None:
        return {"events": "Events audited", "flagged": "Flagged events (any rule matched)",
                "block": "Flagged, outcome block", "flag": "Flagged, outcome flag"}
    return {"events": "Events under the policy", "flagged": "Flagged events (a rule of the policy matched)",
            "block": "Blocked by the policy's rules", "flag": "Flagged by the policy's rules, let through"}


def scope(db: Database, ctx: BuildContext) -> list[tuple[str, str]]:
    params = ctx.params
    scope = [("Agents", f"agent {params['agentId']}" if params.get("agentId") else "all agents")]
    if ctx.type != "trace":
        policy = params.get("policyId")
        if policy:
            row = db.execute_sql(q(db, "SELECT name FROM policies WHERE id = ? AND org_id = ?"),
                                 (policy, ctx.org_id)).fetchone()
            scope.append(("Policies", f"{row[0]} ({policy})" if row else policy))
            scope.append(("Events", POLICY_EVENTS))
        else:
            scope.append(("Policies", "all policies and organisation-wide rules"))
    if params.get("name"):
        scope.insert(0, ("Name", str(params["name"])))
    return scope


def base_document(db: Database, ctx: BuildContext, *, subtitle: str | None, csv_table: str | None,
              period: tuple[int, int] | None = None) -> Document:
    org = rq.organization(db, ctx.org_id)
    if period is None and "from" in ctx.params:
        period = (int(ctx.params["from"]), int(ctx.params["to"]))
    return Document(report_type=ctx.type, title=TITLES[ctx.type], organization=org["name"], period=period,
                    scope=scope(db, ctx), generated_at=ctx.generated_at, report_id=ctx.report_id,
                    subtitle=subtitle, csv_table=csv_table, sensitive_shown=ctx.show_sensitive)


def period_text(start: int, end: int) -> str:
    return f"{period_label(start, end)} UTC"


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def bucket_labels(w: Window, width: int, count: int) -> list[str]:
    labels = []
    origin = rq.bucket_origin(w.start_ms)
    for i in range(count):
        day = (to_iso(origin + i * width) or "")[:10]
        labels.append(day[5:] if width == rq.DAY_MS else day)
    return labels


def integrity_block(db: Database, ctx: BuildContext, w: Window | None) -> FieldsBlock:
    """The chain head the report was built against, the period's first and last events and the newest signed
    checkpoint, as plain values (numbers, full hashes, the base64 signature and public key): enough to check
    the signature from the report alone."""
    integrity = ctx.integrity(db, ctx.org_id)
    pairs: list[tuple[str, str, Any]] = [
        ("headSequence", "Chain head sequence", integrity["sequence"]),
        ("headHash", "Chain head hash", integrity["hash"]),
        ("builtAt", "Read at", to_iso(ctx.generated_at)),
    ]
    if integrity.get("prunedThrough"):
        pairs.append(("prunedThrough", "Retention pruned through", integrity["prunedThrough"]))
    if w is not None:
        first, last = rq.first_and_last(db, Window(w.org_id, w.start_ms, w.end_ms))
        if first is not None and last is not None:
            pairs += [("firstSequence", "Period's first sequence", first["sequence"]),
                      ("firstHash", "Period's first hash", first["hash"]),
                      ("lastSequence", "Period's last sequence", last["sequence"]),
                      ("lastHash", "Period's last hash", last["hash"])]
        else:
            pairs.append(("eventsInPeriod", "Events in period", 0))
    checkpoint = integrity.get("checkpoint")
    if checkpoint:
        pairs += [("checkpointSequence", "Checkpoint sequence", checkpoint["sequence"]),
                  ("checkpointHash", "Checkpoint hash", checkpoint["hash"]),
                  ("checkpointKind", "Checkpoint kind", checkpoint.get("kind")),
                  ("checkpointOrganizationId", "Organisation ID", checkpoint.get("organizationId")),
                  ("checkpointSignedAt", "Signed at", checkpoint.get("signedAt")),
                  ("checkpointKeyId", "Signing key ID", checkpoint.get("keyId")),
                  ("checkpointPublicKey", "Public key (Ed25519)", checkpoint.get("publicKey")),
                  ("checkpointSignature", "Signature (base64)", checkpoint.get("signature"))]
        unsigned = int(integrity["sequence"]) - int(checkpoint["sequence"])
        if unsigned > 0:
            pairs.append(("unsignedEvents", "After the checkpoint", unsigned))
        signed = ("The signature is Ed25519, by the public key above, over the bytes "
                  "\"agentaudit-checkpoint-v1\" and a newline followed by the compact JSON, keys sorted, of "
                  "{hash, kind, organizationId, sequence, signedAt} of the checkpoint. "
                  + (f"The {unsigned:,} events after it are covered by the next signed checkpoint. " if unsigned > 0
                     else ""))
    else:
        pairs.append(("checkpointSequence", "Signed checkpoint", None))
        signed = "No checkpoint has been signed yet, so the chain head above is not signed. "
    return FieldsBlock(
        "integrity", "Integrity checkpoint", pairs, mono=True,
        note="Every stored event carries a sequence number and a SHA-256 hash chained to the event before it. "
             + signed + "Anyone can re-walk the chain and check the signature (agentaudit verify, or "
             "GET /audit-logs/:id/proof for one event) to confirm that the events this report covers are unchanged "
             "and complete up to that point.")


def rule_source(policy_name: str | None, policy_id: str | None, pack_id: str | None) -> str:
    """Where a rule comes from, for telling apart rules of the same name: ``policy Card handling, from pack
    finance``, ``pack hipaa`` or ``custom rule``."""
    if policy_id is not None:
        name = policy_name or policy_id
        return f"policy {name}, from pack {pack_id}" if pack_id else f"policy {name}"
    return f"pack {pack_id}" if pack_id else "custom rule"


def masking_note(show_sensitive: bool) -> str:
    """What the placeholders in prompts, responses and metadata mean."""
    redacted = ("[REDACTED:type] marks a value a rule removed when the event was stored; it was never kept and "
                "cannot be recovered.")
    if show_sensitive:
        return f"Values are shown as recorded. {redacted}"
    return ("[MASKED:type] marks a personal, financial or secret value that a rule matched, hidden in this report "
            f"(the stored event still holds it). {redacted} Phrases caught by prompt-injection rules are not "
            "personal data and are shown as recorded.")


ALERT_STATUSES = ("open", "acknowledged", "resolved", "false_positive")
#: How reports name alert statuses for people (the API value stays in JSON and CSV).
ALERT_STATUS_LABELS = {"open": "Open", "acknowledged": "Acknowledged", "resolved": "Resolved",
                       "false_positive": "False positive"}


def alert_counts(triage: dict[str, Any]) -> dict[str, int]:
    """Alert counts by status, with the API's "not closed" (open or acknowledged, as ``/alerts/counts``)."""
    count = {s: sum(triage["byStatus"].get(s, {}).values()) for s in ALERT_STATUSES}
    critical = sum(triage["byStatus"].get(s, {}).get("critical", 0) for s in ("open", "acknowledged"))
    return {"open": count["open"], "acknowledged": count["acknowledged"], "resolved": count["resolved"],
            "falsePositive": count["false_positive"], "notClosed": count["open"] + count["acknowledged"],
            "closed": count["resolved"] + count["false_positive"], "criticalNotClosed": critical}


def triage_note(triage: dict[str, Any], *, definitions: bool = False) -> str | None:
    parts = []
    if definitions:
        parts.append("Open: not yet triaged. Acknowledged: being looked at, not closed. Closed: resolved or false "
                     "positive.")
    if triage["meanResolveMs"] is not None:
        parts.append(f"Mean time to close: {duration(triage['meanResolveMs'])} (longest {duration(triage['maxResolveMs'])}, "
                     f"{triage['closed']:,} closed).")
    if triage["oldestOpenAt"] is not None:
        parts.append(f"Oldest alert still open: raised {short_time(triage['oldestOpenAt'])} UTC.")
    return " ".join(parts) or None


def duration(ms: float | int | None) -> str:
    if ms is None:
        return "—"
    seconds = ms / 1000
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


