// @stores sqlite,pg
// Message requests and privacy (api.md, Conversations and Privacy): a stranger's first message
// is a request to its recipient and not to its sender; the recipient accepts by the accept
// route or by replying, and only then do presence, typing and read receipts flow. Privacy:
// read receipts off withhold them both ways; a hidden last seen is null to others. Declining
// is the existing block and leave. Waits are for events; negative checks look only after a
// positive one has arrived (or a quiet spell), so a slow machine can weaken them, never fail them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAuthServer } from './lib/api.mjs';
import { conversation, envelopes, sendRest, userWithDevices, uuid, wsConnect } from './lib/rt.mjs';

let srv;
before(async () => { srv = await startAuthServer(); });
after(async () => { await srv.stop(); });

const WAIT = 15000;
const QUIET = 400;
const isPresence = (m) => m.event === 'user:online' || m.event === 'user:offline';
const isTyping = (m) => m.event === 'typing:start' || m.event === 'typing:stop';

async function live(dev) {
  const c = await wsConnect(srv, dev.token);
  c.snapshot = (await c.event('presence', WAIT)).data.users;
  await c.event('queue:drained', WAIT);
  return c;
}

const api = (method, path, who, body) => srv.api(method, path, { token: who.token, body });
const seen = async (who, conv) => (await api('GET', `/api/conversations/${conv}`, who)).body;
const accept = async (who, conv) => {
  const r = await api('POST', `/api/conversations/${conv}/accept`, who);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
};
const privacy = async (who, p) => {
  const r = await api('PATCH', '/api/users/me', who, { privacy: p });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.privacy;
};

// a wrote to b; both connected with their first device.
async function requestPair(nb = 1) {
  const a = await userWithDevices(srv, 1);
  const b = await userWithDevices(srv, nb);
  const conv = await conversation(srv, a, b);
  const first = (await sendRest(srv, a, b, conv, 'hello')).body;
  const [a1, b1] = [await live(a.devices[0]), await live(b.devices[0])];
  return { a, b, conv, first, a1, b1 };
}

describe('message requests', () => {
  test('a first message is a request to the recipient, not to the sender; nothing flows yet', async () => {
    const { a, b, conv, first, a1, b1 } = await requestPair();
    const forA = await seen(a, conv);
    const forB = await seen(b, conv);
    assert.deepEqual([forA.accepted, forA.request], [true, false]);
    assert.deepEqual([forB.accepted, forB.request], [false, true]);
    const list = (await api('GET', '/api/conversations', b)).body.conversations;
    assert.equal(list.find((c) => c.id === conv).request, true);
    // The message itself is delivered: the request shows it.
    const h = await api('GET', `/api/conversations/${conv}/messages`, b);
    assert.deepEqual(h.body.messages.map((m) => m.id), [first.id]);
    // No presence, no typing, and b's reading is not told to a.
    assert.deepEqual([a1.snapshot, b1.snapshot], [[], []]);
    assert.equal((await a1.request('typing:start', { conversationId: conv })).event, 'ack');
    assert.equal((await b1.request('message:read', { messageId: first.id })).event, 'ack');
    await b1.none(isTyping, QUIET);
    await a1.none((m) => isPresence(m) || m.event === 'message:read', 0);
    const mine = await api('GET', `/api/conversations/${conv}/messages`, a);
    assert.equal(mine.body.messages[0].status === 'read', false);
    await Promise.all([a1.close(), b1.close()]);
  });

  test('accepting makes contacts at once: presence both ways, typing, read receipts', async () => {
    const { a, b, conv, first, a1, b1 } = await requestPair();
    // b read the request before accepting: the receipt withheld then is told at the accept.
    assert.equal((await b1.request('message:read', { messageId: first.id })).event, 'ack');
    await a1.none((m) => m.event === 'message:read', QUIET);
    const c = await accept(b, conv);
    assert.deepEqual([c.accepted, c.request], [true, false]);
    const told = await a1.event('message:read', WAIT);
    assert.deepEqual([told.data.messageId, told.data.userId], [first.id, b.userId]);
    assert.equal((await a1.next(isPresence, WAIT)).event, 'user:online');
    assert.equal((await b1.next(isPresence, WAIT)).event, 'user:online');
    assert.equal((await a1.request('typing:start', { conversationId: conv })).event, 'ack');
    assert.equal((await b1.next(isTyping, WAIT)).event, 'typing:start');
    const more = (await sendRest(srv, a, b, conv, 'more')).body;
    assert.equal((await b1.request('message:read', { messageId: more.id })).event, 'ack');
    assert.equal((await a1.event('message:read', WAIT)).data.messageId, more.id);
    // Accepting again changes nothing and says nothing.
    await accept(b, conv);
    await a1.none((m) => isPresence(m) || m.event === 'message:read', QUIET);
    await Promise.all([a1.close(), b1.close()]);
  });

  test('a reply accepts too; a stranger cannot accept, and the sender is never asked', async () => {
    const { a, b, conv, a1, b1 } = await requestPair();
    const targets = [a.devices[0].id];
    const r = await b1.request('message:send', { conversationId: conv, clientMessageId: uuid(), envelopes: envelopes(targets, 'r') }, WAIT);
    assert.equal(r.event, 'ack', JSON.stringify(r));
    assert.equal((await a1.next(isPresence, WAIT)).event, 'user:online');
    assert.deepEqual([(await seen(b, conv)).request, (await seen(b, conv)).accepted], [false, true]);
    const z = await userWithDevices(srv, 1);
    assert.equal((await api('POST', `/api/conversations/${conv}/accept`, z)).status, 404);
    assert.equal((await api('POST', '/api/conversations/not-a-uuid/accept', b)).status, 404);
    await Promise.all([a1.close(), b1.close()]);
  });

  test('declining: block refuses further messages; leave hides the request', async () => {
    const { a, b, conv, a1, b1 } = await requestPair();
    assert.equal((await api('DELETE', `/api/conversations/${conv}`, b)).status, 200);
    let list = (await api('GET', '/api/conversations', b)).body.conversations;
    assert.equal(list.some((c) => c.id === conv), false);
    assert.equal((await api('POST', `/api/users/block/${a.userId}`, b)).status, 200);
    assert.equal((await sendRest(srv, a, b, conv, 'again')).status, 403);
    list = (await api('GET', '/api/conversations', b)).body.conversations;
    assert.equal(list.some((c) => c.id === conv), false);
    await a1.none(isPresence, 0);
    await Promise.all([a1.close(), b1.close()]);
  });
});

