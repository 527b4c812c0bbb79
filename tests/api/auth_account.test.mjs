// @stores sqlite,pg
// Account actions a signed-in person runs on their own: change the password (other devices
// signed out, this one kept, a mail; with two-factor on, a code), re-send the verification
// mail, regenerate backup codes, rename a device, mail in the account's language, and delete
// the account with everything of it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeDevice, totp } from './lib/crypto.mjs';
import { login, outbox, registerUser, sql, startAuthServer, verifyEmail, waitFor } from './lib/api.mjs';
import { conversation, sendRest, userWithDevices, wsConnect } from './lib/rt.mjs';

let srv;
before(async () => { srv = await startAuthServer({ PUBLIC_URL: 'https://chat.example.org' }); });
after(async () => { await srv?.stop(); });

const me = (token) => srv.api('GET', '/api/users/me', { token });
const mailsTo = (email) => outbox(srv).filter((m) => m.to === email);
const NEW = 'a different long password';

async function enableMfa(u) {
  const r = await srv.api('POST', '/api/auth/mfa/enable', { token: u.token, body: { password: u.password } });
  assert.equal(r.status, 200);
  const now = Date.now() / 1000;
  assert.equal((await srv.api('POST', '/api/auth/mfa/verify', { token: u.token, body: { code: totp(r.body.secret, now) } })).status, 200);
  return { ...r.body, usedAt: now };
}

