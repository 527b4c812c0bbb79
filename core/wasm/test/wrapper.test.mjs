// wrapper.test.mjs: the TypeScript wrapper (compiled by tsc) against the real WebAssembly
// release build (libsotto.mjs), under node with a Web Worker's global names.
//   SOTTO_WASM_DIR: scripts/build-wasm.sh output; SOTTO_WRAPPER: the compiled sotto.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const wasmDir = process.env.SOTTO_WASM_DIR;
const wrapper = process.env.SOTTO_WRAPPER ?? new URL('../dist/sotto.js', import.meta.url).pathname;
// libsotto.mjs is built for a worker: it looks for `self` and `self.location`.
globalThis.self = globalThis;
globalThis.location = { href: pathToFileURL(wasmDir + '/').href };
const { default: createSotto } = await import(pathToFileURL(path.join(wasmDir, 'libsotto.mjs')).href);
const { loadSotto, SottoError, sameCall, E_UNTRUSTED, E_REPLAY } = await import(pathToFileURL(wrapper).href);
const wasmBinary = fs.readFileSync(path.join(wasmDir, 'libsotto.wasm'));

const ALICE = { userId: '0b9a3a0e-6a51-4c55-9d0f-0f9c1e0d0a01', deviceId: 'a1' };
const BOB = { userId: '7f3c2d1e-1111-4a4a-8b8b-222233334444', deviceId: 'b1' };
const CONV = '11111111-2222-4333-8444-555555555555';
const text = (s) => new TextEncoder().encode(s);
const payload = (id, body, extra = {}) => ({
  clientMessageId: id, conversationId: CONV, contentType: 'text', sentAt: 1764000000123, body: text(body), ...extra,
});
const claimedFrom = (bundle) => {
  const { oneTimePreKeys, ...rest } = bundle;
  return { ...rest, oneTimePreKey: oneTimePreKeys?.[0] ?? null };
};

test('refuses to start without crypto.getRandomValues', async () => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true });
  try {
    await assert.rejects(loadSotto(createSotto, wasmBinary), (e) => e instanceof SottoError && /getRandomValues/.test(e.message));
    Object.defineProperty(globalThis, 'crypto', { value: { getRandomValues: 'no' }, configurable: true });
    await assert.rejects(loadSotto(createSotto, wasmBinary), /getRandomValues/);
  } finally {
    Object.defineProperty(globalThis, 'crypto', saved);
  }
  assert.ok(await loadSotto(createSotto, wasmBinary)); // and starts again once it is back
});

