// @stores sqlite,pg
// Messaging end to end over real WebSockets: two users with two devices each, live fan-out,
// queued delivery in seq order with queue:drained, acks and delivery receipts, idempotent
// retries, the device-list check, edit and delete through the queues, history.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAuthServer } from './lib/api.mjs';
import { conversation, envelopes, fakeCiphertext, sendRest, userWithDevices, uuid, wsConnect } from './lib/rt.mjs';

let srv;
before(async () => { srv = await startAuthServer(); });
after(async () => { await srv.stop(); });

const isNew = (m) => m.event === 'message:new';

describe('live delivery', () => {
  test('a WebSocket send reaches every target device, including the sender\'s other one', async () => {
    const a = await userWithDevices(srv, 2);
    const b = await userWithDevices(srv, 2);
    const conv = await conversation(srv, a, b);
    const [a1, a2, b1, b2] = await Promise.all([a.devices[0], a.devices[1], b.devices[0], b.devices[1]].map((d) => wsConnect(srv, d.token)));
    for (const c of [a1, a2, b1, b2]) assert.deepEqual((await c.event('queue:drained')).data, { lastSeq: 0 });
    const targets = [a.devices[1].id, b.devices[0].id, b.devices[1].id];
    const r = await a1.request('message:send', { conversationId: conv, clientMessageId: uuid(), envelopes: envelopes(targets, 'hello') });
    assert.equal(r.event, 'ack', JSON.stringify(r));
    assert.equal(r.data.status, 'sent');
    assert.equal(r.data.senderId, a.userId);
    assert.equal(r.data.senderDeviceId, a.devices[0].id);
    assert.equal(r.data.envelope, undefined, 'the sender device has no envelope of its own');
    for (const [c, d] of [[a2, a.devices[1]], [b1, b.devices[0]], [b2, b.devices[1]]]) {
      const m = await c.event('message:new');
      assert.equal(m.data.id, r.data.id);
      assert.equal(m.data.seq, 1);
      assert.equal(m.data.conversationId, conv);
      assert.equal(m.data.envelope.ciphertext, fakeCiphertext(d.id, 'hello'));
      assert.equal(m.data.envelope.type, 'message');
    }
    // Acks of the sender's own other device make no receipt; the recipient's first one does.
    assert.equal((await a2.request('queue:ack', { seq: 1 })).event, 'ack');
    await a1.none((m) => m.event === 'message:delivered', 200);
    assert.equal((await b1.request('queue:ack', { seq: 1 })).event, 'ack');
    for (const c of [a1, a2]) {
      const d = await c.event('message:delivered');
      assert.deepEqual({ ...d.data, deliveredAt: undefined }, { messageId: r.data.id, conversationId: conv, userId: b.userId, deliveredAt: undefined });
    }
    assert.equal((await b2.request('queue:ack', { seq: 1 })).event, 'ack');
    await a1.none((m) => m.event === 'message:delivered', 200);
    const h = await srv.api('GET', `/api/conversations/${conv}/messages`, { token: a.devices[0].token });
    assert.equal(h.body.messages[0].status, 'delivered');
    await Promise.all([a1, a2, b1, b2].map((c) => c.close()));
  });
});

describe('queued delivery', () => {
  test('an offline device gets its queue in seq order, then queue:drained, then live', async () => {
    const a = await userWithDevices(srv, 1);
    const b = await userWithDevices(srv, 1);
    const conv = await conversation(srv, a, b);
    const ids = [];
    for (let i = 0; i < 5; i += 1) {
      const r = await sendRest(srv, a, b, conv, `q${i}`);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      ids.push(r.body.id);
    }
    const b1 = await wsConnect(srv, b.devices[0].token);
    for (let i = 0; i < 5; i += 1) {
      const m = await b1.event('message:new');
      assert.equal(m.data.seq, i + 1);
      assert.equal(m.data.id, ids[i]);
      assert.equal(m.data.envelope.ciphertext, fakeCiphertext(b.devices[0].id, `q${i}`));
    }
    assert.deepEqual((await b1.event('queue:drained')).data, { lastSeq: 5 });
    const r = await sendRest(srv, a, b, conv, 'live');
    assert.equal((await b1.event('message:new')).data.seq, 6);
    assert.equal(r.status, 201);
    // Not acked: a reconnect gets everything again.
    await b1.close();
    const again = await wsConnect(srv, b.devices[0].token);
    for (let i = 1; i <= 6; i += 1) assert.equal((await again.event('message:new')).data.seq, i);
    await again.event('queue:drained');
    assert.equal((await again.request('queue:ack', { seq: 4 })).event, 'ack');
    await again.close();
    const third = await wsConnect(srv, b.devices[0].token);
    assert.equal((await third.event('message:new')).data.seq, 5);
    assert.equal((await third.event('message:new')).data.seq, 6);
    assert.deepEqual((await third.event('queue:drained')).data, { lastSeq: 6 });
    await third.close();
  });
});

