// Background delivery's edges: process exit without close(), close() against a server that never answers, events
// that cannot be encoded, copies taken at log() time, one exit hook for all clients, logging after close().

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { AgentAuditClient, BufferedClient } from 'agentaudit-client';
import { Sidecar, bootstrap, freePort } from './sidecar.js';

const INDEX = fileURLToPath(new URL('../src/index.js', import.meta.url));
const sidecar = new Sidecar();
let base;
let key;

before(async () => {
  await sidecar.start();
  base = `${sidecar.url}/api/v1`;
  ({ key } = await bootstrap(sidecar.url, 'lifecycle@acme.test'));
});

after(async () => { await sidecar.stop(); });

const unique = (prefix) => `${prefix}-${Math.random().toString(16).slice(2)}`;

/** Run an ES module script in a child Node; resolves to { code, ms, stderr }, killing it after limitMs. */
function runScript(source, limitMs = 15000) {
  const started = Date.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, ms: Date.now() - started, stderr });
    });
  });
}

/** A server that reads requests and never answers; `seen` counts requests, `gone` those whose client hung up. */
async function silentServer() {
  const state = { seen: 0, gone: 0, server: null, url: '' };
  state.server = createServer((req) => {
    state.seen++;
    req.resume();
    req.socket.on('close', () => { state.gone++; });
  });
  await new Promise((ok) => state.server.listen(0, '127.0.0.1', ok));
  state.url = `http://127.0.0.1:${state.server.address().port}/api/v1`;
  return state;
}

const until = async (check, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((ok) => setTimeout(ok, 10));
  }
};

describe('process exit without close()', () => {
  test('with the sidecar down, delivery gives up after closeTimeoutMs with one warning and the process exits', async () => {
    const port = await freePort();
    for (const pauseMs of [0, 400]) {  // the script ends before delivery starts, or while it is retrying
      const { code, ms, stderr } = await runScript(`
        import { AgentAuditClient } from ${JSON.stringify(INDEX)};
        const client = new AgentAuditClient({ apiKey: 'k', baseUrl: 'http://127.0.0.1:${port}/api/v1', closeTimeoutMs: 500,
          onWarning: (m) => console.error(m) });
        client.log({ action: 'x' }, { wait: false });
        client.log({ action: 'y' }, { wait: false });
        await new Promise((ok) => setTimeout(ok, ${pauseMs}));
      `);
      assert.equal(code, 0, stderr);
      assert.ok(ms < 5000, `the process lived ${ms} ms`);
      assert.equal(stderr.match(/gave up on 2 event\(s\)/g)?.length, 1, stderr);
    }
  });

  test('with the sidecar up, queued events and spans are delivered before the process exits', async () => {
    const traceId = unique('exit');
    const { code, stderr } = await runScript(`
      import { AgentAuditClient } from ${JSON.stringify(INDEX)};
      const client = new AgentAuditClient({ apiKey: ${JSON.stringify(key)}, baseUrl: ${JSON.stringify(base)} });
      for (let i = 0; i < 3; i++) client.log({ action: 'at_exit', traceId: ${JSON.stringify(traceId)} }, { wait: false });
      await client.trace('run', { traceId: ${JSON.stringify(traceId)} }, async (t) => t.span('child', async () => 1));
    `);
    assert.equal(code, 0, stderr);
    const client = new AgentAuditClient({ apiKey: key, baseUrl: base });
    const page = await client.listLogs({ traceId, limit: 50 });
    assert.deepEqual(page.data.map((e) => e.action).sort(), ['at_exit', 'at_exit', 'at_exit', 'child', 'run']);
  });
});