test('two devices exchange messages through sealed state', async () => {
  const s = await loadSotto(createSotto, wasmBinary);
  const ka = s.newStorageKey(), kb = s.newStorageKey();
  let alice = s.createDevice(ka), bob = s.createDevice(kb);
  const pub = s.publicBundle(bob, kb, 2);
  bob = pub.account;
  assert.deepEqual(Object.keys(pub.bundle).sort(),
    ['identityKey', 'identitySignature', 'oneTimePreKeys', 'signedPreKey', 'signingKey']);
  assert.equal(pub.bundle.oneTimePreKeys.length, 2);
  assert.equal(Buffer.from(pub.bundle.identityKey, 'base64').length, 32);

  // alice -> bob: the first envelope starts the session (a pre-key message)
  let ab = null, ba = null;
  const first = s.encrypt(alice, ka, BOB, ab, payload('00000000-0000-4000-8000-000000000001', 'hello bob', { replyTo: CONV }),
    claimedFrom(pub.bundle));
  ab = first.record;
  assert.equal(first.envelope.type, 'prekey');
  const got = s.decrypt(bob, kb, ALICE, ba, first.envelope.ciphertext);
  bob = got.account;
  ba = got.record;
  assert.equal(new TextDecoder().decode(got.payload.body), 'hello bob');
  assert.equal(got.payload.clientMessageId, '00000000-0000-4000-8000-000000000001');
  assert.equal(got.payload.replyTo, CONV);
  assert.equal(got.payload.sentAt, 1764000000123);

  // the same envelope again is a replay: refused, and bob's saved state is unchanged
  assert.throws(() => s.decrypt(bob, kb, ALICE, ba, first.envelope.ciphertext), SottoError);

  // bob -> alice, then alice -> bob as an ordinary message
  const reply = s.encrypt(bob, kb, ALICE, ba, payload('00000000-0000-4000-8000-000000000002', 'hi alice'));
  ba = reply.record;
  assert.equal(reply.envelope.type, 'message');
  const r2 = s.decrypt(alice, ka, BOB, ab, reply.envelope.ciphertext);
  alice = r2.account;
  ab = r2.record;
  assert.equal(new TextDecoder().decode(r2.payload.body), 'hi alice');
  const third = s.encrypt(alice, ka, BOB, ab, payload('00000000-0000-4000-8000-000000000003', 'edit', { contentType: 'edit', editOf: CONV }));
  assert.equal(third.envelope.type, 'message');
  const flipped = third.envelope.ciphertext.slice();
  flipped[flipped.length - 1] ^= 1;
  assert.throws(() => s.decrypt(bob, kb, ALICE, ba, flipped), (e) => e.code === -2);
  const r3 = s.decrypt(bob, kb, ALICE, ba, third.envelope.ciphertext);
  assert.equal(r3.payload.contentType, 'edit');
  assert.equal(r3.payload.editOf, CONV);

  // a record sealed for one peer cannot be opened as another's
  assert.throws(() => s.decrypt(bob, kb, { ...ALICE, deviceId: 'a2' }, ba, third.envelope.ciphertext), SottoError);
});

test('encrypting without a session needs the claimed bundle, and checks its signatures', async () => {
  const s = await loadSotto(createSotto, wasmBinary);
  const ka = s.newStorageKey(), kb = s.newStorageKey();
  const alice = s.createDevice(ka);
  const { bundle } = s.publicBundle(s.createDevice(kb), kb, 0);
  const p = payload('00000000-0000-4000-8000-000000000009', 'x');
  assert.throws(() => s.encrypt(alice, ka, BOB, null, p), (e) => e.code === -9);
  const bad = claimedFrom(bundle);
  const sig = Buffer.from(bad.signedPreKey.signature, 'base64');
  sig[0] ^= 1;
  bad.signedPreKey = { ...bad.signedPreKey, signature: sig.toString('base64') };
  assert.throws(() => s.encrypt(alice, ka, BOB, null, p, bad), (e) => e.code === -2);
  assert.equal(s.encrypt(alice, ka, BOB, null, p, claimedFrom(bundle)).envelope.type, 'prekey');
});

test('safety numbers agree on both sides', async () => {
  const s = await loadSotto(createSotto, wasmBinary);
  const ka = new Uint8Array(32).fill(1), kb = new Uint8Array(32).fill(2);
  const n1 = s.safetyNumber(ALICE.userId, [ka], BOB.userId, [kb]);
  const n2 = s.safetyNumber(BOB.userId, [kb], ALICE.userId, [ka]);
  assert.match(n1, /^[0-9]{60}$/);
  assert.equal(n1, n2);
  assert.notEqual(n1, s.safetyNumber(ALICE.userId, [ka], BOB.userId, [new Uint8Array(32).fill(3)]));
});