describe('sending rules', () => {
  test('clientMessageId makes a send idempotent (REST and WebSocket), with one queue item', async () => {
    const a = await userWithDevices(srv, 1);
    const b = await userWithDevices(srv, 1);
    const conv = await conversation(srv, a, b);
    const cid = uuid();
    const r1 = await sendRest(srv, a, b, conv, 'once', 0, cid);
    const r2 = await sendRest(srv, a, b, conv, 'once', 0, cid);
    assert.equal(r1.status, 201);
    assert.equal(r2.status, 200);
    assert.equal(r2.body.id, r1.body.id);
    const a1 = await wsConnect(srv, a.token);
    const w = await a1.request('message:send', { conversationId: conv, clientMessageId: cid, envelopes: envelopes([b.deviceId], 'once') });
    assert.equal(w.event, 'ack');
    assert.equal(w.data.id, r1.body.id);
    const b1 = await wsConnect(srv, b.token);
    assert.equal((await b1.event('message:new')).data.id, r1.body.id);
    assert.deepEqual((await b1.event('queue:drained')).data, { lastSeq: 1 });
    await Promise.all([a1.close(), b1.close()]);
  });

  test('409 device_list_mismatch with missing and extra, also as the WebSocket error details; nothing stored', async () => {
    const a = await userWithDevices(srv, 2);
    const b = await userWithDevices(srv, 2);
    const c = await userWithDevices(srv, 1);
    const conv = await conversation(srv, a, b);
    const body = { clientMessageId: uuid(), envelopes: envelopes([b.devices[0].id, c.deviceId]) };
    const r = await srv.api('POST', `/api/conversations/${conv}/messages`, { token: a.token, body });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'device_list_mismatch');
    assert.deepEqual(r.body.error.details.missing, [a.devices[1].id, b.devices[1].id].sort());
    assert.deepEqual(r.body.error.details.extra, [c.deviceId]);
    const a1 = await wsConnect(srv, a.token);
    const w = await a1.request('message:send', { conversationId: conv, ...body });
    assert.equal(w.event, 'error');
    assert.equal(w.data.code, 'device_list_mismatch');
    assert.deepEqual(w.data.details, r.body.error.details);
    const h = await srv.api('GET', `/api/conversations/${conv}/messages`, { token: a.token });
    assert.deepEqual(h.body.messages, []);
    await a1.close();
  });

  test('envelope bounds: 64 KiB decoded is fine, one byte more is 413; bad base64 is 400', async () => {
    const a = await userWithDevices(srv, 1);
    const b = await userWithDevices(srv, 1);
    const conv = await conversation(srv, a, b);
    const send = (ct) => srv.api('POST', `/api/conversations/${conv}/messages`, {
      token: a.token, body: { clientMessageId: uuid(), envelopes: [{ deviceId: b.deviceId, type: 'prekey', ciphertext: ct }] } });
    const ok = await send(Buffer.alloc(65536, 7).toString('base64'));
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const big = await send(Buffer.alloc(65537, 7).toString('base64'));
    assert.equal(big.status, 413);
    assert.equal(big.body.error.code, 'payload_too_large');
    const bad = await send('@@@@');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.field, 'envelopes.ciphertext');
    const missing = await srv.api('POST', `/api/conversations/${conv}/messages`, { token: a.token, body: { envelopes: [] } });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.details.field, 'clientMessageId');
    const b1 = await wsConnect(srv, b.token);
    const m = await b1.event('message:new');
    assert.equal(m.data.envelope.type, 'prekey');
    assert.equal(Buffer.from(m.data.envelope.ciphertext, 'base64').length, 65536);
    await b1.close();
  });
});