describe('change-password', () => {
  const change = (token, body) => srv.api('POST', '/api/auth/change-password', { token, body });

  test('ends the other devices, keeps the caller, mails the owner', async () => {
    const u = await userWithDevices(srv, 3);
    const socks = await Promise.all(u.devices.map((d) => wsConnect(srv, d.token)));
    assert.equal((await change(null, { currentPassword: u.password, newPassword: NEW })).status, 401);
    let r = await change(u.devices[0].token, { currentPassword: 'not the password at all', newPassword: NEW });
    assert.equal(r.status, 401);
    assert.deepEqual([r.body.error.code, r.body.error.details.field], ['invalid_credentials', 'currentPassword']);
    r = await change(u.devices[0].token, { currentPassword: u.password, newPassword: 'short' });
    assert.deepEqual(r.body.error.details, { field: 'newPassword', reason: 'too_short' });
    r = await change(u.devices[0].token, { currentPassword: u.password, newPassword: u.username.toUpperCase() });
    assert.equal(r.body.error.details.reason, 'equals_username');
    r = await change(u.devices[0].token, { newPassword: NEW });
    assert.deepEqual(r.body.error.details, { field: 'currentPassword', reason: 'missing' });
    for (const d of u.devices) assert.equal((await me(d.token)).status, 200, 'refusals change nothing');

    r = await change(u.devices[0].token, { currentPassword: u.password, newPassword: NEW });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    for (const c of socks.slice(1)) assert.equal((await c.closed).code, 4401);
    for (const d of u.devices.slice(1)) assert.equal((await me(d.token)).status, 401);
    assert.equal((await me(u.devices[0].token)).status, 200, "the caller's session stays");
    assert.equal((await socks[0].request('queue:ack', { seq: 0 })).event, 'ack', "and its socket");
    assert.equal((await srv.api('POST', '/api/auth/refresh', { body: { refreshToken: u.refresh } })).status, 200);
    await socks[0].close();
    assert.equal((await login(srv, u)).status, 401, 'the old password is gone');
    assert.equal((await login(srv, { ...u, password: NEW })).status, 200);
    const mail = await waitFor(() => mailsTo(u.email).find((m) => /password was changed/i.test(m.subject)));
    assert.ok(mail.body.includes('https://chat.example.org/forgot-password'), mail.body);
    const audit = sql(srv, `SELECT success FROM audit_log WHERE user_id = '${u.userId}' AND action = 'password_change' ORDER BY at`);
    assert.deepEqual(audit.map((x) => x[0] === 't' || x[0] === '1'), [false, true]);
  });

  test('with two-factor on, a code is required', async () => {
    const u = await registerUser(srv);
    const m = await enableMfa(u);
    let r = await change(u.token, { currentPassword: u.password, newPassword: NEW });
    assert.deepEqual([r.status, r.body.error.code, r.body.error.details.field], [401, 'mfa_required', 'mfaCode']);
    r = await change(u.token, { currentPassword: u.password, newPassword: NEW, mfaCode: '12345' });
    assert.equal(r.body.error.code, 'invalid_mfa_code');
    r = await change(u.token, { currentPassword: u.password, newPassword: NEW, mfaCode: totp(m.secret, m.usedAt + 30) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await change(u.token, { currentPassword: NEW, newPassword: 'yet another long password', mfaCode: m.backupCodes[0] });
    assert.equal(r.status, 200, 'a backup code works in place of a TOTP code');
  });
});

describe('e-mail verification', () => {
  const resend = (token) => srv.api('POST', '/api/auth/verify-email/resend', { token });

  test('resend: a new link while unverified, 202; 409 once verified', async () => {
    const u = await registerUser(srv);
    await waitFor(() => mailsTo(u.email).length === 1);
    assert.equal((await resend(null)).status, 401);
    let r = await resend(u.token);
    assert.equal(r.status, 202);
    assert.deepEqual(r.body, { success: true });
    const links = await waitFor(() => {
      const m = mailsTo(u.email).filter((x) => x.body.includes('https://chat.example.org/verify-email?token='));
      return m.length === 2 && m;
    });
    assert.notEqual(links[0].body, links[1].body, 'a fresh token');
    await verifyEmail(srv, u.email);
    r = await resend(u.token);
    assert.equal(r.status, 409);
    assert.deepEqual([r.body.error.code, r.body.error.details.reason], ['conflict', 'already_verified']);
  });
});

describe('two-factor backup codes', () => {
  const regen = (u, body) => srv.api('POST', '/api/auth/mfa/backup-codes', { token: u.token, body });

  test('regenerated with the password and a code; the old ones stop working; /me counts them', async () => {
    const u = await registerUser(srv);
    assert.equal((await me(u.token)).body.backupCodesLeft, undefined, 'only with two-factor on');
    let r = await regen(u, { password: u.password, code: '123456' });
    assert.deepEqual(r.body.error.details, { field: 'code', reason: 'mfa_not_enabled' });
    const m = await enableMfa(u);
    assert.equal((await me(u.token)).body.backupCodesLeft, 10);
    assert.equal((await login(srv, u, { mfaCode: m.backupCodes[0] })).status, 200);
    assert.equal((await me(u.token)).body.backupCodesLeft, 9);
    r = await regen(u, { password: 'not the password at all', code: m.backupCodes[1] });
    assert.equal(r.body.error.code, 'invalid_credentials');
    assert.deepEqual(r.body.error.details, { field: 'password' });
    r = await regen(u, { password: u.password, code: '000000' === totp(m.secret) ? '111111' : '000000' });
    assert.equal(r.body.error.code, 'invalid_mfa_code');
    assert.deepEqual(r.body.error.details, { field: 'code' });
    r = await regen(u, { password: u.password });
    assert.deepEqual(r.body.error.details, { field: 'code', reason: 'missing' });
    r = await regen(u, { password: u.password, code: m.backupCodes[1] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const fresh = r.body.backupCodes;
    assert.equal(new Set(fresh).size, 10);
    assert.ok(fresh.every((c) => !m.backupCodes.includes(c)));
    assert.equal((await me(u.token)).body.backupCodesLeft, 10);
    r = await login(srv, u, { mfaCode: m.backupCodes[2] });
    assert.equal(r.body.error.code, 'invalid_mfa_code', 'an old code stopped working');
    assert.equal((await login(srv, u, { mfaCode: fresh[0] })).status, 200);
    assert.equal((await me(u.token)).body.backupCodesLeft, 9);
    const audit = sql(srv, `SELECT detail FROM audit_log WHERE user_id = '${u.userId}' AND action = 'mfa_backup_codes' AND detail = 'regenerated'`);
    assert.equal(audit.length, 1);
  });
});

describe('devices', () => {
  test("rename one's own device; others' and revoked ones are 404; control characters refused", async () => {
    const u = await userWithDevices(srv, 2);
    const v = await registerUser(srv);
    const rename = (id, body, token = u.token) => srv.api('PATCH', `/api/users/devices/${id}`, { token, body });
    let r = await rename(u.devices[1].id, { name: 'Firefox on Windows' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.id, r.body.name, r.body.current], [u.devices[1].id, 'Firefox on Windows', false]);
    r = await rename(u.devices[0].id, { name: 'Điện thoại của Lan 📱' });
    assert.deepEqual([r.body.name, r.body.current], ['Điện thoại của Lan 📱', true]);
    const list = (await srv.api('GET', '/api/users/me/devices', { token: u.token })).body;
    assert.deepEqual(list.map((d) => d.name).sort(), ['Firefox on Windows', 'Điện thoại của Lan 📱'].sort());
    for (const [name, reason] of [['tab\there', 'invalid_characters'], ['bidi\u202eevil', 'invalid_characters'],
      ['', 'too_short'], ['x'.repeat(101), 'too_long']]) {
      r = await rename(u.devices[1].id, { name });
      assert.deepEqual(r.body.error.details, { field: 'name', reason }, JSON.stringify(name));
    }
    assert.deepEqual((await rename(u.devices[1].id, {})).body.error.details, { field: 'name', reason: 'missing' });
    assert.equal((await rename(v.deviceId, { name: 'mine now' })).status, 404, "someone else's device");
    assert.equal((await rename('00000000-0000-4000-8000-000000000000', { name: 'x' })).status, 404);
    assert.equal((await rename('not-a-uuid', { name: 'x' })).status, 404);
    assert.equal((await srv.api('DELETE', `/api/users/devices/${u.devices[1].id}`, { token: u.token })).status, 200);
    assert.equal((await rename(u.devices[1].id, { name: 'back again' })).status, 404, 'a revoked device');
    assert.equal(sql(srv, `SELECT name FROM devices WHERE id = '${v.deviceId}'`)[0][0], 'laptop');
  });
});

describe('mail in the account language', () => {
  const registerIn = async (language) => {
    const u = await registerUser(srv, { extra: language ? { language } : {} });
    return u;
  };
  const newest = (email, re) => waitFor(() => mailsTo(email).filter((m) => re.test(m.body ?? '')).pop());

  test('language: taken at registration and by PATCH /me, returned on /me; only en and vi', async () => {
    const en = await registerIn();
    assert.equal(en.res.body.user.language, 'en', 'English by default');
    const vi = await registerIn('vi');
    assert.equal(vi.res.body.user.language, 'vi');
    assert.equal((await me(vi.token)).body.language, 'vi');
    const patch = (body) => srv.api('PATCH', '/api/users/me', { token: en.token, body });
    assert.equal((await patch({ language: 'vi' })).body.language, 'vi');
    assert.equal((await patch({ bio: 'hi' })).body.language, 'vi', 'absent: kept');
    assert.equal((await patch({ language: null })).body.language, 'vi', 'null: kept');
    for (const bad of ['fr', 'EN', '', 5]) {
      const r = await patch({ language: bad });
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.equal(r.body.error.details.field, 'language');
    }
    assert.equal((await patch({ language: 'en' })).body.language, 'en');
    const name = `${en.username}_de`.slice(0, 32);
    const r = await srv.api('POST', '/api/auth/register', { body: {
      email: `${name}@example.org`, username: name, password: en.password, language: 'de',
      device: { name: 'laptop', platform: 'cli' }, keys: makeDevice().bundle() } });
    assert.deepEqual(r.body.error.details, { field: 'language', reason: 'unknown' });
  });

  for (const [language, words] of [
    ['en', { verify: /Confirm your e-mail address/, hello: 'Hello', reset: /Reset your Sotto password/, changed: /password was changed/ }],
    ['vi', { verify: /Xác nhận địa chỉ e-mail/, hello: 'Xin chào', reset: /Đặt lại mật khẩu/, changed: /đã được thay đổi/ }],
  ]) {
    test(`${language}: verification, reset and password-changed mails, with text and HTML parts and PUBLIC_URL links`, async () => {
      const u = await registerIn(language);
      const checkParts = (mail, path) => {
        assert.ok(mail.body.startsWith(`${words.hello} ${u.username},`), mail.body);
        assert.match(mail.html, new RegExp(`<html lang="${language}">`));
        assert.ok(mail.html.includes(`${words.hello} ${u.username},`));
        assert.ok(mail.body.includes(`https://chat.example.org/${path}`));
        assert.ok(mail.html.includes(`href="https://chat.example.org/${path}`));
      };
      const verify = await newest(u.email, /verify-email\?token=/);
      assert.match(verify.subject, words.verify);
      checkParts(verify, 'verify-email?token=');
      const token = verify.body.match(/verify-email\?token=([A-Za-z0-9_-]{43})/)[1];
      assert.ok(verify.html.includes(`verify-email?token=${token}`), 'the same link in both parts');
      assert.equal((await srv.api('POST', '/api/auth/verify-email', { body: { token } })).status, 200);
      assert.equal((await srv.api('POST', '/api/auth/forgot-password', { body: { email: u.email } })).status, 202);
      const reset = await newest(u.email, /reset-password\?token=/);
      assert.match(reset.subject, words.reset);
      checkParts(reset, 'reset-password?token=');
      assert.equal((await srv.api('POST', '/api/auth/change-password', { token: u.token, body: { currentPassword: u.password, newPassword: NEW } })).status, 200);
      const changed = await waitFor(() => mailsTo(u.email).find((m) => words.changed.test(m.subject)));
      checkParts(changed, 'forgot-password');
    });
  }
});

describe('delete account', () => {
  const del = (token, body) => srv.api('DELETE', '/api/users/me', { token, body });

  // Every row of the database as text (sqlite3 .dump or pg_dump --data-only).
  function dump() {
    if (srv.backend === 'pg') return execFileSync('pg_dump', ['--data-only', srv.dbUrl], { encoding: 'utf8' });
    return execFileSync('sqlite3', [path.join(srv.dataDir, 'sotto.db'), '.dump'], { encoding: 'utf8' });
  }

  test('needs the password (and a code); then nothing of the account is left, and its sockets close', async () => {
    const u = await userWithDevices(srv, 2);
    const v = await userWithDevices(srv, 1);
    const conv = await conversation(srv, u, v);
    for (const [from, to] of [[u, v], [v, u], [u, v]]) assert.equal((await sendRest(srv, from, to, conv)).status, 201);
    assert.equal((await srv.api('POST', `/api/users/block/${v.userId}`, { token: u.token })).status, 200);
    const m = await enableMfa(u);
    const socks = await Promise.all(u.devices.map((d) => wsConnect(srv, d.token)));
    const ids = [u.userId, ...u.devices.map((d) => d.id)];
    const vBytes = () => sql(srv, `SELECT bytes FROM account_queued_bytes WHERE user_id = '${v.userId}'`)[0]?.[0];
    assert.ok(Number(vBytes()) > 0, "v's ciphertext waits for u's devices");

    let r = await del(u.token, { password: 'not the password at all', mfaCode: totp(m.secret, m.usedAt + 30) });
    assert.deepEqual([r.status, r.body.error.code, r.body.error.details.field], [401, 'invalid_credentials', 'password']);
    r = await del(u.token, { password: u.password });
    assert.deepEqual([r.status, r.body.error.code], [401, 'mfa_required']);
    r = await del(u.token, {});
    assert.deepEqual(r.body.error.details, { field: 'password', reason: 'missing' });
    assert.equal((await me(u.token)).status, 200, 'refusals change nothing');
    for (const id of ids) assert.ok(dump().includes(id));

    r = await del(u.devices[1].token, { password: u.password, mfaCode: m.backupCodes[0] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    for (const c of socks) assert.equal((await c.closed).code, 4401);
    for (const d of u.devices) assert.equal((await me(d.token)).status, 401);
    assert.equal((await login(srv, u, { mfaCode: m.backupCodes[1] })).status, 401);
    const rows = dump();
    for (const id of ids) assert.ok(!rows.includes(id), `${id} is still in the database:\n${rows.split('\n').filter((l) => l.includes(id)).join('\n')}`);
    assert.ok(!rows.includes(u.email) && !rows.includes(u.username), 'nor its address or name');
    assert.equal(Number(vBytes() ?? 0), 0, "what v queued to u's devices was given back");
    assert.equal((await me(v.token)).status, 200, 'the other account is untouched');
    assert.equal((await srv.api('GET', `/api/users/${u.userId}`, { token: v.token })).status, 404);
    const audit = sql(srv, "SELECT user_id, success FROM audit_log WHERE action = 'account_delete'");
    assert.ok(audit.some(([uid, ok]) => uid === '' && (ok === '1' || ok === 't')), 'the deletion is in the audit log, naming no one');
  });
});