test('attachments stream through and any change is refused', async () => {
  const s = await loadSotto(createSotto, wasmBinary);
  const file = new Uint8Array(150000).map((_, i) => i * 7);
  const enc = s.attachmentEncryptor();
  const parts = [enc.header];
  let off = 0;
  for (; off + 65536 <= file.length; off += 65536) parts.push(enc.chunk(file.subarray(off, off + 65536), false));
  parts.push(enc.chunk(file.subarray(off), true));
  const { key, digest } = enc.finish();
  const ct = Buffer.concat(parts);
  const open = (bytes) => {
    const dec = s.attachmentDecryptor(key, digest, file.length);
    const out = [];
    for (let i = 0; i < bytes.length; i += 40000) out.push(dec.update(bytes.subarray(i, i + 40000)));
    dec.finish();
    return Buffer.concat(out);
  };
  assert.ok(open(ct).equals(Buffer.from(file)));
  const bad = Buffer.from(ct);
  bad[100000] ^= 0x20;
  assert.throws(() => open(bad), SottoError);
  assert.throws(() => open(ct.subarray(0, ct.length - 1)), SottoError);
});

const ed25519 = (b64) => crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(b64, 'base64').toString('base64url') }, format: 'jwk' });

test('the login proof signs exactly the contract bytes, under the device signing key', async () => {
  const s = await loadSotto(createSotto, wasmBinary);
  const k = s.newStorageKey();
  const acct = s.createDevice(k);
  const { bundle } = s.publicBundle(acct, k, 0);
  const email = 'alice@example.test', t = 1764000000;
  const sig = s.loginProof(acct, k, email, t);
  assert.equal(sig.length, 64);
  const secs = Buffer.alloc(8);
  secs.writeBigUInt64BE(BigInt(t));
  const msg = Buffer.concat([Buffer.from('Sotto-v1-login'), Buffer.from(email), secs]);
  const pub = ed25519(bundle.signingKey);
  assert.equal(crypto.verify(null, msg, pub, sig), true);
  secs.writeBigUInt64BE(BigInt(t + 1));
  assert.equal(crypto.verify(null, Buffer.concat([Buffer.from('Sotto-v1-login'), Buffer.from(email), secs]), pub, sig), false);
  // No other bytes can be signed through it, and a wrong storage key opens nothing.
  assert.throws(() => s.loginProof(acct, k, 'a\0b', t), SottoError);
  assert.throws(() => s.loginProof(acct, k, email, -1), SottoError);
  assert.throws(() => s.loginProof(acct, s.newStorageKey(), email, t), SottoError);
  // The result is a signature only: no key material comes back in any field.
  assert.ok(sig instanceof Uint8Array && !('account' in sig));
});

test('the signed pre-key rotates weekly; sessions started on the old one still open', async () => {
  const s = await loadSotto(createSotto, wasmBinary);
  const day = 86400 * 1000, t0 = new Date('2026-01-01T00:00:00Z');
  const ka = s.newStorageKey(), kb = s.newStorageKey();
  const alice = s.createDevice(ka, t0);
  let bob = s.createDevice(kb, t0);
  const before = s.publicBundle(bob, kb, 1);
  bob = before.account;
  assert.equal(s.rotateSignedPreKey(bob, kb, new Date(t0.getTime() + 6 * day)), null);
  // Alice starts a session on the old signed pre-key before Bob rotates.
  const first = s.encrypt(alice, ka, BOB, null, payload('00000000-0000-4000-8000-00000000000a', 'before rotation'), claimedFrom(before.bundle));
  const rot = s.rotateSignedPreKey(bob, kb, new Date(t0.getTime() + 8 * day));
  assert.ok(rot);
  assert.notEqual(rot.signedPreKey.keyId, before.bundle.signedPreKey.keyId);
  assert.notEqual(rot.signedPreKey.publicKey, before.bundle.signedPreKey.publicKey);
  assert.deepEqual(s.publicBundle(rot.account, kb, 0).bundle.signedPreKey, rot.signedPreKey);
  assert.equal(s.rotateSignedPreKey(rot.account, kb, new Date(t0.getTime() + 9 * day)), null); // fresh again
  bob = rot.account;
  const got = s.decrypt(bob, kb, ALICE, null, first.envelope.ciphertext, new Date(t0.getTime() + 8 * day));
  assert.equal(new TextDecoder().decode(got.payload.body), 'before rotation');
  // A session on the new key works too.
  const again = s.encrypt(s.createDevice(ka, t0), ka, BOB, null, payload('00000000-0000-4000-8000-00000000000b', 'after'),
    { ...claimedFrom(before.bundle), signedPreKey: rot.signedPreKey, oneTimePreKey: null });
  assert.equal(new TextDecoder().decode(s.decrypt(got.account, kb, { ...ALICE, deviceId: 'a9' }, null, again.envelope.ciphertext, new Date(t0.getTime() + 8 * day)).payload.body), 'after');
});