describe('edit, delete and history', () => {
  test('edits and deletes reach every device through the queues; the sender only', async () => {
    const a = await userWithDevices(srv, 2);
    const b = await userWithDevices(srv, 1);
    const conv = await conversation(srv, a, b);
    const m = (await sendRest(srv, a, b, conv, 'v1')).body;
    const targets = [b.deviceId, a.devices[1].id];
    const e = await srv.api('PATCH', `/api/messages/${m.id}`, { token: a.token, body: { envelopes: envelopes(targets, 'v2') } });
    assert.equal(e.status, 200, JSON.stringify(e.body));
    assert.ok(e.body.editedAt);
    const notMine = await srv.api('PATCH', `/api/messages/${m.id}`, { token: b.token, body: { envelopes: envelopes([a.devices[0].id, a.devices[1].id], 'x') } });
    assert.equal(notMine.status, 403);
    assert.equal((await srv.api('DELETE', `/api/messages/${m.id}`, { token: b.token })).status, 403);
    const d = await srv.api('DELETE', `/api/messages/${m.id}`, { token: a.token });
    assert.deepEqual(d.body, { success: true });
    for (const dev of [b.devices[0], a.devices[1]]) {
      const c = await wsConnect(srv, dev.token);
      const n = await c.event('message:new');
      assert.equal(n.data.seq, 1);
      assert.equal(n.data.envelope, undefined, 'deleted: its ciphertext is gone');
      const ed = await c.event('message:edited');
      assert.equal(ed.data.seq, 2);
      const del = await c.event('message:deleted');
      assert.deepEqual(Object.keys(del.data).sort(), ['conversationId', 'deletedAt', 'id', 'seq']);
      assert.equal(del.data.seq, 3);
      assert.equal(del.data.id, m.id);
      assert.deepEqual((await c.event('queue:drained')).data, { lastSeq: 3 });
      await c.close();
    }
  });

  test('history pages newest first with before, limit <= 100 and hasMore', async () => {
    const a = await userWithDevices(srv, 1);
    const b = await userWithDevices(srv, 1);
    const conv = await conversation(srv, a, b);
    const ids = [];
    for (let i = 0; i < 7; i += 1) ids.push((await sendRest(srv, a, b, conv, `h${i}`)).body.id);
    const p1 = await srv.api('GET', `/api/conversations/${conv}/messages?limit=3`, { token: b.token });
    assert.deepEqual(p1.body.messages.map((m) => m.id), ids.slice(4).reverse());
    assert.equal(p1.body.hasMore, true);
    assert.equal(p1.body.messages[0].envelope.ciphertext, fakeCiphertext(b.deviceId, 'h6'));
    const p2 = await srv.api('GET', `/api/conversations/${conv}/messages?limit=3&before=${ids[4]}`, { token: b.token });
    assert.deepEqual(p2.body.messages.map((m) => m.id), ids.slice(1, 4).reverse());
    const p3 = await srv.api('GET', `/api/conversations/${conv}/messages?limit=3&before=${ids[1]}`, { token: b.token });
    assert.deepEqual(p3.body.messages.map((m) => m.id), [ids[0]]);
    assert.equal(p3.body.hasMore, false);
    for (const q of ['limit=0', 'limit=101', 'limit=x', 'before=nope']) {
      const r = await srv.api('GET', `/api/conversations/${conv}/messages?${q}`, { token: b.token });
      assert.equal(r.status, 400, q);
    }
  });
});

