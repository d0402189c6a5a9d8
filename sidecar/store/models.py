"""Peewee models: the schema at its newest version (migrations bring older databases here).

Times are integer epoch milliseconds; JSON columns hold compact JSON text.
Rows never leave the store: query modules turn them into plain dicts or records.
"""

from __future__ import annotations

from peewee import (
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    CompositeKey,
    DatabaseProxy,
    DoubleField,
    IntegerField,
    Model,
    SQL,
    TextField,
)

database_proxy = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class SchemaVersion(BaseModel):
    """One row per applied migration."""

    version = IntegerField(primary_key=True)
    applied_at = BigIntegerField()

    class Meta:
        table_name = "schema_version"


class Organization(BaseModel):
    """A tenant. ``last_seq``/``last_hash`` are the head of its hash chain; ``pruned_seq`` what retention cut."""

    id = CharField(primary_key=True, max_length=40)
    name = CharField(max_length=200)
    email = CharField(max_length=320)
    plan = CharField(max_length=40, default="self_hosted")
    retention_days = IntegerField(null=True)
    last_seq = BigIntegerField(default=0)
    last_hash = CharField(max_length=64, default="0" * 64)
    pruned_seq = BigIntegerField(default=0)
    pruned_hash = CharField(max_length=64, default="0" * 64)
    compliance_version = BigIntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    created_at = BigIntegerField()
    updated_at = BigIntegerField()

    class Meta:
        table_name = "organizations"


class User(BaseModel):
    id = CharField(primary_key=True, max_length=40)
    org_id = CharField(max_length=40, index=True)
    email = CharField(max_length=320, unique=True)
    name = CharField(max_length=200)
    password_hash = CharField(max_length=300)
    role = CharField(max_length=20)
    created_at = BigIntegerField()
    updated_at = BigIntegerField()

    class Meta:
        table_name = "users"


class ApiKey(BaseModel):
    """An API key: only its SHA-256 and a short visible prefix are stored."""

    id = CharField(primary_key=True, max_length=40)
    org_id = CharField(max_length=40)
    name = CharField(max_length=200)
    prefix = CharField(max_length=20)
    key_hash = CharField(max_length=64, unique=True)
    scopes = TextField()
    created_by = CharField(max_length=40, null=True)
    created_at = BigIntegerField()
    last_used_at = BigIntegerField(null=True)
    revoked_at = BigIntegerField(null=True)

    class Meta:
        table_name = "api_keys"
        indexes = ((("org_id", "created_at"), False),)


class Session(BaseModel):
    """A login: the current refresh token's hash; rotating replaces it, reuse of an old one revokes the session."""

    id = CharField(primary_key=True, max_length=40)
    user_id = CharField(max_length=40, index=True)
    org_id = CharField(max_length=40)
    refresh_jti = CharField(max_length=64)
    created_at = BigIntegerField()
    refreshed_at = BigIntegerField()
    expires_at = BigIntegerField()
    revoked_at = BigIntegerField(null=True)

    class Meta:
        table_name = "sessions"


class AuditLog(BaseModel):
    """One audit event. Append-only: the store never updates or deletes single rows."""

    id = CharField(primary_key=True, max_length=40)
    org_id = CharField(max_length=40)
    seq = BigIntegerField()
    action = CharField(max_length=200)
    agent_id = CharField(max_length=200, null=True)
    trace_id = CharField(max_length=200, null=True)
    span_id = CharField(max_length=200)
    parent_span_id = CharField(max_length=200, null=True)
    prompt = TextField(null=True)
    response = TextField(null=True)
    metadata = TextField(null=True)
    started_at = BigIntegerField()
    ended_at = BigIntegerField()
    created_at = BigIntegerField()
    flags = TextField(null=True)
    enforcement = CharField(max_length=10)
    flagged = BooleanField()
    violations = TextField(null=True)
    hash = CharField(max_length=64)

    class Meta:
        table_name = "audit_logs"
        indexes = (
            (("org_id", "seq"), True),
            (("org_id", "agent_id", "seq"), False),
            (("org_id", "trace_id", "started_at"), False),
        )