describe('close()', () => {
  test('against a server that never answers, close(timeoutMs) abandons the request in flight and counts it lost', async () => {
    const silent = await silentServer();
    const warnings = [];
    try {
      const client = new BufferedClient({ apiKey: 'k', baseUrl: silent.url, timeoutMs: 10000, flushIntervalMs: 1,
        onWarning: (m) => warnings.push(m) });
      for (let i = 0; i < 3; i++) client.log({ action: 'x' });
      await until(() => silent.seen === 1);
      const started = Date.now();
      assert.equal(await client.close(300), false);
      const took = Date.now() - started;
      assert.ok(took < 1000, `close(300) took ${took} ms`);
      assert.deepEqual(client.stats, { queued: 3, sent: 0, dropped: 0, rejected: 0, lost: 3, retries: 0, pending: 0 });
      await until(() => silent.gone === 1, 1000);  // the connection is closed: nothing keeps the process alive
      assert.deepEqual(warnings, ['agentaudit: gave up on 3 event(s) the sidecar did not take within 300 ms (see stats.lost)']);
      assert.equal(await client.close(300), false);  // idempotent
    } finally {
      silent.server.closeAllConnections();
      silent.server.close();
    }
  });

  test('a child process that calls close(500) against a server that never answers exits soon after', async () => {
    const silent = await silentServer();
    try {
      const { code, ms, stderr } = await runScript(`
        import { BufferedClient } from ${JSON.stringify(INDEX)};
        const client = new BufferedClient({ apiKey: 'k', baseUrl: ${JSON.stringify(silent.url)}, timeoutMs: 20000,
          onWarning: () => {} });
        client.log({ action: 'x' });
        await new Promise((ok) => setTimeout(ok, 300));
        console.error('closed', await client.close(500), JSON.stringify(client.stats));
      `);
      assert.equal(code, 0, stderr);
      assert.match(stderr, /closed false .*"lost":1.*"pending":0/);
      assert.ok(ms < 4000, `the process lived ${ms} ms`);
    } finally {
      silent.server.closeAllConnections();
      silent.server.close();
    }
  });

  test('events logged after close() are counted as lost, never sent', async () => {
    const warnings = [];
    const client = new BufferedClient({ apiKey: key, baseUrl: base, onWarning: (m) => warnings.push(m) });
    assert.equal(await client.close(), true);
    const traceId = unique('late');
    client.log({ action: 'late', traceId });
    client.log({ action: 'late', traceId });
    assert.deepEqual([client.stats.lost, client.stats.pending, client.stats.queued], [2, 0, 0]);
    assert.equal(warnings.length, 1);
    const page = await new AgentAuditClient({ apiKey: key, baseUrl: base }).listLogs({ traceId });
    assert.equal(page.pagination.total, 0);
  });
});

describe('what is queued', () => {
  test('an event that cannot be encoded is dropped alone, counted and warned once; the rest arrive', async () => {
    const warnings = [];
    const client = new BufferedClient({ apiKey: key, baseUrl: base, window: 1, onWarning: (m) => warnings.push(m) });
    const traceId = unique('bigint');
    client.log({ action: 'before', traceId });
    client.log({ action: 'bigint', traceId, metadata: { tokens: 1n } });
    const cyclic = { action: 'cycle', traceId };
    cyclic.metadata = { self: cyclic };
    client.log(cyclic);
    for (let i = 0; i < 5; i++) client.log({ action: 'after', traceId });
    client.log(null);
    client.logBatch(null);
    assert.equal(await client.flush(5000), true);
    assert.deepEqual(client.stats, { queued: 10, sent: 6, dropped: 0, rejected: 4, lost: 0, retries: 0, pending: 0 });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /dropped an event: it cannot be encoded as JSON \(.*BigInt.*\)/);
    const page = await client.listLogs({ traceId });
    assert.deepEqual(page.data.map((e) => e.action).sort(), ['after', 'after', 'after', 'after', 'after', 'before']);
    await client.close();
  });

  test('log() keeps a copy: changing the event or its metadata afterwards does not change what is stored', async () => {
    const client = new BufferedClient({ apiKey: key, baseUrl: base });
    const traceId = unique('copy');
    const metadata = { step: 1, tags: ['a'] };
    const event = { action: 'copied', traceId, metadata };
    client.log(event);
    metadata.step = 2;
    metadata.tags.push('b');
    event.action = 'changed';
    assert.equal(await client.flush(5000), true);
    const page = await client.listLogs({ traceId });
    assert.deepEqual(page.data.map((e) => [e.action, e.metadata]), [['copied', { step: 1, tags: ['a'] }]]);
    await client.close();
  });

  test('many clients share one exit hook, removed once none has events pending', async () => {
    const before = process.listenerCount('beforeExit');
    const clients = Array.from({ length: 12 }, () => new BufferedClient({ apiKey: key, baseUrl: base }));
    for (const client of clients) client.log({ action: 'many' });
    assert.equal(process.listenerCount('beforeExit'), before + 1);
    for (const client of clients) assert.equal(await client.flush(5000), true);
    assert.equal(process.listenerCount('beforeExit'), before);
    await Promise.all(clients.map((c) => c.close()));
    assert.equal(process.listenerCount('beforeExit'), before);
  });
});