describe('conversations', () => {
  test('create is idempotent (201 then 200), list, get, participants, leave; conversation:new to the other side', async () => {
    const a = await userWithDevices(srv, 2);
    const b = await userWithDevices(srv, 1);
    const [a2, b1] = await Promise.all([wsConnect(srv, a.devices[1].token), wsConnect(srv, b.token)]);
    const r1 = await srv.api('POST', '/api/conversations', { token: a.token, body: { participantId: b.userId } });
    assert.equal(r1.status, 201);
    assert.equal(r1.body.type, 'direct');
    assert.equal(r1.body.unreadCount, 0);
    const ev = await b1.event('conversation:new');
    assert.equal(ev.data.conversation.id, r1.body.id);
    assert.equal((await a2.event('conversation:new')).data.conversation.id, r1.body.id);
    const r2 = await srv.api('POST', '/api/conversations', { token: b.token, body: { participantId: a.userId } });
    assert.equal(r2.status, 200);
    assert.equal(r2.body.id, r1.body.id);
    assert.equal((await srv.api('POST', '/api/conversations', { token: a.token, body: { participantId: a.userId } })).status, 400);
    assert.equal((await srv.api('POST', '/api/conversations', { token: a.token, body: { participantId: uuid() } })).status, 404);
    const g = await srv.api('GET', `/api/conversations/${r1.body.id}`, { token: b.token });
    assert.deepEqual(g.body.participants.map((p) => p.user.id).sort(), [a.userId, b.userId].sort());
    const parts = await srv.api('GET', `/api/conversations/${r1.body.id}/participants`, { token: a.token });
    assert.deepEqual(parts.body.map((p) => p.accepted), [false, false]);
    await sendRest(srv, a, b, r1.body.id, 'x');
    await sendRest(srv, b, a, r1.body.id, 'y');
    const other = await conversation(srv, a, await userWithDevices(srv, 1));
    const list = await srv.api('GET', '/api/conversations?limit=10', { token: a.token });
    assert.equal(list.body.total, 2);
    assert.deepEqual(list.body.conversations.map((c) => c.id), [other, r1.body.id]);
    assert.equal(list.body.conversations[1].lastMessage.senderId, b.userId);
    assert.equal(list.body.conversations[1].unreadCount, 1);
    const leave = await srv.api('DELETE', `/api/conversations/${other}`, { token: a.token });
    assert.equal(leave.status, 200);
    assert.deepEqual((await a2.event('conversation:removed')).data, { conversationId: other });
    const after = await srv.api('GET', '/api/conversations', { token: a.token });
    assert.deepEqual(after.body.conversations.map((c) => c.id), [r1.body.id]);
    await Promise.all([a2.close(), b1.close()]);
  });
});

