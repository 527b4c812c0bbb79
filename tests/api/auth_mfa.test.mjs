// @stores sqlite,pg
// The whole MFA flow with real TOTP codes (computed here, RFC 6238) and backup codes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { totp } from './lib/crypto.mjs';
import { login, registerUser, sql, startAuthServer } from './lib/api.mjs';

let srv;
before(async () => { srv = await startAuthServer(); });
after(async () => { await srv?.stop(); });

test('enable, verify, sign in with TOTP and backup codes, disable', async () => {
  const u = await registerUser(srv);
  const post = (p, body, token = u.token) => srv.api('POST', `/api/auth/mfa/${p}`, { token, body });

  let r = await post('enable', { password: 'wrong password!!' });
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'invalid_credentials');
  assert.deepEqual(r.body.error.details, { field: 'password' }, 'the refusal names its input, like the other account forms');
  r = await post('enable', {});
  assert.equal(r.status, 400);
  assert.equal((await post('enable', { password: u.password }, null)).status, 401);

  r = await post('enable', { password: u.password });
  assert.equal(r.status, 200);
  const { secret, otpauthUrl, qrCode, backupCodes } = r.body;
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.ok(otpauthUrl.startsWith('otpauth://totp/Sotto:'));
  assert.ok(otpauthUrl.includes(`secret=${secret}`));
  assert.match(qrCode, /^<svg[\s\S]*<\/svg>\s*$/);
  assert.equal(backupCodes.length, 10);
  assert.equal(new Set(backupCodes).size, 10);

  // Not active until verified: login still needs no code.
  assert.equal((await login(srv, u)).status, 200);
  r = await post('verify', { code: '000000' === totp(secret) ? '111111' : '000000' });
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'invalid_mfa_code');
  assert.deepEqual(r.body.error.details, { field: 'code' });
  r = await post('verify', {});
  assert.equal(r.status, 400);
  const now = Date.now() / 1000;
  r = await post('verify', { code: totp(secret, now) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await post('verify', { code: totp(secret, now + 30) });
  assert.equal(r.status, 409, 'already on');
  assert.equal((await srv.api('GET', '/api/users/me', { token: u.token })).body.mfaEnabled, true);

  r = await login(srv, u);
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'mfa_required');
  r = await login(srv, u, { mfaCode: '123' });
  assert.equal(r.body.error.code, 'invalid_mfa_code');
  r = await login(srv, u, { mfaCode: totp(secret, now), password: u.password });
  assert.equal(r.status, 401, 'the step used to verify cannot be used again');
  assert.equal(r.body.error.code, 'invalid_mfa_code');
  const next = totp(secret, now + 30);
  r = await login(srv, u, { mfaCode: next });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await login(srv, u, { mfaCode: next });
  assert.equal(r.status, 401, 'a code works once');
  r = await login(srv, { ...u, password: 'wrong password!!' }, { mfaCode: backupCodes[0] });
  assert.equal(r.body.error.code, 'invalid_credentials', 'the password is checked first');

  r = await login(srv, u, { mfaCode: backupCodes[0].toUpperCase() });
  assert.equal(r.status, 200, 'a backup code, typed in upper case');
  r = await login(srv, u, { mfaCode: backupCodes[0] });
  assert.equal(r.status, 401, 'a backup code works once');

  r = await post('disable', { password: 'wrong password!!', code: backupCodes[1] });
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'invalid_credentials');
  assert.deepEqual(r.body.error.details, { field: 'password' });
  r = await post('disable', { password: u.password, code: '999999' === totp(secret) ? '888888' : '999999' });
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'invalid_mfa_code');
  assert.deepEqual(r.body.error.details, { field: 'code' });
  r = await post('disable', { password: u.password });
  assert.equal(r.status, 400);
  r = await post('disable', { password: u.password, code: backupCodes[1] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await login(srv, u)).status, 200, 'no code needed any more');
  r = await post('disable', { password: u.password, code: backupCodes[2] });
  assert.equal(r.status, 400, 'not on');

  const actions = sql(srv, `SELECT action FROM audit_log WHERE user_id = '${u.userId}'`).map((x) => x[0]);
  for (const a of ['mfa_enrol', 'mfa_enable', 'mfa_disable', 'mfa_backup_code_used']) assert.ok(actions.includes(a), a);
  const stored = sql(srv, `SELECT count(*) FROM mfa_backup_codes WHERE user_id = '${u.userId}'`)[0][0];
  assert.equal(stored, '0', 'disabling deletes the codes');
});

test('the TOTP secret is encrypted at rest and backup codes are hashed', async () => {
  const u = await registerUser(srv);
  const r = await srv.api('POST', '/api/auth/mfa/enable', { token: u.token, body: { password: u.password } });
  const hex = srv.backend === 'pg' ? "encode(mfa_secret, 'hex')" : 'hex(mfa_secret)';
  const blob = sql(srv, `SELECT ${hex} FROM users WHERE id = '${u.userId}'`)[0][0].toLowerCase();
  const { base32Decode } = await import('./lib/crypto.mjs');
  assert.ok(blob.length > 40);
  assert.ok(!blob.includes(base32Decode(r.body.secret).toString('hex')));
  const codes = sql(srv, `SELECT ${hex.replace('mfa_secret', 'code_hash')} FROM mfa_backup_codes WHERE user_id = '${u.userId}'`);
  assert.equal(codes.length, 10);
  for (const c of r.body.backupCodes) assert.ok(!codes.flat().join().includes(Buffer.from(c).toString('hex')));
});
