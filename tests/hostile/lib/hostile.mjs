// Raw-socket tools for the hostile suite: a sottod on loopback (plain or native TLS), raw
// exchanges that count whole HTTP responses, and a liveness probe with a hard deadline. Every
// exchange is bounded in time; nothing here talks to anything but 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { FAST_ENV, apiClient } from '../../api/lib/api.mjs';
import { startServer } from '../../api/lib/server.mjs';

// A self-signed P-256 certificate for localhost in a fresh directory.
function makeCert() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sotto-hostile-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'],
  { stdio: 'ignore' });
  return dir;
}

// Starts sottod; with {tls: true} on native TLS. Returns the api/lib server object plus
// `tls` and `connect()` (a raw socket of the right kind).
export async function startHostile({ tls: useTls = false, env = {} } = {}) {
  let certDir = null;
  const extra = { ...FAST_ENV, LOG_LEVEL: 'warn', ...env };
  if (useTls) {
    certDir = makeCert();
    Object.assign(extra, { TLS_CERT_FILE: path.join(certDir, 'cert.pem'), TLS_KEY_FILE: path.join(certDir, 'key.pem') });
  }
  const srv = await startServer(extra, { tls: useTls });
  srv.tls = useTls;
  if (!useTls) srv.api = apiClient(srv);
  srv.connect = () => (useTls
    ? tls.connect({ port: srv.port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] })
    : net.connect(srv.port, '127.0.0.1'));
  const stop = srv.stop.bind(srv);
  // A wedged loop ignores SIGTERM (its watcher runs on the loop): after 10 s, SIGKILL and fail.
  srv.stop = async (signal) => {
    const timer = setTimeout(() => srv.child.kill('SIGKILL'), 10000);
    try {
      const res = await stop(signal);
      if (res.signal === 'SIGKILL' && signal !== 'SIGKILL') throw new Error('sottod ignored SIGTERM for 10 s');
      return res;
    } finally {
      clearTimeout(timer);
      if (certDir) rmSync(certDir, { recursive: true, force: true });
    }
  };
  return srv;
}

// Counts complete HTTP/1.1 responses in a byte stream (status line, headers, content-length body).
export function parseResponses(buf) {
  const out = [];
  let off = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', off);
    if (end < 0) break;
    const head = buf.subarray(off, end).toString('latin1');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (!m) break;
    const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const len = cl ? Number(cl[1]) : 0;
    if (buf.length < end + 4 + len) break;
    out.push({ status: Number(m[1]), head, body: buf.subarray(end + 4, end + 4 + len).toString('utf8') });
    off = end + 4 + len;
  }
  return out;
}

// Writes `parts` (strings or Buffers, each its own write, `gapMs` apart) on one connection and
// collects what comes back until the server closes or `timeoutMs` passes.
// Returns {responses, closed, ms}.
export function exchange(srv, parts, { timeoutMs = 3000, gapMs = 0, endAfter = false } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = srv.connect();
    const chunks = [];
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ responses: parseResponses(Buffer.concat(chunks)), closed, ms: Date.now() - t0 });
    };
    const timer = setTimeout(done, timeoutMs);
    sock.on(srv.tls ? 'secureConnect' : 'connect', async () => {
      for (const p of parts) {
        if (sock.destroyed) return;
        sock.write(p);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
      if (endAfter) sock.end();
    });
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => { closed = true; });
    sock.on('close', () => { closed = true; done(); });
    sock.on('error', () => { closed = true; });
  });
}

// GET /healthz on a fresh connection must answer 200 within `ms`: the loop is alive.
export async function assertAlive(assert, srv, ms = 2000) {
  const r = await exchange(srv, ['GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { timeoutMs: ms });
  assert.equal(r.responses[0]?.status, 200, `the server still answers within ${ms} ms`);
}

// The process's CPU time (user + system), seconds, from /proc: a spinning loop shows here.
export function cpuSeconds(pid) {
  const f = execFileSync('cat', [`/proc/${pid}/stat`]).toString();
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export const req = {
  get: (p = '/healthz') => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`,
  post: (p = '/api/auth/forgot-password', body = '{"email":"a@example.org"}', extra = '') =>
    `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
  patch: (p = '/api/users/me', body = '{"bio":"x"}') =>
    `PATCH ${p} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  options: (p = '/api/auth/login') => `OPTIONS ${p} HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\n\r\n`,
  emptyPost: (p = '/api/auth/logout') => `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n`,
};
