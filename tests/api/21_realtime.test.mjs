// @stores sqlite,pg
// Receipts, unread counts, typing (and its 6 s expiry), presence (snapshot, online/offline,
// only between accepted contacts), and blocks: nothing crosses a block.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAuthServer } from './lib/api.mjs';
import { conversation, sendRest, userWithDevices, wsConnect } from './lib/rt.mjs';

let srv;
before(async () => { srv = await startAuthServer(); });
after(async () => { await srv.stop(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const connectAll = (...devs) => Promise.all(devs.map((d) => wsConnect(srv, d.token)));

// Two users who are contacts: each has sent a message in their conversation.
async function contacts(n = 2) {
  const a = await userWithDevices(srv, n);
  const b = await userWithDevices(srv, n);
  const conv = await conversation(srv, a, b);
  assert.equal((await sendRest(srv, a, b, conv, 'hi')).status, 201);
  assert.equal((await sendRest(srv, b, a, conv, 'hey')).status, 201);
  return { a, b, conv };
}

describe('read receipts and unread counts', () => {
  test('message:read moves the cursor; the sender\'s devices and the reader\'s others hear it', async () => {
    const a = await userWithDevices(srv, 2);
    const b = await userWithDevices(srv, 2);
    const conv = await conversation(srv, a, b);
    const m1 = (await sendRest(srv, a, b, conv, 'one')).body;
    const m2 = (await sendRest(srv, a, b, conv, 'two')).body;
    let list = await srv.api('GET', '/api/conversations', { token: b.token });
    assert.equal(list.body.conversations.find((c) => c.id === conv).unreadCount, 2);
    // A message request is read without receipts: b accepts it first.
    assert.equal((await srv.api('POST', `/api/conversations/${conv}/accept`, { token: b.token })).status, 200);
    const [a1, a2, b1, b2] = await connectAll(...a.devices, ...b.devices);
    for (const c of [a1, a2, b1, b2]) await c.event('queue:drained');
    const r = await b1.request('message:read', { messageId: m2.id });
    assert.equal(r.event, 'ack', JSON.stringify(r));
    for (const c of [a1, a2, b2]) {
      const e = await c.event('message:read');
      assert.equal(e.data.messageId, m2.id);
      assert.equal(e.data.conversationId, conv);
      assert.equal(e.data.userId, b.userId);
      assert.match(e.data.readAt, /Z$/);
    }
    await b1.none((m) => m.event === 'message:read', 200);
    list = await srv.api('GET', '/api/conversations', { token: b.token });
    assert.equal(list.body.conversations.find((c) => c.id === conv).unreadCount, 0);
    const h = await srv.api('GET', `/api/conversations/${conv}/messages`, { token: a.token });
    assert.deepEqual(h.body.messages.map((m) => m.status), ['read', 'read']);
    // Reading an older message again moves nothing and tells nobody.
    assert.equal((await srv.api('POST', `/api/messages/${m1.id}/read`, { token: b.token })).status, 200);
    await a1.none((m) => m.event === 'message:read', 300);
    await Promise.all([a1, a2, b1, b2].map((c) => c.close()));
  });
});

describe('typing', () => {
  test('typing:start reaches the other side only, and stops by itself after 6 s', async () => {
    const { a, b, conv } = await contacts();
    const [a1, a2, b1, b2] = await connectAll(...a.devices, ...b.devices);
    const r = await a1.request('typing:start', { conversationId: conv });
    assert.equal(r.event, 'ack', JSON.stringify(r));
    for (const c of [b1, b2]) assert.deepEqual((await c.event('typing:start')).data, { conversationId: conv, userId: a.userId });
    await a2.none((m) => m.event.startsWith('typing:'), 100);
    const t0 = Date.now();
    for (const c of [b1, b2]) assert.deepEqual((await c.event('typing:stop', 8000)).data, { conversationId: conv, userId: a.userId });
    const waited = Date.now() - t0;
    assert.ok(waited > 5000 && waited < 7500, `stopped after ${waited} ms`);
    // An explicit stop is relayed at once.
    await a1.request('typing:start', { conversationId: conv });
    await b1.event('typing:start');
    await a1.request('typing:stop', { conversationId: conv });
    assert.equal((await b1.event('typing:stop', 1000)).data.userId, a.userId);
    // Closing the socket stops it too.
    await a1.request('typing:start', { conversationId: conv });
    await b1.event('typing:start');
    await a1.close();
    assert.equal((await b1.event('typing:stop', 1000)).data.userId, a.userId);
    await Promise.all([a2, b1, b2].map((c) => c.close()));
  });

  test('no typing before both have accepted', async () => {
    const a = await userWithDevices(srv, 1);
    const b = await userWithDevices(srv, 1);
    const conv = await conversation(srv, a, b);
    await sendRest(srv, a, b, conv, 'only a');
    const [a1, b1] = await connectAll(a.devices[0], b.devices[0]);
    assert.equal((await a1.request('typing:start', { conversationId: conv })).event, 'ack');
    await b1.none((m) => m.event === 'typing:start', 300);
    await Promise.all([a1.close(), b1.close()]);
  });
});

describe('presence', () => {
  test('snapshot after authenticated, user:online and user:offline with lastSeen', async () => {
    const { a, b } = await contacts(2);
    const b1 = await wsConnect(srv, b.devices[0].token);
    const snap = await b1.event('presence');
    assert.deepEqual(snap.data.users.map((u) => ({ ...u, lastSeen: undefined })), [{ userId: a.userId, online: false, lastSeen: undefined }]);
    const a1 = await wsConnect(srv, a.devices[0].token);
    const on = await b1.event('user:online');
    assert.equal(on.data.userId, a.userId);
    assert.match(on.data.lastSeen, /Z$/);
    const aSnap = await a1.event('presence');
    assert.deepEqual(aSnap.data.users.map((u) => [u.userId, u.online]), [[b.userId, true]]);
    // A second device of an online user changes nothing; offline only when the last one goes.
    const a2 = await wsConnect(srv, a.devices[1].token);
    await b1.none((m) => m.event === 'user:online', 200);
    await a1.close();
    await b1.none((m) => m.event === 'user:offline', 300);
    await a2.close();
    const off = await b1.event('user:offline');
    assert.equal(off.data.userId, a.userId);
    assert.match(off.data.lastSeen, /Z$/);
    const b2 = await wsConnect(srv, b.devices[1].token);
    const again = await b2.event('presence');
    assert.equal(again.data.users[0].online, false);
    assert.equal(again.data.users[0].lastSeen, off.data.lastSeen);
    await Promise.all([b1.close(), b2.close()]);
  });

  test('nothing before both have accepted', async () => {
    const a = await userWithDevices(srv, 1);
    const b = await userWithDevices(srv, 1);
    const conv = await conversation(srv, a, b);
    await sendRest(srv, a, b, conv, 'only a');
    const b1 = await wsConnect(srv, b.devices[0].token);
    assert.deepEqual((await b1.event('presence')).data.users, []);
    const a1 = await wsConnect(srv, a.devices[0].token);
    assert.deepEqual((await a1.event('presence')).data.users, []);
    await b1.none((m) => m.event === 'user:online', 300);
    await a1.close();
    await b1.none((m) => m.event === 'user:offline', 300);
    await b1.close();
  });
});

describe('blocks', () => {
  test('nothing crosses a block: messages, receipts, typing, presence', async () => {
    const { a, b, conv } = await contacts(1);
    const fromB = (await sendRest(srv, b, a, conv, 'before the block')).body;
    const [a1, b1] = await connectAll(a.devices[0], b.devices[0]);
    await b1.event('presence');
    // Whichever connected second was announced to the other: that is before the block.
    await new Promise((r) => setTimeout(r, 200));
    a1.drop((m) => m.event === 'user:online');
    b1.drop((m) => m.event === 'user:online');
    assert.equal((await srv.api('POST', `/api/users/block/${b.userId}`, { token: a.token })).status, 200);
    // The block itself is the last presence event across it (25_presence covers it in full).
    assert.equal((await b1.next((m) => m.event === 'user:offline')).data.userId, a.userId);
    assert.equal((await a1.next((m) => m.event === 'user:offline')).data.userId, b.userId);
    // b cannot send (REST 403, WebSocket forbidden), and a cannot either.
    assert.equal((await sendRest(srv, b, a, conv, 'x')).status, 403);
    assert.equal((await sendRest(srv, a, b, conv, 'x')).status, 403);
    const ws = await b1.request('message:send', { conversationId: conv, clientMessageId: crypto.randomUUID(), envelopes: [{ deviceId: a.deviceId, type: 'message', ciphertext: 'AAAA' }] });
    assert.equal(ws.event, 'error');
    assert.equal(ws.data.code, 'forbidden');
    // No typing.
    assert.equal((await b1.request('typing:start', { conversationId: conv })).event, 'ack');
    await a1.none((m) => m.event === 'typing:start', 300);
    // No read receipt for b's earlier message.
    assert.equal((await a1.request('message:read', { messageId: fromB.id })).event, 'ack');
    await b1.none((m) => m.event === 'message:read', 300);
    // No presence either way.
    await a1.close();
    await b1.none((m) => m.event === 'user:offline', 300);
    const a1b = await wsConnect(srv, a.devices[0].token);
    assert.deepEqual((await a1b.event('presence')).data.users, []);
    await b1.none((m) => m.event === 'user:online', 300);
    // Unblocked, they are contacts again.
    assert.equal((await srv.api('DELETE', `/api/users/block/${b.userId}`, { token: a.token })).status, 200);
    assert.equal((await sendRest(srv, b, a, conv, 'after')).status, 201);
    await Promise.all([a1b.close(), b1.close()]);
  });
});
