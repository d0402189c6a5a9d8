// Test helper: a real sidecar in a child process (the repository's .venv Python), an account and an API key.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PYTHON = process.env.AGENTAUDIT_PYTHON || join(ROOT, '.venv/bin/python');

export async function freePort() {
  const server = createServer();
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

export class Sidecar {
  constructor() {
    this.dataDir = mkdtempSync(join(tmpdir(), 'agentaudit-js-'));
    this.proc = null;
    this.url = '';
    this.port = 0;
  }

  /** Start (or restart on the same port); resolves to the base URL http://127.0.0.1:<port>. */
  start(timeoutMs = 30000) {
    const port = String(this.port || 0);
    this.proc = spawn(PYTHON, ['-m', 'sidecar', 'serve', '--port', port, '--data-dir', this.dataDir],
      { cwd: ROOT, env: { ...process.env, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new Promise((ok, fail) => {
      let seen = '';
      const timer = setTimeout(() => fail(new Error(`the sidecar did not start:\n${seen}`)), timeoutMs);
      const onData = (chunk) => {
        seen += chunk;
        const found = /listening on (http:\/\/[\d.]+:(\d+))/.exec(seen);
        if (found) {
          clearTimeout(timer);
          this.url = found[1];
          this.port = Number(found[2]);
          ok(this.url);
        }
      };
      this.proc.stdout.on('data', onData);
      this.proc.stderr.on('data', onData);
      this.proc.on('exit', (code) => { clearTimeout(timer); if (!this.url) fail(new Error(`the sidecar exited ${code}:\n${seen}`)); });
    });
  }

  async kill(signal = 'SIGKILL') {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((ok) => this.proc.once('exit', ok));
    this.proc.kill(signal);
    await exited;
  }

  async stop() {
    await this.kill('SIGTERM');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

async function call(url, method, body, headers = {}) {
  const response = await fetch(url, { method, headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(15000) });
  const data = await response.json();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(data)}`);
  return data;
}

/** Register an organisation, log in, create an API key; resolves to { token, key }. */
export async function bootstrap(base, email = 'ops@acme.test') {
  await call(`${base}/api/v1/auth/register`, 'POST', { name: 'Acme', email, password: 'correct-horse-9' });
  const login = await call(`${base}/api/v1/auth/login`, 'POST', { email, password: 'correct-horse-9' });
  const jwt = { Authorization: `Bearer ${login.accessToken}` };
  const key = await call(`${base}/api/v1/auth/api-keys`, 'POST', { name: 'agent', scopes: ['logs:write', 'logs:read', 'admin'] }, jwt);
  return { token: login.accessToken, key: key.key };
}

/** A TCP proxy in front of `upstream` (host:port): the request reaches the server at once, the answer is held
 * back `delayMs` or, with `dropAnswers`, never relayed (the client's connection is reset). Counts the requests
 * relayed (each begins a chunk: enough for these tests). */
export async function tcpProxy(upstream, { delayMs = 0, dropAnswers = false } = {}) {
  const [host, port] = [upstream.slice(0, upstream.lastIndexOf(':')), Number(upstream.slice(upstream.lastIndexOf(':') + 1))];
  const sockets = new Set();
  const proxy = { requests: 0, url: '', close: null };
  const server = createServer((client) => {
    const upstreamSocket = connect(port, host);
    for (const s of [client, upstreamSocket]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}); }
    client.on('data', (chunk) => {
      if (/^[A-Z]+ \//.test(chunk.toString('latin1', 0, 16))) proxy.requests++;
      upstreamSocket.write(chunk);
    });
    client.on('end', () => upstreamSocket.end());
    upstreamSocket.on('data', (chunk) => {
      if (dropAnswers) { client.resetAndDestroy(); return; }
      setTimeout(() => { if (!client.destroyed) client.write(chunk); }, delayMs);
    });
    upstreamSocket.on('close', () => setTimeout(() => client.destroy(), delayMs));
    client.on('close', () => upstreamSocket.destroy());
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  proxy.url = `http://127.0.0.1:${server.address().port}/api/v1`;
  proxy.close = () => new Promise((ok) => { for (const s of sockets) s.destroy(); server.close(ok); });
  return proxy;
}
