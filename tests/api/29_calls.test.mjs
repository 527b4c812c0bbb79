// @stores sqlite,pg
// 1-1 calls (api.md "Calls"): decline, no answer (missed after a shortened ring time), nobody
// connected, busy, first answer wins on a callee with two devices, a dropped caller back in
// time keeps the call and one not back fails it, who may call (blocks, contacts, strangers),
// bad input on every event (unknown or foreign call, wrong device, oversized envelope, device
// list, flood) that answers an error and changes no call, the history, the metrics, TURN
// credentials (format, HMAC, expiry, rate limit), and an SDP that never reaches the database
// or the log.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { login, sql, startAuthServer } from './lib/api.mjs';
import { makeDevice } from './lib/crypto.mjs';
import { conversation, sendRest, userWithDevices, wsConnect } from './lib/rt.mjs';

const RING_S = 2;
const RECONNECT_S = 3;
const CALL_ENV = { CALL_RING_SECONDS: String(RING_S), CALL_RECONNECT_SECONDS: String(RECONNECT_S) };

let srv;
before(async () => { srv = await startAuthServer(CALL_ENV); });
after(async () => { await srv.stop(); });

// a and b, contacts (each has sent a message in their conversation); b has nb devices.
async function pair(nb = 1, s = srv) {
  const a = await userWithDevices(s, 1);
  const b = await userWithDevices(s, nb);
  const conv = await conversation(s, a, b);
  assert.equal((await sendRest(s, a, b, conv, 'hi')).status, 201);
  assert.equal((await sendRest(s, b, a, conv, 'hello')).status, 201);
  return { a, b, conv };
}

async function connect(u, i = 0, s = srv) {
  const c = await wsConnect(s, u.devices[i].token);
  await c.event('queue:drained');
  return c;
}

// A fake end-to-end envelope; the server must treat it as opaque bytes.
const env = (tag, type = 'message') => ({ type, ciphertext: Buffer.from(`call|${tag}`).toString('base64') });
const offerEnvs = (u, tag = 'offer') => u.devices.map((d) => ({ deviceId: d.id, ...env(`${tag}|${d.id}`) }));
const isCall = (name, callId) => (m) => m.event === name && m.data.callId === callId;

async function ok(ws, event, data) {
  const r = await ws.request(event, data);
  assert.equal(r.event, 'ack', `${event}: ${JSON.stringify(r)}`);
  return r.data;
}

async function refused(ws, event, data, code) {
  const r = await ws.request(event, data);
  assert.equal(r.event, 'error', `${event} should fail: ${JSON.stringify(r)}`);
  assert.equal(r.data.code, code, `${event}: ${JSON.stringify(r.data)}`);
  return r.data;
}

// a calls b and every connected device of b rings; returns the callId.
async function ring(aws, a, b, conv, bws, callType = 'audio') {
  const { callId } = await ok(aws, 'call:initiate', { conversationId: conv, callType });
  assert.match(callId, /^[0-9a-f-]{36}$/);
  await ok(aws, 'call:offer', { callId, envelopes: offerEnvs(b) });
  for (const ws of bws) {
    const inc = await ws.next(isCall('call:incoming', callId));
    assert.equal(inc.data.conversationId, conv);
    assert.equal(inc.data.callerId, a.userId);
    assert.equal(inc.data.callerDeviceId, a.deviceId);
    assert.equal(inc.data.callType, callType);
    assert.equal(inc.data.envelope.type, 'message');
  }
  return callId;
}

