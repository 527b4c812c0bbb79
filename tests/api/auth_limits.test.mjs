// @stores sqlite,pg
// Rate limits (429 + Retry-After per IP and per account) and the failed-login guard:
// slow-down, lock-out (429 account_locked), and a device proof passing it; all audited.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { login, registerUser, sql, startAuthServer, uniq } from './lib/api.mjs';
import { makeDevice } from './lib/crypto.mjs';

let srv;
before(async () => {
  srv = await startAuthServer({
    RATE_LIMIT_REGISTER_IP: '3/600', RATE_LIMIT_FORGOT_ACCOUNT: '2/600', RATE_LIMIT_MFA_ACCOUNT: '2/600',
    RATE_LIMIT_LOGIN_ACCOUNT: '12/600',
    LOGIN_FREE_FAILURES: '2', LOGIN_DELAY_BASE: '1', LOGIN_DELAY_MAX: '1', LOGIN_LOCK_FAILURES: '4',
    LOGIN_LOCK_SECONDS: '600',
  });
});
after(async () => { await srv?.stop(); });

function expect429(r, code = 'rate_limited') {
  assert.equal(r.status, 429, JSON.stringify(r.body));
  assert.equal(r.body.error.code, code);
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
}

test('register per IP, forgot-password and verification mails per account, MFA per account, login per account', async () => {
  const users = [];
  for (let i = 0; i < 3; i++) users.push(await registerUser(srv));
  const name = uniq('x');
  expect429(await srv.api('POST', '/api/auth/register', { body: { email: `${name}@example.org`, username: name,
    password: 'long enough password', device: { name: 'd', platform: 'cli' }, keys: makeDevice().bundle() } }));
  const u = users[0];
  for (let i = 0; i < 2; i++) assert.equal((await srv.api('POST', '/api/auth/forgot-password', { body: { email: u.email } })).status, 202);
  expect429(await srv.api('POST', '/api/auth/forgot-password', { body: { email: u.email } }));
  for (let i = 0; i < 2; i++) assert.equal((await srv.api('POST', '/api/auth/verify-email/resend', { token: u.token })).status, 202);
  expect429(await srv.api('POST', '/api/auth/verify-email/resend', { token: u.token }));
  for (let i = 0; i < 2; i++) await srv.api('POST', '/api/auth/mfa/enable', { token: u.token, body: { password: 'wrong one!!!' } });
  expect429(await srv.api('POST', '/api/auth/mfa/enable', { token: u.token, body: { password: u.password } }));
  const v = users[1];
  for (let i = 0; i < 12; i++) assert.equal((await login(srv, v)).status, 200);
  expect429(await login(srv, v));
});

test('failed logins slow down, then lock the account; a proven device still signs in', async () => {
  // A fresh server: the previous test used up the register bucket.
  const s2 = await startAuthServer({ LOGIN_FREE_FAILURES: '2', LOGIN_DELAY_BASE: '1', LOGIN_DELAY_MAX: '1',
    LOGIN_LOCK_FAILURES: '4', LOGIN_LOCK_SECONDS: '600' });
  try {
    const u = await registerUser(s2);
    const bad = { ...u, password: 'not the password' };
    assert.equal((await login(s2, bad)).status, 401);
    assert.equal((await login(s2, bad)).status, 401);
    assert.equal((await login(s2, bad)).status, 401);
    expect429(await login(s2, u), 'rate_limited');
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await login(s2, bad)).status, 401, 'the 4th failure locks');
    await new Promise((r) => setTimeout(r, 1100));
    expect429(await login(s2, u), 'account_locked');
    const proven = await login(s2, u, { device: { name: 'laptop', platform: 'cli', id: u.deviceId, ...u.device.proof(u.email) } });
    assert.equal(proven.status, 200, JSON.stringify(proven.body));
    const actions = sql(s2, `SELECT action, success FROM audit_log WHERE user_id = '${u.userId}' ORDER BY at`).map((x) => x.join(':'));
    assert.ok(actions.filter((a) => a === 'login:0' || a === 'login:f').length >= 4, actions.join());
    assert.ok(actions.some((a) => a.startsWith('login_locked')), actions.join());
    assert.ok(actions.includes('login:1') || actions.includes('login:t'), actions.join());
  } finally {
    await s2.stop();
  }
});
