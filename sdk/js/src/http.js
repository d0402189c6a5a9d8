// One HTTP exchange with fetch (Node 18+ or a browser), bounded by a timeout, and the retry loop.

import { APIConnectionError, retryAfterSeconds, statusError } from './errors.js';

export const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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

  /** One exchange: resolves to { status, headers, body } (body parsed when JSON); throws APIConnectionError. */
  async exchange(method, path, { query, body, raw = false } = {}) {
    const headers = { ...this.headers };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await this.fetch(this.url(path, query), {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const timeout = err?.name === 'TimeoutError' || err?.name === 'AbortError';
      throw new APIConnectionError(
        timeout ? `no answer from ${this.baseUrl} within ${this.timeoutMs} ms` : `cannot reach ${this.baseUrl}: ${err?.cause?.code || err?.message}`,
        { cause: err, timeout });
    }
    let data;
    try {
      if (raw && response.ok) data = new Uint8Array(await response.arrayBuffer());
      else if ((response.headers.get('content-type') || '').startsWith('application/json')) {
        const text = await response.text();
        data = text ? JSON.parse(text) : null;
      } else data = await response.text();
    } catch (err) {
      throw new APIConnectionError(`the answer from ${this.baseUrl} was cut short: ${err?.message}`, { cause: err });
    }
    return { status: response.status, headers: response.headers, body: data };
  }

  /** A call with retries on 429, 5xx and connection errors; resolves to the parsed body or throws. */
  async request(method, path, { query, body, raw = false, retries = this.maxRetries } = {}) {
    for (let attempt = 0; ; attempt++) {
      let result;
      try {
        result = await this.exchange(method, path, { query, body, raw });
      } catch (err) {
        if (attempt >= retries) throw err;
        await sleep(backoffMs(attempt, null));
        continue;
      }
      if (result.status < 400) return raw ? result : result.body;
      if (RETRY_STATUSES.has(result.status) && attempt < retries) {
        await sleep(backoffMs(attempt, retryAfterSeconds(result.headers)));
        continue;
      }
      throw statusError(result.status, result.body, result.headers);
    }
  }
}
