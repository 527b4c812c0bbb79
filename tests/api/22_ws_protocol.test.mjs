// @stores sqlite,pg
// The WebSocket protocol's edges: the authorization matrix for a third user, a stolen token
// cannot ack another device's queue, malformed frames and floods, close codes 4401 / 4403 /
// 4409, re-authentication and token expiry. The server stays healthy for everyone else.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAuthServer } from './lib/api.mjs';
import { conversation, envelopes, sendRest, userWithDevices, uuid, wsConnect } from './lib/rt.mjs';

let srv;
before(async () => { srv = await startAuthServer({ WS_MAX_FRAME: '65536' }); });
after(async () => { await srv.stop(); });

async function healthy() {
  assert.equal((await fetch(srv.url('/healthz'))).status, 200);
  const u = await userWithDevices(srv, 1);
  const c = await wsConnect(srv, u.token);
  await c.event('queue:drained');
  await c.close();
}

describe('authorization', () => {
  test('a third user gets 404 on every conversation and message endpoint, and not_found on every event', async () => {
    const a = await userWithDevices(srv, 1);
    const b = await userWithDevices(srv, 1);
    const c = await userWithDevices(srv, 1);
    const conv = await conversation(srv, a, b);
    const m = (await sendRest(srv, a, b, conv, 'secret')).body;
    const calls = [
      ['GET', `/api/conversations/${conv}`], ['DELETE', `/api/conversations/${conv}`],
      ['GET', `/api/conversations/${conv}/participants`], ['GET', `/api/conversations/${conv}/messages`],
      ['POST', `/api/conversations/${conv}/messages`, { clientMessageId: uuid(), envelopes: envelopes([a.deviceId, b.deviceId]) }],
      ['PATCH', `/api/messages/${m.id}`, { envelopes: envelopes([a.deviceId, b.deviceId]) }],
      ['DELETE', `/api/messages/${m.id}`], ['POST', `/api/messages/${m.id}/read`],
    ];
    for (const [method, p, body] of calls) {
      const r = await srv.api(method, p, { token: c.token, body });
      assert.equal(r.status, 404, `${method} ${p}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'not_found');
      const anon = await srv.api(method, p, { body });
      assert.equal(anon.status, 401, `${method} ${p} without a token`);
    }
    const list = await srv.api('GET', '/api/conversations', { token: c.token });
    assert.deepEqual(list.body.conversations, []);
    const ws = await wsConnect(srv, c.token);
    for (const [event, data] of [
      ['message:send', { conversationId: conv, clientMessageId: uuid(), envelopes: envelopes([a.deviceId, b.deviceId]) }],
      ['message:read', { messageId: m.id }],
      ['typing:start', { conversationId: conv }], ['typing:stop', { conversationId: conv }],
    ]) {
      const r = await ws.request(event, data);
      assert.equal(r.event, 'error', event);
      assert.equal(r.data.code, 'not_found', event);
    }
    await ws.close();
    // Nothing leaked to a or b, and nothing changed.
    const h = await srv.api('GET', `/api/conversations/${conv}/messages`, { token: a.token });
    assert.deepEqual(h.body.messages.map((x) => [x.id, x.status, x.deletedAt]), [[m.id, 'sent', undefined]]);
  });

  test('a stolen token of one device cannot ack another device\'s queue', async () => {
    const a = await userWithDevices(srv, 1);
    const b = await userWithDevices(srv, 1);
    const conv = await conversation(srv, a, b);
    for (let i = 0; i < 3; i += 1) await sendRest(srv, a, b, conv, `s${i}`);
    const thief = await wsConnect(srv, a.token);
    await thief.event('queue:drained');
    const r = await thief.request('queue:ack', { seq: 3, deviceId: b.deviceId });
    assert.equal(r.event, 'error', 'a\'s own queue has no seq 3');
    assert.equal((await thief.request('queue:ack', { seq: 0, deviceId: b.deviceId })).event, 'ack');
    await thief.close();
    const b1 = await wsConnect(srv, b.token);
    for (let i = 1; i <= 3; i += 1) assert.equal((await b1.event('message:new')).data.seq, i);
    await b1.close();
  });
});

describe('malformed frames', () => {
  test('each bad frame gets one error with its id; the connection keeps working', async () => {
    const u = await userWithDevices(srv, 1);
    const c = await wsConnect(srv, u.token);
    await c.event('queue:drained');
    c.send('{not json');
    assert.equal((await c.event('error')).data.code, 'invalid_json');
    c.send('[1,2]');
    assert.equal((await c.event('error')).data.code, 'invalid_json');
    const cases = [
      [{ event: 'queue:ack', data: 'x', id: 'a1' }, 'data'],
      [{ event: 42, id: 'a2' }, 'event'],
      [{ data: {}, id: 'a3' }, 'event'],
      [{ event: 'no:such', data: {}, id: 'a4' }, 'event'],
      [{ event: 'queue:ack', data: { seq: 'x' }, id: 'a5' }, 'seq'],
      [{ event: 'queue:ack', data: { seq: -1 }, id: 'a6' }, 'seq'],
      [{ event: 'message:send', data: { conversationId: 'x' }, id: 'a7' }, 'conversationId'],
      [{ event: 'message:send', data: { conversationId: uuid(), clientMessageId: 'c', envelopes: {} }, id: 'a8' }, 'envelopes'],
      [{ event: 'message:read', data: {}, id: 'a9' }, 'messageId'],
      [{ event: 'typing:start', data: { conversationId: 7 }, id: 'a10' }, 'conversationId'],
    ];
    for (const [frame, field] of cases) {
      c.send(frame);
      const e = await c.next((m) => m.id === frame.id);
      assert.equal(e.event, 'error', JSON.stringify(frame));
      assert.equal(e.data.code, 'validation_failed', JSON.stringify(e));
      assert.equal(e.data.details.field, field, JSON.stringify(e));
    }
    c.send({ event: 'queue:ack', data: { seq: 0 }, id: 12 });
    const bad = await c.event('error');
    assert.equal(bad.data.details.field, 'id');
    c.send({ event: 'queue:ack', data: { seq: 0 }, id: 'x'.repeat(65) });
    assert.equal((await c.event('error')).data.details.field, 'id');
    // Exactly one reply per id.
    assert.equal((await c.request('queue:ack', { seq: 0 })).event, 'ack');
    await c.none((m) => m.event === 'ack' || m.event === 'error', 300);
    await c.close();
  });

  test('oversized and binary frames close the socket cleanly (1009, 1003)', async () => {
    const u = await userWithDevices(srv, 1);
    const big = await wsConnect(srv, u.token);
    big.send({ event: 'queue:ack', data: { pad: 'x'.repeat(70000) } });
    assert.equal((await big.closed).code, 1009);
    const bin = await wsConnect(srv, u.token);
    bin.ws.send(Buffer.from([1, 2, 3]));
    assert.equal((await bin.closed).code, 1003);
    await healthy();
  });

  test('a flood is closed with 1008 (rate limit or unread replies); others are unaffected', async () => {
    const u = await userWithDevices(srv, 1);
    const c = await wsConnect(srv, u.token);
    await c.event('queue:drained');
    for (let i = 0; i < 2000; i += 1) c.send({ event: 'no:such', data: {} });
    const closed = await c.closed;
    // 1008 from the server; the client may see 1006 when its unread flood makes the kernel
    // reset the socket under the close frame.
    assert.ok([1008, 1006].includes(closed.code), `closed with ${closed.code}`);
    // Whatever arrived before the close are error frames (the flood's replies).
    assert.ok(c.events.every((m) => m.event === 'error' || m.event === 'presence'), JSON.stringify(c.events[0]));
    await healthy();
  });
});

describe('configured limits', () => {
  test('WS_RATE_BURST, WS_RATE_STRIKES and RATE_LIMIT_KEY_CLAIM are the settings, not constants', async () => {
    const small = await startAuthServer({ WS_RATE_BURST: '4', WS_RATE_PER_SEC: '1', WS_RATE_STRIKES: '3', RATE_LIMIT_KEY_CLAIM: '2/60' });
    try {
      const u = await userWithDevices(small, 1);
      const target = await userWithDevices(small, 1);
      const claim = () => small.api('POST', '/api/keys/claim', { token: u.token, body: { userId: target.userId } });
      assert.equal((await claim()).status, 200);
      assert.equal((await claim()).status, 200);
      assert.equal((await claim()).status, 429);
      const c = await wsConnect(small, u.token); // authenticate took one frame of the 4
      const t0 = Date.now();
      for (let i = 0; i < 20; i += 1) c.send({ event: 'no:such', data: {}, id: `f${i}` });
      const closed = await c.closed;
      assert.ok([1008, 1006].includes(closed.code), `closed with ${closed.code}`);
      const errors = c.events.filter((m) => m.event === 'error');
      const answered = errors.filter((m) => m.data.code === 'validation_failed').length;
      // The default (200 at once, 50 strikes) would have answered all 20 and kept the socket.
      assert.ok(answered <= 3 + Math.ceil((Date.now() - t0) / 1000), `answered ${answered}`);
    } finally {
      await small.stop();
    }
  });
});

describe('authentication and close codes', () => {
  test('the first frame must be authenticate: error, then 4401', async () => {
    const c = await wsConnect(srv, null);
    c.send({ event: 'queue:ack', data: { seq: 0 }, id: 'x' });
    const e = await c.event('error');
    assert.equal(e.id, 'x');
    assert.equal(e.data.code, 'unauthenticated');
    assert.equal((await c.closed).code, 4401);
  });

  test('no authenticate within 10 s: error, then 4401', { timeout: 15000 }, async () => {
    const c = await wsConnect(srv, null);
    const t0 = Date.now();
    assert.equal((await c.event('error', 12000)).data.code, 'unauthenticated');
    assert.equal((await c.closed).code, 4401);
    assert.ok(Date.now() - t0 >= 9500);
  });

  test('a newer connection of the same device closes the older with 4409', async () => {
    const u = await userWithDevices(srv, 1);
    const old = await wsConnect(srv, u.token);
    const fresh = await wsConnect(srv, u.token);
    assert.equal((await old.closed).code, 4409);
    await fresh.event('queue:drained');
    assert.equal((await fresh.request('queue:ack', { seq: 0 })).event, 'ack');
    await fresh.close();
  });

  test('revoking a device closes its socket with 4403; its token cannot reconnect', async () => {
    const u = await userWithDevices(srv, 2);
    const c = await wsConnect(srv, u.devices[1].token);
    const r = await srv.api('DELETE', `/api/users/devices/${u.devices[1].id}`, { token: u.devices[0].token });
    assert.equal(r.status, 200);
    assert.equal((await c.closed).code, 4403);
    const again = await wsConnect(srv, null);
    again.send({ event: 'authenticate', data: { token: u.devices[1].token }, id: 'x' });
    assert.equal((await again.event('error')).data.code, 'forbidden');
    assert.equal((await again.closed).code, 4403);
  });

  test('re-authenticate with a fresh token on the same socket; another device\'s token closes it', async () => {
    const u = await userWithDevices(srv, 2);
    const c = await wsConnect(srv, u.token);
    await c.event('queue:drained');
    const fresh = await srv.api('POST', '/api/auth/refresh', { body: { refreshToken: u.refresh } });
    assert.equal(fresh.status, 200);
    const r = await c.request('authenticate', { token: fresh.body.tokens.accessToken });
    assert.equal(r.event, 'ack');
    assert.deepEqual(r.data, { userId: u.userId, deviceId: u.deviceId });
    const bad = await c.request('authenticate', { token: u.devices[1].token });
    assert.equal(bad.event, 'error');
    assert.equal((await c.closed).code, 4401);
  });
});

describe('token expiry', () => {
  test('the socket closes with 4401 when the token expires without re-authenticate', { timeout: 20000 }, async () => {
    const short = await startAuthServer({ ACCESS_TOKEN_TTL: '3' });
    try {
      const u = await userWithDevices(short, 1);
      const c = await wsConnect(short, u.token);
      const t0 = Date.now();
      // A fresh token extends the socket's life.
      await new Promise((r) => setTimeout(r, 1500));
      const fresh = await short.api('POST', '/api/auth/refresh', { body: { refreshToken: u.refresh } });
      assert.equal((await c.request('authenticate', { token: fresh.body.tokens.accessToken })).event, 'ack');
      assert.equal((await c.event('error', 6000)).data.code, 'token_expired');
      assert.equal((await c.closed).code, 4401);
      const lived = Date.now() - t0;
      assert.ok(lived > 3500 && lived < 6500, `closed after ${lived} ms`);
    } finally {
      await short.stop();
    }
  });
});