class Trace(BaseModel):
    """Running summary of one trace, maintained by the writer so trace lists never aggregate the log table."""

    org_id = CharField(max_length=40)
    trace_id = CharField(max_length=200)
    root_action = CharField(max_length=200, null=True)
    root_started_at = BigIntegerField(null=True)
    root_parentless = BooleanField(default=False)
    agent_ids = TextField()
    span_count = IntegerField()
    flagged_count = IntegerField()
    blocked_count = IntegerField()
    enforcement = CharField(max_length=10)
    started_at = BigIntegerField()
    ended_at = BigIntegerField()
    last_seq = BigIntegerField()

    class Meta:
        table_name = "traces"
        primary_key = False
        indexes = (
            (("org_id", "trace_id"), True),
            (("org_id", "last_seq"), False),
        )


class Agent(BaseModel):
    """A registered agent. Events name agents by id or by name; deleting an agent keeps its events."""

    id = CharField(primary_key=True, max_length=40)
    org_id = CharField(max_length=40)
    name = CharField(max_length=200)
    type = CharField(max_length=100, default="custom")
    description = TextField(null=True)
    metadata = TextField(null=True)
    config = TextField(null=True)
    created_at = BigIntegerField()
    updated_at = BigIntegerField()

    class Meta:
        table_name = "agents"
        indexes = ((("org_id", "name"), False),)


class Policy(BaseModel):
    """A named, versioned bundle of rules with a mode and a priority, attachable to agents."""

    id = CharField(primary_key=True, max_length=40)
    org_id = CharField(max_length=40, index=True)
    name = CharField(max_length=200)
    description = TextField(null=True)
    mode = CharField(max_length=10)
    priority = IntegerField(default=0)
    conditions = TextField(null=True)
    is_active = BooleanField(default=True)
    source_pack_id = CharField(max_length=40, null=True)
    redaction = CharField(max_length=10, default="none")
    version = IntegerField(default=1)
    created_at = BigIntegerField()
    updated_at = BigIntegerField()

    class Meta:
        table_name = "policies"


class Rule(BaseModel):
    """A compliance rule: organisation-wide (no policy) or inside a policy."""

    id = CharField(primary_key=True, max_length=40)
    org_id = CharField(max_length=40)
    policy_id = CharField(max_length=40, null=True)
    pack_id = CharField(max_length=40, null=True)
    pack_rule_key = CharField(max_length=100, null=True)
    name = CharField(max_length=200)
    rule_type = CharField(max_length=40)
    condition = TextField()
    severity = CharField(max_length=10)
    action_override = CharField(max_length=10, null=True)
    redaction = CharField(max_length=10, default="none")
    is_active = BooleanField(default=True)
    position = IntegerField(default=0)
    created_at = BigIntegerField()
    updated_at = BigIntegerField()

    class Meta:
        table_name = "rules"
        indexes = ((("org_id", "policy_id"), False),)


class PolicyAgent(BaseModel):
    org_id = CharField(max_length=40)
    policy_id = CharField(max_length=40)
    agent_id = CharField(max_length=40)
    created_at = BigIntegerField()

    class Meta:
        table_name = "policy_agents"
        primary_key = False
        indexes = ((("policy_id", "agent_id"), True), (("org_id", "agent_id"), False))


class PolicyVersion(BaseModel):
    """A snapshot of a policy and its rules, made on every change."""

    id = CharField(primary_key=True, max_length=40)
    org_id = CharField(max_length=40)
    policy_id = CharField(max_length=40)
    version_number = IntegerField()
    name = CharField(max_length=200, null=True)
    snapshot = TextField()
    restored_from_id = CharField(max_length=40, null=True)
    created_by = CharField(max_length=40, null=True)
    created_at = BigIntegerField()

    class Meta:
        table_name = "policy_versions"
        indexes = ((("policy_id", "version_number"), True),)


class InstalledPack(BaseModel):
    org_id = CharField(max_length=40)
    pack_id = CharField(max_length=40)
    version = CharField(max_length=40)
    installed_at = BigIntegerField()

    class Meta:
        table_name = "installed_packs"
        primary_key = False
        indexes = ((("org_id", "pack_id"), True),)


