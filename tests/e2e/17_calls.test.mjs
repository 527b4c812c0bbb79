// E2E 17 (issue 18, the CLI's part of 1-1 calls; the CLI carries no media): Alice is a real
// client built on the WebAssembly libsotto (the web app's core, driven from node), Bob the
// real `sotto`. Alice's offer, a Double Ratchet envelope of their session with the call
// binding, rings in Bob's `sotto chat` ("Incoming video call from alice"), and the call's end
// shows there. Offers that break the receiver rule (docs/protocol.md, "Calls") are refused and
// the call ended: bound to another call id, to another call type, a bit flipped; the session
// stays in step, so the next honest offer rings. A call nobody answers (CALL_RING_SECONDS
// shortened) shows as missed in `sotto watch`; one that rang while Bob was away shows once in
// `sotto sync`; `sotto calls alice` lists them all. No SDP marker reaches the server's disk or
// Bob's profile.
//   SOTTO_WASM_DIR: the WebAssembly build (libsotto.mjs/.wasm); SOTTO_WRAPPER: the compiled
//   core/wasm wrapper (sotto.js); ctest passes both.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { wsConnect } from '../api/lib/rt.mjs';
import { assertNoPlaintext, chat, cliPath, marker, ok, sync, user, world } from './lib/e2e.mjs';

const RING_S = 2;
const wasmDir = process.env.SOTTO_WASM_DIR;
const wrapper = process.env.SOTTO_WRAPPER;
assert.ok(wasmDir && wrapper, 'set SOTTO_WASM_DIR and SOTTO_WRAPPER (ctest does)');
// libsotto.mjs is built for a worker: it looks for `self` and `self.location`.
globalThis.self = globalThis;
globalThis.location = { href: pathToFileURL(`${wasmDir}/`).href };
const { default: createSotto } = await import(pathToFileURL(path.join(wasmDir, 'libsotto.mjs')).href);
const { loadSotto } = await import(pathToFileURL(wrapper).href);

const b64 = (u8) => Buffer.from(u8).toString('base64');
const jsonLines = (s) => s.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const PASSWORD = 'correct horse battery staple';

