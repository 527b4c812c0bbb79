// Start-up, SIGTERM drain, clients that vanish, and hostile connections.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rawRequest, runSottod, startServer } from './lib/server.mjs';

test('SIGTERM: in-flight request answered, exit 0 within 2 s', async () => {
  const s = await startServer();
  const inflight = fetch(s.url('/api/_test/slow?ms=600')).then(async (r) => [r.status, await r.json()]);
  await new Promise((r) => setTimeout(r, 100));
  const t0 = Date.now();
  s.child.kill('SIGTERM');
  const { code } = await s.exited;
  const ms = Date.now() - t0;
  assert.equal(code, 0);
  assert.ok(ms < 2000, `took ${ms} ms`);
  assert.deepEqual(await inflight, [200, { slept: 600 }]);
  await s.stop();
});

test('a port already taken: exit 1 naming PORT, nothing left running, no sanitizer report', async () => {
  const taken = net.createServer();
  await new Promise((r) => taken.listen(0, '127.0.0.1', r));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sotto-api-'));
  try {
    const r = await runSottod({ PORT: String(taken.address().port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /PORT: cannot listen on 127\.0\.0\.1:\d+/);
    assert.doesNotMatch(r.stderr, /Sanitizer|runtime error:/);
  } finally {
    taken.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('SIGTERM with idle keep-alive connections still exits 0 quickly', async () => {
  const s = await startServer();
  const socks = [];
  for (let i = 0; i < 20; i++) {
    const sock = net.connect(s.port, '127.0.0.1');
    sock.on('error', () => {});
    sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    socks.push(sock);
  }
  await new Promise((r) => setTimeout(r, 100));
  const t0 = Date.now();
  const { code } = await s.stop('SIGTERM');
  assert.equal(code, 0);
  assert.ok(Date.now() - t0 < 2000);
  socks.forEach((x) => x.destroy());
});

test('a client that resets during async work does not hurt the server', async () => {
  const s = await startServer();
  try {
    for (let i = 0; i < 10; i++) {
      const sock = net.connect(s.port, '127.0.0.1');
      sock.on('error', () => {});
      await new Promise((r) => sock.on('connect', r));
      sock.write('GET /api/_test/slow?ms=150 HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => setTimeout(r, 20));
      sock.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await fetch(s.url('/healthz'))).status, 200);
  } finally {
    const { code } = await s.stop();
    assert.equal(code, 0);
  }
});

test('garbage, oversized headers and slowloris connections do not take the server down', async () => {
  const s = await startServer();
  try {
    const garbage = [
      '\x00\x01\x02\x03\r\n\r\n', 'GET\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'BREW /pot HTTP/1.1\r\n\r\n',
      `GET /${'a'.repeat(10000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20000)}\r\n\r\n`,
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
      'POST /api/_test/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{"a"',
      'GET /%00/../x HTTP/1.1\r\nHost: x\r\n\r\n',
    ];
    await Promise.all(garbage.map((g) => rawRequest(s.port, g, { timeoutMs: 2000 })));
    // 200 slowloris sockets that send half a request line and stall (below the per-address
    // cap, MAX_CONNECTIONS_PER_IP 256; tests/hostile/03 covers the cap itself).
    const slow = [];
    for (let i = 0; i < 200; i++) {
      const sock = net.connect(s.port, '127.0.0.1');
      sock.on('error', () => {});
      sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      slow.push(sock);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 20; i++) assert.equal((await fetch(s.url('/healthz'))).status, 200);
    slow.forEach((x) => x.destroy());
  } finally {
    const { code } = await s.stop();
    assert.equal(code, 0);
  }
});
