// @stores sqlite,pg
// Contact changes on open sockets (events.md, Contacts): the reply that makes two users
// contacts, a block and an unblock change presence and typing at once, both ways, without a
// reconnect; nothing flows before both have accepted. Every wait is for an event (generous
// timeouts); the negative checks only look after the positive ones have arrived, so a slow
// machine can make them weaker but never fail them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAuthServer } from './lib/api.mjs';
import { conversation, envelopes, sendRest, userWithDevices, uuid, wsConnect } from './lib/rt.mjs';

let srv;
before(async () => { srv = await startAuthServer(); });
after(async () => { await srv.stop(); });

const WAIT = 15000; // for an event that must come (a loaded machine is slow, never wrong)
const QUIET = 400; // for one that must not
const isPresence = (m) => m.event === 'user:online' || m.event === 'user:offline';
const isTyping = (m) => m.event === 'typing:start' || m.event === 'typing:stop';

// Connects one device and waits until it is live: authenticated, snapshot, queue drained.
async function live(dev) {
  const c = await wsConnect(srv, dev.token);
  c.snapshot = (await c.event('presence', WAIT)).data.users;
  await c.event('queue:drained', WAIT);
  return c;
}

// Connects the devices one after the other (so who announces whom is known); returns them.
async function liveAll(...devs) {
  const out = [];
  for (const d of devs) out.push(await live(d));
  return out;
}

// The next presence event about userId on c; asserts its kind and a lastSeen.
async function presence(c, kind, userId) {
  const m = await c.next((e) => isPresence(e) && e.data.userId === userId, WAIT);
  assert.equal(m.event, kind, JSON.stringify(m));
  assert.match(m.data.lastSeen, /Z$/);
  return m;
}

async function typingReaches(from, conv, watchers, kind = 'typing:start') {
  const r = await from.c.request(kind, { conversationId: conv }, WAIT);
  assert.equal(r.event, 'ack', JSON.stringify(r));
  for (const w of watchers) {
    const m = await w.next(isTyping, WAIT);
    assert.deepEqual([m.event, m.data], [kind, { conversationId: conv, userId: from.userId }]);
  }
}

async function typingDropped(from, conv, watchers) {
  const r = await from.c.request('typing:start', { conversationId: conv }, WAIT);
  assert.equal(r.event, 'ack', JSON.stringify(r)); // acked, so the block is not revealed
  for (const w of watchers) await w.none(isTyping, QUIET);
}

const block = async (who, whom) => assert.equal((await srv.api('POST', `/api/users/block/${whom.userId}`, { token: who.token })).status, 200);
const unblock = async (who, whom) => assert.equal((await srv.api('DELETE', `/api/users/block/${whom.userId}`, { token: who.token })).status, 200);

// The WebSocket reply of b (device di) to a in conv.
async function wsReply(b, bc, a, conv, di = 0) {
  const targets = [...a.devices.map((d) => d.id), ...b.devices.filter((_, i) => i !== di).map((d) => d.id)];
  const r = await bc.request('message:send', { conversationId: conv, clientMessageId: uuid(), envelopes: envelopes(targets, 'reply') }, WAIT);
  assert.equal(r.event, 'ack', JSON.stringify(r));
  return r.data;
}

describe('becoming contacts while connected', () => {
  test('the first reply (WebSocket) brings user:online both ways, and typing, without reconnecting', async () => {
    const a = await userWithDevices(srv, 1);
    const b = await userWithDevices(srv, 2);
    const conv = await conversation(srv, a, b);
    assert.equal((await sendRest(srv, a, b, conv, 'hello')).status, 201);
    const [a1, b1, b2] = await liveAll(a.devices[0], b.devices[0], b.devices[1]);
    for (const c of [a1, b1, b2]) assert.deepEqual(c.snapshot, []);
    // Not contacts yet: nothing either way, whatever they do.
    a.c = a1; b.c = b1;
    await typingDropped(a, conv, [b1, b2]);
    await typingDropped(b, conv, [a1]);
    for (const c of [a1, b1, b2]) await c.none(isPresence, 0);

    const reply = await wsReply(b, b1, a, conv);
    assert.equal((await a1.next((m) => m.event === 'message:new', WAIT)).data.id, reply.id);
    await presence(a1, 'user:online', b.userId);
    for (const c of [b1, b2]) await presence(c, 'user:online', a.userId);
    // Once each: a later message changes nothing.
    await wsReply(b, b1, a, conv);
    assert.equal((await sendRest(srv, a, b, conv, 'again')).status, 201);
    for (const c of [a1, b1, b2]) await c.none(isPresence, QUIET);
    // Typing flows now, both ways.
    await typingReaches(a, conv, [b1, b2]);
    await typingReaches(b, conv, [a1]);
    await typingReaches(b, conv, [a1], 'typing:stop');
    // And going offline is told as usual.
    await a1.close();
    for (const c of [b1, b2]) await presence(c, 'user:offline', a.userId);
    await Promise.all([b1.close(), b2.close()]);
  });

  test('a REST reply does the same; a side that is offline is not announced', async () => {
    const a = await userWithDevices(srv, 1);
    const b = await userWithDevices(srv, 1);
    const c = await userWithDevices(srv, 1);
    const ab = await conversation(srv, a, b);
    const ac = await conversation(srv, a, c);
    assert.equal((await sendRest(srv, a, b, ab, 'to b')).status, 201);
    assert.equal((await sendRest(srv, a, c, ac, 'to c')).status, 201);
    const [a1, b1] = await liveAll(a.devices[0], b.devices[0]);
    // b replies over REST while both are connected.
    assert.equal((await sendRest(srv, b, a, ab, 'hi a')).status, 201);
    await presence(a1, 'user:online', b.userId);
    await presence(b1, 'user:online', a.userId);
    // c (never connected) replies: a hears nothing about c, who is offline ...
    assert.equal((await sendRest(srv, c, a, ac, 'hi a')).status, 201);
    await a1.next((m) => m.event === 'message:new', WAIT);
    await a1.next((m) => m.event === 'message:new', WAIT);
    await a1.none((m) => isPresence(m) && m.data.userId === c.userId, QUIET);
    // ... until c connects: then as any contact's first connection.
    const c1 = await live(c.devices[0]);
    assert.deepEqual(c1.snapshot.map((u) => [u.userId, u.online]), [[a.userId, true]]);
    await presence(a1, 'user:online', c.userId);
    await b1.none((m) => isPresence(m) && m.data.userId === c.userId, QUIET);
    await Promise.all([a1.close(), b1.close(), c1.close()]);
  });
});