async function history(u, conv, s = srv) {
  const r = await s.api('GET', `/api/conversations/${conv}/calls`, { token: u.token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.calls;
}

// The record is written in the background: wait until it shows the end.
async function endedRecord(u, conv, callId, s = srv) {
  for (let i = 0; i < 100; i += 1) {
    const c = (await history(u, conv, s)).find((x) => x.id === callId);
    if (c && c.reason) return c;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`call ${callId} has no recorded end`);
}

describe('call flows', () => {
  test('decline: the callee rejects, both sides get call:ended rejected', async () => {
    const { a, b, conv } = await pair();
    const aws = await connect(a);
    const bws = await connect(b);
    const callId = await ring(aws, a, b, conv, [bws], 'video');
    await ok(bws, 'call:reject', { callId });
    for (const ws of [aws, bws]) {
      const e = await ws.next(isCall('call:ended', callId));
      assert.deepEqual(e.data, { callId, conversationId: conv, endedBy: b.userId, reason: 'rejected', duration: 0 });
    }
    const rec = await endedRecord(a, conv, callId);
    assert.equal(rec.reason, 'rejected');
    assert.equal(rec.callType, 'video');
    assert.equal(rec.callerId, a.userId);
    assert.equal(rec.answeredAt, undefined);
    // The call is over: a new one may start, the old id is gone.
    await refused(aws, 'call:end', { callId }, 'not_found');
    await aws.close(); await bws.close();
  });

  test('no answer: missed after the ring time', async () => {
    const { a, b, conv } = await pair();
    const aws = await connect(a);
    const bws = await connect(b);
    const t0 = Date.now();
    const callId = await ring(aws, a, b, conv, [bws]);
    const e = await aws.next(isCall('call:ended', callId), (RING_S + 3) * 1000);
    assert.ok(Date.now() - t0 >= RING_S * 1000 - 200, 'not before the ring time');
    assert.equal(e.data.reason, 'missed');
    assert.equal(e.data.endedBy, undefined);
    assert.equal((await bws.next(isCall('call:ended', callId))).data.reason, 'missed');
    assert.equal((await endedRecord(b, conv, callId)).reason, 'missed');
    await aws.close(); await bws.close();
  });

  test('no callee device connected: missed at once', async () => {
    const { a, b, conv } = await pair();
    const aws = await connect(a);
    const { callId } = await ok(aws, 'call:initiate', { conversationId: conv, callType: 'audio' });
    await ok(aws, 'call:offer', { callId, envelopes: offerEnvs(b) });
    const e = await aws.next(isCall('call:ended', callId), 1000);
    assert.equal(e.data.reason, 'missed');
    await aws.close();
  });

  test('busy: a callee or a caller already in a call', async () => {
    const { a, b, conv } = await pair();
    const c = await userWithDevices(srv, 1);
    const convCB = await conversation(srv, c, b);
    assert.equal((await sendRest(srv, c, b, convCB)).status, 201);
    assert.equal((await sendRest(srv, b, c, convCB)).status, 201);
    const convCA = await conversation(srv, c, a);
    assert.equal((await sendRest(srv, c, a, convCA)).status, 201);
    assert.equal((await sendRest(srv, a, c, convCA)).status, 201);
    const aws = await connect(a);
    const bws = await connect(b);
    const cws = await connect(c);
    const callId = await ring(aws, a, b, conv, [bws]);
    await refused(cws, 'call:initiate', { conversationId: convCB, callType: 'audio' }, 'busy');
    await refused(aws, 'call:initiate', { conversationId: convCA, callType: 'audio' }, 'busy');
    // The refused attempt is recorded as busy (in the background); the ringing call goes on.
    let attempts = [];
    for (let i = 0; i < 100 && !attempts.length; i += 1) {
      attempts = await history(c, convCB);
      if (!attempts.length) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0].reason, 'busy');
    await ok(bws, 'call:answer', { callId, envelope: env('answer') });
    await aws.next(isCall('call:answered', callId));
    await ok(aws, 'call:end', { callId });
    await bws.next(isCall('call:ended', callId));
    await aws.close(); await bws.close(); await cws.close();
  });

  test('first answer wins: the other device stops ringing and a later answer is refused', async () => {
    const { a, b, conv } = await pair(2);
    const aws = await connect(a);
    const b0 = await connect(b, 0);
    const b1 = await connect(b, 1);
    const callId = await ring(aws, a, b, conv, [b0, b1]);
    const answer = env('the answer');
    await ok(b0, 'call:answer', { callId, envelope: answer });
    const got = await aws.next(isCall('call:answered', callId));
    assert.deepEqual(got.data, { callId, calleeDeviceId: b.devices[0].id, envelope: answer });
    await b1.next(isCall('call:accepted-elsewhere', callId));
    await refused(b1, 'call:answer', { callId, envelope: env('late') }, 'conflict');
    await b0.none((m) => m.event === 'call:accepted-elsewhere', 200);
    // Candidates flow both ways between the two devices in the call, and only there.
    const cand = env('candidate');
    await ok(aws, 'call:ice-candidate', { callId, recipientDeviceId: b.devices[0].id, envelope: cand });
    const ice = await b0.next(isCall('call:ice-candidate', callId));
    assert.deepEqual(ice.data, { callId, senderDeviceId: a.deviceId, envelope: cand });
    await ok(b0, 'call:ice-candidate', { callId, recipientDeviceId: a.deviceId, envelope: cand });
    assert.equal((await aws.next(isCall('call:ice-candidate', callId))).data.senderDeviceId, b.devices[0].id);
    await refused(aws, 'call:ice-candidate', { callId, recipientDeviceId: b.devices[1].id, envelope: cand }, 'forbidden');
    await refused(b1, 'call:ice-candidate', { callId, recipientDeviceId: a.deviceId, envelope: cand }, 'forbidden');
    await refused(b1, 'call:end', { callId }, 'forbidden');
    await new Promise((r) => setTimeout(r, 1100));
    await ok(b0, 'call:end', { callId });
    for (const ws of [aws, b0, b1]) {
      const e = await ws.next(isCall('call:ended', callId));
      assert.equal(e.data.reason, 'hangup');
      assert.equal(e.data.endedBy, b.userId);
      assert.ok(e.data.duration >= 1, JSON.stringify(e.data));
    }
    const rec = await endedRecord(a, conv, callId);
    assert.ok(rec.answeredAt && rec.endedAt && rec.duration >= 1, JSON.stringify(rec));
    await aws.close(); await b0.close(); await b1.close();
  });

  test('a dropped caller back within the reconnect time keeps the call', async () => {
    const { a, b, conv } = await pair();
    let aws = await connect(a);
    const bws = await connect(b);
    const callId = await ring(aws, a, b, conv, [bws]);
    await ok(bws, 'call:answer', { callId, envelope: env('answer') });
    await aws.next(isCall('call:answered', callId));
    await aws.cut(); // the network goes: no close frame
    await new Promise((r) => setTimeout(r, 500));
    aws = await connect(a);
    // Past the reconnect time the call is still there: an ICE restart goes through.
    await new Promise((r) => setTimeout(r, RECONNECT_S * 1000 + 500));
    await ok(aws, 'call:ice-candidate', { callId, recipientDeviceId: b.deviceId, envelope: env('restart') });
    await bws.next(isCall('call:ice-candidate', callId));
    await bws.none((m) => m.event === 'call:ended', 10);
    await ok(aws, 'call:end', { callId });
    assert.equal((await bws.next(isCall('call:ended', callId))).data.reason, 'hangup');
    await aws.close(); await bws.close();
  });

  test('a dropped caller not back in time: failed', async () => {
    const { a, b, conv } = await pair();
    const aws = await connect(a);
    const bws = await connect(b);
    const callId = await ring(aws, a, b, conv, [bws]);
    await ok(bws, 'call:answer', { callId, envelope: env('answer') });
    await aws.next(isCall('call:answered', callId));
    const t0 = Date.now();
    await aws.cut();
    const e = await bws.next(isCall('call:ended', callId), (RECONNECT_S + 3) * 1000);
    assert.ok(Date.now() - t0 >= RECONNECT_S * 1000 - 200, 'not before the reconnect time');
    assert.equal(e.data.reason, 'failed');
    assert.equal((await endedRecord(b, conv, callId)).reason, 'failed');
    // Both are free again.
    const again = await connect(a);
    const { callId: next } = await ok(again, 'call:initiate', { conversationId: conv, callType: 'audio' });
    await ok(again, 'call:end', { callId: next });
    await again.close(); await bws.close();
  });
});

describe('who may call', () => {
  test('a stranger: not_found; not yet contacts or blocked: forbidden; a block ends a call', async () => {
    const { a, b, conv } = await pair();
    const c = await userWithDevices(srv, 1);
    const cws = await connect(c);
    await refused(cws, 'call:initiate', { conversationId: conv, callType: 'audio' }, 'not_found');
    await refused(cws, 'call:initiate', { conversationId: crypto.randomUUID(), callType: 'audio' }, 'not_found');
    // c and a share a conversation, but only c has written: not contacts yet.
    const convCA = await conversation(srv, c, a);
    assert.equal((await sendRest(srv, c, a, convCA)).status, 201);
    await refused(cws, 'call:initiate', { conversationId: convCA, callType: 'audio' }, 'forbidden');
    // A block, either way.
    const aws = await connect(a);
    assert.equal((await srv.api('POST', `/api/users/block/${a.userId}`, { token: b.token })).status, 200);
    await refused(aws, 'call:initiate', { conversationId: conv, callType: 'audio' }, 'forbidden');
    assert.equal((await srv.api('DELETE', `/api/users/block/${a.userId}`, { token: b.token })).status, 200);
    const { callId } = await ok(aws, 'call:initiate', { conversationId: conv, callType: 'audio' });
    await ok(aws, 'call:end', { callId });
    // A block ends a call in progress, as a hang-up by nobody.
    const bws = await connect(b);
    const live = await ring(aws, a, b, conv, [bws]);
    await ok(bws, 'call:answer', { callId: live, envelope: env('answer') });
    await aws.next(isCall('call:answered', live));
    assert.equal((await srv.api('POST', `/api/users/block/${b.userId}`, { token: a.token })).status, 200);
    for (const ws of [aws, bws]) {
      const e = await ws.next(isCall('call:ended', live));
      assert.equal(e.data.reason, 'hangup');
      assert.equal(e.data.endedBy, undefined);
    }
    await refused(bws, 'call:ice-candidate', { callId: live, recipientDeviceId: a.deviceId, envelope: env('x') }, 'not_found');
    await bws.close();
    // The history is the participants' only.
    const r = await srv.api('GET', `/api/conversations/${conv}/calls`, { token: c.token });
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'not_found');
    await aws.close(); await cws.close();
  });
});