test('the safety-number QR payload agrees on both sides and tells key sets apart', async () => {
  const s = await loadSotto(createSotto, wasmBinary);
  const ka = new Uint8Array(32).fill(1), kb = new Uint8Array(32).fill(2);
  const ours = s.safetyQr(ALICE.userId, [ka], BOB.userId, [kb]);
  assert.equal(ours.length, 97);
  const theirs = s.safetyQr(BOB.userId, [kb], ALICE.userId, [ka]);
  assert.deepEqual(theirs, ours); // ordered inside, so both sides show and expect the same bytes
  assert.equal(s.safetyQrMatches(ours, theirs), true);
  const other = s.safetyQr(ALICE.userId, [ka], BOB.userId, [new Uint8Array(32).fill(3)]);
  assert.equal(s.safetyQrMatches(ours, other), false);
  assert.equal(s.safetyQrMatches(ours, ours.subarray(0, 96)), false);
  assert.throws(() => s.safetyQr(ALICE.userId, [new Uint8Array(31)], BOB.userId, [kb]), SottoError);
});

test('the passphrase key is Argon2id: the reference implementation\'s vector, and the bounds', async () => {
  const s = await loadSotto(createSotto, wasmBinary);
  // libargon2's argon2id_hash_raw(2, 65536, 1, ...), as in core/tests/test_kat.c.
  const salt = Uint8Array.from({ length: 16 }, (_, i) => i);
  const key = s.passphraseKey('correct horse battery staple', salt);
  assert.equal(Buffer.from(key).toString('hex'), 'c05ce4c4dd7e0e45ee6011cc59d068ade47df1b01fc0cf9cd4678bdf68a5b7b0');
  const vi = s.passphraseKey('câu mật khẩu', new Uint8Array(16).fill(0x5a), 1, 8192);
  assert.equal(Buffer.from(vi).toString('hex'), '59071de426d04e144c70fbabc021202fe51e45fd4053be5ada5736fc7075bf34');
  // The wrapper's defaults are libsotto's.
  assert.equal(s.m._sotto_passphrase_opslimit(), 2);
  assert.equal(s.m._sotto_passphrase_memlimit_kib(), 65536);
  assert.equal(s.m._sotto_passphrase_saltbytes(), 16);
  // A tampered cost or salt is refused, not run.
  assert.throws(() => s.passphraseKey('x', salt, 2, 1048577), (e) => e instanceof SottoError && e.code === -1);
  assert.throws(() => s.passphraseKey('x', salt, 0, 65536), SottoError);
  assert.throws(() => s.passphraseKey('x', new Uint8Array(15)), SottoError);
});

