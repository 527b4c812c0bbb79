// /ws: upgrade, the unauthenticated first-frame rules, size cap, binary refusal, Origin and path
// checks (the messaging protocol itself: 20_messaging and the other real-time tests).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { startServer } from './lib/server.mjs';

let srv;
before(async () => { srv = await startServer({ WS_MAX_FRAME: '4096', CORS_ORIGINS: 'https://app.example' }); });
after(async () => { await srv.stop(); });

// A minimal WebSocket client: enough to test the server without a dependency.
function connect(path = '/ws', headers = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(srv.port, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const frames = [];
    const waiters = [];
    sock.on('error', () => {});
    sock.on('connect', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`);
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
        if (!head.startsWith('HTTP/1.1 101')) { sock.destroy(); resolve({ status: head.split('\r\n')[0], head }); return; }
        upgraded = true;
        resolve({ status: '101', head, send, next, sock, closed });
      }
      while (buf.length >= 2) {
        let len = buf[1] & 0x7f, off = 2;
        if (len === 126) { len = buf.readUInt16BE(2); off = 4; } else if (len === 127) { len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) break;
        const f = { opcode: buf[0] & 0x0f, payload: buf.subarray(off, off + len) };
        buf = buf.subarray(off + len);
        if (waiters.length) waiters.shift()(f); else frames.push(f);
      }
    });
    const closed = new Promise((r) => sock.on('close', r));
    sock.on('close', () => { if (!upgraded) resolve({ status: 'closed' }); });
    function send(payload, opcode = 1) {
      const data = Buffer.from(payload);
      const mask = crypto.randomBytes(4);
      let header;
      if (data.length < 126) header = Buffer.from([0x80 | opcode, 0x80 | data.length]);
      else if (data.length < 65536) { header = Buffer.alloc(4); header[0] = 0x80 | opcode; header[1] = 0x80 | 126; header.writeUInt16BE(data.length, 2); }
      else { header = Buffer.alloc(10); header[0] = 0x80 | opcode; header[1] = 0x80 | 127; header.writeBigUInt64BE(BigInt(data.length), 2); }
      const masked = Buffer.from(data.map((b, i) => b ^ mask[i % 4]));
      sock.write(Buffer.concat([header, mask, masked]));
    }
    function next(timeoutMs = 2000) {
      if (frames.length) return Promise.resolve(frames.shift());
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error('no frame')), timeoutMs);
        waiters.push((f) => { clearTimeout(t); res(f); });
      });
    }
    setTimeout(() => reject(new Error('handshake timeout')), 3000);
  });
}

test('/ws upgrades; a bad token gets an error with the request id, then close 4401', async () => {
  const ws = await connect();
  assert.equal(ws.status, '101');
  assert.match(ws.head, /x-content-type-options: nosniff/i);
  ws.send(JSON.stringify({ event: 'authenticate', id: 'r1', data: { token: 'x' } }));
  const f = await ws.next();
  assert.equal(f.opcode, 1);
  const msg = JSON.parse(f.payload.toString());
  assert.equal(msg.event, 'error');
  assert.equal(msg.id, 'r1');
  assert.equal(msg.data.code, 'unauthenticated');
  const c = await ws.next();
  assert.equal(c.opcode, 8);
  assert.equal(c.payload.readUInt16BE(0), 4401);
  ws.sock.destroy();
});

test('a first frame that is not JSON gets invalid_json, then close 4401', async () => {
  const ws = await connect();
  ws.send('not json');
  assert.equal(JSON.parse((await ws.next()).payload.toString()).data.code, 'invalid_json');
  const c = await ws.next();
  assert.equal(c.opcode, 8);
  assert.equal(c.payload.readUInt16BE(0), 4401);
  ws.sock.destroy();
});

test('a message over WS_MAX_FRAME closes with 1009', async () => {
  const ws = await connect();
  ws.send(JSON.stringify({ event: 'x', data: 'y'.repeat(5000) }));
  const f = await ws.next();
  assert.equal(f.opcode, 8);
  assert.equal(f.payload.readUInt16BE(0), 1009);
  ws.sock.destroy();
});

test('binary frames close with 1003', async () => {
  const ws = await connect();
  ws.send(Buffer.from([1, 2, 3]), 2);
  const f = await ws.next();
  assert.equal(f.opcode, 8);
  assert.equal(f.payload.readUInt16BE(0), 1003);
  ws.sock.destroy();
});

test('a foreign Origin is refused; an allowed or same-host one is accepted', async () => {
  assert.notEqual((await connect('/ws', { Origin: 'https://evil.example' })).status, '101');
  const ok = await connect('/ws', { Origin: 'https://app.example' });
  assert.equal(ok.status, '101');
  ok.sock.destroy();
  const same = await connect('/ws', { Origin: `http://127.0.0.1:${srv.port}` });
  assert.equal(same.status, '101');
  same.sock.destroy();
});

test('upgrades on other paths are refused', async () => {
  assert.notEqual((await connect('/healthz')).status, '101');
  assert.notEqual((await connect('/ws/x')).status, '101');
  assert.equal((await fetch(srv.url('/healthz'))).status, 200);
});

test('websocket connections show in /metrics', async () => {
  const ws = await connect();
  const text = await (await fetch(srv.url('/metrics'))).text();
  assert.match(text, /sotto_open_connections\{kind="websocket"\} [1-9]/);
  ws.sock.destroy();
});
