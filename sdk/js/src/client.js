// AgentAuditClient: log, logBatch, guardrail, queries, buffered mode and trace helpers.

import { APIConnectionError, APIStatusError, ConfigError } from './errors.js';
import { BufferedSender } from './buffer.js';
import { Transport, encodeJson, withoutNul } from './http.js';
import { Span, currentSpan, runIn } from './tracing.js';

/**
 * Whether a guardrail's onError applies: the sidecar is unreachable, overloaded, failing or out of quota. A refusal
 * of the call itself (a bad key, a missing scope, invalid input) is thrown whatever onError says: failing open
 * there would hide a misconfiguration for good.
 */
function cannotAnswer(err) {
  return err instanceof APIConnectionError
    || (err instanceof APIStatusError && (err.status >= 500 || err.status === 402 || err.status === 429));
}

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8731/api/v1';
const MAX_BATCH = 50;
const enc = encodeURIComponent;

/** An environment variable; set but empty counts as unset. */
function env(key) {
  const value = typeof process !== 'undefined' && process.env ? process.env[key] : undefined;
  return value === '' ? undefined : value;
}

const describe = (value) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);
const isEvent = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Check a numeric option: TypeError when it is not a number, RangeError when it is out of range. */
function checkNumber(options, name, { min, max = Infinity, integer = false, above = false }) {
  const value = options[name];
  if (value === undefined) return;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  const fits = Number.isFinite(value) && (above ? value > min : value >= min) && value <= max
    && (!integer || Number.isInteger(value));
  if (!fits) {
    const range = max < Infinity ? `from ${min} to ${max}` : above ? `above ${min}` : `of at least ${min}`;
    throw new RangeError(`${name} must be ${integer ? 'an integer' : 'a finite number'} ${range}, got ${value}`);
  }
}

function checkOptions(options) {
  checkNumber(options, 'timeoutMs', { min: 0, above: true });
  checkNumber(options, 'maxRetries', { min: 0, integer: true });
  checkNumber(options, 'maxBuffer', { min: 1, integer: true });
  checkNumber(options, 'batchSize', { min: 1, max: MAX_BATCH, integer: true });
  checkNumber(options, 'window', { min: 1, integer: true });
  checkNumber(options, 'flushIntervalMs', { min: 0 });
  checkNumber(options, 'closeTimeoutMs', { min: 0 });
  for (const name of ['onWarning', 'fetch']) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new TypeError(`${name} must be a function, got ${describe(options[name])}`);
    }
  }
}

function checkBaseUrl(baseUrl) {
  let url = null;
  try { url = new URL(baseUrl); } catch { /* reported below */ }
  if (!url || !['http:', 'https:'].includes(url.protocol) || !url.hostname) {
    throw new ConfigError(`baseUrl must be an http(s) URL such as ${DEFAULT_BASE_URL}, got ${JSON.stringify(baseUrl)}`);
  }
}

function verdict(data) {
  const action = data?.enforcementAction || 'allow';
  const details = data?.violationDetails || [];
  const rank = { info: 1, warning: 2, critical: 3 };
  const severity = details.reduce((best, d) => ((rank[d.severity] || 0) > (rank[best] || 0) ? d.severity : best), null);
  return { allowed: action !== 'block', action, violations: data?.complianceFlags || [], severity,
    violationDetails: details, auditLogId: data?.id ?? null, raw: data };
}

function stampTrace(event) {
  if (event.traceId === undefined && event.parentSpanId === undefined) {
    const span = currentSpan();
    if (span) return { ...event, traceId: span.traceId, parentSpanId: span.spanId };
  }
  return event;
}

/** The error of chunk `start` of a waited logBatch, told in the caller's indexes, with the events stored before it. */
function batchError(err, start, stored) {
  if (err instanceof APIStatusError && start > 0) {
    const shift = (text) => String(text).replace(/\[(\d+)\]/g, (_, i) => `[${Number(i) + start}]`)
      .replace(/\bentry (\d+)\b/g, (_, i) => `entry ${Number(i) + start}`);
    err.details = err.details.map((d) => ({ ...d, field: shift(d?.field ?? '') }));
    err.message = shift(err.message);
    if (err.body && typeof err.body === 'object') err.body = { ...err.body, error: shift(err.body.error ?? ''), details: err.details };
  }
  if (err instanceof Error) {
    err.stored = stored;
    if (stored.length) err.message += ` (entries 0 to ${stored.length - 1} were stored: see error.stored)`;
  }
  return err;
}

