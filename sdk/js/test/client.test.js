// agentaudit-client against a real sidecar (and a tiny local server for 429/503 with Retry-After).

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import {
  AgentAuditClient, APIConnectionError, AuthenticationError, BufferedClient, ConfigError, PayloadTooLargeError,
  ValidationError, currentSpan,
} from 'agentaudit-client';
import { Sidecar, bootstrap, freePort, tcpProxy } from './sidecar.js';

const sidecar = new Sidecar();
let base;
let key;

before(async () => {
  await sidecar.start();
  base = `${sidecar.url}/api/v1`;
  ({ key } = await bootstrap(sidecar.url));
});

after(async () => { await sidecar.stop(); });

const unique = (prefix) => `${prefix}-${Math.random().toString(16).slice(2)}`;
const quiet = () => {};

describe('waited calls', () => {
  test('log stores one event and returns it', async () => {
    const client = new AgentAuditClient({ apiKey: key, baseUrl: base, agentId: 'writer-agent-1' });
    const traceId = unique('run');
    const stored = await client.log({ action: 'llm_call', prompt: 'Summarise the latest sales report',
      response: 'Q1 revenue was $2.4M...', metadata: { model: 'gpt-4o', tokens: 340 }, traceId });
    assert.match(stored.id, /^log_/);
    assert.deepEqual([stored.action, stored.agentId, stored.traceId, stored.metadata, stored.enforcementAction],
      ['llm_call', 'writer-agent-1', traceId, { model: 'gpt-4o', tokens: 340 }, 'allow']);
    const again = await client.getLog(stored.id);
    assert.equal(again.hash, stored.hash);
  });

  test('logBatch keeps order and splits more than 50 events into several requests', async () => {
    const client = new AgentAuditClient({ apiKey: key, baseUrl: base });
    const traceId = unique('batch');
    const events = Array.from({ length: 120 }, (_, i) => ({ action: `step_${i}`, traceId }));
    const result = await client.logBatch(events);
    assert.equal(result.processed, 120);
    assert.deepEqual(result.data.map((e) => e.action), events.map((e) => e.action));
    const page = await client.listLogs({ traceId, limit: 500 });
    assert.equal(page.pagination.total, 120);
  });

  test('guardrail: allow when clean, block under a block policy; dry run stores nothing', async () => {
    const client = new AgentAuditClient({ apiKey: key, baseUrl: base });
    const agent = await client.createAgent({ name: unique('intake'), type: 'assistant' });
    const policy = await client.clonePack({ packId: 'hipaa', name: unique('HIPAA'), mode: 'block' });
    await client.attachAgent(policy.id, agent.id);
    const clean = await client.guardrail({ action: 'prompt_submitted', agentId: agent.id, prompt: 'Summarise the meeting.' });
    assert.deepEqual([clean.allowed, clean.action, clean.violations], [true, 'allow', []]);
    const blocked = await client.guardrail({ action: 'prompt_submitted', agentId: agent.id,
      prompt: 'Patient SSN is 123-45-6789, update the chart.' });
    assert.deepEqual([blocked.allowed, blocked.action, blocked.severity], [false, 'block', 'critical']);
    assert.ok(blocked.violations.some((f) => f.startsWith('CRITICAL_pii_detect_')));
    assert.match(blocked.auditLogId, /^log_/);
    const dry = await client.guardrail({ action: 'x', agentId: agent.id, prompt: 'SSN 123-45-6789' }, { dryRun: true });
    assert.deepEqual([dry.allowed, dry.action, dry.auditLogId], [false, 'block', null]);
    const alerts = await client.listAlerts({ agentId: agent.id });
    assert.ok(alerts.length > 0 && alerts.every((a) => a.auditLogId === blocked.auditLogId));
    const resolved = await client.resolveAlert(alerts[0].id, { note: 'seen' });
    assert.deepEqual([resolved.status, resolved.isResolved], ['resolved', true]);
  });

  test('errors carry the sidecar error body', async () => {
    const bad = new AgentAuditClient({ apiKey: 'aa_live_wrong', baseUrl: base, maxRetries: 0 });
    await assert.rejects(bad.log({ action: 'x' }), (err) => err instanceof AuthenticationError && err.status === 401);
    // a refusal is no "cannot answer": onError does not turn a bad key into an allowed prompt
    await assert.rejects(bad.guardrail({ action: 'x', prompt: 'hi' }, { onError: 'allow' }), AuthenticationError);
    const client = new AgentAuditClient({ apiKey: key, baseUrl: base, maxRetries: 0 });
    await assert.rejects(client.log({ action: '' }), (err) => err instanceof ValidationError
      && err.details.some((d) => d.field === 'action') && typeof err.requestId === 'string');
  });

  test('environment variables are the fallback for the key and the URL', async () => {
    process.env.AGENTAUDIT_API_KEY = key;
    process.env.AGENTAUDIT_BASE_URL = base;
    try {
      const client = new AgentAuditClient();
      assert.equal((await client.health()).status, 'ok');
      assert.match((await client.log({ action: 'from_env' })).id, /^log_/);
    } finally {
      delete process.env.AGENTAUDIT_API_KEY;
      delete process.env.AGENTAUDIT_BASE_URL;
    }
    assert.equal(new AgentAuditClient().baseUrl, 'http://127.0.0.1:8731/api/v1');
  });
  test('a stored event has the wire shape of API.md: absent fields are null', async () => {
    const client = new AgentAuditClient({ apiKey: key, baseUrl: base });
    const stored = await client.log({ action: 'bare' });
    assert.deepEqual(Object.keys(stored).sort(), ['action', 'agentId', 'complianceFlags', 'createdAt', 'endedAt',
      'enforcementAction', 'hash', 'id', 'metadata', 'organizationId', 'parentSpanId', 'prompt', 'response',
      'sequence', 'spanId', 'startedAt', 'traceId', 'violationDetails']);
    assert.deepEqual([stored.prompt, stored.response, stored.agentId, stored.traceId, stored.parentSpanId,
      stored.metadata, stored.violationDetails], [null, null, null, null, null, null, null]);
    assert.match(stored.organizationId, /^org_/);
    const page = await client.listLogs({ limit: 1 });
    assert.deepEqual(Object.keys(page.pagination).sort(), ['limit', 'nextCursor', 'offset', 'page', 'total', 'totalPages']);
    const traces = await client.listTraces({ limit: 1 });
    assert.deepEqual(Object.keys(traces.data[0]).sort(), ['agentIds', 'blockedCount', 'durationMs', 'endedAt',
      'enforcementAction', 'flaggedCount', 'rootAction', 'spanCount', 'startedAt', 'traceId']);
    const agent = await client.createAgent({ name: unique('shape') });
    assert.deepEqual(Object.keys(agent).sort(), ['config', 'createdAt', 'description', 'id', 'metadata', 'name',
      'organizationId', 'type', 'updatedAt']);
  });

  test('a body that cannot be encoded is a TypeError, thrown before anything is sent (not retried)', async () => {
    let calls = 0;
    const counting = (...args) => { calls++; return fetch(...args); };
    const client = new AgentAuditClient({ apiKey: key, baseUrl: base, fetch: counting });
    await assert.rejects(client.log({ action: 'x', metadata: { tokens: 10n } }),
      (err) => err instanceof TypeError && /cannot be encoded as JSON/.test(err.message));
    await assert.rejects(client.log(null), TypeError);
    assert.equal(calls, 0);
    const refused = new AgentAuditClient({ apiKey: key, baseUrl: 'http://127.0.0.1:1/api/v1', maxRetries: 0 });
    await assert.rejects(refused.log({ action: 'x' }), APIConnectionError);
    const open = await refused.guardrail({ action: 'x', prompt: 'hi' }, { onError: 'allow' });
    const closed = await refused.guardrail({ action: 'x', prompt: 'hi' }, { onError: 'block' });
    assert.deepEqual([open.allowed, closed.allowed, closed.action], [true, false, 'block']);
  });

  test('a waited write whose answer is late or lost is not sent again, so nothing is stored twice', async () => {
    const upstream = sidecar.url.replace('http://', '');
    const slow = await tcpProxy(upstream, { delayMs: 1000 });
    const dropping = await tcpProxy(upstream, { dropAnswers: true });
    const action = unique('dup-check');
    try {
      const client = new AgentAuditClient({ apiKey: key, baseUrl: slow.url, timeoutMs: 500, maxRetries: 2 });
      await assert.rejects(client.log({ action }), (err) => err instanceof APIConnectionError && err.timeout
        && /not retried: POST \/audit-logs may have reached the sidecar/.test(err.message));
      await assert.rejects(client.logBatch([{ action }, { action }]), APIConnectionError);
      await assert.rejects(client.guardrail({ action, prompt: 'hi' }), APIConnectionError);
      assert.equal(slow.requests, 3);
      await assert.rejects(client.listLogs({ action }), APIConnectionError);  // a read is retried
      assert.equal(slow.requests, 6);
      const lossy = new AgentAuditClient({ apiKey: key, baseUrl: dropping.url, maxRetries: 2 });
      await assert.rejects(lossy.log({ action }), (err) => err instanceof APIConnectionError && /not retried/.test(err.message));
      assert.equal(dropping.requests, 1);
    } finally {
      await slow.close();
      await dropping.close();
    }
    const direct = new AgentAuditClient({ apiKey: key, baseUrl: base });
    assert.equal((await direct.listLogs({ action, limit: 1 })).pagination.total, 5);
    // refused connections are retried: nothing was sent
    const port = await freePort();
    const late = createServer((req, res) => { res.writeHead(201, { 'Content-Type': 'application/json' }); res.end('{"id":"log_1"}'); });
    setTimeout(() => late.listen(port, '127.0.0.1'), 300);
    try {
      const patient = new AgentAuditClient({ apiKey: key, baseUrl: `http://127.0.0.1:${port}/api/v1`, maxRetries: 8 });
      assert.equal((await patient.log({ action: 'after_refused' })).id, 'log_1');
    } finally {
      late.close();
    }
  });

  test('a body over the sidecar limit is a PayloadTooLargeError', async () => {
    const client = new AgentAuditClient({ apiKey: key, baseUrl: base, maxRetries: 0 });
    await assert.rejects(client.log({ action: 'x', metadata: { big: 'a'.repeat(1_200_000) } }),
      (err) => err instanceof PayloadTooLargeError && err.status === 413);
  });

  test('a refused entry of a long logBatch is named by its index in the call; error.stored holds what was stored', async () => {
    const client = new AgentAuditClient({ apiKey: key, baseUrl: base, maxRetries: 0 });
    const traceId = unique('chunks');
    const events = Array.from({ length: 120 }, (_, i) => ({ action: `step_${i}`, traceId }));
    events[110] = { action: '', traceId };
    await assert.rejects(client.logBatch(events), (err) => {
      assert.ok(err instanceof ValidationError);
      assert.match(err.message, /entry 110 is invalid: \[110\]\.action/);
      assert.match(err.message, /entries 0 to 99 were stored/);
      assert.deepEqual(err.details.map((d) => d.field), ['[110].action']);
      assert.deepEqual(err.stored.map((e) => e.action), events.slice(0, 100).map((e) => e.action));
      return true;
    });
    assert.equal((await client.listLogs({ traceId, limit: 1 })).pagination.total, 100);
    events[110] = { action: 'bigint', traceId, metadata: { n: 1n } };
    await assert.rejects(client.logBatch(events), (err) => err instanceof TypeError && /entry 110/.test(err.message));
    await assert.rejects(client.logBatch([{ action: 'ok' }, 'not an event']), (err) => err instanceof TypeError && /entry 1/.test(err.message));
    assert.equal((await client.listLogs({ traceId, limit: 1 })).pagination.total, 100);
  });

  test('options are checked when the client is built', () => {
    for (const [options, Error] of [
      [{ batchSize: 100 }, RangeError], [{ batchSize: 0 }, RangeError], [{ batchSize: 2.5 }, RangeError],
      [{ maxBuffer: -5 }, RangeError], [{ maxBuffer: 0 }, RangeError], [{ maxBuffer: '100' }, TypeError],
      [{ window: 0 }, RangeError], [{ flushIntervalMs: -1 }, RangeError], [{ flushIntervalMs: NaN }, TypeError],
      [{ closeTimeoutMs: -1 }, RangeError], [{ closeTimeoutMs: Infinity }, RangeError],
      [{ timeoutMs: 0 }, RangeError], [{ timeoutMs: -1 }, RangeError], [{ timeoutMs: '5000' }, TypeError],
      [{ maxRetries: -1 }, RangeError], [{ onWarning: 'console' }, TypeError], [{ fetch: {} }, TypeError],
      [{ baseUrl: '127.0.0.1:8731' }, ConfigError], [{ baseUrl: 'ftp://host/api/v1' }, ConfigError],
      [{ baseUrl: 'not a url' }, ConfigError],
    ]) {
      assert.throws(() => new AgentAuditClient(options), Error, JSON.stringify(options));
      assert.throws(() => new BufferedClient(options), Error, JSON.stringify(options));
    }
    const fine = new BufferedClient({ batchSize: 1, maxBuffer: 1, window: 1, flushIntervalMs: 0, closeTimeoutMs: 0,
      timeoutMs: 1, maxRetries: 0, baseUrl: 'https://audit.example/api/v1/' });
    assert.equal(fine.baseUrl, 'https://audit.example/api/v1');
  });

  test('an environment variable set but empty counts as unset', async () => {
    process.env.AGENTAUDIT_AGENT_ID = '';
    process.env.AGENTAUDIT_BASE_URL = '';
    try {
      const client = new AgentAuditClient({ apiKey: key });
      assert.deepEqual([client.agentId, client.baseUrl], [undefined, 'http://127.0.0.1:8731/api/v1']);
      const sent = new AgentAuditClient({ apiKey: key, baseUrl: base });
      assert.equal((await sent.log({ action: 'empty_env_agent' })).agentId, null);
      process.env.AGENTAUDIT_AGENT_ID = 'env-agent';
      assert.equal((await sent.log({ action: 'x' })).agentId, null);  // read when the client is built
      assert.equal((await new AgentAuditClient({ apiKey: key, baseUrl: base }).log({ action: 'x' })).agentId, 'env-agent');
    } finally {
      delete process.env.AGENTAUDIT_AGENT_ID;
      delete process.env.AGENTAUDIT_BASE_URL;
    }
  });
});

