// Background delivery: a bounded in-memory queue sent in batches of up to 50, up to `window` batches in flight at
// once, retried with backoff. Callers never wait and never see an error; overflow drops the oldest events
// (counted, warned once).

import { APIConnectionError, retryAfterSeconds } from './errors.js';
import { RETRY_STATUSES, backoffMs, sleep } from './http.js';

const INDEX = /^\[(\d+)\]/;

export class BufferedSender {
  constructor(transport, { maxBuffer = 10000, batchSize = 50, window = 16, flushIntervalMs = 100,
    closeTimeoutMs = 5000, onWarning = (message) => console.warn(message) } = {}) {
    if (!(batchSize >= 1 && batchSize <= 50)) throw new RangeError('batchSize must be 1 to 50');
    if (!(Number.isInteger(window) && window >= 1)) throw new RangeError('window must be an integer of at least 1');
    this.window = window;
    this.transport = transport;
    this.maxBuffer = maxBuffer;
    this.batchSize = batchSize;
    this.flushIntervalMs = flushIntervalMs;
    this.closeTimeoutMs = closeTimeoutMs;
    this.onWarning = onWarning;
    this.queue = [];
    this.head = 0;
    this.inFlight = 0;
    this.running = null;
    this.widen = null;
    this.timer = null;
    this.closing = false;
    this.deadline = Infinity;
    this.warned = new Set();
    this.stats = { queued: 0, sent: 0, dropped: 0, rejected: 0, lost: 0, retries: 0 };
    this.waiters = [];
    if (typeof process !== 'undefined' && typeof process.on === 'function') {
      this.beforeExit = () => { if (this.pending > 0 && !this.running) this.kick(); };
      process.on('beforeExit', this.beforeExit);
    }
  }

  get pending() {
    return this.queue.length - this.head + this.inFlight;
  }

  /** Queue one event body. Never waits, never throws. */
  enqueue(event) {
    if (this.queue.length - this.head >= this.maxBuffer) {
      this.head++;
      this.stats.dropped++;
      this.warnOnce('dropped', `agentaudit: the event buffer is full (${this.maxBuffer}); dropping the oldest events`);
    }
    this.queue.push(event);
    this.stats.queued++;
    if (this.queue.length - this.head >= this.batchSize) this.kick();
    else if (!this.timer && !this.running) {
      this.timer = setTimeout(() => { this.timer = null; this.kick(); }, this.flushIntervalMs);
      this.timer.unref?.();
    }
  }

  kick() {
    if (this.running) { this.widen?.(); return; }
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.queue.length - this.head > 0 && !this.closing) this.kick();
      this.settle();
    });
  }

  take() {
    const batch = this.queue.slice(this.head, this.head + this.batchSize);
    this.head += batch.length;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  /** Up to `window` lanes, each sending one batch at a time, until the queue is empty (window 1: in order). A
   * full batch queued meanwhile opens another lane (`widen`), up to `window`. */
  async drain() {
    const lanes = new Set();
    this.widen = () => {
      while (lanes.size < this.window && this.queue.length - this.head > 0) {
        const lane = this.lane().finally(() => lanes.delete(lane));
        lanes.add(lane);
      }
    };
    try {
      this.widen();
      while (lanes.size) await Promise.race(lanes);
    } finally {
      this.widen = null;
    }
  }

  async lane() {
    for (;;) {
      const batch = this.take();
      if (batch.length === 0) return;
      this.inFlight += batch.length;
      try {
        await this.deliver(batch);
      } catch (err) {
        this.warnOnce('bug', `agentaudit: unexpected error in the background sender: ${err?.stack || err}`);
      } finally {
        this.inFlight -= batch.length;
      }
    }
  }

  async deliver(events) {
    for (let attempt = 0; events.length; attempt++) {
      const { again, retryAfter } = await this.attempt(events);
      events = again;
      if (!events.length) return;
      let pause = backoffMs(attempt, retryAfter, { capMs: 5000 });
      if (this.closing) {
        const left = this.deadline - Date.now();
        if (left <= 0) { this.stats.lost += events.length; return; }
        pause = Math.min(pause, left);
      }
      this.stats.retries++;
      await sleep(pause);
    }
  }

  async attempt(events) {
    let result;
    try {
      result = await this.transport.exchange('POST', '/audit-logs/batch', { json: JSON.stringify(events) });
    } catch (err) {
      if (!(err instanceof APIConnectionError)) throw err;
      this.warnOnce('down', `agentaudit: cannot reach the sidecar (${err.message}); retrying in the background`);
      return { again: events, retryAfter: null };
    }
    const { status, body, headers } = result;
    if (status < 300) { this.stats.sent += events.length; this.warned.delete('down'); return { again: [] }; }
    if (RETRY_STATUSES.has(status)) return { again: events, retryAfter: retryAfterSeconds(headers) };
    if ((status === 400 || status === 422) && events.length > 1) {
      const bad = new Set((body?.details || []).map((d) => INDEX.exec(String(d?.field ?? ''))).filter(Boolean).map((m) => Number(m[1])));
      if (bad.size) {
        this.stats.rejected += bad.size;
        this.warnOnce('400', `agentaudit: the sidecar refused ${bad.size} invalid event(s): ${JSON.stringify(body.details)}`);
        const rest = events.filter((_, i) => !bad.has(i));
        return rest.length ? this.attempt(rest) : { again: [] };
      }
      const again = [];
      for (const event of events) again.push(...(await this.attempt([event])).again);
      return { again, retryAfter: null };
    }
    this.stats.rejected += events.length;
    this.warnOnce(`status-${status}`, `agentaudit: the sidecar refused ${events.length} event(s) with ${status}: ${JSON.stringify(body).slice(0, 300)}`);
    return { again: [] };
  }

  settle() {
    if (this.pending === 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve(true);
    }
  }

  /** Resolves true once everything queued is sent or refused; false if timeoutMs ran out first. */
  flush(timeoutMs = 10000) {
    if (this.pending === 0) return Promise.resolve(true);
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    this.kick();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (value) => { clearTimeout(timer); resolve(value); };
      this.waiters.push(done);
    });
  }

  /** Deliver what is queued (giving up after timeoutMs), then stop; true if nothing was lost. */
  async close(timeoutMs = this.closeTimeoutMs) {
    if (this.beforeExit) process.off('beforeExit', this.beforeExit);
    this.closing = true;
    this.deadline = Date.now() + timeoutMs;
    const lostBefore = this.stats.lost;
    const done = await this.flush(timeoutMs + 100);
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    const left = this.queue.length - this.head;
    if (left) { this.stats.lost += left; this.queue = []; this.head = 0; }
    return done && left === 0 && this.stats.lost === lostBefore;
  }

  warnOnce(kind, message) {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    try { this.onWarning(message); } catch { /* a warning sink must not break delivery */ }
  }
}
