// Test helper: a real sidecar in a child process (the repository's .venv Python), an account and an API key.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
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