describe('NUL characters', () => {
  test('a NUL in an event is stored as U+FFFD, waited and background', async () => {
    const client = new AgentAuditClient({ apiKey: key, baseUrl: base });
    const binary = 'PK\x03\x04\x00\x00tool output';
    const stored = 'PK\x03\x04\ufffd\ufffdtool output';
    const metadata = { 'raw\x00key': binary, nested: [binary], path: 'C:\\u0000' }; // the last is no NUL: kept
    const expected = { 'raw\ufffdkey': stored, nested: [stored], path: 'C:\\u0000' };
    const action = unique('nul');
    const waited = await client.log({ action, response: binary, metadata });
    assert.deepEqual([waited.response, waited.metadata], [stored, expected]);
    const batch = await client.logBatch([{ action, response: binary, metadata }]);
    assert.deepEqual([batch.data[0].response, batch.data[0].metadata], [stored, expected]);
    client.log({ action, response: binary, metadata }, { wait: false });
    client.logBatch([{ action, response: binary, metadata }], { wait: false });
    assert.equal(await client.flush(10000), true);
    assert.equal(client.stats.rejected, 0);
    const page = await client.listLogs({ action, limit: 10 });
    assert.deepEqual(page.data.map((e) => [e.response, e.metadata]), Array(4).fill([stored, expected]));
    await client.close();
  });
});

