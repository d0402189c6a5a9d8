// Background delivery: a bounded in-memory queue sent in batches of up to 50, up to `window` batches in flight at
// once, retried with backoff. Callers never wait and never see an error; overflow drops the oldest events
// (counted, warned once). Each event is encoded to JSON when it is queued: what is sent is what was logged, even
// if the caller changes its objects afterwards, and an event that cannot be encoded is refused at once.
//
// Delivery is at least once, on purpose. Waited calls never send a POST again once it may have reached the sidecar
// (they throw, and the caller decides); here nobody could be told, so a batch whose answer is lost (a timeout, a
// connection dropped after sending, a 500) is sent again, and may then be stored twice: an audit trail with a rare
// duplicate is better than one with a silent gap.
//
// At process exit (Node's beforeExit) every sender with events left is closed: it delivers for at most
// closeTimeoutMs, then gives up on the rest (counted as lost, one warning) so the process can exit, as the Python
// SDK's atexit hook does. One hook serves every sender that has events pending.

import { APIConnectionError, retryAfterSeconds } from './errors.js';
import { RETRY_STATUSES, backoffMs, withoutNul } from './http.js';

const INDEX = /^\[(\d+)\]/;

const pendingSenders = new Set();

function atExit() {
  for (const sender of pendingSenders) sender.close(sender.closeTimeoutMs);
}

function watch(sender) {
  if (typeof process === 'undefined' || typeof process.on !== 'function') return;
  if (pendingSenders.size === 0) process.on('beforeExit', atExit);
  pendingSenders.add(sender);
}

function unwatch(sender) {
  if (pendingSenders.delete(sender) && pendingSenders.size === 0) process.off('beforeExit', atExit);
}

export class BufferedSender {
  /** Options are checked by the client (see AgentAuditClient). */
  constructor(transport, { maxBuffer = 10000, batchSize = 50, window = 16, flushIntervalMs = 100,
    closeTimeoutMs = 5000, onWarning = (message) => console.warn(message) } = {}) {
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
    this.closing = null;
    this.deadline = Infinity;
    this.abandoned = false;
    this.requests = new Set();  // an AbortController per request in flight, for close() to abandon them
    this.sleepers = new Set();
    this.warned = new Set();
    this.stats = { queued: 0, sent: 0, dropped: 0, rejected: 0, lost: 0, retries: 0 };
    this.waiters = [];
  }

  get pending() {
    return this.queue.length - this.head + this.inFlight;
  }

  /** Queue one event body (encoded now). Never waits, never throws. */
  enqueue(event) {
    if (this.closing) {
      this.stats.lost++;
      this.warnOnce('closed', 'agentaudit: an event was logged after close(); it is not sent (see stats.lost)');
      return;
    }
    let json;
    try {
      json = withoutNul(JSON.stringify(event));
    } catch (err) {
      this.refuse(`it cannot be encoded as JSON (${err?.message})`);
      return;
    }
    if (this.queue.length - this.head >= this.maxBuffer) {
      this.head++;
      this.stats.dropped++;
      this.warnOnce('dropped', `agentaudit: the event buffer is full (${this.maxBuffer}); dropping the oldest events`);
    }
    if (this.pending === 0) watch(this);
    this.queue.push(json);
    this.stats.queued++;
    if (this.queue.length - this.head >= this.batchSize) this.kick();
    else if (!this.timer && !this.running) {
      this.timer = setTimeout(() => { this.timer = null; this.kick(); }, this.flushIntervalMs);
      this.timer.unref?.();
    }
  }

  /** An event that cannot be sent (not an object, not encodable): counted as queued and rejected, warned once. */
  refuse(reason) {
    this.stats.queued++;
    this.stats.rejected++;
    this.warnOnce('unsendable', `agentaudit: dropped an event: ${reason} (see stats.rejected)`);
  }

  kick() {
    if (this.running) { this.widen?.(); return; }
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.queue.length - this.head > 0 && !this.abandoned) this.kick();
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
        if (left <= 0 || this.abandoned) { this.stats.lost += events.length; return; }
        pause = Math.min(pause, left);
      }
      this.stats.retries++;
      await this.nap(pause);
    }
  }

  /** A pause between attempts that does not keep the process alive (the exit hook bounds it) and that close()
   * cuts short. */
  nap(ms) {
    return new Promise((resolve) => {
      const wake = () => { clearTimeout(timer); this.sleepers.delete(wake); resolve(); };
      const timer = setTimeout(wake, ms);
      timer.unref?.();
      this.sleepers.add(wake);
    });
  }

  wakeAll() {
    for (const wake of [...this.sleepers]) wake();
  }

  async attempt(events) {
    let result;
    const request = new AbortController();
    if (this.abandoned) request.abort();
    this.requests.add(request);
    try {
      result = await this.transport.exchange('POST', '/audit-logs/batch',
        { json: `[${events.join(',')}]`, signal: request.signal });
    } catch (err) {
      if (!(err instanceof APIConnectionError)) throw err;
      if (!this.abandoned) {
        this.warnOnce('down', `agentaudit: cannot reach the sidecar (${err.message}); retrying in the background`);
      }
      return { again: events, retryAfter: null };
    } finally {
      this.requests.delete(request);
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
      return this.oneByOne(events);
    }
    if (status === 413 && events.length > 1) {
      const half = Math.ceil(events.length / 2);
      const first = await this.attempt(events.slice(0, half));
      const second = await this.attempt(events.slice(half));
      return { again: [...first.again, ...second.again], retryAfter: first.retryAfter ?? second.retryAfter ?? null };
    }
    this.stats.rejected += events.length;
    this.warnOnce(`status-${status}`, `agentaudit: the sidecar refused ${events.length} event(s) with ${status}: ${JSON.stringify(body).slice(0, 300)}`);
    return { again: [] };
  }

  async oneByOne(events) {
    const again = [];
    for (const event of events) again.push(...(await this.attempt([event])).again);
    return { again, retryAfter: null };
  }

  settle() {
    if (this.pending === 0) {
      unwatch(this);
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

  /** Deliver what is queued for at most timeoutMs, then abandon what is left (requests in flight included, counted
   * as lost) and stop; true if nothing was lost. Idempotent. */
  close(timeoutMs = this.closeTimeoutMs) {
    if (!this.closing) this.closing = this.shutDown(timeoutMs);
    return this.closing;
  }

  async shutDown(timeoutMs) {
    const lostBefore = this.stats.lost;
    this.deadline = Date.now() + timeoutMs;
    this.wakeAll();  // a batch waiting to retry tries again now, within the deadline
    const done = await this.flush(timeoutMs);
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (!done) {
      this.stats.lost += this.queue.length - this.head;
      this.queue = [];
      this.head = 0;
      this.abandoned = true;
      for (const request of this.requests) request.abort();
      this.wakeAll();
      await this.running;
    }
    unwatch(this);
    const lost = this.stats.lost - lostBefore;
    if (lost) {
      this.warnOnce('lost', `agentaudit: gave up on ${lost} event(s) the sidecar did not take within ${timeoutMs} ms (see stats.lost)`);
    }
    return done && lost === 0;
  }

  warnOnce(kind, message) {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    try { this.onWarning(message); } catch { /* a warning sink must not break delivery */ }
  }
}