test('the listed-key check: a claimed bundle or a pinned session under another key is refused; maintain and hasSession', async () => {
  const s = await loadSotto(createSotto, wasmBinary);
  const ka = s.newStorageKey(), kb = s.newStorageKey(), km = s.newStorageKey();
  const alice = s.createDevice(ka);
  const bob = s.publicBundle(s.createDevice(kb), kb, 1);
  const mallory = s.publicBundle(s.createDevice(km), km, 1);
  const bobKey = Buffer.from(bob.bundle.signingKey, 'base64');
  const now = new Date();
  const p = payload('00000000-0000-4000-8000-00000000000a', 'x');
  // Mallory's (valid) bundle served for Bob's device: refused, nothing to store.
  assert.throws(() => s.encrypt(alice, ka, BOB, null, p, claimedFrom(mallory.bundle), { expectedSigningKey: bobKey, now }),
    (e) => e.code === -12);
  const ok = s.encrypt(alice, ka, BOB, null, p, claimedFrom(bob.bundle), { expectedSigningKey: bobKey, now });
  assert.equal(ok.envelope.type, 'prekey');
  assert.equal(s.hasSession(ok.record, BOB, ka, now), true);
  assert.equal(s.hasSession(null, BOB, ka, now), false);
  // Unanswered for more than 7 days: no session any more (claim again).
  assert.equal(s.hasSession(ok.record, BOB, ka, new Date(now.getTime() + 8 * 86400e3)), false);
  // The session pinned to Bob's key is not used when another key is listed.
  const malKey = Buffer.from(mallory.bundle.signingKey, 'base64');
  assert.throws(() => s.encrypt(alice, ka, BOB, ok.record, p, undefined, { expectedSigningKey: malKey, now }), (e) => e.code === -12);
  assert.equal(s.encrypt(alice, ka, BOB, ok.record, p, undefined, { expectedSigningKey: bobKey, now }).envelope.type, 'prekey');
  // Bob decrypts only under Alice's listed key.
  const aliceKey = Buffer.from(s.publicBundle(alice, ka, 0).bundle.signingKey, 'base64');
  assert.throws(() => s.decrypt(bob.account, kb, ALICE, null, ok.envelope.ciphertext, now, malKey), (e) => e.code === -12);
  assert.equal(new TextDecoder().decode(s.decrypt(bob.account, kb, ALICE, null, ok.envelope.ciphertext, now, aliceKey).payload.body), 'x');
  // maintain: nothing due now; a week later the signed pre-key rotates.
  const m0 = s.maintain(alice, ka, now);
  assert.equal(m0.signedPreKey, null);
  const m1 = s.maintain(m0.account, ka, new Date(now.getTime() + 8 * 86400e3));
  assert.ok(m1.signedPreKey && m1.signedPreKey.keyId !== s.publicBundle(alice, ka, 0).bundle.signedPreKey.keyId);
});