describe('bad input changes no call', () => {
  // Its own server with a long ring time: the many refusals must not race the ring timer.
  let srv2;
  before(async () => { srv2 = await startAuthServer({ CALL_RING_SECONDS: '60' }); });
  after(async () => { await srv2.stop(); });

  test('unknown or foreign call, wrong device, bad fields, device list, oversized envelope, flood', async () => {
    const srv = srv2; // eslint-disable-line no-shadow
    const { a, b, conv } = await pair(1, srv);
    // a second device of a, which is not the calling one
    const a2 = await userWithDevices(srv, 1);
    const r = await login(srv, a, { keys: makeDevice().bundle() });
    assert.equal(r.status, 200);
    const aOther = await wsConnect(srv, r.body.tokens.accessToken);
    const stranger = await connect(a2, 0, srv);
    const aws = await connect(a, 0, srv);
    const bws = await connect(b, 0, srv);
    const { callId } = await ok(aws, 'call:initiate', { conversationId: conv, callType: 'audio' });
    const unknown = crypto.randomUUID();
    const cand = env('c');
    const events = (id) => [
      ['call:offer', { callId: id, envelopes: offerEnvs(b) }],
      ['call:answer', { callId: id, envelope: cand }],
      ['call:ice-candidate', { callId: id, recipientDeviceId: b.deviceId, envelope: cand }],
      ['call:reject', { callId: id }],
      ['call:end', { callId: id }],
    ];
    for (const [event, data] of events(unknown)) await refused(aws, event, data, 'not_found');
    for (const [event, data] of events(callId)) await refused(stranger, event, data, 'not_found');
    // a's other device is a's, but not in the call.
    await refused(aOther, 'call:offer', { callId, envelopes: offerEnvs(b) }, 'forbidden');
    await refused(aOther, 'call:end', { callId }, 'forbidden');
    await refused(aOther, 'call:ice-candidate', { callId, recipientDeviceId: b.deviceId, envelope: cand }, 'forbidden');
    // The callee cannot answer before it rang, nor offer; the caller cannot answer or reject.
    await refused(bws, 'call:answer', { callId, envelope: cand }, 'forbidden');
    await refused(bws, 'call:offer', { callId, envelopes: offerEnvs(b) }, 'forbidden');
    await refused(aws, 'call:reject', { callId }, 'forbidden');
    // Fields.
    let d = await refused(aws, 'call:initiate', { conversationId: conv, callType: 'hologram' }, 'validation_failed');
    assert.deepEqual(d.details, { field: 'callType', reason: 'unknown' });
    d = await refused(aws, 'call:end', { callId: 'nope' }, 'validation_failed');
    assert.equal(d.details.field, 'callId');
    d = await refused(aws, 'call:offer', { callId, envelopes: [{ deviceId: b.deviceId, type: 'message', ciphertext: '***' }] }, 'validation_failed');
    assert.deepEqual(d.details, { field: 'envelopes.ciphertext', reason: 'bad_base64' });
    const twice = [...offerEnvs(b), ...offerEnvs(b)];
    d = await refused(aws, 'call:offer', { callId, envelopes: twice }, 'validation_failed');
    assert.equal(d.details.reason, 'duplicate');
    // The device list, exactly as for messages.
    d = await refused(aws, 'call:offer', { callId, envelopes: [] }, 'device_list_mismatch');
    assert.deepEqual(d.details, { missing: [b.deviceId], extra: [] });
    const stray = crypto.randomUUID();
    d = await refused(aws, 'call:offer', { callId, envelopes: [...offerEnvs(b), { deviceId: stray, ...env('x') }] }, 'device_list_mismatch');
    assert.deepEqual(d.details, { missing: [], extra: [stray] });
    // An envelope past 64 KiB.
    const big = { type: 'message', ciphertext: Buffer.alloc(64 * 1024 + 1, 7).toString('base64') };
    d = await refused(aws, 'call:offer', { callId, envelopes: [{ deviceId: b.deviceId, ...big }] }, 'payload_too_large');
    // Nothing of that rang b or ended the call: the real offer still works.
    await bws.none((m) => m.event && m.event.startsWith('call:'), 50);
    await ok(aws, 'call:offer', { callId, envelopes: offerEnvs(b) });
    await bws.next(isCall('call:incoming', callId));
    await refused(aws, 'call:offer', { callId, envelopes: offerEnvs(b) }, 'conflict');
    await ok(bws, 'call:answer', { callId, envelope: cand });
    await aws.next(isCall('call:answered', callId));
    await refused(bws, 'call:answer', { callId, envelope: big }, 'payload_too_large');
    await refused(aws, 'call:ice-candidate', { callId, recipientDeviceId: b.deviceId, envelope: big }, 'payload_too_large');
    await refused(bws, 'call:reject', { callId }, 'conflict');
    // A flood from a stranger: every frame is refused (not_found, or rate_limited once its
    // bucket is empty), or, when the frames come faster than their refusals can be written,
    // the flooder is cut off (as any peer that does not read its replies is: how many frames
    // one read brings depends on the load). Either way the call goes on.
    for (let i = 0; i < 400; i += 1) stranger.send({ event: 'call:end', id: `f${i}`, data: { callId } });
    const first = await Promise.race([
      stranger.next((m) => m.id === 'f0', 30000),
      stranger.closed.then((c) => ({ closed: c })),
    ]);
    if (first.closed) {
      // 1008 when its close frame got through, 1006 when the socket went first.
      assert.ok([1008, 1006].includes(first.closed.code), JSON.stringify(first.closed));
    } else {
      assert.equal(first.event, 'error');
      assert.ok(['not_found', 'rate_limited'].includes(first.data.code), JSON.stringify(first.data));
    }
    await ok(aws, 'call:ice-candidate', { callId, recipientDeviceId: b.deviceId, envelope: cand });
    await bws.next(isCall('call:ice-candidate', callId));
    await ok(aws, 'call:end', { callId });
    assert.equal((await bws.next(isCall('call:ended', callId))).data.reason, 'hangup');
    for (const ws of [aws, bws, aOther]) await ws.close();
    await stranger.close();
  });
});