// Alice: an account registered with a bundle of the WebAssembly core; she encrypts to Bob's
// device with one session record, kept in memory as the web client keeps it in IndexedDB.
async function wasmUser(w, name) {
  const s = await loadSotto(createSotto, readFileSync(path.join(wasmDir, 'libsotto.wasm')));
  const key = s.newStorageKey();
  const pub = s.publicBundle(s.createDevice(key), key, 5);
  const res = await w.srv.api('POST', '/api/auth/register', {
    body: { email: `${name}@example.org`, username: name, password: PASSWORD, device: { name: 'browser', platform: 'web' }, keys: pub.bundle },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return {
    s, key, name, account: pub.account, records: new Map(),
    token: res.body.tokens.accessToken, userId: res.body.user.id, deviceId: res.body.device.id,
  };
}

// Encrypts a payload to one device of `to` (claiming its bundle the first time), checked
// against the signing key of the listing.
async function encryptTo(w, a, to, payload) {
  const listing = await w.srv.api('GET', `/api/keys/users/${to.userId}`, { token: a.token });
  assert.equal(listing.status, 200, JSON.stringify(listing.body));
  const dev = listing.body.devices.find((d) => d.deviceId === to.deviceId);
  const peer = { userId: to.userId, deviceId: to.deviceId };
  let claimed;
  if (!a.records.has(to.deviceId)) {
    const c = await w.srv.api('POST', '/api/keys/claim', { token: a.token, body: { userId: to.userId, deviceIds: [to.deviceId] } });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    claimed = c.body.devices[0];
  }
  const r = a.s.encrypt(a.account, a.key, peer, a.records.get(to.deviceId) ?? null, payload, claimed,
    { expectedSigningKey: Buffer.from(dev.signingKey, 'base64') });
  a.records.set(to.deviceId, r.record);
  return { deviceId: to.deviceId, type: r.envelope.type, ciphertext: b64(r.envelope.ciphertext) };
}

const sdp = (tag) => `v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=${tag}\r\nt=0 0\r\na=fingerprint:sha-256 AB:CD\r\n`;

describe('calls in the CLI: incoming, refused, missed, history', () => {
  let w, a, b, bob, conv, ws;
  before(async () => {
    w = await world({ CALL_RING_SECONDS: String(RING_S), RATE_LIMIT_CALLS: '1000/60' });
    b = await user(w, 'b');
    const me = JSON.parse((await ok(w, b.devices[0], ['whoami', '--json'])).stdout);
    bob = { userId: me.id, deviceId: me.deviceId };
    assert.ok(bob.userId && bob.deviceId, JSON.stringify(me));
    a = await wasmUser(w, `alice${process.pid}x${crypto.randomBytes(2).toString('hex')}`);
    const c = await w.srv.api('POST', '/api/conversations', { token: a.token, body: { participantId: bob.userId } });
    assert.ok(c.status === 201 || c.status === 200, JSON.stringify(c.body));
    conv = c.body.id;
    // They become contacts: Alice's first message (a pre-key message) and Bob's answer.
    const hello = marker(w, 'hello');
    const env = await encryptTo(w, a, bob, {
      clientMessageId: crypto.randomUUID(), conversationId: conv, contentType: 'text', sentAt: Date.now(), body: new TextEncoder().encode(hello),
    });
    const sent = await w.srv.api('POST', `/api/conversations/${conv}/messages`, { token: a.token, body: { clientMessageId: crypto.randomUUID(), envelopes: [env] } });
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    assert.deepEqual((await sync(w, b.devices[0])).map((m) => m.text), [hello]);
    await ok(w, b.devices[0], ['send', a.name, marker(w, 'hi')]);
    ws = await wsConnect(w.srv, a.token);
  });
  after(async () => {
    ws?.close();
    await w?.close();
  });

  // Alice calls Bob and sends her offer; `binding` changes what the offer's binding says and
  // `tamper` the envelope. Returns the call id.
  async function call(callType, { binding = {}, tamper = false } = {}) {
    const init = await ws.request('call:initiate', { conversationId: conv, callType });
    assert.equal(init.event, 'ack', JSON.stringify(init));
    const { callId } = init.data;
    const env = await encryptTo(w, a, bob, {
      clientMessageId: crypto.randomUUID(), conversationId: conv, contentType: 'call', sentAt: Date.now(),
      body: new TextEncoder().encode(sdp(marker(w, 'sdp'))),
      call: { callId, callerDeviceId: a.deviceId, calleeDeviceId: bob.deviceId, callType, signal: 'offer', ...binding },
    });
    if (tamper) {
      const ct = Buffer.from(env.ciphertext, 'base64');
      ct[ct.length - 20] ^= 0x01;
      env.ciphertext = ct.toString('base64');
    }
    const offer = await ws.request('call:offer', { callId, envelopes: [env] });
    assert.equal(offer.event, 'ack', JSON.stringify(offer));
    return callId;
  }
  const ended = (callId, ms = 8000) => ws.next((m) => m.event === 'call:ended' && m.data.callId === callId, ms);

  test('an offer rings in sotto chat, and the call ending shows there', async () => {
    const c = chat(w, b.devices[0], a);
    await c.waitFor((x) => x.err.includes('(connected)'), 'the chat to connect');
    const callId = await call('video');
    await c.waitFor((x) => x.lines().some((e) => e.event === 'call-incoming' && e.callId === callId), 'the incoming call');
    const inc = c.lines().find((e) => e.event === 'call-incoming');
    assert.deepEqual([inc.from, inc.fromId, inc.deviceId, inc.callType, inc.conversationId], [a.name, a.userId, a.deviceId, 'video', conv]);
    assert.equal((await ws.request('call:end', { callId })).event, 'ack');
    await c.waitFor((x) => x.lines().some((e) => e.event === 'call-ended' && e.callId === callId), 'the end of the call');
    const end = c.lines().find((e) => e.event === 'call-ended');
    assert.deepEqual([end.reason, end.duration, end.callType, end.from], ['hangup', 0, 'video', a.name]);
    assert.ok(!c.lines().some((e) => e.event === 'call-refused'), c.out);
    await c.quit();
  });

  test('offers bound to another call or call type, or with a bit flipped, are refused and ended', async () => {
    const c = chat(w, b.devices[0], a);
    await c.waitFor((x) => x.err.includes('(connected)'), 'the chat to connect');
    const cases = [
      ['another call id', { binding: { callId: crypto.randomUUID() } }, /bound to another call/],
      ['an audio binding on a video call', { binding: { callType: 'audio' } }, /bound to another call/],
      ['a flipped bit', { tamper: true }, /could not be decrypted/],
    ];
    for (const [what, how, why] of cases) {
      const callId = await call('video', how);
      const e = await ended(callId);
      assert.deepEqual([e.data.reason, e.data.endedBy], ['hangup', bob.userId], `${what}: ${JSON.stringify(e)}`);
      await c.waitFor((x) => x.lines().some((l) => l.event === 'call-refused' && l.callId === callId), `the refusal of ${what}`);
      assert.match(c.lines().find((l) => l.callId === callId && l.event === 'call-refused').reason, why, what);
      assert.match(c.err, /REFUSED an incoming call from/);
    }
    assert.ok(!c.lines().some((l) => l.event === 'call-incoming'), `nothing rang:\n${c.out}`);
    // The session is still in step: the next honest offer rings.
    const callId = await call('audio');
    await c.waitFor((x) => x.lines().some((l) => l.event === 'call-incoming' && l.callId === callId), 'the honest call');
    assert.equal((await ws.request('call:end', { callId })).event, 'ack');
    await ended(callId);
    await c.quit();
  });

  test('a call nobody answers shows as missed in sotto watch, and not again in sync', async () => {
    ws.drop((m) => m.event === 'user:online' || m.event === 'user:offline');
    const child = spawn(cliPath(), ['--server', w.srv.base, '--profile', b.devices[0], 'watch', '--timeout', String(RING_S + 8)],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { err += d; });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const until = async (pred, what) => {
      const end = Date.now() + 10000;
      while (!pred()) {
        if (Date.now() > end) assert.fail(`no ${what}\nstdout:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await ws.next((m) => m.event === 'user:online' && m.data.userId === bob.userId, 10000); // watch is connected
    const callId = await call('video');
    await until(() => out.includes(`Incoming video call from ${a.name} (answer it in the web app)`), 'incoming line');
    assert.equal((await ended(callId, (RING_S + 5) * 1000)).data.reason, 'missed');
    await until(() => out.includes(`Missed video call from ${a.name}`), 'missed line');
    child.kill('SIGINT');
    assert.equal(await exited, 0, err);
    assert.ok(!/Sanitizer|runtime error:/.test(err), err);
    assert.ok(!(await sync(w, b.devices[0])).some((e) => e.event === 'call-missed'), 'shown once only');
  });

  let awayCall;
  test('a call that rang while Bob was away shows once in sotto sync', async () => {
    awayCall = await call('audio'); // no device of Bob's is connected: missed at once
    assert.equal((await ended(awayCall)).data.reason, 'missed');
    const first = (await sync(w, b.devices[0])).filter((e) => e.event === 'call-missed');
    assert.deepEqual(first.map((e) => [e.callId, e.from, e.callType, e.conversationId]), [[awayCall, a.name, 'audio', conv]]);
    assert.deepEqual((await sync(w, b.devices[0])).filter((e) => e.event === 'call-missed'), []);
    const plain = await ok(w, b.devices[0], ['sync']);
    assert.doesNotMatch(plain.stdout, /Missed/);
  });

  test('sotto calls lists the history with its outcomes, newest first', async () => {
    const list = JSON.parse((await ok(w, b.devices[0], ['calls', a.name, '--json'])).stdout);
    // 1 ended by Alice, 3 refused, 1 honest after them, 1 missed while watching, 1 while away
    assert.equal(list.length, 7, JSON.stringify(list));
    assert.equal(list[0].id, awayCall);
    assert.deepEqual(list.map((x) => [x.direction, x.outcome]),
      [['incoming', 'missed'], ['incoming', 'missed'], ['incoming', 'unanswered'], ['incoming', 'unanswered'],
        ['incoming', 'unanswered'], ['incoming', 'unanswered'], ['incoming', 'unanswered']]);
    assert.deepEqual(list.map((x) => x.callType), ['audio', 'video', 'audio', 'video', 'video', 'video', 'video']);
    assert.ok(list.every((x) => x.duration === 0 && typeof x.startedAt === 'string'));
    const limited = JSON.parse((await ok(w, b.devices[0], ['calls', a.name, '--json', '--limit', '2'])).stdout);
    assert.deepEqual(limited.map((x) => x.id), list.slice(0, 2).map((x) => x.id));
    const text = (await ok(w, b.devices[0], ['calls', a.name])).stdout.trim().split('\n');
    assert.equal(text.length, 7, text.join('\n'));
    assert.match(text[0], new RegExp(`^\\[[-0-9 :]+\\] incoming audio call from ${a.name}  missed$`));
    const stranger = await user(w, 'c');
    assert.match((await ok(w, b.devices[0], ['calls', stranger.name])).stdout, /^no calls with /);
  });

  test('sotto calls pages through a history longer than a page (before, hasMore)', async () => {
    const more = [];
    for (let i = 0; i < 101; i += 1) { // each ended by Alice before any offer
      const init = await ws.request('call:initiate', { conversationId: conv, callType: 'audio' });
      assert.equal(init.event, 'ack', JSON.stringify(init));
      assert.equal((await ws.request('call:end', { callId: init.data.callId })).event, 'ack');
      more.push(init.data.callId);
    }
    const list = JSON.parse((await ok(w, b.devices[0], ['calls', a.name, '--json', '--limit', '1000'])).stdout);
    assert.equal(list.length, 7 + 101);
    assert.equal(new Set(list.map((x) => x.id)).size, list.length, 'no call twice');
    assert.deepEqual(list.slice(0, 101).map((x) => x.id), more.reverse());
    assert.equal(list[101].id, awayCall);
    const times = list.map((x) => Date.parse(x.startedAt));
    assert.ok(times.every((t, i) => i === 0 || t <= times[i - 1]), 'newest first');
    const some = JSON.parse((await ok(w, b.devices[0], ['calls', a.name, '--json', '--limit', '103'])).stdout);
    assert.deepEqual(some.map((x) => x.id), list.slice(0, 103).map((x) => x.id));
  });

  test('no plaintext marker (messages or SDP) on the server or in the profiles', () => assertNoPlaintext(w));
});
