// @stores sqlite,pg
// The bound on an account's queued ciphertext (QUEUE_BYTES_PER_ACCOUNT, issue 16 finding 7):
// sends that would pass it are refused alike over REST and WebSocket with 413 quota_exceeded,
// nothing already stored is lost, and the sender can send again once the recipient acks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAuthServer } from './lib/api.mjs';
import { conversation, envelopes, sendRest, userWithDevices, uuid, wsConnect } from './lib/rt.mjs';

// One device each, so a send is one envelope: `ct|<device id>|x`, 41 bytes. Room for three.
const ENVELOPE = 41;
let srv;
before(async () => { srv = await startAuthServer({ QUEUE_BYTES_PER_ACCOUNT: String(3 * ENVELOPE) }); });
after(async () => { await srv.stop(); });

const wsSend = (ws, conv, to) => ws.request('message:send', { conversationId: conv, clientMessageId: uuid(), envelopes: envelopes([to.deviceId]) });

describe('queued ciphertext bound', () => {
  test('over the bound REST and WebSocket sends get quota_exceeded until the recipient acks', async () => {
    const a = await userWithDevices(srv, 1);
    const b = await userWithDevices(srv, 1);
    const conv = await conversation(srv, a, b);
    for (let i = 0; i < 2; i += 1) assert.equal((await sendRest(srv, a, b, conv)).status, 201);
    const a1 = await wsConnect(srv, a.token);
    await a1.event('queue:drained');
    const third = await wsSend(a1, conv, b);
    assert.equal(third.event, 'ack', JSON.stringify(third));

    // Full: both transports refuse, with the same code.
    const r = await sendRest(srv, a, b, conv);
    assert.equal(r.status, 413, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'quota_exceeded');
    const w = await wsSend(a1, conv, b);
    assert.equal(w.event, 'error');
    assert.equal(w.data.code, 'quota_exceeded');
    // The other way is not affected: b has nothing queued.
    assert.equal((await sendRest(srv, b, a, conv)).status, 201);

    // Nothing stored was lost: b gets the three, in order, and acks the first.
    const b1 = await wsConnect(srv, b.token);
    const seen = [];
    for (let i = 0; i < 3; i += 1) seen.push((await b1.event('message:new')).data.seq);
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual((await b1.event('queue:drained')).data, { lastSeq: 3 });
    assert.equal((await b1.request('queue:ack', { seq: 1 })).event, 'ack');

    // Room for one again, whichever way it comes.
    const again = await wsSend(a1, conv, b);
    assert.equal(again.event, 'ack', JSON.stringify(again));
    assert.equal((await sendRest(srv, a, b, conv)).status, 413);
    assert.equal((await b1.event('message:new')).data.seq, 4);
    assert.equal((await b1.request('queue:ack', { seq: 4 })).event, 'ack');
    assert.equal((await sendRest(srv, a, b, conv)).status, 201);
    const h = await srv.api('GET', `/api/conversations/${conv}/messages`, { token: a.token });
    assert.equal(h.body.messages.filter((m) => m.senderId === a.userId).length, 5);
    await Promise.all([a1.close(), b1.close()]);
  });
});