describe('records and metrics', () => {
  test('history pages newest first', async () => {
    const { a, b, conv } = await pair();
    const aws = await connect(a);
    const ids = [];
    for (let i = 0; i < 3; i += 1) {
      const { callId } = await ok(aws, 'call:initiate', { conversationId: conv, callType: 'audio' });
      await ok(aws, 'call:end', { callId });
      ids.push(callId);
      await endedRecord(a, conv, callId);
    }
    const p1 = await srv.api('GET', `/api/conversations/${conv}/calls?limit=2`, { token: b.token });
    assert.deepEqual(p1.body.calls.map((c) => c.id), [ids[2], ids[1]]);
    assert.equal(p1.body.hasMore, true);
    const p2 = await srv.api('GET', `/api/conversations/${conv}/calls?limit=2&before=${ids[1]}`, { token: b.token });
    assert.deepEqual(p2.body.calls.map((c) => c.id), [ids[0]]);
    assert.equal(p2.body.hasMore, false);
    assert.equal((await srv.api('GET', `/api/conversations/${conv}/calls?limit=0`, { token: b.token })).status, 400);
    assert.equal((await srv.api('GET', `/api/conversations/${conv}/calls?before=x`, { token: b.token })).status, 400);
    assert.equal((await srv.api('GET', `/api/conversations/${conv}/calls`)).status, 401);
    await aws.close();
  });

  test('metrics count calls started, answered, missed and failed, and those in progress', async () => {
    const text = await (await fetch(srv.url('/metrics'))).text();
    const get = (label) => Number(text.match(new RegExp(`^${label.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm'))?.[1]);
    assert.ok(get('sotto_calls_total{event="started"}') >= 5, text);
    assert.ok(get('sotto_calls_total{event="answered"}') >= 3);
    assert.ok(get('sotto_calls_total{event="missed"}') >= 2);
    assert.ok(get('sotto_calls_total{event="failed"}') >= 1);
    assert.equal(get('sotto_calls_active{state="active"}'), 0);
    assert.equal(get('sotto_calls_active{state="ringing"}'), 0);
  });
});

describe('TURN credentials', () => {
  test('without TURN configured: no servers', async () => {
    const { a } = await pair();
    const r = await srv.api('GET', '/api/calls/turn-credentials', { token: a.token });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { urls: [], ttl: 0 });
    assert.equal((await srv.api('GET', '/api/calls/turn-credentials')).status, 401);
  });

  test('format, HMAC-SHA1 with the secret, expiry, rate limit', async () => {
    const secret = 'turn-secret-for-tests-0123456789';
    const urls = ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp'];
    const s = await startAuthServer({ TURN_URLS: urls.join(', '), TURN_SECRET: secret, TURN_TTL: '600', RATE_LIMIT_TURN: '3/60' });
    try {
      const u = await userWithDevices(s, 1);
      const t0 = Math.floor(Date.now() / 1000);
      const r = await s.api('GET', '/api/calls/turn-credentials', { token: u.token });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.urls, urls);
      assert.equal(r.body.ttl, 600);
      const [exp, uid] = r.body.username.split(':');
      assert.equal(uid, u.userId);
      assert.ok(Number(exp) >= t0 + 600 && Number(exp) <= t0 + 602, r.body.username);
      const want = crypto.createHmac('sha1', secret).update(r.body.username).digest('base64');
      assert.equal(r.body.credential, want);
      assert.equal(s.log.includes(secret), false, 'the secret is never logged');
      assert.equal(s.log.includes(r.body.credential), false);
      for (let i = 0; i < 2; i += 1) assert.equal((await s.api('GET', '/api/calls/turn-credentials', { token: u.token })).status, 200);
      const limited = await s.api('GET', '/api/calls/turn-credentials', { token: u.token });
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      // Another user has a bucket of their own.
      const v = await userWithDevices(s, 1);
      assert.equal((await s.api('GET', '/api/calls/turn-credentials', { token: v.token })).status, 200);
    } finally {
      await s.stop();
    }
  });
});

// Bytes of everything the store keeps: the SQLite files, or every row of every PostgreSQL table
// as text (bytea shows as hex there: the checks look for that form too).
function storeBytes(s) {
  if (s.backend === 'pg') {
    const tables = sql(s, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()");
    return Buffer.from(tables.map(([t]) => sql(s, `SELECT t::text FROM "${t}" t`).join('\n')).join('\n'));
  }
  return Buffer.concat(readdirSync(s.dataDir).filter((f) => f.startsWith('sotto.db'))
    .map((f) => readFileSync(path.join(s.dataDir, f))));
}

describe('the server never sees an SDP', () => {
  test('an SDP inside the envelopes is in neither the database nor the log', async () => {
    const s = await startAuthServer({ ...CALL_ENV, LOG_LEVEL: 'debug' });
    try {
      const { a, b, conv } = await pair(1, s);
      const aws = await connect(a, 0, s);
      const bws = await connect(b, 0, s);
      const marker = `SDPMARK${crypto.randomBytes(6).toString('hex')}`;
      const sdp = `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=${marker}\r\na=fingerprint:sha-256 AB:CD\r\n`;
      const sealed = (what) => ({ type: 'message', ciphertext: Buffer.from(`${what}|${sdp}`).toString('base64') });
      const { callId } = await ok(aws, 'call:initiate', { conversationId: conv, callType: 'video' });
      await ok(aws, 'call:offer', { callId, envelopes: [{ deviceId: b.deviceId, ...sealed('offer') }] });
      const inc = await bws.next(isCall('call:incoming', callId));
      assert.ok(Buffer.from(inc.data.envelope.ciphertext, 'base64').toString().includes(marker), 'relayed as given');
      await ok(bws, 'call:answer', { callId, envelope: sealed('answer') });
      await aws.next(isCall('call:answered', callId));
      await ok(aws, 'call:ice-candidate', { callId, recipientDeviceId: b.deviceId, envelope: sealed('candidate') });
      await bws.next(isCall('call:ice-candidate', callId));
      await ok(bws, 'call:end', { callId });
      await aws.next(isCall('call:ended', callId));
      await endedRecord(a, conv, callId, s);
      await aws.close(); await bws.close();
      const forms = [marker, Buffer.from(`offer|${sdp}`).toString('base64'), Buffer.from(`answer|${sdp}`).toString('base64'),
        Buffer.from(`candidate|${sdp}`).toString('base64')];
      const db = storeBytes(s);
      for (const f of forms) {
        assert.equal(db.includes(Buffer.from(f)), false, `the store holds ${f.slice(0, 20)}`);
        assert.equal(db.includes(Buffer.from(Buffer.from(f).toString('hex'))), false, 'the store holds it as hex');
        assert.equal(s.log.includes(f), false, `the log holds ${f.slice(0, 20)}`);
      }
      assert.ok(db.includes(Buffer.from(callId)), 'the call itself is recorded');
    } finally {
      await s.stop();
    }
  });
});