describe('buffered mode', () => {
  test('log(..., { wait: false }) returns at once and everything arrives', async () => {
    const client = new BufferedClient({ apiKey: key, baseUrl: base, agentId: 'bg-agent' });
    const traceId = unique('bg');
    const started = process.hrtime.bigint();
    for (let i = 0; i < 500; i++) assert.equal(client.log({ action: 'tick', traceId, metadata: { i } }), undefined);
    const perCallUs = Number(process.hrtime.bigint() - started) / 1000 / 500;
    assert.ok(perCallUs < 200, `log() took ${perCallUs} µs per call`);
    assert.equal(await client.flush(10000), true);
    const page = await client.listLogs({ traceId, limit: 500 });
    assert.equal(page.pagination.total, 500);
    assert.deepEqual(new Set(page.data.map((e) => e.metadata.i)).size, 500);
    assert.deepEqual(client.stats, { queued: 500, sent: 500, dropped: 0, rejected: 0, lost: 0, retries: 0, pending: 0 });
    await client.close();
  });

  test('a dead sidecar never throws into the caller; overflow drops the oldest with a counter and one warning', async () => {
    const warnings = [];
    const port = await freePort();
    const client = new AgentAuditClient({ apiKey: key, baseUrl: `http://127.0.0.1:${port}/api/v1`, maxBuffer: 100,
      flushIntervalMs: 5, onWarning: (m) => warnings.push(m) });
    for (let i = 0; i < 1000; i++) client.log({ action: 'lost' }, { wait: false });
    // the buffer holds 100; up to 16 batches of 50 are out of it, in flight (retrying)
    assert.equal(client.stats.dropped >= 1000 - 100 - 16 * 50, true, JSON.stringify(client.stats));
    assert.equal(client.stats.dropped + client.stats.pending, 1000, JSON.stringify(client.stats));
    assert.equal(await client.flush(300), false);
    assert.equal(await client.close(200), false);
    assert.equal(warnings.filter((w) => w.includes('buffer is full')).length, 1);
    assert.ok(client.stats.lost > 0);
  });

  test('up to window batches are in flight at once, each event delivered once; window 1 keeps the order', async () => {
    const seen = [];
    let inFlight = 0;
    let most = 0;
    const server = createServer((req, res) => {
      let body = '';
      inFlight++;
      most = Math.max(most, inFlight);
      req.on('data', (c) => { body += c; });
      req.on('end', () => setTimeout(() => {
        const events = JSON.parse(body);
        seen.push(...events.map((e) => e.metadata.i));
        inFlight--;
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ data: events, processed: events.length, errors: 0 }));
      }, 100));
    });
    await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${server.address().port}/api/v1`;
    try {
      const wide = new BufferedClient({ apiKey: 'k', baseUrl: url, window: 3 });
      for (let i = 0; i < 400; i++) wide.log({ action: 'e', metadata: { i } });
      assert.equal(await wide.flush(10000), true);
      assert.equal(most, 3);
      assert.deepEqual([...seen].sort((a, b) => a - b), [...Array(400).keys()]);
      await wide.close();

      seen.length = 0;
      most = 0;
      const ordered = new BufferedClient({ apiKey: 'k', baseUrl: url, window: 1 });
      for (let i = 0; i < 200; i++) ordered.log({ action: 'e', metadata: { i } });
      assert.equal(await ordered.flush(10000), true);
      assert.equal(most, 1);
      assert.deepEqual(seen, [...Array(200).keys()]);
      await ordered.close();
      assert.throws(() => new BufferedClient({ apiKey: 'k', baseUrl: url, window: 0 }), RangeError);
    } finally {
      server.close();
    }
  });

  test('retries honour Retry-After on 429 and 503', async () => {
    const seen = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        seen.push({ at: Date.now(), size: JSON.parse(body).length });
        if (seen.length === 1) { res.writeHead(429, { 'Retry-After': '1', 'Content-Type': 'application/json' }); res.end('{"error":"slow down","status":429}'); return; }
        if (seen.length === 2) { res.writeHead(503, { 'Retry-After': '0', 'Content-Type': 'application/json' }); res.end('{"error":"busy","status":503}'); return; }
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ data: [], processed: seen.at(-1).size, errors: 0 }));
      });
    });
    await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const client = new BufferedClient({ apiKey: 'k', baseUrl: `http://127.0.0.1:${server.address().port}/api/v1` });
      for (let i = 0; i < 3; i++) client.log({ action: 'retry_me' });
      assert.equal(await client.flush(10000), true);
      assert.equal(seen.length, 3);
      assert.ok(seen[1].at - seen[0].at >= 950, `waited ${seen[1].at - seen[0].at} ms after Retry-After: 1`);
      assert.deepEqual([client.stats.sent, client.stats.retries], [3, 2]);
    } finally {
      server.close();
    }
  });

  test('events logged while the sidecar is down arrive after it restarts', async () => {
    const restartable = new Sidecar();
    await restartable.start();
    const { key: k } = await bootstrap(restartable.url, 'restart@acme.test');
    const client = new BufferedClient({ apiKey: k, baseUrl: `${restartable.url}/api/v1`, onWarning: quiet });
    try {
      const traceId = unique('restart');
      for (let i = 0; i < 50; i++) client.log({ action: 'before', traceId, metadata: { i } });
      assert.equal(await client.flush(10000), true);
      await restartable.kill();
      for (let i = 0; i < 70; i++) client.log({ action: 'during', traceId, metadata: { i } });
      await new Promise((ok) => setTimeout(ok, 300));
      await restartable.start();
      assert.equal(await client.flush(20000), true);
      const page = await client.listLogs({ traceId, limit: 500 });
      assert.equal(page.pagination.total, 120);
      assert.equal(client.stats.sent, 120);
    } finally {
      await client.close(1000);
      await restartable.stop();
    }
  });
});

