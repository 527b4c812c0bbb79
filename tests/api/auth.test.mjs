// @stores sqlite,pg
// Registration, login (new device, existing device with a proof, MFA left to auth_mfa),
// device keys: happy paths and every error, on both stores.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeDevice } from './lib/crypto.mjs';
import { PASSWORD, login, registerUser, sql, startAuthServer, uniq } from './lib/api.mjs';

let srv;
before(async () => { srv = await startAuthServer(); });
after(async () => { await srv?.stop(); });

const reg = (body) => srv.api('POST', '/api/auth/register', { body });
function regBody(over = {}) {
  const username = uniq('r');
  return { email: `${username}@example.org`, username, password: PASSWORD,
    device: { name: 'laptop', platform: 'cli' }, keys: makeDevice().bundle(), ...over };
}
function expectInvalid(res, field, reason) {
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.error.code, 'validation_failed');
  assert.equal(res.body.error.details.field, field);
  if (reason) assert.equal(res.body.error.details.reason, reason);
}

describe('register', () => {
  test('201 with user, active device and tokens', async () => {
    const u = await registerUser(srv, { displayName: 'Ada L.' });
    const { user, device, tokens } = u.res.body;
    assert.equal(user.username, u.username);
    assert.equal(user.email, u.email);
    assert.equal(user.displayName, 'Ada L.');
    assert.equal(user.emailVerified, false);
    assert.equal(user.mfaEnabled, false);
    assert.equal(device.active, true);
    assert.equal(device.current, true);
    assert.equal(device.platform, 'cli');
    assert.equal(tokens.expiresIn, 900);
    assert.match(tokens.refreshToken, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(u.res.cookie, null, 'no cookie for non-web devices');
    const me = await srv.api('GET', '/api/users/me', { token: u.token });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, user.id);
  });

  test('web devices get the refresh token only as an HttpOnly cookie', async () => {
    const u = await registerUser(srv, { platform: 'web' });
    assert.equal(u.res.body.tokens.refreshToken, undefined);
    const c = u.res.cookie;
    assert.match(c, /^sotto_refresh=[A-Za-z0-9_-]{43}; /);
    for (const part of ['HttpOnly', 'SameSite=Strict', 'Path=/api/auth', 'Max-Age=604800']) assert.ok(c.includes(part), part);
    assert.ok(!c.includes('Secure'), 'no Secure without TLS');
  });

  test('409 conflict for a taken email or username, whatever the case', async () => {
    const u = await registerUser(srv);
    let r = await reg(regBody({ email: u.email.toUpperCase() }));
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'conflict');
    r = await reg(regBody({ username: u.username.toUpperCase() }));
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'conflict');
  });

  test('409 conflict for keys another device uses', async () => {
    const u = await registerUser(srv);
    const r = await reg(regBody({ keys: u.device.bundle() }));
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'conflict');
  });

  test('400 validation_failed with {field, reason} for each bad field', async () => {
    const b = regBody();
    expectInvalid(await reg({ ...b, email: undefined }), 'email', 'missing');
    expectInvalid(await reg({ ...b, email: 'not-an-email' }), 'email');
    expectInvalid(await reg({ ...b, email: 42 }), 'email', 'wrong_type');
    expectInvalid(await reg({ ...b, username: 'a b' }), 'username');
    expectInvalid(await reg({ ...b, username: 'ab' }), 'username', 'too_short');
    expectInvalid(await reg({ ...b, username: 'x'.repeat(33) }), 'username', 'too_long');
    expectInvalid(await reg({ ...b, password: 'short' }), 'password', 'too_short');
    expectInvalid(await reg({ ...b, password: 'p'.repeat(1025) }), 'password', 'too_long');
    const longName = `${'n'.repeat(12)}`;
    expectInvalid(await reg({ ...b, username: longName, password: longName }), 'password', 'equals_username');
    expectInvalid(await reg({ ...b, password: b.email }), 'password', 'equals_email');
    expectInvalid(await reg({ ...b, displayName: 'x'.repeat(101) }), 'displayName', 'too_long');
    expectInvalid(await reg({ ...b, device: { name: 'x', platform: 'amiga' } }), 'device.platform');
    expectInvalid(await reg({ ...b, device: { platform: 'cli' } }), 'device.name', 'missing');
    expectInvalid(await reg({ ...b, keys: undefined }), 'keys', 'missing');
    expectInvalid(await reg({ ...b, keys: { ...b.keys, identityKey: 'AAAA' } }), 'keys.identityKey');
  });

  test('400 invalid_signature for a bundle signed by another key', async () => {
    const d = makeDevice();
    const r = await reg(regBody({ keys: d.bundle({ signer: makeDevice().signing }) }));
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'invalid_signature');
  });

  test('400 invalid_json and 415 unsupported_media_type', async () => {
    let r = await srv.api('POST', '/api/auth/register', { raw: '{"email":', headers: { 'content-type': 'application/json' } });
    assert.equal(r.body.error.code, 'invalid_json');
    r = await srv.api('POST', '/api/auth/register', { raw: '[1,2]', headers: { 'content-type': 'application/json' } });
    assert.equal(r.body.error.code, 'invalid_json');
    r = await srv.api('POST', '/api/auth/register', { raw: 'email=x', headers: { 'content-type': 'text/plain' } });
    assert.equal(r.status, 415);
    assert.equal(r.body.error.code, 'unsupported_media_type');
  });

  test('nothing half-stored after a refused registration', async () => {
    const b = regBody({ keys: makeDevice().bundle({ signer: makeDevice().signing }) });
    await reg(b);
    assert.equal(sql(srv, `SELECT count(*) FROM users WHERE username = '${b.username}'`)[0][0], '0');
  });
});

