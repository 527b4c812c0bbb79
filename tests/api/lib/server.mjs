// Starts the built sottod (path from $SOTTOD) on a free port with a temporary DATA_DIR and the
// fixture web root, waits until /healthz answers, and stops it. Used by every API test.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FIXTURE_WEB = path.resolve(here, '../fixtures/web');

export function sottodPath() {
  const p = process.env.SOTTOD;
  if (!p) throw new Error('set SOTTOD to the sottod binary (ctest does)');
  return p;
}

function cleanEnv() {
  // Only what the test sets reaches sottod, so the caller's environment cannot change results.
  const env = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  return env;
}

// Runs sottod to completion (for configuration errors): {code, stdout, stderr, ms}.
export function runSottod(env, args = [], timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(sottodPath(), args, { env: { ...cleanEnv(), ...env } });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8'); // whole characters, even split across reads
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('sottod hung')); }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
  });
}

// The port sottod printed in its server.start line (PORT=0: the kernel's choice), once it has.
function listenedPort(log) {
  const m = /event=server\.start port=(\d+)/.exec(log);
  return m ? Number(m[1]) : null;
}

// PORT=0 unless extraEnv names one: the kernel picks a port nobody holds, so tests running in
// parallel never race for one between choosing it and binding it.
// GET /healthz over TLS with a self-signed certificate (fetch cannot skip verification).
function tlsHealthz(base) {
  return new Promise((resolve) => {
    const r = https.get(base + '/healthz', { rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    r.on('error', () => resolve(0));
    r.on('timeout', () => { r.destroy(); resolve(0); });
  });
}

// {tls: true}: the server runs native TLS (TLS_CERT_FILE/TLS_KEY_FILE in extraEnv).
export async function startServer(extraEnv = {}, { tls = false } = {}) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sotto-api-'));
  const env = {
    ...cleanEnv(), PORT: '0', DATA_DIR: dataDir, WEB_ROOT: FIXTURE_WEB,
    LOG_LEVEL: 'warn', WORKERS: '2', ...extraEnv,
  };
  const child = spawn(sottodPath(), [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.setEncoding('utf8'); // whole characters, even split across reads
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const server = {
    port: null, base: null, dataDir, child, exited,
    get log() { return log; },
    url: (p) => server.base + p,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const res = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      // A clean stop must exit 0 with no sanitizer report (ASan/UBSan/LSan builds).
      if (signal === 'SIGTERM' && (res.code !== 0 || /Sanitizer|runtime error:/.test(log))) {
        throw new Error(`sottod did not stop cleanly (code ${res.code}):\n${log}`);
      }
      return res;
    },
  };
  const deadline = Date.now() + 10000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sottod exited early: ${log}`);
    server.port ??= listenedPort(log);
    if (server.port) {
      server.base = `${tls ? 'https' : 'http'}://127.0.0.1:${server.port}`;
      try {
        const status = tls ? await tlsHealthz(server.base) : (await fetch(server.base + '/healthz')).status;
        if (status === 200) break;
      } catch { /* not answering yet */ }
    }
    if (Date.now() > deadline) { await server.stop('SIGKILL'); throw new Error(`sottod did not start: ${log}`); }
    await new Promise((r) => setTimeout(r, 20));
  }
  return server;
}

// A raw HTTP/1.1 exchange on a fresh socket (for requests fetch refuses to send).
export function rawRequest(port, text, { timeoutMs = 3000 } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.setTimeout(timeoutMs, () => sock.destroy());
    sock.on('connect', () => sock.write(text));
    sock.on('data', (d) => { data += d; });
    sock.on('close', () => resolve(data));
    sock.on('error', () => resolve(data));
  });
}

export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

export function assertSecurityHeaders(assert, res) {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) assert.equal(res.headers.get(k), v, k);
  const csp = res.headers.get('content-security-policy');
  assert.ok(csp, 'content-security-policy');
  for (const part of ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "object-src 'none'",
    "base-uri 'none'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"]) {
    assert.ok(csp.includes(part), `CSP has ${part}`);
  }
  assert.ok(res.headers.get('permissions-policy'), 'permissions-policy');
  assert.equal(res.headers.get('strict-transport-security'), null, 'no HSTS without TLS');
}
