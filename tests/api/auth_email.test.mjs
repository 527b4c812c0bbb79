// @stores sqlite,pg
// E-mail flows: verification on registration, forgot/reset password through the outbox, and
// the same mail through a real SMTP server (aiosmtpd, as the mail.smtp contract test uses).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { login, mailToken, outbox, parseMail, registerUser, startAuthServer, verifyEmail, waitFor } from './lib/api.mjs';

let srv;
before(async () => { srv = await startAuthServer({ PUBLIC_URL: 'https://chat.example.org/' }); });
after(async () => { await srv?.stop(); });

const mailsTo = (email) => outbox(srv).filter((m) => m.to === email);

test('registration mails a single-use verification link built from PUBLIC_URL', async () => {
  const u = await registerUser(srv);
  const mail = await waitFor(() => mailsTo(u.email)[0]);
  assert.ok(mail.body.includes('https://chat.example.org/verify-email?token='), mail.body);
  const token = mailToken(mail, 'verify-email');
  let r = await srv.api('POST', '/api/auth/verify-email', { body: { token } });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { success: true }, 'the link signs nobody in: no tokens');
  assert.equal(r.cookie, null, 'and no refresh cookie');
  assert.equal((await srv.api('GET', '/api/users/me', { token: u.token })).body.emailVerified, true);
  r = await srv.api('POST', '/api/auth/verify-email', { body: { token } });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'invalid_token');
  for (const bad of ['A'.repeat(43), 'short', '']) {
    r = await srv.api('POST', '/api/auth/verify-email', { body: { token: bad } });
    assert.equal(r.body.error.code, 'invalid_token');
  }
  r = await srv.api('POST', '/api/auth/verify-email', { body: {} });
  assert.equal(r.body.error.code, 'validation_failed');
});

test('forgot-password: always 202; a mail only for a real account', async () => {
  const before1 = outbox(srv).length;
  let r = await srv.api('POST', '/api/auth/forgot-password', { body: { email: 'nobody-here@example.org' } });
  assert.equal(r.status, 202);
  r = await srv.api('POST', '/api/auth/forgot-password', { body: {} });
  assert.equal(r.status, 400);
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(outbox(srv).length, before1);
});

test('forgot-password: no reset link to an address not yet verified', async () => {
  const u = await registerUser(srv);
  await waitFor(() => mailsTo(u.email)[0]);
  assert.equal((await srv.api('POST', '/api/auth/forgot-password', { body: { email: u.email } })).status, 202);
  await new Promise((res) => setTimeout(res, 300));
  assert.deepEqual(mailsTo(u.email).filter((m) => m.body.includes('reset-password?token=')), []);
  await verifyEmail(srv, u.email);
  assert.equal((await srv.api('POST', '/api/auth/forgot-password', { body: { email: u.email } })).status, 202);
  await waitFor(() => mailsTo(u.email).find((m) => m.body.includes('reset-password?token=')));
});

test('reset-password: policy, single use, and every session ends', async () => {
  const u = await registerUser(srv);
  await verifyEmail(srv, u.email);
  const other = await login(srv, u);
  assert.equal((await srv.api('POST', '/api/auth/forgot-password', { body: { email: u.email.toUpperCase() } })).status, 202);
  const mail = await waitFor(() => mailsTo(u.email).find((m) => m.body.includes('reset-password?token=')));
  const token = mailToken(mail, 'reset-password');
  let r = await srv.api('POST', '/api/auth/reset-password', { body: { token, newPassword: 'short' } });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.details.field, 'newPassword');
  r = await srv.api('POST', '/api/auth/reset-password', { body: { token, newPassword: u.email } });
  assert.equal(r.body.error.details.reason, 'equals_email', 'checked against the account; token kept');
  r = await srv.api('POST', '/api/auth/reset-password', { body: { token: 'B'.repeat(43), newPassword: 'a brand new password' } });
  assert.equal(r.body.error.code, 'invalid_token');
  r = await srv.api('POST', '/api/auth/reset-password', { body: { token, newPassword: 'a brand new password' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await srv.api('POST', '/api/auth/reset-password', { body: { token, newPassword: 'another new password' } });
  assert.equal(r.body.error.code, 'invalid_token', 'single use');
  assert.equal((await srv.api('POST', '/api/auth/refresh', { body: { refreshToken: u.refresh } })).status, 401);
  assert.equal((await srv.api('POST', '/api/auth/refresh', { body: { refreshToken: other.body.tokens.refreshToken } })).status, 401);
  assert.equal((await login(srv, u)).status, 401, 'old password');
  assert.equal((await login(srv, { ...u, password: 'a brand new password' })).status, 200);
});

test('through a real SMTP server', async (t) => {
  const py = '/usr/bin/python3';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sotto-smtp-'));
  const smtp = spawn(py, [path.resolve('server/tests/mail/smtp_server.py'), dir, 'mailer', 's3cret-pass'], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => { smtp.stdin.end(); smtp.kill(); rmSync(dir, { recursive: true, force: true }); });
  const port = await new Promise((resolve, reject) => {
    smtp.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    smtp.once('exit', (c) => reject(new Error(`smtp server exited ${c}`)));
  });
  const s2 = await startAuthServer({ SMTP_URL: `smtp://mailer:s3cret-pass@127.0.0.1:${port}`, SMTP_TLS: 'none', MAIL_FROM: 'noreply@chat.example.org' });
  try {
    const u = await registerUser(s2);
    const file = await waitFor(() => readdirSync(dir).find((f) => f.endsWith('.eml')));
    const mail = parseMail(readFileSync(path.join(dir, file), 'utf8'));
    assert.equal(mail.to, u.email);
    const env = readFileSync(path.join(dir, file.replace('.eml', '.env')), 'utf8').split('\n');
    assert.equal(env[0], 'noreply@chat.example.org');
    assert.equal(env[1], u.email);
    const token = mailToken(mail, 'verify-email');
    assert.equal((await s2.api('POST', '/api/auth/verify-email', { body: { token } })).status, 200);
    assert.ok(!s2.log.includes('s3cret-pass'), 'the SMTP password is never logged');
    assert.ok(!s2.log.includes(token), 'the token is never logged');
  } finally {
    await s2.stop();
  }
});
