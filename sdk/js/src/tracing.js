// Trace helpers: spans that set traceId, spanId, parentSpanId, startedAt and endedAt and record errors.
// In Node the current span follows async calls through AsyncLocalStorage; elsewhere pass spans explicitly.

let storage = null;
try {
  if (typeof process !== 'undefined' && process.versions?.node) {
    const { AsyncLocalStorage } = await import('node:async_hooks');
    storage = new AsyncLocalStorage();
  }
} catch {
  storage = null;
}

let nodeCrypto = null;
if (!globalThis.crypto?.getRandomValues) {
  try { nodeCrypto = await import('node:crypto'); } catch { nodeCrypto = null; }
}

export function randomHex(bytes) {
  const buf = new Uint8Array(bytes);
  if (globalThis.crypto?.getRandomValues) globalThis.crypto.getRandomValues(buf);
  else if (nodeCrypto) buf.set(nodeCrypto.randomBytes(bytes));
  else for (let i = 0; i < bytes; i++) buf[i] = Math.floor(Math.random() * 256);
  return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The innermost span of the current async context, or undefined. */
export function currentSpan() {
  return storage?.getStore();
}

export class Span {
  constructor(emit, action, { traceId, parentSpanId = null, agentId, prompt, metadata } = {}) {
    this.emit = emit;
    this.action = action;
    this.traceId = traceId || randomHex(16);
    this.spanId = randomHex(8);
    this.parentSpanId = parentSpanId;
    this.agentId = agentId;
    this.prompt = prompt;
    this.response = undefined;
    this.metadata = { ...(metadata || {}) };
    this.startedAt = new Date();
    this.endedAt = null;
    this.error = null;
  }

  /** Record output, input or metadata keys (merged). */
  set({ prompt, response, action, agentId, ...metadata } = {}) {
    if (prompt !== undefined) this.prompt = prompt;
    if (response !== undefined) this.response = response;
    if (action !== undefined) this.action = action;
    if (agentId !== undefined) this.agentId = agentId;
    Object.assign(this.metadata, metadata);
    return this;
  }

  recordError(err) {
    this.error = err;
    this.metadata.status = 'error';
    this.metadata.error = { type: err?.name || typeof err, message: String(err?.message ?? err).slice(0, 2000) };
  }

  /** A child span; with fn, runs fn(child) inside it and ends it when fn settles (see runIn). */
  span(action, fnOrOptions, maybeFn) {
    const [options, fn] = typeof fnOrOptions === 'function' ? [{}, fnOrOptions] : [fnOrOptions || {}, maybeFn];
    const child = new Span(this.emit, action, { ...options, traceId: this.traceId, parentSpanId: this.spanId,
      agentId: options.agentId ?? this.agentId });
    return fn ? runIn(child, fn) : child;
  }

  /** End the span and queue its event (idempotent). */
  end() {
    if (this.endedAt) return;
    this.endedAt = new Date();
    const event = { action: this.action, traceId: this.traceId, spanId: this.spanId,
      startedAt: this.startedAt.toISOString(), endedAt: this.endedAt.toISOString() };
    if (this.parentSpanId) event.parentSpanId = this.parentSpanId;
    if (this.agentId) event.agentId = this.agentId;
    if (this.prompt !== undefined) event.prompt = this.prompt;
    if (this.response !== undefined) event.response = this.response;
    if (Object.keys(this.metadata).length) event.metadata = this.metadata;
    this.emit(event);
  }
}

/** Run fn(span) as the current span; end the span when fn returns or settles; errors are recorded and rethrown. */
export function runIn(span, fn) {
  const body = () => {
    let result;
    try {
      result = fn(span);
    } catch (err) {
      span.recordError(err);
      span.end();
      throw err;
    }
    if (result && typeof result.then === 'function') {
      return result.then(
        (value) => { span.end(); return value; },
        (err) => { span.recordError(err); span.end(); throw err; });
    }
    span.end();
    return result;
  };
  return storage ? storage.run(span, body) : body();
}