test('every content type decodes: delete, retry, resend by name with their target, a future type by number', async () => {
  const s = await loadSotto(createSotto, wasmBinary);
  const ka = s.newStorageKey(), kb = s.newStorageKey();
  let alice = s.createDevice(ka), bob = s.createDevice(kb);
  const pub = s.publicBundle(bob, kb, 1);
  bob = pub.account;
  const TARGET = '01890000-0000-7000-8000-0000000000aa';
  let ab = null, ba = null, n = 0;
  const roundTrip = (p) => {
    const e = s.encrypt(alice, ka, BOB, ab, p, ab ? undefined : claimedFrom(pub.bundle));
    ab = e.record;
    const r = s.decrypt(bob, kb, ALICE, ba, e.envelope.ciphertext);
    bob = r.account;
    ba = r.record;
    return r.payload;
  };
  const id = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const del = roundTrip(payload(id(), '', { contentType: 'delete', editOf: TARGET }));
  assert.equal(del.contentType, 'delete');
  assert.equal(del.type, 3);
  assert.equal(del.editOf, TARGET);
  assert.equal(del.body.length, 0);
  const retry = roundTrip(payload(id(), '', { contentType: 'retry', editOf: TARGET }));
  assert.deepEqual([retry.contentType, retry.type, retry.editOf], ['retry', 5, TARGET]);
  const resend = roundTrip(payload(id(), 'again', { contentType: 'resend', editOf: TARGET }));
  assert.deepEqual([resend.contentType, resend.type, resend.editOf], ['resend', 6, TARGET]);
  assert.equal(new TextDecoder().decode(resend.body), 'again');
  const call = {
    callId: '01890000-0000-7000-8000-0000000000c1',
    callerDeviceId: '01890000-0000-7000-8000-0000000000d1',
    calleeDeviceId: '01890000-0000-7000-8000-0000000000d2',
    callType: 'video',
    signal: 'restart-offer',
  };
  const signal = roundTrip(payload(id(), 'v=0', { contentType: 'call', call }));
  assert.deepEqual([signal.contentType, signal.type, signal.call], ['call', 7, call]);
  assert.ok(sameCall(signal.call, { ...call, signal: 'candidate', callId: call.callId.toUpperCase() }));
  for (const k of ['callId', 'callerDeviceId', 'calleeDeviceId'])
    assert.ok(!sameCall(signal.call, { ...call, [k]: '01890000-0000-7000-8000-0000000000ff' }), k);
  assert.ok(!sameCall(signal.call, { ...call, callType: 'audio' }));
  assert.equal(roundTrip(payload(id(), 'hi')).call, undefined);
  for (const type of [8, 42, 255]) {
    const future = roundTrip(payload(id(), 'later', { type, editOf: TARGET }));
    assert.deepEqual([future.contentType, future.type, future.editOf], ['unknown', type, TARGET]);
  }
  const plain = roundTrip(payload(id(), 'hi'));
  assert.deepEqual([plain.contentType, plain.type, plain.editOf], ['text', 1, undefined]);
  // the core's shape rules: a delete, retry or resend names its target; a delete or retry has no body
  for (const bad of [
    { contentType: 'delete' },
    { contentType: 'retry' },
    { contentType: 'resend' },
    { contentType: 'edit' },
    { contentType: 'delete', editOf: TARGET, body: text('x') },
    { contentType: 'retry', editOf: TARGET, body: text('x') },
    { contentType: 'unknown' },
    { contentType: 'call' },
    { contentType: 'text', call },
    { contentType: 'call', call: { ...call, signal: 'hangup' } },
    { contentType: 'call', call: { ...call, callType: 'screen' } },
    { contentType: 'call', call: { ...call, callId: 'not-a-uuid' } },
    { type: 0 },
    { type: 256 },
  ]) {
    assert.throws(() => s.encrypt(alice, ka, BOB, ab, payload(id(), '', bad)), SottoError, JSON.stringify(bad));
  }
});

test('the account key signs the device list; opening checks the pin; updates only grow (issue 23)', async () => {
  const s = await loadSotto(createSotto, wasmBinary);
  const { seed, publicKey } = s.createAccountKey();
  assert.equal(seed.length, 32);
  const other = s.createAccountKey();
  const USER = '01890000-0000-7000-8000-0000000000e1';
  const dev = (n) => ({ deviceId: `01890000-0000-7000-8000-0000000000${n}`, signingKey: new Uint8Array(32).fill(n) });
  const list = (version, devices, accountKey = publicKey) => ({ userId: USER, accountKey, version, issuedAt: 1764000000000, devices });
  const v1 = s.signDeviceList(list(1, [dev(22), dev(11)]), seed);
  const opened = s.openDeviceList(v1, publicKey);
  assert.deepEqual(opened.devices.map((d) => d.deviceId), [dev(11).deviceId, dev(22).deviceId], 'sorted by id');
  assert.deepEqual([opened.userId, opened.version, opened.issuedAt], [USER, 1, 1764000000000]);
  assert.deepEqual(opened.accountKey, publicKey);
  assert.throws(() => s.openDeviceList(v1, other.publicKey), (e) => e.code === E_UNTRUSTED);
  const bad = Uint8Array.from(v1);
  bad[70] ^= 1;
  assert.throws(() => s.openDeviceList(bad), SottoError);
  const v2 = s.signDeviceList(list(2, [dev(11)]), seed);
  s.checkDeviceListUpdate(v1, v2);
  s.checkDeviceListUpdate(v2, v2);
  assert.throws(() => s.checkDeviceListUpdate(v2, v1), (e) => e.code === E_REPLAY);
  assert.throws(() => s.checkDeviceListUpdate(v2, s.signDeviceList(list(2, [dev(22)]), seed)), (e) => e.code === E_REPLAY);
  assert.throws(() => s.checkDeviceListUpdate(v2, s.signDeviceList(list(3, [dev(11)], other.publicKey), other.seed)),
    (e) => e.code === E_UNTRUSTED);
  assert.throws(() => s.signDeviceList(list(1, [dev(11)]), other.seed), SottoError, 'a key the list does not name');
  assert.throws(() => s.signDeviceList(list(1, []), seed), SottoError);
  const n1 = s.safetyNumberAccounts(USER, publicKey, '01890000-0000-7000-8000-0000000000e2', other.publicKey);
  const n2 = s.safetyNumberAccounts('01890000-0000-7000-8000-0000000000e2', other.publicKey, USER, publicKey);
  assert.equal(n1, n2);
  assert.match(n1, /^\d{60}$/);
});