class Alert(BaseModel):
    """One violated rule of a flagged or blocked event, for a person to triage."""

    id = CharField(primary_key=True, max_length=40)
    org_id = CharField(max_length=40)
    severity = CharField(max_length=10)
    severity_rank = IntegerField()
    status = CharField(max_length=20, default="open")
    message = TextField()
    rule_id = CharField(max_length=40, null=True)
    policy_id = CharField(max_length=40, null=True)
    audit_log_id = CharField(max_length=40, null=True)  # null for alerts about no event (billing)
    agent_id = CharField(max_length=200, null=True)
    details = TextField(null=True)
    note = TextField(null=True)
    created_at = BigIntegerField()
    updated_at = BigIntegerField()
    resolved_at = BigIntegerField(null=True)
    resolved_by = CharField(max_length=40, null=True)

    class Meta:
        table_name = "alerts"
        indexes = (
            (("org_id", "status", "severity_rank", "id"), False),
            (("org_id", "severity_rank", "id"), False),
            (("org_id", "audit_log_id"), False),
        )


class Violation(BaseModel):
    """One violated rule of one stored event: the fact table behind policy analytics."""

    org_id = CharField(max_length=40)
    audit_log_id = CharField(max_length=40)
    rule_id = CharField(max_length=40)
    policy_id = CharField(max_length=40, null=True)
    pack_id = CharField(max_length=40, null=True)
    agent_id = CharField(max_length=200, null=True)
    rule_name = CharField(max_length=200)
    rule_type = CharField(max_length=40)
    severity = CharField(max_length=10)
    action = CharField(max_length=10)
    created_at = BigIntegerField()

    class Meta:
        table_name = "violations"
        indexes = ((("org_id", "created_at"), False), (("org_id", "policy_id", "created_at"), False))


class Activity(BaseModel):
    """Who did what to which object, for every administrative action."""

    id = CharField(primary_key=True, max_length=40)
    org_id = CharField(max_length=40)
    actor = CharField(max_length=40)
    actor_name = CharField(max_length=320, null=True)
    action = CharField(max_length=60)
    target_type = CharField(max_length=40)
    target_id = CharField(max_length=200, null=True)
    details = TextField(null=True)
    created_at = BigIntegerField()

    class Meta:
        table_name = "activity"
        indexes = ((("org_id", "id"), False),)


class NotificationSettings(BaseModel):
    """Where and when an organisation hears of alerts. Secrets are stored encrypted (Fernet, key in the data dir)."""

    org_id = CharField(primary_key=True, max_length=40)
    webhook_url = TextField(null=True)
    webhook_secret_enc = TextField(null=True)
    notify_webhook = BooleanField(default=False)
    notify_email = BooleanField(default=False)
    email_recipients = TextField(default="[]")
    min_severity = CharField(max_length=10, default="warning")
    allow_private_targets = BooleanField(default=False)
    digest_minutes = IntegerField(default=15)
    include_content = BooleanField(default=False)
    muted_rule_ids = TextField(default="[]")
    smtp_host = CharField(max_length=255, null=True)
    smtp_port = IntegerField(null=True)
    smtp_security = CharField(max_length=10, default="starttls")
    smtp_username = CharField(max_length=255, null=True)
    smtp_password_enc = TextField(null=True)
    smtp_from = CharField(max_length=320, null=True)
    updated_at = BigIntegerField()

    class Meta:
        table_name = "notification_settings"


class OutboxEvent(BaseModel):
    """Something to tell the outside world, written in the same transaction as what it tells of."""

    id = CharField(primary_key=True, max_length=40)
    org_id = CharField(max_length=40)
    type = CharField(max_length=60)
    payload = TextField()
    created_at = BigIntegerField()
    dispatched_at = BigIntegerField(null=True)

    class Meta:
        table_name = "outbox_events"
        indexes = ((("org_id", "created_at"), False),)


class Delivery(BaseModel):
    """One attempt series to deliver one outbox event over one channel."""

    id = CharField(primary_key=True, max_length=40)
    org_id = CharField(max_length=40)
    event_id = CharField(max_length=40)
    event_type = CharField(max_length=60)
    channel = CharField(max_length=10)
    target = TextField()
    severity = CharField(max_length=10, null=True)
    status = CharField(max_length=12)  # pending, digest, delivered, failed, skipped
    attempts = IntegerField(default=0)
    next_attempt_at = BigIntegerField()
    last_error = TextField(null=True)
    response_status = IntegerField(null=True)
    created_at = BigIntegerField()
    delivered_at = BigIntegerField(null=True)

    class Meta:
        table_name = "deliveries"
        indexes = ((("status", "next_attempt_at"), False), (("org_id", "id"), False),
                   (("event_id", "channel"), True))


