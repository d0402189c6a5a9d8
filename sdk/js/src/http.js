// One HTTP exchange with fetch (Node 18+ or a browser), bounded by a timeout, and the retry loop.
//
// Retries of waited calls are at most once for what the API does not make idempotent (POST /audit-logs, its batch,
// guardrail checks): such a call is tried again only when it certainly did not reach the sidecar (the connection was
// refused or could not be opened) or when the sidecar answered 429 or 503 with Retry-After, which it does without
// storing anything. After a timeout or a connection dropped once the request may have been sent, the error is thrown
// and nothing is sent again: the event may have been stored. GET, PUT, DELETE and calls marked idempotent are
// retried on any failure. (Background delivery, buffer.js, is at least once by choice.)

import { APIConnectionError, retryAfterSeconds, statusError } from './errors.js';

export const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
const NOTHING_DONE_STATUSES = new Set([429, 503]);  // with Retry-After: answered before any work was done
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
// errors of opening the connection: the request was never written
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);
const unsent = new WeakSet();  // APIConnectionErrors that certainly happened before anything was sent

function connectFailed(err) {
  const cause = err?.cause;
  if (NOT_SENT_CODES.has(cause?.code)) return true;
  // Node's happy-eyeballs connect reports one error per address tried
  return Array.isArray(cause?.errors) && cause.errors.length > 0 && cause.errors.every((e) => NOT_SENT_CODES.has(e?.code));
}

/** Whether an error answer may be retried: any of RETRY_STATUSES for an idempotent call; otherwise only 429 and 503
 * that carry Retry-After. */
function mayRetryStatus(status, retryAfter, idempotent) {
  if (!RETRY_STATUSES.has(status)) return false;
  return idempotent || (NOTHING_DONE_STATUSES.has(status) && retryAfter != null);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** JSON text of a value; a TypeError naming `what` when it cannot be encoded (a BigInt, a cycle, a function). */
export function encodeJson(value, what = 'the request body') {
  let text;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new TypeError(`${what} cannot be encoded as JSON: ${err?.message}`, { cause: err });
  }
  if (typeof text !== 'string') throw new TypeError(`${what} cannot be encoded as JSON: got ${typeof value}`);
  return text;
}

const NUL = /(?<!\\)((?:\\\\)*)\\u0000/g; // an escaped U+0000: after an even run of backslashes

/**
 * An event's JSON text with each U+0000 (NUL) in its strings (action, prompt, response, ids, metadata keys and
 * values) as U+FFFD, as the sidecar's OpenTelemetry ingest does (the REST API refuses NUL). JSON.stringify always
 * escapes NUL as \\u0000, so one search of the text finds it.
 */
export function withoutNul(json) {
  return json.includes('\\u0000') ? json.replace(NUL, '$1\\ufffd') : json;
}

/** Backoff with jitter; Retry-After (seconds) wins, capped at maxWaitMs. */
export function backoffMs(attempt, retryAfter, { baseMs = 250, capMs = 8000, maxWaitMs = 30000 } = {}) {
  if (retryAfter != null) return Math.min(retryAfter * 1000, maxWaitMs);
  const top = Math.min(capMs, baseMs * 2 ** attempt);
  return baseMs / 2 + Math.random() * (top - baseMs / 2);
}

export class Transport {
  constructor({ apiKey, baseUrl, timeoutMs, maxRetries, fetch: fetchImpl }) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = timeoutMs;
    this.maxRetries = maxRetries;
    this.fetch = fetchImpl || globalThis.fetch;
    if (typeof this.fetch !== 'function') throw new Error('agentaudit-client needs fetch (Node 18+ or a browser)');
    this.headers = { Accept: 'application/json' };
    if (apiKey) this.headers['X-API-Key'] = apiKey;
  }

  url(path, query) {
    let url = this.baseUrl + path;
    if (query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) {
        if (value === undefined || value === null) continue;
        params.append(key, Array.isArray(value) ? value.join(',') : String(value));
      }
      const text = params.toString();
      if (text) url += `?${text}`;
    }
    return url;
  }

  /** One exchange: resolves to { status, headers, body } (body parsed when JSON); throws APIConnectionError.
   * `json` is the request body, already encoded; `signal` abandons the exchange (close() of the sender). */
  async exchange(method, path, { query, json, raw = false, signal } = {}) {
    const headers = { ...this.headers };
    if (json !== undefined) headers['Content-Type'] = 'application/json';
    const bounded = new AbortController();
    const timer = setTimeout(() => bounded.abort(new DOMException('timed out', 'TimeoutError')), this.timeoutMs);
    const abandon = () => bounded.abort(new DOMException('abandoned', 'AbortError'));
    if (signal?.aborted) abandon();
    signal?.addEventListener('abort', abandon);
    try {
      let response;
      try {
        response = await this.fetch(this.url(path, query), { method, headers, body: json, signal: bounded.signal });
      } catch (err) {
        throw this.noAnswer(err, signal);
      }
      let data;
      try {
        if (raw && response.ok) data = new Uint8Array(await response.arrayBuffer());
        else if ((response.headers.get('content-type') || '').startsWith('application/json')) {
          const text = await response.text();
          data = text ? JSON.parse(text) : null;
        } else data = await response.text();
      } catch (err) {
        if (bounded.signal.aborted) throw this.noAnswer(err, signal);
        throw new APIConnectionError(`the answer from ${this.baseUrl} was cut short: ${err?.message}`, { cause: err });
      }
      return { status: response.status, headers: response.headers, body: data };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abandon);
    }
  }

  noAnswer(err, signal) {
    if (signal?.aborted) return new APIConnectionError(`request to ${this.baseUrl} abandoned: the client closed`, { cause: err });
    const timeout = err?.name === 'TimeoutError' || err?.name === 'AbortError';
    const error = new APIConnectionError(
      timeout ? `no answer from ${this.baseUrl} within ${this.timeoutMs} ms` : `cannot reach ${this.baseUrl}: ${err?.cause?.code || err?.message}`,
      { cause: err, timeout });
    if (!timeout && connectFailed(err)) unsent.add(error);
    return error;
  }

  /** A call, retried per the rules above; resolves to the parsed body or throws. The body is encoded once, first:
   * one that cannot be (a BigInt) is a TypeError, and nothing is sent. `idempotent` defaults by method (POST and
   * PATCH are not). */
  async request(method, path, { query, body, json, raw = false, retries = this.maxRetries,
    idempotent = IDEMPOTENT_METHODS.has(method) } = {}) {
    if (json === undefined && body !== undefined) json = encodeJson(body);
    for (let attempt = 0; ; attempt++) {
      let result;
      try {
        result = await this.exchange(method, path, { query, json, raw });
      } catch (err) {
        if (!(err instanceof APIConnectionError) || attempt >= retries) throw err;
        if (!idempotent && !unsent.has(err)) {
          err.message += ` (not retried: ${method} ${path} may have reached the sidecar and is not idempotent)`;
          throw err;
        }
        await sleep(backoffMs(attempt, null));
        continue;
      }
      if (result.status < 400) return raw ? result : result.body;
      const retryAfter = retryAfterSeconds(result.headers);
      if (attempt < retries && mayRetryStatus(result.status, retryAfter, idempotent)) {
        await sleep(backoffMs(attempt, retryAfter));
        continue;
      }
      throw statusError(result.status, result.body, result.headers);
    }
  }
}