export class AgentAuditClient {
  /**
   * @param {object} [options] apiKey, baseUrl, agentId, timeoutMs, maxRetries, buffered, maxBuffer, batchSize,
   *   window, flushIntervalMs, closeTimeoutMs, onWarning, fetch. A malformed baseUrl is a ConfigError; other
   *   options of the wrong type are a TypeError, out of range a RangeError.
   */
  constructor(options = {}) {
    checkOptions(options);
    this.apiKey = options.apiKey ?? env('AGENTAUDIT_API_KEY') ?? '';
    this.baseUrl = (options.baseUrl || env('AGENTAUDIT_BASE_URL') || DEFAULT_BASE_URL).replace(/\/+$/, '');
    checkBaseUrl(this.baseUrl);
    this.agentId = options.agentId || env('AGENTAUDIT_AGENT_ID') || undefined;
    this.defaultWait = !options.buffered;
    this.transport = new Transport({ apiKey: this.apiKey, baseUrl: this.baseUrl, timeoutMs: options.timeoutMs ?? 10000,
      maxRetries: options.maxRetries ?? 2, fetch: options.fetch });
    this.senderOptions = { maxBuffer: options.maxBuffer, batchSize: options.batchSize, window: options.window,
      flushIntervalMs: options.flushIntervalMs, closeTimeoutMs: options.closeTimeoutMs, onWarning: options.onWarning };
    for (const key of Object.keys(this.senderOptions)) if (this.senderOptions[key] === undefined) delete this.senderOptions[key];
    this.sender = null;
  }

  get background() {
    if (!this.sender) this.sender = new BufferedSender(this.transport, this.senderOptions);
    return this.sender;
  }

  withAgent(event) {
    return event.agentId === undefined && this.agentId !== undefined ? { ...event, agentId: this.agentId } : event;
  }

  /**
   * Record one event. Waited (default): resolves to the stored event. `{ wait: false }`: queued (a copy, taken
   * now), returns undefined at once, never throws; delivered in the background.
   */
  log(event, options) {
    if (!(options?.wait ?? this.defaultWait)) {
      this.queue(event);
      return undefined;
    }
    return this.store(event);
  }

  async store(event) {
    if (!isEvent(event)) throw new TypeError(`an event must be an object, got ${describe(event)}`);
    return this.transport.request('POST', '/audit-logs', { json: withoutNul(encodeJson(this.withAgent(stampTrace(event)))) });
  }

  /** The background path of log(): stamp, copy, queue. Never throws; an event it cannot take is counted and warned. */
  queue(event) {
    const sender = this.background;
    try {
      if (!isEvent(event)) throw new TypeError(`it must be an object, got ${describe(event)}`);
      let body = this.withAgent(stampTrace(event));
      if (body.startedAt === undefined && body.endedAt === undefined) {
        const now = new Date().toISOString();
        body = { ...body, startedAt: now, endedAt: now };
      }
      sender.enqueue(body);
    } catch (err) {
      sender.refuse(err?.message ?? String(err));
    }
  }

  /**
   * Record many events, linked to the current span like log(). Waited: resolves to { data, processed, errors }.
   * More than 50 go as several requests, in order; if one fails, its error names the entry by its index in
   * `events`, and `error.stored` holds the events stored by the requests before it. Every entry is encoded
   * before the first request (an entry that cannot be is a TypeError and nothing is stored). `{ wait: false }`:
   * queued like log(), returns undefined.
   */
  logBatch(events, options) {
    if (!(options?.wait ?? this.defaultWait)) {
      if (events == null || typeof events[Symbol.iterator] !== 'function') {
        this.background.refuse(`logBatch takes an array of events, got ${describe(events)}`);
        return undefined;
      }
      for (const event of events) this.queue(event);
      return undefined;
    }
    return this.storeBatch(events);
  }

  async storeBatch(events) {
    if (!Array.isArray(events)) throw new TypeError(`logBatch takes an array of events, got ${describe(events)}`);
    const encoded = events.map((event, i) => {
      if (!isEvent(event)) throw new TypeError(`logBatch entry ${i} must be an object, got ${describe(event)}`);
      return withoutNul(encodeJson(this.withAgent(stampTrace(event)), `logBatch entry ${i}`));
    });
    const data = [];
    for (let start = 0; start < encoded.length; start += MAX_BATCH) {
      let result;
      try {
        result = await this.transport.request('POST', '/audit-logs/batch',
          { json: `[${encoded.slice(start, start + MAX_BATCH).join(',')}]` });
      } catch (err) {
        throw batchError(err, start, data);
      }
      data.push(...result.data);
    }
    return { data, processed: data.length, errors: 0 };
  }