describe('privacy', () => {
  test('the settings are read back, validated, and default to sharing', async () => {
    const u = await userWithDevices(srv, 1);
    assert.deepEqual((await api('GET', '/api/users/me', u)).body.privacy, { readReceipts: true, lastSeen: 'contacts' });
    assert.deepEqual(await privacy(u, { readReceipts: false }), { readReceipts: false, lastSeen: 'contacts' });
    assert.deepEqual(await privacy(u, { lastSeen: 'nobody' }), { readReceipts: false, lastSeen: 'nobody' });
    const bad = await api('PATCH', '/api/users/me', u, { privacy: { lastSeen: 'everybody' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.field, 'privacy.lastSeen');
  });

  // Two contacts, connected.
  async function contacts(nb = 1) {
    const p = await requestPair(nb);
    await accept(p.b, p.conv);
    await p.a1.next(isPresence, WAIT);
    await p.b1.next(isPresence, WAIT);
    return p;
  }

  for (const side of ['reader', 'sender']) {
    test(`read receipts off on the ${side}'s side: neither hears, the reader's own devices do`, async () => {
      const { a, b, conv, first, a1, b1 } = await contacts(2);
      await privacy(side === 'reader' ? b : a, { readReceipts: false });
      const b2 = await live(b.devices[1]);
      assert.equal((await b1.request('message:read', { messageId: first.id })).event, 'ack');
      assert.equal((await b2.event('message:read', WAIT)).data.messageId, first.id);
      await a1.none((m) => m.event === 'message:read', QUIET);
      const h = await api('GET', `/api/conversations/${conv}/messages`, a);
      assert.notEqual(h.body.messages[0].status, 'read');
      // Back on: the next read is told.
      await privacy(side === 'reader' ? b : a, { readReceipts: true });
      const next = (await sendRest(srv, a, b, conv, 'more')).body;
      assert.equal((await b1.request('message:read', { messageId: next.id })).event, 'ack');
      assert.equal((await a1.event('message:read', WAIT)).data.messageId, next.id);
      await Promise.all([a1.close(), b1.close(), b2.close()]);
    });
  }

  test('a hidden last seen is null in user:offline, user:online and the snapshot', async () => {
    const { a, b, a1, b1 } = await contacts();
    await privacy(b, { lastSeen: 'nobody' });
    await b1.close();
    const off = await a1.next(isPresence, WAIT);
    assert.deepEqual([off.event, off.data.lastSeen], ['user:offline', null]);
    const b1again = await live(b.devices[0]);
    const on = await a1.next(isPresence, WAIT);
    assert.deepEqual([on.event, on.data.lastSeen], ['user:online', null]);
    // a's own last seen still shows to b.
    assert.match(b1again.snapshot.find((u) => u.userId === a.userId).lastSeen, /Z$/);
    await b1again.close();
    await a1.next(isPresence, WAIT);
    await a1.close();
    const a2 = await live(a.devices[0]);
    const entry = a2.snapshot.find((u) => u.userId === b.userId);
    assert.deepEqual([entry.online, entry.lastSeen], [false, null]);
    // Shown again: the next event carries it.
    await privacy(b, { lastSeen: 'contacts' });
    const b3 = await live(b.devices[0]);
    assert.match((await a2.next(isPresence, WAIT)).data.lastSeen, /Z$/);
    await Promise.all([a2.close(), b3.close()]);
  });
});
