// E2E 18: issue 24, the CLI's account actions against a real sottod and its mail outbox:
// `register` with a display name and the server's password rules (asked again on a terminal,
// with the rule a refused password broke; exit 7 without one), `verify-email resend` and the
// state in `whoami`, `mfa enable|disable|backup-codes`, `password change|forgot|reset`,
// `devices rename` and `account delete`. Terminals are real ones (`script` runs sotto on a
// pseudo-terminal). Passwords and backup codes join the markers: none may be left in the
// server's files, its log or a profile.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { totp } from '../api/lib/crypto.mjs';
import { mailToken, outbox, verifyEmail, waitFor } from '../api/lib/api.mjs';
import { addDevice, assertNoPlaintext, cliPath, marker, ok, run, send, sync, user, world } from './lib/e2e.mjs';

const USAGE = 1, AUTH = 3, NOTFOUND = 5, REFUSED = 7;
const PASSWORD = 'correct horse battery staple';

// Every process the helpers below start: killed at the end, so a test that failed while one
// waited for input does not leave it (and the run) hanging.
const children = [];

const quote = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;

// A `script` killed hangs up its terminal: the sotto on it gets SIGHUP and ends too.
function kill(child) {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

// sotto on a pseudo-terminal (util-linux `script`): what it wrote (stdout and stderr, as a
// terminal shows them), waitOut(text) for a prompt, type(line), and its exit code.
function tty(w, profile, args) {
  const cmd = [cliPath(), '--server', w.srv.base, '--profile', profile, ...args].map(quote).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const t = { out: '', count: (s) => t.out.split(s).length - 1 };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => { t.out += d; });
  child.stderr.on('data', (d) => { t.out += d; });
  t.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  t.waitOut = async (text, n = 1, ms = 20000) => {
    const end = Date.now() + ms;
    while (t.count(text) < n) {
      if (Date.now() > end) {
        kill(child);
        throw new Error(`timed out waiting for ${JSON.stringify(text)} x${n}\n${t.out}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  t.type = (line) => child.stdin.write(`${line}\r`);
  t.done = async () => {
    const code = await Promise.race([t.exited, new Promise((r) => setTimeout(() => r('hung'), 30000))]);
    if (code === 'hung') kill(child);
    child.stdin.end();
    if (/Sanitizer|runtime error:/.test(t.out)) throw new Error(`sanitizer report:\n${t.out}`);
    return code;
  };
  return t;
}

// A sotto whose stdin stays open, for answers that depend on what it printed first (the
// two-factor secret before the code).
function piped(w, profile, args) {
  const child = spawn(cliPath(), ['--server', w.srv.base, '--profile', profile, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const p = { out: '', err: '' };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => { p.out += d; });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { p.err += d; });
  p.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  p.lines = () => p.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  p.waitLine = async () => {
    await waitFor(() => p.lines().length > 0 || p.exitCode !== undefined, 20000).catch((e) => {
      kill(child);
      throw e;
    });
    return p.lines()[0];
  };
  child.on('exit', (code) => { p.exitCode = code; });
  p.write = (s) => child.stdin.write(s);
  p.end = () => child.stdin.end();
  return p;
}

const me = async (w, dir) => JSON.parse((await ok(w, dir, ['whoami', '--json'])).stdout);

// Backup codes shown (9 characters: too short for the markers' base64 forms, so looked for as
// text and hex only).
const shownCodes = [];

function* files(dir) {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    const st = statSync(p);
    if (st.isDirectory()) yield* files(p);
    else if (st.isFile()) yield p;
  }
}

// Turns two-factor on for the profile's account through the CLI: {secret, backupCodes}.
async function enableMfa(w, dir, password = PASSWORD) {
  const p = piped(w, dir, ['mfa', 'enable', '--password-stdin', '--json']);
  p.write(`${password}\n`);
  const first = await p.waitLine();
  assert.ok(first?.otpauthUrl, `no otpauth URI: ${p.out}\n${p.err}`);
  assert.match(first.otpauthUrl, /^otpauth:\/\/totp\//);
  p.write(`${totp(first.secret)}\n`);
  p.end();
  assert.equal(await p.exited, 0, p.err);
  const done = p.lines()[1];
  assert.equal(done.enabled, true);
  assert.equal(done.backupCodes.length, 10);
  shownCodes.push(...done.backupCodes);
  return { secret: first.secret, backupCodes: done.backupCodes };
}

describe('account actions in the CLI', () => {
  let w;
  before(async () => { w = await world(); });
  after(async () => {
    children.forEach(kill);
    await w?.close();
  });

  test('register on a terminal: display name asked, rules shown, a refused password asked again with its rule', async () => {
    const name = `t${process.pid}reg${Date.now() % 100000}`;
    const dir = path.join(w.root, `${name}-1`);
    w.profiles.push(dir);
    const good = marker(w, 'regpw');
    const t = tty(w, dir, ['register', '--email', `${name}@example.org`, '--username', name]);
    await t.waitOut('Display name');
    t.type('Terminal Tess');
    await t.waitOut('A password: 10 to 1024 characters, not your email or username.');
    await t.waitOut('Password: ');
    t.type('short');
    await t.waitOut('The same again: ');
    t.type('short');
    await t.waitOut('the password is too short: at least 10 characters');
    await t.waitOut('Password: ', 2);
    t.type(name.toUpperCase()); // equal to the username, ignoring case
    await t.waitOut('The same again: ', 2);
    t.type(name.toUpperCase());
    await t.waitOut('the password may not be your username');
    await t.waitOut('Password: ', 3);
    t.type(good);
    await t.waitOut('The same again: ', 3);
    t.type(`${good}x`); // a typo: asked again before anything is sent
    await t.waitOut('The two did not match');
    await t.waitOut('Password: ', 4);
    t.type(good);
    await t.waitOut('The same again: ', 4);
    t.type(good);
    assert.equal(await t.done(), 0, t.out);
    assert.match(t.out, /registered as /);
    assert.ok(!t.out.includes(good), 'the password was echoed');
    const m = await me(w, dir);
    assert.equal(m.displayName, 'Terminal Tess');
    await ok(w, path.join(w.root, `${name}-2`), ['login', '--email', `${name}@example.org`, '--password-stdin'], { input: `${good}\n` });
    w.profiles.push(path.join(w.root, `${name}-2`));
  });

  test('register without a terminal: a refused password is exit 7 naming the rule; --display-name is sent', async () => {
    const name = `p${process.pid}reg${Date.now() % 100000}`;
    const dir = path.join(w.root, `${name}-1`);
    w.profiles.push(dir);
    const args = ['register', '--email', `${name}@example.org`, '--username', name, '--password-stdin'];
    const r = await run(w, dir, args, { input: 'short\n' });
    assert.equal(r.code, REFUSED, r.stderr);
    assert.match(r.stderr, /registration: the password is too short: at least 10 characters/);
    const same = await run(w, dir, args, { input: `${name}@example.org\n` });
    assert.equal(same.code, REFUSED, same.stderr);
    assert.match(same.stderr, /the password may not be your email address/);
    const none = await run(w, dir, ['register', '--email', `${name}@example.org`, '--username', name]);
    assert.equal(none.code, USAGE, none.stderr); // no terminal, no --password-stdin
    // The mails' language from the locale (Vietnamese here, English by default).
    await ok(w, dir, [...args, '--display-name', 'Piped Pat'], { input: `${PASSWORD}\n`, env: { LC_ALL: '', LC_MESSAGES: '', LANG: 'vi_VN.UTF-8' } });
    const m = await me(w, dir);
    assert.equal(m.displayName, 'Piped Pat');
    assert.equal(m.language, 'vi');
    const enDir = path.join(w.root, `${name}-en`);
    w.profiles.push(enDir);
    await ok(w, enDir, ['register', '--email', `en${name}@example.org`, '--username', `en${name}`, '--password-stdin'],
      { input: `${PASSWORD}\n`, env: { LC_ALL: '', LC_MESSAGES: '', LANG: 'C.UTF-8' } });
    assert.equal((await me(w, enDir)).language, 'en');
  });

  test('verify-email resend: a new link by mail; the state in whoami; refused once verified', async () => {
    const u = await user(w, 've');
    const dir = u.devices[0];
    assert.match((await ok(w, dir, ['whoami'])).stdout, /email: not verified .*sotto verify-email resend/);
    assert.equal((await me(w, dir)).emailVerified, false);
    const links = () => outbox(w.srv).filter((m) => m.to === u.email && mailToken(m, 'verify-email')).length;
    const before_ = await waitFor(() => links());
    const r = await ok(w, dir, ['verify-email', 'resend', '--json']);
    assert.deepEqual(JSON.parse(r.stdout), { sent: true });
    await waitFor(() => links() === before_ + 1);
    await verifyEmail(w.srv, u.email);
    assert.match((await ok(w, dir, ['whoami'])).stdout, /email: verified/);
    const again = await run(w, dir, ['verify-email', 'resend']);
    assert.equal(again.code, REFUSED, again.stderr);
    assert.match(again.stderr, /already verified/);
    assert.equal((await run(w, dir, ['verify-email', 'status'])).code, USAGE);
  });

  test('mfa enable (piped), backup-codes and disable; wrong password and code refused with exit 3', async () => {
    const u = await user(w, 'mf');
    const dir = u.devices[0];
    const wrong = await run(w, dir, ['mfa', 'enable', '--password-stdin'], { input: 'not the password\n' });
    assert.equal(wrong.code, AUTH, wrong.stderr);
    assert.match(wrong.stderr, /the password is not right/);
    assert.equal((await ok(w, dir, ['whoami'])).code, 0); // the session goes on
    const badCode = await run(w, dir, ['mfa', 'enable', '--password-stdin'], { input: `${PASSWORD}\n000000\n` });
    assert.equal(badCode.code, AUTH, badCode.stderr);
    assert.match(badCode.stderr, /the two-factor code is not valid/);
    assert.equal((await me(w, dir)).mfaEnabled, false);

    const { backupCodes } = await enableMfa(w, dir);
    let m = await me(w, dir);
    assert.equal(m.mfaEnabled, true);
    assert.equal(m.backupCodesLeft, 10);
    assert.match((await ok(w, dir, ['whoami'])).stdout, /two-factor: on, 10 backup codes left/);

    // Without a code and no terminal: exit 1; a used-up code: exit 3.
    const noCode = await run(w, dir, ['mfa', 'backup-codes', '--password-stdin'], { input: `${PASSWORD}\n` });
    assert.equal(noCode.code, USAGE, noCode.stderr);
    const fresh = await ok(w, dir, ['mfa', 'backup-codes', '--password-stdin', '--mfa-code', backupCodes[0]],
      { input: `${PASSWORD}\n` });
    const codes = [...fresh.stdout.matchAll(/^ {2}(\S+)$/gm)].map((x) => x[1]);
    assert.equal(codes.length, 10, fresh.stdout);
    shownCodes.push(...codes);
    assert.match(fresh.stdout, /old ones no longer work/);
    const old = await run(w, dir, ['mfa', 'disable', '--password-stdin', '--mfa-code', backupCodes[1]],
      { input: `${PASSWORD}\n` });
    assert.equal(old.code, AUTH, old.stderr); // replaced: the old codes stopped working
    m = await me(w, dir);
    assert.equal(m.backupCodesLeft, 10);

    // A code from stdin, the line after the password.
    const off = await ok(w, dir, ['mfa', 'disable', '--password-stdin', '--json'], { input: `${PASSWORD}\n${codes[0]}\n` });
    assert.deepEqual(JSON.parse(off.stdout), { enabled: false });
    assert.equal((await me(w, dir)).mfaEnabled, false);
    const notOn = await run(w, dir, ['mfa', 'disable', '--password-stdin', '--mfa-code', codes[1]], { input: `${PASSWORD}\n` });
    assert.equal(notOn.code, REFUSED, notOn.stderr);
    assert.match(notOn.stderr, /not on/);
  });

  test('mfa enable on a terminal: a QR code, a wrong code asked again, the backup codes once', async () => {
    const u = await user(w, 'mq');
    const dir = u.devices[0];
    const t = tty(w, dir, ['mfa', 'enable']);
    await t.waitOut('Password: ');
    t.type(PASSWORD);
    await t.waitOut('Code from the app: ');
    const sec = t.out.match(/secret: ([A-Z2-7]+)/)[1];
    assert.match(t.out, /otpauth URI: otpauth:\/\/totp\/Sotto:/);
    assert.ok(t.out.includes('\u2588') && t.out.includes('\u2584'), 'no QR code on the terminal');
    t.type('123456' === totp(sec) ? '654321' : '123456');
    await t.waitOut('That code did not work');
    await t.waitOut('Code from the app: ', 2);
    t.type(totp(sec));
    assert.equal(await t.done(), 0, t.out);
    const codes = [...t.out.matchAll(/^ {2}(\S+)\r?$/gm)].map((x) => x[1]);
    assert.equal(codes.length, 10, t.out);
    shownCodes.push(...codes);
    assert.ok(!t.out.includes(PASSWORD), 'the password was echoed');
    assert.equal((await me(w, dir)).mfaEnabled, true);
  });

  test('password change: the other devices are signed out, this one stays; rules and wrong passwords refused', async () => {
    const u = await user(w, 'pc');
    await addDevice(w, u);
    const [dir, other] = u.devices;
    const short = await run(w, dir, ['password', 'change', '--password-stdin'], { input: `${PASSWORD}\nshort\n` });
    assert.equal(short.code, REFUSED, short.stderr);
    assert.match(short.stderr, /the new password is too short: at least 10 characters/);
    const wrong = await run(w, dir, ['password', 'change', '--password-stdin'], { input: `wrong password!\n${PASSWORD}x\n` });
    assert.equal(wrong.code, AUTH, wrong.stderr);
    assert.match(wrong.stderr, /the password is not right/);
    await ok(w, other, ['whoami']); // nothing changed yet
    const next = marker(w, 'newpw');
    const r = await ok(w, dir, ['password', 'change', '--password-stdin', '--json'], { input: `${PASSWORD}\n${next}\n` });
    assert.deepEqual(JSON.parse(r.stdout), { changed: true });
    await ok(w, dir, ['whoami']);
    assert.equal((await run(w, other, ['whoami'])).code, AUTH);
    await ok(w, other, ['login', '--password-stdin'], { input: `${next}\n` });
    const oldPw = await run(w, other, ['login', '--password-stdin'], { input: `${PASSWORD}\n` });
    assert.equal(oldPw.code, AUTH, oldPw.stderr);

    // With two-factor on, a code is asked for too.
    const { backupCodes } = await enableMfa(w, dir, next);
    const noCode = await run(w, dir, ['password', 'change', '--password-stdin'], { input: `${next}\n` });
    assert.equal(noCode.code, USAGE, noCode.stderr);
    assert.match(noCode.stderr, /a two-factor code \(--mfa-code\) is required/);
    const badCode = await run(w, dir, ['password', 'change', '--password-stdin', '--mfa-code', '000000'], { input: `${next}\n${PASSWORD}\n` });
    assert.equal(badCode.code, AUTH, badCode.stderr);
    assert.match(badCode.stderr, /the two-factor code is not valid/);
    // The code from stdin, between the current and the new password.
    await ok(w, dir, ['password', 'change', '--password-stdin'], { input: `${next}\n${backupCodes[0]}\n${PASSWORD}\n` });
    await ok(w, other, ['login', '--password-stdin', '--mfa-code', backupCodes[1]], { input: `${PASSWORD}\n` });
  });

  test('password change on a terminal: the rules, then a refused new password asked again', async () => {
    const u = await user(w, 'pt');
    const next = marker(w, 'ttypw');
    const t = tty(w, u.devices[0], ['password', 'change']);
    await t.waitOut('Current password: ');
    t.type(PASSWORD);
    await t.waitOut('A password: 10 to 1024 characters');
    await t.waitOut('New password: ');
    t.type(u.email.toUpperCase());
    await t.waitOut('The same again: ');
    t.type(u.email.toUpperCase());
    await t.waitOut('the new password may not be your email address');
    await t.waitOut('New password: ', 2);
    t.type(next);
    await t.waitOut('The same again: ', 2);
    t.type(next);
    assert.equal(await t.done(), 0, t.out);
    assert.match(t.out, /Password changed/);
    const dir = path.join(w.root, `${u.name}-new`);
    w.profiles.push(dir);
    await ok(w, dir, ['login', '--email', u.email, '--password-stdin'], { input: `${next}\n` });
  });

  test('password forgot and reset: the link from the mail sets a new password and ends every session', async () => {
    const u = await user(w, 'pr');
    const dir = u.devices[0];
    await verifyEmail(w.srv, u.email); // an unverified address gets no reset link
    const stranger = path.join(w.root, 'no-profile-here');
    const f = await ok(w, stranger, ['password', 'forgot', '--email', u.email, '--json']);
    assert.deepEqual(JSON.parse(f.stdout), { requested: true });
    assert.ok(!existsSync(stranger), 'forgot made a profile');
    const none = await ok(w, stranger, ['password', 'forgot', '--email', 'nobody-at-all@example.org']);
    assert.match(none.stdout, /If this address belongs to an account/); // the same answer
    const mail = await waitFor(() => outbox(w.srv).filter((m) => m.to === u.email && mailToken(m, 'reset-password')).pop());
    const link = mail.body.match(/\S*reset-password\?token=[A-Za-z0-9_-]{43}/)[0];

    const bad = await run(w, stranger, ['password', 'reset', '--password-stdin'], { input: `${'A'.repeat(43)}\n${PASSWORD}x\n` });
    assert.equal(bad.code, REFUSED, bad.stderr);
    assert.match(bad.stderr, /not valid or has expired/);
    const short = await run(w, stranger, ['password', 'reset', '--password-stdin'], { input: `${link}\nshort\n` });
    assert.equal(short.code, REFUSED, short.stderr);
    assert.match(short.stderr, /the new password is too short: at least 10 characters/);
    const next = marker(w, 'resetpw');
    const r = await ok(w, stranger, ['password', 'reset', '--password-stdin'], { input: `${link}\n${next}\n` });
    assert.match(r.stdout, /Password reset/);
    assert.equal((await run(w, dir, ['whoami'])).code, AUTH); // every session ended
    await ok(w, dir, ['login', '--password-stdin'], { input: `${next}\n` });
    const again = await run(w, stranger, ['password', 'reset', '--password-stdin'], { input: `${link}\n${next}y\n` });
    assert.equal(again.code, REFUSED, again.stderr); // single use
  });

  test('devices rename', async () => {
    const u = await user(w, 'dr');
    await addDevice(w, u);
    const other = (await me(w, u.devices[1])).deviceId;
    const r = await ok(w, u.devices[0], ['devices', 'rename', other, 'Kitchen laptop', '--json']);
    assert.equal(JSON.parse(r.stdout).name, 'Kitchen laptop');
    const list = JSON.parse((await ok(w, u.devices[0], ['devices', '--json'])).stdout);
    assert.equal(list.find((d) => d.id === other).name, 'Kitchen laptop');
    assert.match((await ok(w, u.devices[0], ['devices'])).stdout, /Kitchen laptop/);
    assert.equal((await run(w, u.devices[0], ['devices', 'rename', 'not-an-id', 'x'])).code, USAGE);
    const missing = await run(w, u.devices[0], ['devices', 'rename', '00000000-0000-4000-8000-000000000000', 'x']);
    assert.equal(missing.code, NOTFOUND, missing.stderr);
    const bidi = await run(w, u.devices[0], ['devices', 'rename', other, 'evil\u202egnp.exe']);
    assert.equal(bidi.code, REFUSED, bidi.stderr);
    assert.match(bidi.stderr, /the name has characters that are not allowed/);
    const long = await run(w, u.devices[0], ['devices', 'rename', other, 'x'.repeat(101)]);
    assert.equal(long.code, REFUSED, long.stderr);
    assert.match(long.stderr, /the name is too long: at most 100 characters/);
  });

  test('account delete: confirmation, password and code; the account and the local profile are gone', async () => {
    const u = await user(w, 'ad');
    const peer = await user(w, 'ap');
    const m = marker(w, 'beforedelete');
    await send(w, u, peer, m);
    assert.deepEqual((await sync(w, peer.devices[0])).map((x) => x.text), [m]);
    const dir = u.devices[0];
    const { backupCodes } = await enableMfa(w, dir);

    const noYes = await run(w, dir, ['account', 'delete', '--password-stdin', '--mfa-code', backupCodes[0]], { input: `${PASSWORD}\n` });
    assert.equal(noYes.code, USAGE, noYes.stderr);
    assert.match(noYes.stderr, /FOR GOOD/);
    assert.match(noYes.stderr, /nothing deleted/);
    const t = tty(w, dir, ['account', 'delete']);
    await t.waitOut('Type the username');
    t.type(`${u.name}x`);
    assert.equal(await t.done(), USAGE, t.out);
    assert.match(t.out, /nothing deleted/);
    const wrong = await run(w, dir, ['account', 'delete', '--yes', '--password-stdin', '--mfa-code', backupCodes[0]], { input: 'wrong password!\n' });
    assert.equal(wrong.code, AUTH, wrong.stderr);
    const noCode = await run(w, dir, ['account', 'delete', '--yes', '--password-stdin'], { input: `${PASSWORD}\n` });
    assert.equal(noCode.code, USAGE, noCode.stderr);
    await ok(w, dir, ['whoami']); // still there

    const r = await ok(w, dir, ['account', 'delete', '--yes', '--password-stdin', '--json'], { input: `${PASSWORD}\n${backupCodes[1]}\n` });
    assert.deepEqual(JSON.parse(r.stdout), { deleted: true });
    assert.ok(!existsSync(dir) || readdirSync(dir).length === 0, 'the local profile is still there');
    const gone = await run(w, peer.devices[0], ['send', u.name, 'anyone there?']);
    assert.equal(gone.code, NOTFOUND, gone.stderr);
    const login = await run(w, path.join(w.root, `${u.name}-again`), ['login', '--email', u.email, '--password-stdin'], { input: `${PASSWORD}\n` });
    assert.equal(login.code, AUTH, login.stderr);
  });

  test('account delete on a terminal: the username typed back, then the password', async () => {
    const u = await user(w, 'at');
    const t = tty(w, u.devices[0], ['account', 'delete']);
    await t.waitOut('Type the username');
    assert.match(t.out, /FOR GOOD[\s\S]*cannot be\s+(?:!!! )?undone/);
    t.type(u.name);
    await t.waitOut('Password: ');
    t.type(PASSWORD);
    assert.equal(await t.done(), 0, t.out);
    assert.match(t.out, /The account is deleted/);
    assert.ok(!t.out.includes(PASSWORD), 'the password was echoed');
    const gone = await run(w, path.join(w.root, `${u.name}-again`), ['login', '--email', u.email, '--password-stdin'], { input: `${PASSWORD}\n` });
    assert.equal(gone.code, AUTH, gone.stderr);
  });

  test('no backup code on the server or in the profiles', () => {
    assert.ok(shownCodes.length >= 40);
    const hits = [];
    const places = [...files(w.srv.dataDir), ...w.profiles.flatMap((p) => [...files(p)])];
    for (const c of shownCodes) {
      const forms = [c, Buffer.from(c).toString('hex')];
      if (w.srv.log.includes(c)) hits.push(`sottod log: ${c}`);
      for (const f of places) {
        const text = readFileSync(f).toString('latin1');
        if (forms.some((x) => text.includes(x))) hits.push(`${f}: ${c}`);
      }
    }
    assert.deepEqual(hits, []);
  });

  test('no password or message text on the server or in the profiles', () => assertNoPlaintext(w));
});