NOTIFY_MODELS: tuple[type[BaseModel], ...] = (NotificationSettings, OutboxEvent, Delivery)


class LedgerCheckpoint(BaseModel):
    """A signed checkpoint of an organisation's hash chain (``head`` while it grows, ``pruned`` by retention).

    ``signed_at`` keeps the exact text that was signed; the row is never updated.
    """

    id = BigAutoField()
    org_id = CharField(max_length=40)
    seq = BigIntegerField()
    hash = CharField(max_length=64)
    signed_at = CharField(max_length=24)
    kind = CharField(max_length=10)
    key_id = CharField(max_length=16)
    signature = CharField(max_length=100)
    public_key = CharField(max_length=60)
    created_at = BigIntegerField()

    class Meta:
        table_name = "ledger_checkpoints"
        indexes = ((("org_id", "seq"), False), (("org_id", "kind", "seq"), False))


class RetentionGate(BaseModel):
    """Set by the retention purge, inside its transaction, to let the DELETE trigger pass for one range."""

    org_id = CharField(max_length=40, primary_key=True)
    up_to_seq = BigIntegerField()

    class Meta:
        table_name = "retention_gate"


#: SQLite triggers that make audit logs append-only (created by migrations). A row can be deleted only
#: while the retention purge has opened the gate for its organisation and sequence range.
LEDGER_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS audit_logs_no_update BEFORE UPDATE ON audit_logs "
    "BEGIN SELECT RAISE(ABORT, 'audit logs are append-only: a stored event cannot be changed'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_logs_no_delete BEFORE DELETE ON audit_logs "
    "WHEN NOT EXISTS (SELECT 1 FROM retention_gate WHERE org_id = OLD.org_id AND OLD.seq <= up_to_seq) "
    "BEGIN SELECT RAISE(ABORT, 'audit logs are append-only: only the retention purge deletes events'); END",
)


#: The PostgreSQL form of :data:`LEDGER_TRIGGERS` (one PL/pgSQL function, two row triggers).
PG_LEDGER_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'UPDATE' THEN "
    "RAISE EXCEPTION 'audit logs are append-only: a stored event cannot be changed'; END IF; "
    "IF NOT EXISTS (SELECT 1 FROM retention_gate WHERE org_id = OLD.org_id AND OLD.seq <= up_to_seq) THEN "
    "RAISE EXCEPTION 'audit logs are append-only: only the retention purge deletes events'; END IF; "
    "RETURN OLD; END $$",
    "CREATE OR REPLACE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs "
    "FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only()",
    "CREATE OR REPLACE TRIGGER audit_logs_no_delete BEFORE DELETE ON audit_logs "
    "FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only()",
)


class Usage(BaseModel):
    """Events stored per organisation and calendar month (``YYYY-MM``, UTC); counted by the writer."""

    org_id = CharField(max_length=40)
    period = CharField(max_length=7)
    events = BigIntegerField(default=0)
    updated_at = BigIntegerField()

    class Meta:
        table_name = "usage_counts"
        primary_key = False
        indexes = ((("org_id", "period"), True),)


class BillingAccount(BaseModel):
    """An organisation's Stripe customer and subscription, as the last applied Stripe event told it."""

    org_id = CharField(primary_key=True, max_length=40)
    customer_id = CharField(max_length=100, null=True, unique=True)
    subscription_id = CharField(max_length=100, null=True)
    price_id = CharField(max_length=100, null=True)
    status = CharField(max_length=30, default="active")
    current_period_end = BigIntegerField(null=True)
    cancel_at_period_end = BooleanField(default=False)
    state_at = BigIntegerField(default=0)  # the Stripe ``created`` (s) of the event the state came from
    updated_at = BigIntegerField()

    class Meta:
        table_name = "billing_accounts"


class StripeEvent(BaseModel):
    """A Stripe webhook event already applied: replays of the same id change nothing."""

    id = CharField(primary_key=True, max_length=100)
    type = CharField(max_length=80)
    org_id = CharField(max_length=40, null=True)
    processed_at = BigIntegerField()

    class Meta:
        table_name = "stripe_events"


BILLING_MODELS: tuple[type[BaseModel], ...] = (Usage, BillingAccount, StripeEvent)


