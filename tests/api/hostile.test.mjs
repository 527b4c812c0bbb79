// @stores sqlite,pg
// Oversized, malformed and hostile input on the auth and users routes: SQL meta-characters,
// NUL bytes, invalid UTF-8, 1 MB strings, deep nesting. Each gets a 4xx, the server stays
// healthy, nothing is stored wrongly. Then the audit log is checked for secrets.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeDevice } from './lib/crypto.mjs';
import { PASSWORD, login, registerUser, sql, startAuthServer, uniq } from './lib/api.mjs';

let srv;
before(async () => { srv = await startAuthServer(); });
after(async () => { await srv?.stop(); });

const healthy = async () => assert.equal((await fetch(srv.url('/healthz'))).status, 200);
const rawPost = (p, raw) => srv.api('POST', p, { raw, headers: { 'content-type': 'application/json' } });
const userCount = () => Number(sql(srv, 'SELECT count(*) FROM users')[0][0]);

test('SQL meta-characters are data, never code', async () => {
  const u = await registerUser(srv);
  const evil = "Robert'); DROP TABLE users;-- \" OR 1=1 /* % _ \\";
  const r = await srv.api('PATCH', '/api/users/me', { token: u.token, body: { displayName: evil, bio: evil } });
  assert.equal(r.status, 200);
  assert.equal(r.body.displayName, evil);
  assert.equal((await srv.api('GET', '/api/users/me', { token: u.token })).body.bio, evil);
  assert.equal((await login(srv, { email: "' OR '1'='1", password: "' OR '1'='1" })).status, 401);
  const name = uniq('q');
  const reg = await srv.api('POST', '/api/auth/register', { body: { email: `o'hara+${name}@example.org`, username: name,
    password: PASSWORD, device: { name: "x'; --", platform: 'cli' }, keys: makeDevice().bundle() } });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  assert.equal((await login(srv, { email: `o'hara+${name}@example.org`, password: PASSWORD })).status, 200);
  const s = await srv.api('GET', `/api/users/search?q=${encodeURIComponent("' OR 1=1 --")}`, { token: u.token });
  assert.equal(s.status, 200);
  assert.equal(s.body.total, 0);
  await healthy();
});

test('NUL bytes, invalid UTF-8 and bad JSON: 400, nothing stored', async () => {
  const n = userCount();
  const name = uniq('n');
  const body = (over) => JSON.stringify({ email: `${name}@example.org`, username: name, password: PASSWORD,
    device: { name: 'd', platform: 'cli' }, keys: makeDevice().bundle(), ...over });
  for (const raw of [
    body({ displayName: 'a\u0000b' }),
    body({ password: 'abcdefghij\u0000klm' }),
    body({ email: `${name}\u0000@example.org` }),
    Buffer.concat([Buffer.from(body({}).slice(0, -1) + ',"displayName":"'), Buffer.from([0xff, 0xfe, 0xc0, 0x80]), Buffer.from('"}')]),
    '{"email": "a@b.c", "email": "x@y.z"}',
    '[]', '"string"', '{', '',
    '['.repeat(5000) + ']'.repeat(5000),
  ]) {
    const r = await rawPost('/api/auth/register', raw);
    assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
  }
  assert.equal(userCount(), n);
  const u = await registerUser(srv);
  let r = await srv.api('PATCH', '/api/users/me', { token: u.token, raw: '{"bio":"x\\u0000y"}', headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 400);
  r = await srv.api('PATCH', '/api/users/me', { token: u.token, body: { bio: 'ok\u0007bell' } });
  assert.equal(r.status, 400, 'control characters refused');
  // C1 controls and the bidi overrides and isolates that would reorder text shown beside a
  // name; right-to-left names themselves are fine.
  for (const bad of ['Bob\u202Egpj.exe', 'a\u2066b\u2069', 'csi\u009b31m', 'x\u202Ay']) {
    r = await srv.api('PATCH', '/api/users/me', { token: u.token, body: { displayName: bad } });
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.equal(r.body.error.details.reason, 'invalid_characters');
  }
  r = await srv.api('PATCH', '/api/users/me', { token: u.token, body: { displayName: 'שלום עולם \u200F ok' } });
  assert.equal(r.status, 200, 'a right-to-left name with a mark is fine');
  assert.equal((await srv.api('GET', '/api/users/me', { token: u.token })).body.bio, null);
  r = await rawPost('/api/auth/login', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]));
  assert.equal(r.body.error.code, 'invalid_json');
  await healthy();
});

test('1 MB strings: 413 everywhere, server healthy', async () => {
  const big = 'A'.repeat(1024 * 1024);
  const u = await registerUser(srv);
  const n = userCount();
  for (const [m, p, body, token] of [
    ['POST', '/api/auth/register', { email: big, username: big, password: big }],
    ['POST', '/api/auth/login', { email: 'a@b.c', password: big, device: { name: 'x', platform: 'cli' } }],
    ['POST', '/api/auth/refresh', { refreshToken: big }],
    ['POST', '/api/auth/forgot-password', { email: big }],
    ['POST', '/api/auth/verify-email', { token: big }],
    ['POST', '/api/auth/reset-password', { token: 'x', newPassword: big }],
    ['PATCH', '/api/users/me', { bio: big }, u.token],
    ['PUT', '/api/keys/device', { identityKey: big }, u.token],
    ['POST', '/api/auth/mfa/enable', { password: big }, u.token],
  ]) {
    const r = await srv.api(m, p, { body, token }).catch((e) => ({ status: 'dropped', e }));
    assert.equal(r.status, 413, `${m} ${p}`);
  }
  // Under the body limit, still too long for the field: 400.
  const r = await srv.api('POST', '/api/auth/login', { body: { email: 'a@b.c', password: 'p'.repeat(5000), device: { name: 'x', platform: 'cli' } } });
  assert.equal(r.status, 400);
  assert.equal(userCount(), n);
  await healthy();
});

test('the audit log holds no password, token or code', async () => {
  const u = await registerUser(srv);
  await login(srv, { ...u, password: 'wrong-password-123' });
  const l = await login(srv, u);
  const en = await srv.api('POST', '/api/auth/mfa/enable', { token: u.token, body: { password: u.password } });
  // A reused refresh token (audited as refresh_reuse) also ends the device's access tokens.
  await srv.api('POST', '/api/auth/refresh', { body: { refreshToken: u.refresh } });
  await srv.api('POST', '/api/auth/refresh', { body: { refreshToken: u.refresh } });
  const dump = sql(srv, 'SELECT * FROM audit_log').map((r) => r.join('|')).join('\n');
  assert.ok(dump.includes('login'), 'logins are audited');
  for (const secret of [u.password, 'wrong-password-123', u.refresh, u.token, l.body.tokens.accessToken,
    l.body.tokens.refreshToken, en.body.secret, ...en.body.backupCodes, PASSWORD]) {
    assert.ok(!dump.includes(secret), `audit log contains a secret: ${secret.slice(0, 8)}...`);
  }
  assert.ok(!srv.log.includes(u.password) && !srv.log.includes(u.refresh) && !srv.log.includes(en.body.secret));
  const ips = sql(srv, `SELECT DISTINCT ip FROM audit_log WHERE user_id = '${u.userId}'`).flat();
  assert.deepEqual(ips, ['127.0.0.1']);
});
