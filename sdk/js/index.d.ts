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

export interface StoredEvent extends AuditEvent {
  id: string;
  spanId: string;
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
  pagination: { page: number; limit: number; offset: number; total: number; totalPages: number; nextCursor?: string };
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
  /** log() and logBatch() queue by default (as BufferedClient). */
  buffered?: boolean;
  /** Events held in memory before the oldest are dropped (default 10000). */
  maxBuffer?: number;
  /** Events per request, 1 to 50 (default 50). */
  batchSize?: number;
  /** Batches in flight at once when more are queued (default 16; 1 keeps delivery in order). */
  window?: number;
  /** Longest wait of a lone queued event (default 100). */
  flushIntervalMs?: number;
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
  log(event: AuditEvent, options?: { wait?: true }): Promise<StoredEvent>;
  log(event: AuditEvent, options: { wait: false }): undefined;
  log(event: AuditEvent, options?: WaitOption): Promise<StoredEvent> | undefined;
  logBatch(events: AuditEvent[], options?: WaitOption): Promise<BatchResult | undefined>;
  guardrail(event: AuditEvent, options?: { dryRun?: boolean; policyId?: string; onError?: 'throw' | 'allow' | 'block' }): Promise<GuardrailResult>;
  evaluate(input: { prompt?: string; response?: string; metadata?: Record<string, unknown>; agentId?: string; policyId?: string; rule?: Record<string, unknown> }): Promise<GuardrailResult>;
  request<T = unknown>(method: string, path: string, options?: { query?: Record<string, unknown>; body?: unknown; retries?: number }): Promise<T>;
  health(): Promise<{ status: string; version: string; database: string }>;
  listLogs(query?: Record<string, unknown>): Promise<Page<StoredEvent>>;
  getLog(id: string): Promise<StoredEvent>;
  listTraces(query?: Record<string, unknown>): Promise<Page<Record<string, unknown>>>;
  getTrace(traceId: string): Promise<{ traceId: string; spans: StoredEvent[]; tree: unknown[]; summary: Record<string, unknown> }>;
  listAlerts(query?: Record<string, unknown>): Promise<Array<Record<string, unknown>>>;
  updateAlert(id: string, change: { status: string; note?: string }): Promise<Record<string, unknown>>;
  resolveAlert(id: string, options?: { note?: string }): Promise<Record<string, unknown>>;
  createAgent(agent: { name: string; type?: string; description?: string; metadata?: Record<string, unknown> }): Promise<Record<string, unknown> & { id: string }>;
  listAgents(query?: Record<string, unknown>): Promise<Array<Record<string, unknown>>>;
  listPolicies(query?: Record<string, unknown>): Promise<Array<Record<string, unknown>>>;
  clonePack(input: { packId: string; name: string; description?: string; mode?: 'block' | 'flag' | 'log' }): Promise<Record<string, unknown> & { id: string }>;
  attachAgent(policyId: string, agentId: string): Promise<Record<string, unknown>>;
  listPacks(): Promise<Array<Record<string, unknown>>>;
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

export declare class BufferedClient extends AgentAuditClient {}

export declare class AgentAuditError extends Error {}
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
export declare class PermissionDeniedError extends APIStatusError {}
export declare class NotFoundError extends APIStatusError {}
export declare class ConflictError extends APIStatusError {}
export declare class RateLimitError extends APIStatusError {}
export declare class ServerError extends APIStatusError {}