class Report(BaseModel):
    """A report build: its request, its state (pending, running, ready, failed) and, when ready, its file."""

    id = CharField(primary_key=True, max_length=40)
    org_id = CharField(max_length=40)
    type = CharField(max_length=40)
    format = CharField(max_length=10)
    name = CharField(max_length=200, null=True)
    params = TextField()
    status = CharField(max_length=10, default="pending")
    progress = IntegerField(default=0)
    error = TextField(null=True)
    attempts = IntegerField(default=0)
    size_bytes = BigIntegerField(null=True)
    sha256 = CharField(max_length=64, null=True)
    file_path = TextField(null=True)
    schedule_id = CharField(max_length=40, null=True)
    created_by = CharField(max_length=40, null=True)
    created_at = BigIntegerField()
    started_at = BigIntegerField(null=True)
    finished_at = BigIntegerField(null=True)

    class Meta:
        table_name = "reports"
        indexes = ((("org_id", "id"), False), (("status", "created_at"), False))


class ReportSchedule(BaseModel):
    """A report built on a cron schedule (in a time zone), kept, and sent to its recipients."""

    id = CharField(primary_key=True, max_length=40)
    org_id = CharField(max_length=40)
    name = CharField(max_length=200, null=True)
    type = CharField(max_length=40)
    format = CharField(max_length=10)
    cron = CharField(max_length=120)
    timezone = CharField(max_length=64)
    params = TextField()
    email_recipients = TextField(null=True)
    is_active = BooleanField(default=True)
    created_by = CharField(max_length=40, null=True)
    created_at = BigIntegerField()
    last_run_at = BigIntegerField(null=True)
    last_report_id = CharField(max_length=40, null=True)

    class Meta:
        table_name = "report_schedules"
        indexes = ((("org_id", "id"), False),)


class RateBucket(BaseModel):
    """A token bucket shared by the sidecars on one PostgreSQL database (unused on SQLite: one process).

    ``tokens`` as of ``updated_at`` (epoch ms); ``last_grant`` is what the latest take handed out.
    """

    kind = CharField(max_length=20)
    caller = CharField(max_length=200)
    tokens = DoubleField()
    last_grant = IntegerField(default=0)
    updated_at = BigIntegerField()

    class Meta:
        table_name = "rate_buckets"
        primary_key = CompositeKey("kind", "caller")


#: Partial indexes that Peewee's Meta cannot express; created by migrations.
PARTIAL_INDEXES = (
    "CREATE INDEX IF NOT EXISTS audit_logs_flagged ON audit_logs (org_id, seq) WHERE flagged",
    "CREATE INDEX IF NOT EXISTS audit_logs_untraced_span ON audit_logs (org_id, span_id) WHERE trace_id IS NULL",
    "CREATE INDEX IF NOT EXISTS audit_logs_untraced_parent ON audit_logs (org_id, parent_span_id) "
    "WHERE trace_id IS NULL AND parent_span_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS outbox_undispatched ON outbox_events (created_at) WHERE dispatched_at IS NULL",
)

COMPLIANCE_MODELS: tuple[type[BaseModel], ...] = (
    Agent, Policy, Rule, PolicyAgent, PolicyVersion, InstalledPack, Alert, Violation, Activity,
)
REPORT_MODELS: tuple[type[BaseModel], ...] = (Report, ReportSchedule)
LEDGER_MODELS: tuple[type[BaseModel], ...] = (LedgerCheckpoint, RetentionGate)


class LoginFailure(BaseModel):
    """A failed login, counted per email and per client address by every sidecar on one PostgreSQL database
    (one process on SQLite counts in memory). ``key`` is ``email:…`` or ``client:…``; ``at`` epoch ms."""

    id = BigAutoField()
    key = CharField(max_length=400)
    at = BigIntegerField()

    class Meta:
        table_name = "login_failures"
        indexes = ((("key", "at"), False), (("at",), False))


ALL_MODELS: tuple[type[BaseModel], ...] = (
    SchemaVersion, Organization, User, ApiKey, Session, AuditLog, Trace, *COMPLIANCE_MODELS, *NOTIFY_MODELS,
    *LEDGER_MODELS,
    *BILLING_MODELS,
    *REPORT_MODELS,
    RateBucket,
    LoginFailure,
)