describe('block and unblock while connected', () => {
  test('a block hides presence and typing at once both ways; an unblock restores them', async () => {
    const a = await userWithDevices(srv, 2);
    const b = await userWithDevices(srv, 2);
    const conv = await conversation(srv, a, b);
    assert.equal((await sendRest(srv, a, b, conv, 'hi')).status, 201);
    assert.equal((await sendRest(srv, b, a, conv, 'hey')).status, 201);
    const [a1, b1, b2] = await liveAll(a.devices[0], b.devices[0], b.devices[1]);
    await presence(a1, 'user:online', b.userId); // b's first device announced b
    assert.deepEqual(b1.snapshot.map((u) => [u.userId, u.online]), [[a.userId, true]]);
    a.c = a1; b.c = b1;
    // Both are typing to each other when the block comes.
    await typingReaches(a, conv, [b1, b2]);
    await typingReaches(b, conv, [a1]);

    await block(a, b);
    // At once, both ways: the running indicators stop, then each looks offline to the other.
    // The stop is already there when the offline arrives (one socket keeps its order), so it
    // came with the block, not from the indicator expiring 6 s after its start.
    const stopped = async (c, userId) => {
      await presence(c, 'user:offline', userId);
      const stop = await c.next(isTyping, 1);
      assert.deepEqual([stop.event, stop.data], ['typing:stop', { conversationId: conv, userId }]);
    };
    for (const c of [b1, b2]) await stopped(c, a.userId);
    await stopped(a1, b.userId);
    const blockedAt = Date.now();

    // Then nothing crosses, either way: typing, presence changes (all of a's devices going
    // and coming, b's second device going and coming).
    await typingDropped(a, conv, [b1, b2]);
    await typingDropped(b, conv, [a1]);
    await a1.close();
    const a2 = await live(a.devices[1]);
    assert.deepEqual(a2.snapshot, []);
    await b2.close();
    const b2again = await live(b.devices[1]);
    assert.deepEqual(b2again.snapshot, []);
    for (const c of [b1, b2again]) await c.none((m) => isPresence(m) || isTyping(m), QUIET);
    await a2.none((m) => isPresence(m) || isTyping(m), QUIET);
    // The indicators that ran at the block do not stop again when they would have expired.
    const left = 6500 - (Date.now() - blockedAt);
    if (left > 0) await b1.none(isTyping, left);
    await a2.none(isTyping, 0);

    await unblock(a, b);
    // At once, both ways, on the sockets already open.
    await presence(a2, 'user:online', b.userId);
    for (const c of [b1, b2again]) await presence(c, 'user:online', a.userId);
    a.c = a2;
    await typingReaches(a, conv, [b1, b2again]);
    await typingReaches(b, conv, [a2]);
    await a2.close();
    for (const c of [b1, b2again]) await presence(c, 'user:offline', a.userId);
    await Promise.all([b1.close(), b2again.close()]);
  });

  test('a block or unblock that does not change the relation tells nothing', async () => {
    const a = await userWithDevices(srv, 1);
    const b = await userWithDevices(srv, 1);
    const conv = await conversation(srv, a, b);
    assert.equal((await sendRest(srv, a, b, conv, 'hi')).status, 201);
    assert.equal((await sendRest(srv, b, a, conv, 'hey')).status, 201);
    const [a1, b1] = await liveAll(a.devices[0], b.devices[0]);
    await presence(a1, 'user:online', b.userId);
    await block(b, a);
    await presence(a1, 'user:offline', b.userId);
    await presence(b1, 'user:offline', a.userId);
    // Blocked both ways, then one block lifted: still not contacts.
    await block(a, b);
    await block(a, b); // idempotent
    await unblock(a, b);
    await unblock(a, b);
    for (const c of [a1, b1]) await c.none(isPresence, QUIET);
    a.c = a1;
    await typingDropped(a, conv, [b1]);
    // The last block lifted: contacts again.
    await unblock(b, a);
    await presence(a1, 'user:online', b.userId);
    await presence(b1, 'user:online', a.userId);
    await Promise.all([a1.close(), b1.close()]);
  });

  test('before both have accepted, a block and an unblock tell nothing; the reply after does', async () => {
    const a = await userWithDevices(srv, 1);
    const b = await userWithDevices(srv, 1);
    const conv = await conversation(srv, a, b);
    assert.equal((await sendRest(srv, a, b, conv, 'only a')).status, 201);
    const [a1, b1] = await liveAll(a.devices[0], b.devices[0]);
    await block(b, a);
    await unblock(b, a);
    for (const c of [a1, b1]) await c.none((m) => isPresence(m) || isTyping(m), QUIET);
    assert.equal((await sendRest(srv, b, a, conv, 'now b')).status, 201);
    await presence(a1, 'user:online', b.userId);
    await presence(b1, 'user:online', a.userId);
    await Promise.all([a1.close(), b1.close()]);
  });
});
