// @stores sqlite,pg
// The key directory: non-claiming listing, atomic one-time pre-key claims (50 concurrent
// claimers never share a key), the per-(caller, target) claim limit, uploads with their caps,
// counts, and signed pre-key replacement with its signature checked.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { registerUser, startAuthServer } from './lib/api.mjs';
import { x25519 } from './lib/crypto.mjs';
import { userWithDevices } from './lib/rt.mjs';

let srv;
before(async () => { srv = await startAuthServer(); });
after(async () => { await srv.stop(); });

const b64 = (b) => Buffer.from(b).toString('base64');
const keys = (first, n) => Array.from({ length: n }, (_, i) => ({ keyId: first + i, publicKey: b64(x25519()) }));

test('listing shows every active device and claims nothing', async () => {
  const u = await userWithDevices(srv, 2);
  const caller = await registerUser(srv);
  const r = await srv.api('GET', `/api/keys/users/${u.userId}`, { token: caller.token });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.devices.map((d) => d.deviceId).sort(), u.devices.map((d) => d.id).sort());
  const d0 = r.body.devices.find((d) => d.deviceId === u.deviceId);
  assert.equal(d0.signingKey, b64(u.device.signing.pub));
  assert.equal(d0.oneTimePreKey, undefined);
  const count = await srv.api('GET', '/api/keys/one-time-keys/count', { token: u.token });
  assert.deepEqual(count.body, { count: 3 });
  assert.equal((await srv.api('GET', `/api/keys/users/${crypto.randomUUID()}`, { token: caller.token })).status, 404);
  assert.equal((await srv.api('GET', '/api/keys/users/nope', { token: caller.token })).status, 404);
});

test('50 concurrent claims get 50 different keys; then null', async () => {
  const target = await registerUser(srv);
  const up = await srv.api('POST', '/api/keys/one-time-keys', { token: target.token, body: { keys: keys(4, 47) } });
  assert.deepEqual(up.body, { count: 50 });
  const callers = await Promise.all(Array.from({ length: 10 }, () => registerUser(srv)));
  const claims = await Promise.all(callers.flatMap((c) => Array.from({ length: 5 }, () =>
    srv.api('POST', '/api/keys/claim', { token: c.token, body: { userId: target.userId } }))));
  const got = claims.map((r) => { assert.equal(r.status, 200, JSON.stringify(r.body)); return r.body.devices[0].oneTimePreKey.keyId; });
  assert.equal(new Set(got).size, 50);
  const none = await srv.api('POST', '/api/keys/claim', { token: callers[0].token, body: { userId: target.userId, deviceIds: [target.deviceId] } });
  assert.equal(none.body.devices[0].oneTimePreKey, null);
  assert.deepEqual((await srv.api('GET', '/api/keys/one-time-keys/count', { token: target.token })).body, { count: 0 });
});

test('claims are rate-limited per (caller, target)', async () => {
  const target = await registerUser(srv);
  const other = await registerUser(srv);
  const caller = await registerUser(srv);
  let limited;
  for (let i = 0; i < 31; i += 1) {
    limited = await srv.api('POST', '/api/keys/claim', { token: caller.token, body: { userId: target.userId } });
  }
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, 'rate_limited');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.equal((await srv.api('POST', '/api/keys/claim', { token: caller.token, body: { userId: other.userId } })).status, 200);
  assert.equal((await srv.api('POST', '/api/keys/claim', { token: caller.token, body: {} })).status, 400);
});

test('uploads: at most 100 per upload, 200 stored, a reused keyId with another key is 409', async () => {
  const u = await registerUser(srv);
  assert.equal((await srv.api('POST', '/api/keys/one-time-keys', { token: u.token, body: { keys: keys(100, 101) } })).status, 400);
  assert.deepEqual((await srv.api('POST', '/api/keys/one-time-keys', { token: u.token, body: { keys: keys(100, 100) } })).body, { count: 103 });
  const again = keys(100, 1);
  assert.equal((await srv.api('POST', '/api/keys/one-time-keys', { token: u.token, body: { keys: again } })).status, 409);
  const full = await srv.api('POST', '/api/keys/one-time-keys', { token: u.token, body: { keys: keys(300, 98) } });
  assert.equal(full.status, 400);
  assert.equal(full.body.error.details.reason, 'too_many');
  assert.deepEqual((await srv.api('POST', '/api/keys/one-time-keys', { token: u.token, body: { keys: keys(300, 97) } })).body, { count: 200 });
});

test('signed pre-key replacement: signature checked against the device\'s keys', async () => {
  const u = await registerUser(srv);
  const pk = x25519();
  const id = Buffer.alloc(4);
  id.writeUInt32BE(9);
  const msg = Buffer.concat([Buffer.from('Sotto-v1-spk'), u.device.identity, id, pk]);
  const good = { keyId: 9, publicKey: b64(pk), signature: b64(u.device.signing.sign(msg)) };
  const forged = { ...good, signature: b64(crypto.randomBytes(64)) };
  const bad = await srv.api('PUT', '/api/keys/signed-pre-key', { token: u.token, body: forged });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_signature');
  assert.equal((await srv.api('PUT', '/api/keys/signed-pre-key', { token: u.token, body: { keyId: 9 } })).status, 400);
  const ok = await srv.api('PUT', '/api/keys/signed-pre-key', { token: u.token, body: good });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const dir = await srv.api('GET', `/api/keys/users/${u.userId}`, { token: u.token });
  assert.deepEqual(dir.body.devices[0].signedPreKey, good);
});
