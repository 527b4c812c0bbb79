// Findings 5 and 6: half-sent heads from one address are capped per address and cut at the
// header deadline; at the connection limit the server refuses new sockets at once instead of
// spinning on accept() and writing a log line for each failure.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { cpuSeconds, exchange, startHostile } from './lib/hostile.mjs';

// A socket from a chosen loopback source address that sends half a request head and stalls.
function slowHead(port, localAddress = '127.0.0.1') {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress });
    const s = { sock, closedAt: null, t0: Date.now() };
    sock.on('error', () => {});
    sock.on('close', () => { s.closedAt = Date.now(); });
    sock.on('connect', () => { sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: '); resolve(s); });
  });
}

// GET /healthz from a chosen source address on a fresh socket: the status, or 0.
function healthFrom(port, localAddress) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress });
    let data = '';
    sock.setTimeout(3000, () => sock.destroy());
    sock.on('connect', () => sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    sock.on('data', (d) => { data += d; });
    sock.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] || 0)));
    sock.on('error', () => {});
  });
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));

test('one address holds at most MAX_CONNECTIONS_PER_IP; others are still served', async () => {
  const srv = await startHostile({ env: { MAX_CONNECTIONS_PER_IP: '50' } });
  try {
    const slow = await Promise.all(Array.from({ length: 80 }, () => slowHead(srv.port, '127.0.0.3')));
    await wait(300);
    const refused = slow.filter((s) => s.closedAt !== null).length;
    assert.equal(refused, 30, 'the 30 over the cap are closed at once');
    assert.equal(await healthFrom(srv.port, '127.0.0.3'), 0, 'that address gets nothing more');
    assert.equal(await healthFrom(srv.port, '127.0.0.4'), 200, 'another address is served');
    // Half-sent heads are cut at the header deadline (10 s), whatever trickles in.
    const t0 = Date.now();
    while (slow.some((s) => s.closedAt === null) && Date.now() - t0 < 14000) await wait(200);
    assert.ok(slow.every((s) => s.closedAt !== null), 'every half-sent head is closed by the deadline');
    assert.equal(await healthFrom(srv.port, '127.0.0.3'), 200, 'the address is served again once its sockets are gone');
    slow.forEach((s) => s.sock.destroy());
  } finally {
    await srv.stop();
  }
});

test('at the connection limit new sockets are refused at once: no spin, no log flood', async () => {
  const srv = await startHostile({ env: { MAX_CONNECTIONS: '16', MAX_CONNECTIONS_PER_IP: '0', LOG_LEVEL: 'info' } });
  try {
    const cpu0 = cpuSeconds(srv.child.pid);
    const log0 = srv.log.length;
    const held = await Promise.all(Array.from({ length: 200 }, (_, i) => slowHead(srv.port, `127.0.1.${1 + (i % 200)}`)));
    await wait(2000);
    const open = held.filter((s) => s.closedAt === null).length;
    assert.ok(open > 0 && open < 40, `a bounded number stays open (${open})`);
    assert.ok(cpuSeconds(srv.child.pid) - cpu0 < 1.0, 'the loop does not spin at the limit');
    assert.ok(srv.log.length - log0 < 20000, `the log grew by ${srv.log.length - log0} bytes only`);
    held.forEach((s) => s.sock.destroy());
    await wait(300);
    const r = await exchange(srv, ['GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    assert.equal(r.responses[0]?.status, 200, 'served again once sockets are free');
  } finally {
    await srv.stop();
  }
});