describe('login', () => {
  let u;
  before(async () => { u = await registerUser(srv); });

  test('200 as a new device without keys: inactive until it uploads a bundle', async () => {
    const r = await login(srv, u);
    assert.equal(r.status, 200);
    assert.notEqual(r.body.device.id, u.deviceId);
    assert.equal(r.body.device.active, false);
    assert.equal(r.body.user.id, u.userId);
    const d = makeDevice();
    const put = await srv.api('PUT', '/api/keys/device', { token: r.body.tokens.accessToken, body: d.bundle() });
    assert.equal(put.status, 200);
    const list = await srv.api('GET', '/api/users/me/devices', { token: u.token });
    const mine = list.body.find((x) => x.id === r.body.device.id);
    assert.equal(mine.active, true);
    assert.equal(mine.current, false);
  });

  test('a new device may bring its keys at login', async () => {
    const r = await login(srv, u, { keys: makeDevice().bundle() });
    assert.equal(r.status, 200);
    assert.equal(r.body.device.active, true);
  });

  test('the email is matched whatever its case', async () => {
    const r = await login(srv, { ...u, email: u.email.toUpperCase() });
    assert.equal(r.status, 200);
  });

  test('unknown email and wrong password: the same 401 in about the same time', async () => {
    const time = async (email, password) => {
      const t0 = process.hrtime.bigint();
      const r = await login(srv, { email, password });
      return { r, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
    };
    const a = [], b = [];
    for (let i = 0; i < 6; i++) {
      a.push(await time(`nobody${i}@example.org`, PASSWORD));
      b.push(await time(u.email, `wrong password ${i}`));
    }
    for (const x of [...a, ...b]) {
      assert.equal(x.r.status, 401);
      assert.deepEqual(x.r.body.error.code, 'invalid_credentials');
    }
    assert.equal(a[0].r.body.error.message, b[0].r.body.error.message);
    const med = (xs) => xs.map((x) => x.ms).sort((p, q) => p - q)[3];
    const ratio = med(a) / med(b);
    assert.ok(ratio > 0.33 && ratio < 3, `timing ratio ${ratio}`);
  });

  test('400 validation_failed for missing fields', async () => {
    const r1 = await srv.api('POST', '/api/auth/login', { body: { password: 'x', device: { name: 'a', platform: 'cli' } } });
    expectInvalid(r1, 'email', 'missing');
    const r2 = await srv.api('POST', '/api/auth/login', { body: { email: u.email, device: { name: 'a', platform: 'cli' } } });
    expectInvalid(r2, 'password', 'missing');
    const r3 = await srv.api('POST', '/api/auth/login', { body: { email: u.email, password: PASSWORD } });
    expectInvalid(r3, 'device', 'missing');
    const r4 = await login(srv, u, { device: { name: 'a', platform: 'cli', id: 'nope', proof: 'AA==', proofTime: 1 } });
    expectInvalid(r4, 'device.id');
    const r5 = await login(srv, u, { device: { name: 'a', platform: 'cli', id: u.deviceId } });
    expectInvalid(r5, 'device.proof', 'missing');
  });
});

describe('device proof', () => {
  let u;
  before(async () => { u = await registerUser(srv); });
  const asDevice = (proof, id = u.deviceId, who = u, extra = {}) =>
    login(srv, who, { device: { name: 'laptop', platform: 'cli', id, ...proof }, ...extra });

  test('a valid proof signs in again as the same device', async () => {
    const r = await asDevice(u.device.proof(u.email));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.device.id, u.deviceId);
    assert.equal(r.body.device.active, true);
  });

  test('a stale proof (over 5 minutes) is refused', async () => {
    const r = await asDevice(u.device.proof(u.email, Math.floor(Date.now() / 1000) - 400));
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'invalid_credentials');
    const f = await asDevice(u.device.proof(u.email, Math.floor(Date.now() / 1000) + 400));
    assert.equal(f.status, 401);
  });

  test('a replayed proof is refused', async () => {
    const p = u.device.proof(u.email, Math.floor(Date.now() / 1000) - 5);
    assert.equal((await asDevice(p)).status, 200);
    const r = await asDevice(p);
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'invalid_credentials');
  });

  test('a proof by the wrong key is refused', async () => {
    const r = await asDevice(u.device.proof(u.email, undefined, makeDevice().signing));
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'invalid_signature');
  });

  test("another user's device id is refused", async () => {
    const v = await registerUser(srv);
    const r = await asDevice(v.device.proof(u.email), v.deviceId);
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'invalid_credentials');
  });

  test('the same keys again are fine; other identity keys are 409 identity_immutable', async () => {
    // Ed25519 is deterministic: one proof per second, so these use other seconds.
    const now = Math.floor(Date.now() / 1000);
    const same = await asDevice(u.device.proof(u.email, now - 20), u.deviceId, u, { keys: u.device.bundle({ spkId: 9, firstKeyId: 50 }) });
    assert.equal(same.status, 200, JSON.stringify(same.body));
    const other = await asDevice(u.device.proof(u.email, now - 21), u.deviceId, u, { keys: makeDevice().bundle() });
    assert.equal(other.status, 409);
    assert.equal(other.body.error.code, 'identity_immutable');
  });

  test('a revoked device cannot sign in again: 403', async () => {
    const v = await registerUser(srv);
    const second = await login(srv, v);
    const del = await srv.api('DELETE', `/api/users/devices/${v.deviceId}`, { token: second.body.tokens.accessToken });
    assert.equal(del.status, 200);
    const r = await asDevice(v.device.proof(v.email), v.deviceId, v);
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'forbidden');
    assert.deepEqual(r.body.error.details, { reason: 'device_revoked' });
  });
});

describe('PUT /api/keys/device', () => {
  test('identity keys never change; keys of another device conflict; bad signatures 400', async () => {
    const u = await registerUser(srv);
    const v = await registerUser(srv);
    const put = (token, body) => srv.api('PUT', '/api/keys/device', { token, body });
    let r = await put(u.token, u.device.bundle({ spkId: 2, otpk: 5, firstKeyId: 100 }));
    assert.equal(r.status, 200);
    r = await put(u.token, makeDevice().bundle());
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'identity_immutable');
    const fresh = await login(srv, u);
    r = await put(fresh.body.tokens.accessToken, v.device.bundle());
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'conflict');
    r = await put(fresh.body.tokens.accessToken, makeDevice().bundle({ signer: makeDevice().signing }));
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'invalid_signature');
    r = await put(fresh.body.tokens.accessToken, { identityKey: 'x' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'validation_failed');
    r = await put(undefined, u.device.bundle());
    assert.equal(r.status, 401);
  });
});
