// Native TLS from TLS_CERT_FILE/TLS_KEY_FILE: TLS 1.3 preferred, 1.1 refused, HSTS only here.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { sottodPath } from './lib/server.mjs';

let dir, port, child;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sotto-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'],
  { stdio: 'ignore' });
  child = spawn(sottodPath(), [], { env: { PATH: process.env.PATH, PORT: '0', DATA_DIR: path.join(dir, 'data'),
    TLS_CERT_FILE: path.join(dir, 'cert.pem'), TLS_KEY_FILE: path.join(dir, 'key.pem'), LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { log += d; });
  for (let i = 0; i < 200; i++) {
    port ??= Number(/event=server\.start port=(\d+)/.exec(log)?.[1]) || undefined;
    if (!port) { await new Promise((r) => setTimeout(r, 25)); continue; }
    const ok = await new Promise((r) => {
      const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('TLS server did not start');
});

after(async () => {
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
  assert.equal(code, 0);
});

function get(p, opts = {}) {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: p, rejectUnauthorized: false, ...opts }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ res, body }));
    }).on('error', reject);
  });
}

test('healthz over TLS 1.3 with HSTS', async () => {
  const { res, body } = await get('/healthz');
  assert.equal(res.statusCode, 200);
  assert.equal(body, '{"status":"ok"}');
  assert.match(res.headers['strict-transport-security'], /max-age=\d+/);
  const proto = await new Promise((r) => {
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => { r(s.getProtocol()); s.destroy(); });
  });
  assert.equal(proto, 'TLSv1.3');
});

test('TLS 1.1 is refused, TLS 1.2 accepted', async () => {
  const attempt = (v) => new Promise((r) => {
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, minVersion: v, maxVersion: v,
      ciphers: 'DEFAULT:@SECLEVEL=0' }, () => { r(s.getProtocol()); s.destroy(); });
    s.on('error', () => r(null));
  });
  assert.equal(await attempt('TLSv1.1'), null);
  assert.equal(await attempt('TLSv1.2'), 'TLSv1.2');
});
