// Configuration: --help, bad values exit 2 with one line naming the variable, secrets files.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runSottod, startServer } from './lib/server.mjs';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'sotto-cfg-'));
const SECRETS = { JWT_SECRET: 'j'.repeat(40), MFA_ENCRYPTION_KEY: 'ab'.repeat(32) };

test('--help prints the configuration table and exits 0', async () => {
  const r = await runSottod({}, ['--help']);
  assert.equal(r.code, 0);
  for (const v of ['PORT', 'DATA_DIR', 'DATABASE_URL', 'JWT_SECRET', 'METRICS_TOKEN', 'CORS_ORIGINS',
    'TRUSTED_PROXIES', 'TLS_CERT_FILE', 'LOG_LEVEL', 'WEB_ROOT', 'WORKERS', 'BODY_LIMIT']) {
    assert.match(r.stdout, new RegExp(`^  ${v} `, 'm'), v);
  }
});

async function expectBad(env, variable) {
  const dir = tmp();
  try {
    const r = await runSottod({ DATA_DIR: dir, ...env });
    assert.equal(r.code, 2, `${JSON.stringify(env)}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^sottod: ${variable}: `));
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('bad values exit 2 with one line naming the variable', async () => {
  await expectBad({ PORT: 'abc' }, 'PORT');
  await expectBad({ PORT: '70000' }, 'PORT');
  await expectBad({ PORT: '-1' }, 'PORT');
  await expectBad({ LOG_LEVEL: 'chatty' }, 'LOG_LEVEL');
  await expectBad({ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL');
  await expectBad({ CORS_ORIGINS: '*' }, 'CORS_ORIGINS');
  await expectBad({ TRUSTED_PROXIES: 'not-an-ip' }, 'TRUSTED_PROXIES');
  await expectBad({ JWT_SECRET: 'short' }, 'JWT_SECRET');
  await expectBad({ TLS_CERT_FILE: '/nonexistent/cert.pem', TLS_KEY_FILE: '/nonexistent/key.pem' }, 'TLS_CERT_FILE');
  await expectBad({ WORKERS: '0' }, 'WORKERS');
  // The Redis bus is not built: a set REDIS_URL is refused, never silently ignored.
  await expectBad({ REDIS_URL: 'redis://127.0.0.1:6379' }, 'REDIS_URL');
});

test('with DATABASE_URL set, secrets must be given', async () => {
  await expectBad({ DATABASE_URL: 'postgresql://127.0.0.1:1/sotto' }, 'JWT_SECRET');
  await expectBad({ DATABASE_URL: 'postgresql://127.0.0.1:1/sotto', JWT_SECRET: 'j'.repeat(40) },
    'MFA_ENCRYPTION_KEY');
});

test('an unreachable DATABASE_URL exits 2 (needs the store linked)', async (t) => {
  const v = await runSottod({}, ['--version']);
  if (v.stdout.includes('store=none')) { t.skip('sottod built without the store'); return; }
  await expectBad({ DATABASE_URL: 'postgresql://sotto@127.0.0.1:1/sotto', ...SECRETS }, 'DATABASE_URL');
});

test('secrets are generated once in DATA_DIR with mode 0600 and reused', async () => {
  const s = await startServer();
  const file = path.join(s.dataDir, 'secrets');
  const st = statSync(file);
  assert.equal(st.mode & 0o777, 0o600);
  const first = readFileSync(file, 'utf8');
  assert.match(first, /^JWT_SECRET=[0-9a-f]{64}\nMFA_ENCRYPTION_KEY=[0-9a-f]{64}\n$/);
  assert.ok(!s.log.includes(first.split('\n')[0].split('=')[1]), 'secret never logged');
  // The SQLite database and its WAL and shared-memory files are private too (umask 077).
  if (!(await runSottod({}, ['--version'])).stdout.includes('store=none')) {
    for (const f of ['sotto.db', 'sotto.db-wal', 'sotto.db-shm']) {
      assert.equal(statSync(path.join(s.dataDir, f)).mode & 0o777, 0o600, f);
    }
  }
  // Restart on the same DATA_DIR: same secrets.
  s.child.kill('SIGTERM');
  await s.exited;
  const r = await runSottod({ DATA_DIR: s.dataDir, PORT: String(s.port), LOG_LEVEL: 'error' }, [], 3000)
    .catch(() => null);
  void r;
  assert.equal(readFileSync(file, 'utf8'), first);
  rmSync(s.dataDir, { recursive: true, force: true });
});

test('a secrets file readable by others is refused (exit 2)', async () => {
  const dir = tmp();
  try {
    writeFileSync(path.join(dir, 'secrets'), `JWT_SECRET=${'a'.repeat(64)}\nMFA_ENCRYPTION_KEY=${'b'.repeat(64)}\n`);
    chmodSync(path.join(dir, 'secrets'), 0o644);
    const r = await runSottod({ DATA_DIR: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^sottod: DATA_DIR: .*0600/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('PORT=0: the kernel picks a free port, named in server.start at every LOG_LEVEL', async () => {
  const a = await startServer({ PORT: '0', LOG_LEVEL: 'error' });
  const b = await startServer({ PORT: '0', LOG_LEVEL: 'error' });
  try {
    for (const s of [a, b]) {
      const lines = s.log.trim().split('\n');
      assert.equal(lines.length, 1, s.log); // that line only: LOG_LEVEL=error still holds
      assert.match(lines[0], new RegExp(`level=info event=server\\.start port=${s.port} `));
      assert.equal((await fetch(s.url('/healthz'))).status, 200);
    }
    assert.notEqual(a.port, b.port);
  } finally { await a.stop(); await b.stop(); }
});

test('given secrets are used and no file is written', async () => {
  const s = await startServer(SECRETS);
  try {
    assert.throws(() => statSync(path.join(s.dataDir, 'secrets')));
  } finally { await s.stop(); }
});