test('files ride in the payload (tag 17): every field round-trips, hostile ones are refused, sizes are padded', async () => {
  const s = await loadSotto(createSotto, wasmBinary);
  const ka = s.newStorageKey(), kb = s.newStorageKey();
  let bob = s.createDevice(kb);
  const alice = s.createDevice(ka);
  const pub = s.publicBundle(bob, kb, 1);
  bob = pub.account;
  const file = (i, extra = {}) => ({
    id: `00000000-0000-4000-8000-00000000010${i}`, key: new Uint8Array(32).fill(i + 1),
    digest: new Uint8Array(32).fill(i + 9), size: 123456 + i, name: 'ảnh chụp.jpg', type: 'image/jpeg',
    width: 640, height: 480, durationMs: 0, thumbnail: Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2]), ...extra,
  });
  const files = [file(0), file(1, { name: 'notes.txt', type: 'text/plain', width: 0, height: 0, thumbnail: undefined })];
  const sent = s.encrypt(alice, ka, BOB, null, payload('00000000-0000-4000-8000-000000000011', '', { attachments: files }),
    claimedFrom(pub.bundle));
  const got = s.decrypt(bob, kb, ALICE, null, sent.envelope.ciphertext);
  assert.equal(got.payload.body.length, 0);
  assert.equal(got.payload.attachments.length, 2);
  assert.deepEqual(got.payload.attachments[0], files[0]);
  const { thumbnail, ...second } = files[1];
  assert.equal(thumbnail, undefined);
  assert.deepEqual(got.payload.attachments[1], second);

  const refused = (f, extra = {}) => assert.throws(
    () => s.encrypt(alice, ka, BOB, null, payload('00000000-0000-4000-8000-000000000012', '', { attachments: [f], ...extra }),
      claimedFrom(pub.bundle)), SottoError);
  refused(file(0, { name: '../../.bashrc' }));
  refused(file(0, { name: 'a\u0000b' }));
  refused(file(0, { type: 'Image/JPEG' }));
  refused(file(0, { thumbnail: new TextEncoder().encode('<svg onload=alert(1)>') }));
  refused(file(0, { size: 104857601 }));
  refused(file(0), { contentType: 'edit', editOf: CONV }); // files ride on text, sync and resend only
  assert.throws(() => s.encrypt(alice, ka, BOB, null, payload('00000000-0000-4000-8000-000000000013', '',
    { attachments: Array.from({ length: 11 }, (_, i) => file(i % 10)) }), claimedFrom(pub.bundle)), SottoError);

  assert.equal(s.attachmentPaddedSize(0), 541);
  assert.equal(s.attachmentPaddedSize(542), 568);
  assert.equal(s.attachmentPaddedSize(550), s.attachmentPaddedSize(560));
  const big = s.attachmentPaddedSize(104857600);
  assert.ok(big >= 104857600 && big <= 105840640, String(big));
  assert.equal(s.attachmentPaddedSize(104857601), 0);
});