describe('traces', () => {
  test('nested spans carry trace and parent ids, record errors, and follow concurrent async work', async () => {
    const client = new AgentAuditClient({ apiKey: key, baseUrl: base, agentId: 'tracer' });
    let traceId;
    const step = client.traced('lookup', async (n) => {
      await new Promise((ok) => setTimeout(ok, 5 * (3 - n)));
      return currentSpan().spanId;
    });
    const rootSpanId = await client.trace('run', async (t) => {
      traceId = t.traceId;
      const ids = await Promise.all([0, 1, 2].map((n) => t.span(`branch_${n}`, async (b) => {
        b.set({ response: `done ${n}`, tokens: n });
        const inner = await step(n);
        assert.equal(currentSpan(), b);
        return inner;
      })));
      assert.equal(new Set(ids).size, 3);
      await assert.rejects(client.span('failing', async () => { throw new TypeError('tool broke'); }), TypeError);
      return t.spanId;
    });
    assert.equal(currentSpan(), undefined);
    await client.flush(10000);
    const trace = await client.getTrace(traceId);
    const byAction = Object.fromEntries(trace.spans.map((s) => [s.action, s]));
    assert.equal(trace.spans.length, 8);
    assert.equal(byAction.run.parentSpanId, null);
    assert.equal(byAction.run.spanId, rootSpanId);
    for (const n of [0, 1, 2]) {
      assert.equal(byAction[`branch_${n}`].parentSpanId, rootSpanId);
      assert.equal(byAction[`branch_${n}`].response, `done ${n}`);
    }
    const lookups = trace.spans.filter((s) => s.action === 'lookup');
    assert.deepEqual(new Set(lookups.map((s) => s.parentSpanId)),
      new Set([0, 1, 2].map((n) => byAction[`branch_${n}`].spanId)));
    assert.deepEqual(byAction.failing.metadata.error, { type: 'TypeError', message: 'tool broke' });
    assert.ok(trace.spans.every((s) => s.agentId === 'tracer' && s.startedAt <= s.endedAt));
    await client.close();
  });
});

describe('traces, waited calls', () => {
  test('log, logBatch and guardrail waited inside a span join it', async () => {
    const client = new AgentAuditClient({ apiKey: key, baseUrl: base });
    const { traceId, spanId, results } = await client.trace('run', async (t) => ({
      traceId: t.traceId,
      spanId: t.spanId,
      results: [
        await client.log({ action: 'one' }),
        ...(await client.logBatch([{ action: 'two' }, { action: 'three' }])).data,
        (await client.guardrail({ action: 'four', prompt: 'hello' })).raw,
      ],
    }));
    assert.deepEqual(results.map((e) => [e.action, e.traceId, e.parentSpanId]),
      ['one', 'two', 'three', 'four'].map((action) => [action, traceId, spanId]));
    await client.close();
  });
});