  /**
   * Check content before acting on it: resolves to { allowed, action, violations, severity, violationDetails,
   * auditLogId }. The event is stored unless dryRun. onError: 'throw' (default), 'allow' or 'block' when the
   * sidecar cannot answer (unreachable, 5xx, 429, 402); a refusal such as a bad key is thrown regardless.
   */
  async guardrail(event, { dryRun = false, policyId, onError = 'throw' } = {}) {
    try {
      if (dryRun) return await this.evaluate({ ...this.withAgent(event), policyId });
      return verdict(await this.transport.request('POST', '/audit-logs',
        { json: withoutNul(encodeJson({ ...this.withAgent(stampTrace(event)), checkType: 'realtime' })) }));
    } catch (err) {
      if (onError === 'throw' || !cannotAnswer(err)) throw err;
      return { allowed: onError === 'allow', action: onError === 'allow' ? 'allow' : 'block', violations: [],
        severity: null, violationDetails: [], auditLogId: null, raw: { error: String(err.message) } };
    }
  }

  /** The verdict an event would get (POST /compliance/evaluate); nothing is stored. */
  async evaluate({ prompt, response, metadata, agentId, policyId, rule } = {}) {
    return verdict(await this.transport.request('POST', '/compliance/evaluate',  // stores nothing: safe to resend
      { body: { prompt, response, metadata, agentId, policyId, rule }, idempotent: true }));
  }

  // -- queries and management (thin; any other endpoint: client.request(method, path, { query, body })) --------
  request(method, path, options) { return this.transport.request(method, path, options); }
  health() { return this.request('GET', '/health'); }
  listLogs(query = {}) { return this.request('GET', '/audit-logs', { query }); }
  getLog(id) { return this.request('GET', `/audit-logs/${enc(id)}`); }
  listTraces(query = {}) { return this.request('GET', '/traces', { query }); }
  getTrace(traceId) { return this.request('GET', `/traces/${enc(traceId)}`); }
  listAlerts(query = {}) { return this.request('GET', '/alerts', { query }); }
  updateAlert(id, { status, note }) { return this.request('PATCH', `/alerts/${enc(id)}`, { body: { status, note } }); }
  resolveAlert(id, { note } = {}) { return this.request('PATCH', `/alerts/${enc(id)}/resolve`, { body: { note } }); }
  createAgent(agent) { return this.request('POST', '/agents', { body: agent }); }
  listAgents(query = {}) { return this.request('GET', '/agents', { query }); }
  listPolicies(query = {}) { return this.request('GET', '/policies', { query }); }
  clonePack({ packId, name, description, mode }) {
    return this.request('POST', '/policies/clone-pack', { body: { packId, name, description, mode } });
  }
  attachAgent(policyId, agentId) {  // attaching twice is attaching once
    return this.request('POST', `/policies/${enc(policyId)}/agents`, { body: { agentId }, idempotent: true });
  }
  listPacks() { return this.request('GET', '/compliance-rules/packs'); }

  // -- traces ---------------------------------------------------------------------------------------------------
  /** Start a trace: `await client.trace('run', async (t) => { await t.span('tool_use', async (s) => ...) })`. */
  trace(action, fnOrOptions, maybeFn) {
    const [options, fn] = typeof fnOrOptions === 'function' ? [{}, fnOrOptions] : [fnOrOptions || {}, maybeFn];
    const span = new Span((e) => this.log(e, { wait: false }), action,
      { ...options, agentId: options.agentId ?? this.agentId });
    return fn ? runIn(span, fn) : span;
  }

  /** A child of the current span (or a new trace when there is none). */
  span(action, fnOrOptions, maybeFn) {
    const parent = currentSpan();
    return parent ? parent.span(action, fnOrOptions, maybeFn) : this.trace(action, fnOrOptions, maybeFn);
  }

  /** Wrap a function so each call runs in a span named `action`. */
  traced(action, fn) {
    const client = this;
    return function tracedCall(...args) { return client.span(action, () => fn.apply(this, args)); };
  }

  // -- lifecycle ------------------------------------------------------------------------------------------------
  get stats() {
    return this.sender ? { ...this.sender.stats, pending: this.sender.pending }
      : { queued: 0, sent: 0, dropped: 0, rejected: 0, lost: 0, retries: 0, pending: 0 };
  }

  flush(timeoutMs) { return this.sender ? this.sender.flush(timeoutMs) : Promise.resolve(true); }

  /** Deliver what is queued (for at most timeoutMs, default closeTimeoutMs), then stop: requests still out are
   * abandoned and their events counted as lost; events logged later in the background are counted as lost. */
  close(timeoutMs) { return this.background.close(timeoutMs); }
}

/** An AgentAuditClient whose log() and logBatch() queue by default. */
export class BufferedClient extends AgentAuditClient {
  constructor(options = {}) { super({ ...options, buffered: true }); }
}