// Group commit: the sends (and queue:acks) that arrive while a batch is at the pool run in one
// transaction, each in its own nesting level. A burst of frames on one socket lands in one
// batch (the first goes alone, the rest wait for it); every request gets its own answer.
describe('group commit', () => {
  // a and b (one device each) in their conversation, both connected with their queues
  // drained; c is a third user, whose device makes a device list wrong.
  async function pairOnline() {
    const a = await userWithDevices(srv, 1);
    const b = await userWithDevices(srv, 1);
    const c = await userWithDevices(srv, 1);
    const conv = await conversation(srv, a, b);
    const [a1, b1] = await Promise.all([wsConnect(srv, a.token), wsConnect(srv, b.token)]);
    await Promise.all([a1.event('queue:drained'), b1.event('queue:drained')]);
    return { a, b, c, conv, a1, b1 };
  }

  test('a batch where some sends fail (device-list mismatch): the others commit, each answered', async () => {
    const { a, b, c, conv, a1, b1 } = await pairOnline();
    const bad = new Set([2, 5, 9]);
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => a1.request('message:send', {
      conversationId: conv, clientMessageId: uuid(),
      envelopes: envelopes(bad.has(i) ? [b.deviceId, c.deviceId] : [b.deviceId], `g${i}`),
    })));
    const ids = [];
    replies.forEach((r, i) => {
      if (bad.has(i)) {
        assert.equal(r.event, 'error', JSON.stringify(r));
        assert.equal(r.data.code, 'device_list_mismatch');
        assert.deepEqual(r.data.details, { missing: [], extra: [c.deviceId] });
      } else {
        assert.equal(r.event, 'ack', JSON.stringify(r));
        ids.push(r.data.id);
      }
    });
    assert.equal(new Set(ids).size, 9);
    // b gets exactly the nine, seqs 1..9 without a gap (the refused ones took no seq).
    const got = [];
    for (let i = 0; i < 9; i += 1) got.push((await b1.event('message:new')).data);
    assert.deepEqual(got.map((m) => m.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(new Set(got.map((m) => m.id)), new Set(ids));
    await b1.none(isNew, 200);
    // Many acks in flight (one batch) are each answered, with one receipt per message.
    const acks = await Promise.all(got.map((m) => b1.request('queue:ack', { seq: m.seq })));
    for (const r of acks) assert.equal(r.event, 'ack', JSON.stringify(r));
    const receipts = new Set();
    for (let i = 0; i < 9; i += 1) receipts.add((await a1.event('message:delivered')).data.messageId);
    assert.deepEqual(receipts, new Set(ids));
    const h = await srv.api('GET', `/api/conversations/${conv}/messages?limit=100`, { token: a.token });
    assert.deepEqual(new Set(h.body.messages.map((m) => m.id)), new Set(ids));
    await Promise.all([a1.close(), b1.close()]);
  });

  // Sends and acks share the batch: a refused request of either kind is undone alone.
  test('sends and queue:acks in one batch: each answered, a refused one undone alone', async () => {
    const { a, b, c, conv, a1, b1 } = await pairOnline();
    const sent = [];
    for (const tag of ['x1', 'x2']) {
      const r = await a1.request('message:send', { conversationId: conv, clientMessageId: uuid(), envelopes: envelopes([b.deviceId], tag) });
      assert.equal(r.event, 'ack', JSON.stringify(r));
      sent.push(r.data.id);
    }
    const queued = [(await b1.event('message:new')).data, (await b1.event('message:new')).data];
    assert.deepEqual(queued.map((m) => m.seq), [1, 2]);
    const send = (to, tag) => b1.request('message:send', { conversationId: conv, clientMessageId: uuid(), envelopes: envelopes(to, tag) });
    const [s1, k1, sBad, kBad, s2, k2] = await Promise.all([
      send([a.deviceId], 'y1'),
      b1.request('queue:ack', { seq: 1 }),
      send([a.deviceId, c.deviceId], 'bad'),
      b1.request('queue:ack', { seq: 99 }),
      send([a.deviceId], 'y2'),
      b1.request('queue:ack', { seq: 2 }),
    ]);
    for (const r of [s1, s2]) assert.equal(r.event, 'ack', JSON.stringify(r));
    assert.equal(sBad.event, 'error');
    assert.equal(sBad.data.code, 'device_list_mismatch');
    assert.deepEqual(sBad.data.details, { missing: [], extra: [c.deviceId] });
    assert.deepEqual([k1.event, k1.data], ['ack', { seq: 1 }]);
    assert.equal(kBad.event, 'error');
    assert.equal(kBad.data.code, 'validation_failed');
    assert.deepEqual([k2.event, k2.data], ['ack', { seq: 2 }]);
    // a: the two committed sends at seqs 1 and 2 (the refused one took none), and one
    // receipt for each of its own messages.
    const got = [(await a1.event('message:new')).data, (await a1.event('message:new')).data];
    assert.deepEqual(got.map((m) => m.seq), [1, 2]);
    assert.deepEqual(new Set(got.map((m) => m.id)), new Set([s1.data.id, s2.data.id]));
    await a1.none(isNew, 200);
    const receipts = new Set();
    for (let i = 0; i < 2; i += 1) receipts.add((await a1.event('message:delivered')).data.messageId);
    assert.deepEqual(receipts, new Set(sent));
    await Promise.all([a1.close(), b1.close()]);
  });

  test('the same clientMessageId twice in one batch (WebSocket and REST) stores one message', async () => {
    const { a, b, conv, a1, b1 } = await pairOnline();
    const dup = uuid(), dup2 = uuid();
    const body = (cid, tag) => ({ conversationId: conv, clientMessageId: cid, envelopes: envelopes([b.deviceId], tag) });
    const [w0, w1, w2, w3, r4, w5] = await Promise.all([
      a1.request('message:send', body(uuid(), 'first')),
      a1.request('message:send', body(dup, 'dup')),
      a1.request('message:send', body(dup, 'dup')),
      a1.request('message:send', body(dup2, 'dup2')),
      sendRest(srv, a, b, conv, 'dup2', 0, dup2),
      a1.request('message:send', body(dup, 'dup')),
    ]);
    for (const r of [w0, w1, w2, w3, w5]) assert.equal(r.event, 'ack', JSON.stringify(r));
    assert.ok(r4.status === 201 || r4.status === 200, JSON.stringify(r4.body));
    assert.equal(w2.data.id, w1.data.id);
    assert.equal(w5.data.id, w1.data.id);
    assert.equal(r4.body.id, w3.data.id);
    const got = [];
    for (let i = 0; i < 3; i += 1) got.push((await b1.event('message:new')).data);
    await b1.none(isNew, 300);
    assert.deepEqual(new Set(got.map((m) => m.id)), new Set([w0.data.id, w1.data.id, w3.data.id]));
    assert.deepEqual(got.map((m) => m.seq), [1, 2, 3]);
    const h = await srv.api('GET', `/api/conversations/${conv}/messages?limit=100`, { token: a.token });
    assert.equal(h.body.messages.length, 3);
    await Promise.all([a1.close(), b1.close()]);
  });
});
