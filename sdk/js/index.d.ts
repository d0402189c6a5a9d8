// Types of agentaudit-client. Field names are the sidecar's (camelCase); unknown fields pass through.

export declare const DEFAULT_BASE_URL: string;

export type EnforcementAction = 'allow' | 'log' | 'flag' | 'block';

export interface AuditEvent {
  action: string;
  prompt?: string;
  response?: string;
  agentId?: string;
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  startedAt?: string;
  endedAt?: string;
  metadata?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface ViolationDetail {
  ruleId: string;
  policyId: string | null;
  name: string;
  ruleType: string;
  severity: 'info' | 'warning' | 'critical';
  action: EnforcementAction;
  matches: Array<{ field: string; start: number; end: number; detector: string }>;
  [extra: string]: unknown;
}

/** An event as the sidecar stores and returns it (POST /audit-logs, GET /audit-logs/:id, lists, traces). */
export interface StoredEvent {
  id: string;
  organizationId: string;
  action: string;
  agentId: string | null;
  prompt: string | null;
  response: string | null;
  metadata: Record<string, unknown> | null;
  traceId: string | null;
  /** The client's spanId, or `id` when none was given. */
  spanId: string;
  parentSpanId: string | null;
  startedAt: string;
  endedAt: string;
  createdAt: string;
  complianceFlags: string[];
  enforcementAction: EnforcementAction;
  violationDetails: ViolationDetail[] | null;
  sequence: number;
  hash: string;
}

export interface BatchResult {
  data: StoredEvent[];
  processed: number;
  errors: number;
}

export interface GuardrailResult {
  allowed: boolean;
  action: EnforcementAction;
  violations: string[];
  severity: 'info' | 'warning' | 'critical' | null;
  violationDetails: ViolationDetail[];
  auditLogId: string | null;
  raw: unknown;
}

export interface Page<T> {
  data: T[];
  /** nextCursor (pass it as `before`) is there only when more rows follow. */
  pagination: { page: number; limit: number; offset: number; total: number; totalPages: number; nextCursor?: string };
}

/** A row of GET /traces. */
export interface TraceSummary {
  traceId: string;
  rootAction: string;
  agentIds: string[];
  spanCount: number;
  flaggedCount: number;
  blockedCount: number;
  enforcementAction: EnforcementAction;
  startedAt: string;
  endedAt: string;
  durationMs: number;
}

export interface TraceNode {
  id: string;
  children: TraceNode[];
}

/** GET /traces/:traceId. */
export interface Trace {
  traceId: string;
  /** Oldest first. */
  spans: StoredEvent[];
  tree: TraceNode[];
  summary: TraceSummary & { rootCount: number; totalTokens: number | null; totalCost: number | null };
}

export interface Agent {
  id: string;
  name: string;
  type: string;
  description: string | null;
  metadata: Record<string, unknown> | null;
  config: Record<string, unknown> | null;
  organizationId: string;
  createdAt: string;
  updatedAt: string;
}

export type Severity = 'info' | 'warning' | 'critical';
export type Redaction = 'none' | 'mask' | 'hash';

export interface Rule {
  id: string;
  name: string;
  ruleType: string;
  condition: Record<string, unknown>;
  severity: Severity;
  actionOverride: EnforcementAction | null;
  redaction: Redaction;
  isActive: boolean;
  policyId: string | null;
  packId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Policy {
  id: string;
  name: string;
  description: string | null;
  mode: 'block' | 'flag' | 'log';
  priority: number;
  conditions: Record<string, unknown> | null;
  isActive: boolean;
  sourcePackId: string | null;
  redaction: Redaction;
  version: number;
  rules: Rule[];
  agents: Array<{ id: string; name: string; type: string }>;
  organizationId: string;
  createdAt: string;
  updatedAt: string;
}

export interface Pack {
  id: string;
  name: string;
  description: string;
  version: string;
  rules: Array<{ key: string; name: string; ruleType: string; condition: Record<string, unknown>; severity: Severity;
    action: EnforcementAction; redaction: Redaction }>;
}

export interface Alert {
  id: string;
  severity: Severity;
  status: 'open' | 'acknowledged' | 'resolved' | 'false_positive';
  isResolved: boolean;
  message: string;
  ruleId: string | null;
  policyId: string | null;
  auditLogId: string;
  agentId: string | null;
  details: Record<string, unknown>;
  note: string | null;
  createdAt: string;
  updatedAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
}

export interface SenderStats {
  queued: number;
  sent: number;
  dropped: number;
  rejected: number;
  lost: number;
  retries: number;
  pending: number;
}

export interface ClientOptions {
  /** Default: AGENTAUDIT_API_KEY. */
  apiKey?: string;
  /** Default: AGENTAUDIT_BASE_URL, else http://127.0.0.1:8731/api/v1. */
  baseUrl?: string;
  agentId?: string;
  /** Bound on every network wait (default 10000). */
  timeoutMs?: number;
  /** Extra attempts of waited calls on 429, 5xx and connection errors (default 2). */
  maxRetries?: number;
  /** log() and logBatch() queue by default (as BufferedClient; only BufferedClient's types say so). */
  buffered?: boolean;
  /** Events held in memory before the oldest are dropped (default 10000). Numbers out of range throw a
   * RangeError, and values of the wrong type a TypeError, when the client is built. */
  maxBuffer?: number;
  /** Events per request, 1 to 50 (default 50). */
  batchSize?: number;
  /** Batches in flight at once when more are queued (default 16; 1 keeps delivery in order). */
  window?: number;
  /** Longest wait of a lone queued event (default 100). */
  flushIntervalMs?: number;
  /** How long close() and the exit hook deliver before giving up on what is left (default 5000). */
  closeTimeoutMs?: number;
  onWarning?: (message: string) => void;
  fetch?: typeof fetch;
}

export interface WaitOption {
  wait?: boolean;
}

export interface SpanOptions {
  agentId?: string;
  prompt?: string;
  metadata?: Record<string, unknown>;
  traceId?: string;
}

export declare class Span {
  readonly action: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | null;
  agentId?: string;
  prompt?: string;
  response?: string;
  metadata: Record<string, unknown>;
  readonly startedAt: Date;
  endedAt: Date | null;
  error: unknown;
  set(fields: { prompt?: string; response?: string; action?: string; agentId?: string; [metadata: string]: unknown }): this;
  recordError(error: unknown): void;
  span(action: string, options?: SpanOptions): Span;
  span<R>(action: string, fn: (span: Span) => R): R;
  span<R>(action: string, options: SpanOptions, fn: (span: Span) => R): R;
  end(): void;
}

export declare function currentSpan(): Span | undefined;

export declare class AgentAuditClient {
  constructor(options?: ClientOptions);
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly agentId: string | undefined;
  /** Waited (the default here): the stored event. `{ wait: false }`: queued, undefined. */
  log(event: AuditEvent, options?: { wait?: true }): Promise<StoredEvent>;
  log(event: AuditEvent, options: { wait: false }): undefined;
  log(event: AuditEvent, options?: WaitOption): Promise<StoredEvent> | undefined;
  /** Waited: the stored events; on failure the error's `stored` holds those stored before it. */
  logBatch(events: AuditEvent[], options?: { wait?: true }): Promise<BatchResult>;
  logBatch(events: AuditEvent[], options: { wait: false }): undefined;
  logBatch(events: AuditEvent[], options?: WaitOption): Promise<BatchResult> | undefined;
  guardrail(event: AuditEvent, options?: { dryRun?: boolean; policyId?: string; onError?: 'throw' | 'allow' | 'block' }): Promise<GuardrailResult>;
  evaluate(input: { prompt?: string; response?: string; metadata?: Record<string, unknown>; agentId?: string; policyId?: string; rule?: Record<string, unknown> }): Promise<GuardrailResult>;
  /** Any endpoint. A POST or PATCH is sent again only when it certainly did not reach the sidecar, unless
   * `idempotent: true` says that sending it twice does no more than sending it once. */
  request<T = unknown>(method: string, path: string, options?: { query?: Record<string, unknown>; body?: unknown; retries?: number; idempotent?: boolean }): Promise<T>;
  health(): Promise<{ status: string; version: string; database: string }>;
  listLogs(query?: Record<string, unknown>): Promise<Page<StoredEvent>>;
  getLog(id: string): Promise<StoredEvent>;
  listTraces(query?: Record<string, unknown>): Promise<Page<TraceSummary>>;
  getTrace(traceId: string): Promise<Trace>;
  listAlerts(query?: Record<string, unknown>): Promise<Alert[]>;
  updateAlert(id: string, change: { status: Alert['status']; note?: string }): Promise<Alert>;
  resolveAlert(id: string, options?: { note?: string }): Promise<Alert>;
  createAgent(agent: { name: string; type?: string; description?: string; metadata?: Record<string, unknown> }): Promise<Agent>;
  listAgents(query?: Record<string, unknown>): Promise<Agent[]>;
  listPolicies(query?: Record<string, unknown>): Promise<Policy[]>;
  clonePack(input: { packId: string; name: string; description?: string; mode?: 'block' | 'flag' | 'log' }): Promise<Policy>;
  attachAgent(policyId: string, agentId: string): Promise<{ id: string; agentId: string; policyId: string; createdAt: string }>;
  listPacks(): Promise<Pack[]>;
  trace(action: string, options?: SpanOptions): Span;
  trace<R>(action: string, fn: (span: Span) => R): R;
  trace<R>(action: string, options: SpanOptions, fn: (span: Span) => R): R;
  span(action: string, options?: SpanOptions): Span;
  span<R>(action: string, fn: (span: Span) => R): R;
  span<R>(action: string, options: SpanOptions, fn: (span: Span) => R): R;
  traced<A extends unknown[], R>(action: string, fn: (...args: A) => R): (...args: A) => R;
  readonly stats: SenderStats;
  flush(timeoutMs?: number): Promise<boolean>;
  close(timeoutMs?: number): Promise<boolean>;
}

/** log() and logBatch() queue by default: they return undefined unless called with `{ wait: true }`. */
export declare class BufferedClient extends AgentAuditClient {
  log(event: AuditEvent, options?: { wait?: false }): undefined;
  log(event: AuditEvent, options: { wait: true }): Promise<StoredEvent>;
  log(event: AuditEvent, options?: WaitOption): Promise<StoredEvent> | undefined;
  logBatch(events: AuditEvent[], options?: { wait?: false }): undefined;
  logBatch(events: AuditEvent[], options: { wait: true }): Promise<BatchResult>;
  logBatch(events: AuditEvent[], options?: WaitOption): Promise<BatchResult> | undefined;
}

export declare class AgentAuditError extends Error {
  /** On an error of a waited logBatch: the events stored by its earlier requests (each holds up to 50). */
  stored?: StoredEvent[];
}
/** A malformed baseUrl (other bad options throw TypeError or RangeError). */
export declare class ConfigError extends AgentAuditError {}
export declare class APIConnectionError extends AgentAuditError {
  readonly timeout: boolean;
}
export declare class APIStatusError extends AgentAuditError {
  readonly status: number;
  readonly code: string | null;
  readonly requestId: string | null;
  readonly details: Array<{ field: string; message: string }>;
  readonly body: unknown;
  readonly retryAfter: number | null;
}
export declare class ValidationError extends APIStatusError {}
export declare class AuthenticationError extends APIStatusError {}
export declare class QuotaExceededError extends APIStatusError {}
export declare class PermissionDeniedError extends APIStatusError {}
export declare class NotFoundError extends APIStatusError {}
export declare class ConflictError extends APIStatusError {}
export declare class PayloadTooLargeError extends APIStatusError {}
export declare class RateLimitError extends APIStatusError {}
export declare class ServerError extends APIStatusError {}
