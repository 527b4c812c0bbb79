// E2E 7: the account commands and their exit codes: whoami, users search, devices list and
// revoke, block/unblock, logout and signing in again as the same device, MFA at login, and
// the documented codes for usage, network, auth and unknown-user errors.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { totp } from '../api/lib/crypto.mjs';
import { registerUser } from '../api/lib/api.mjs';
import { addDevice, assertNoPlaintext, history, marker, ok, run, send, sync, user, world } from './lib/e2e.mjs';

const USAGE = 1, NET = 2, AUTH = 3, NOTFOUND = 5, REFUSED = 7;

describe('account commands', () => {
  let w, a, b;
  before(async () => {
    w = await world();
    a = await user(w, 'a');
    b = await user(w, 'b');
    await addDevice(w, b);
  });
  after(async () => { await w?.close(); });

  const json = async (dev, args) => JSON.parse((await ok(w, dev, [...args, '--json'])).stdout);

  test('whoami, users search, devices list', async () => {
    const me = await json(a.devices[0], ['whoami']);
    assert.equal(me.username, a.name);
    assert.equal(me.email, a.email);
    const found = await json(a.devices[0], ['users', 'search', b.name]);
    assert.ok(found.users.some((u) => u.username === b.name));
    const devs = await json(b.devices[0], ['devices']);
    assert.equal(devs.length, 2);
    assert.equal(devs.filter((d) => d.current).length, 1);
  });

  test('a revoked device is told so (exit 3) and gets nothing more', async () => {
    const other = JSON.parse((await ok(w, b.devices[1], ['whoami', '--json'])).stdout).deviceId;
    await ok(w, b.devices[0], ['devices', 'revoke', other]);
    const r = await run(w, b.devices[1], ['sync']);
    assert.equal(r.code, AUTH, r.stderr);
    const s = await run(w, b.devices[1], ['send', a.name, marker(w, 'fromrevoked')]); // REST, not the socket
    assert.equal(s.code, AUTH, s.stderr);
    assert.match(s.stderr, /this device was revoked/);
    // Sending to b now targets only the remaining device (the server's list changed).
    const m = marker(w, 'afterrevoke');
    await send(w, a, b, m);
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [m]);
  });

  test('block and unblock; a message refused by the block shows failed and is never resent', async () => {
    await ok(w, b.devices[0], ['block', a.name]);
    assert.deepEqual((await json(b.devices[0], ['blocked'])).map((u) => u.username), [a.name]);
    const refused = marker(w, 'blocked');
    const r = await run(w, a.devices[0], ['send', b.name, refused]);
    assert.equal(r.code, REFUSED, r.stderr);
    const status = async () => (await history(w, a.devices[0], b)).find((x) => x.text === refused)?.status;
    assert.equal(await status(), 'failed'); // not "pending" forever
    await ok(w, b.devices[0], ['unblock', a.name]);
    assert.deepEqual(await json(b.devices[0], ['blocked']), []);
    assert.match((await ok(w, b.devices[0], ['blocked'])).stderr, /have not blocked anyone/);
    const m = marker(w, 'unblocked');
    await send(w, a, b, m); // flushes the outbox first: the refused one must not go out now
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [m]);
    assert.equal(await status(), 'failed');
  });

  test('logout, then login again as the same device (proof), sessions intact', async () => {
    const before_ = JSON.parse((await ok(w, a.devices[0], ['whoami', '--json'])).stdout).deviceId;
    await ok(w, a.devices[0], ['logout']);
    assert.equal((await run(w, a.devices[0], ['whoami'])).code, AUTH);
    await ok(w, a.devices[0], ['login', '--password-stdin'], { input: 'correct horse battery staple\n' });
    const after_ = JSON.parse((await ok(w, a.devices[0], ['whoami', '--json'])).stdout).deviceId;
    assert.equal(after_, before_);
    const m = marker(w, 'relogin');
    await send(w, a, b, m);
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [m]);
  });

  test('login with MFA: refused without a code, accepted with one', async () => {
    const u = await registerUser(w.srv);
    const post = (p, body) => w.srv.api('POST', `/api/auth/mfa/${p}`, { token: u.token, body });
    const { secret, backupCodes } = (await post('enable', { password: u.password })).body;
    assert.equal((await post('verify', { code: totp(secret) })).status, 200);
    const dir = path.join(w.root, 'mfa-1');
    w.profiles.push(dir);
    const no = await run(w, dir, ['login', '--email', u.email, '--password-stdin'], { input: `${u.password}\n` });
    assert.equal(no.code, USAGE, no.stderr); // no terminal to ask on, no --mfa-code
    assert.match(no.stderr, /MFA code/);
    const bad = await run(w, dir, ['login', '--email', u.email, '--password-stdin', '--mfa-code', '000000'],
      { input: `${u.password}\n` });
    assert.equal(bad.code, AUTH, bad.stderr);
    await ok(w, dir, ['login', '--email', u.email, '--password-stdin', '--mfa-code', backupCodes[0]],
      { input: `${u.password}\n` });
  });

  test('exit codes: usage, unknown user, unreachable server, not logged in', async () => {
    assert.equal((await run(w, a.devices[0], ['send', b.name])).code, USAGE);
    assert.equal((await run(w, a.devices[0], ['frobnicate'])).code, USAGE);
    assert.equal((await run(w, a.devices[0], ['send', 'nosuchuser_zz', 'x'])).code, NOTFOUND);
    const down = await run({ srv: { base: 'http://127.0.0.1:1' } }, a.devices[0], ['whoami']);
    assert.equal(down.code, NET, down.stderr);
    assert.equal((await run(w, path.join(w.root, 'empty'), ['whoami'])).code, AUTH);
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
