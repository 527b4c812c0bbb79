// @stores sqlite,pg
// Logout that really logs out: after POST /api/auth/logout, /logout-all and /reset-password the
// access tokens already issued stop at once (401 unauthenticated), also one minted in the same
// second just before, while a login right after (same second) works; the sockets of the ended
// devices close with 4401 and an old token can neither authenticate nor re-authenticate.
// A revocation still closes with 4403, and only after it succeeded.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from './lib/crypto.mjs';
import { login, mailToken, outbox, registerUser, startAuthServer, verifyEmail, waitFor } from './lib/api.mjs';
import { userWithDevices, wsConnect } from './lib/rt.mjs';

let srv;
before(async () => { srv = await startAuthServer(); });
after(async () => { await srv?.stop(); });

const me = (token) => srv.api('GET', '/api/users/me', { token });
const logout = (token) => srv.api('POST', '/api/auth/logout', { token });
const logoutAll = (token) => srv.api('POST', '/api/auth/logout-all', { token });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function expect401(r) {
  assert.equal(r.status, 401, JSON.stringify(r.body));
  assert.equal(r.body.error.code, 'unauthenticated');
}

// Waits until the wall clock is early in a second, so a few quick requests share it.
async function earlyInSecond() {
  while (Date.now() % 1000 > 150) await sleep(10);
}

// Signs in again as u's device with a proof (api.md: Auth, login).
const asDevice = (u) => login(srv, u, { device: { name: 'laptop', platform: 'cli', id: u.deviceId, ...u.device.proof(u.email) } });

// Authenticate on a fresh socket with a token: the error code and the close code.
async function refused(token) {
  const c = await wsConnect(srv, null);
  c.send({ event: 'authenticate', data: { token }, id: 'a' });
  const err = await c.event('error');
  return { code: err.data.code, close: (await c.closed).code };
}

async function alive(c) {
  assert.equal((await c.request('queue:ack', { seq: 0 })).event, 'ack');
}

describe('logout', () => {
  test('access tokens carry their issue time to the millisecond: the jti is a UUIDv7 within iat', async () => {
    const u = await registerUser(srv);
    const c = decodeJwt(u.token);
    assert.match(c.jti, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt(c.jti.replace(/-/g, '').slice(0, 12), 16);
    assert.equal(Math.floor(ms / 1000), c.iat);
    assert.ok(Math.abs(ms - Date.now()) < 60000);
  });

  test('the access token in hand stops at once, also one minted in the same second; a login right after works', async () => {
    let u, minted, fresh;
    // Retried until minting, logout and the new login fall in one second (they take
    // milliseconds; a slow machine may straddle a boundary now and then).
    for (let attempt = 0; attempt < 5; attempt += 1) {
      u = await registerUser(srv);
      await earlyInSecond();
      const r = await srv.api('POST', '/api/auth/refresh', { body: { refreshToken: u.refresh } });
      assert.equal(r.status, 200);
      minted = r.body.tokens.accessToken;
      assert.equal((await me(minted)).status, 200);
      assert.equal((await logout(u.token)).status, 200);
      fresh = await asDevice(u);
      assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
      assert.equal(fresh.body.device.id, u.deviceId, 'the same device');
      if (decodeJwt(minted).iat === decodeJwt(fresh.body.tokens.accessToken).iat) break;
    }
    assert.equal(decodeJwt(minted).iat, decodeJwt(fresh.body.tokens.accessToken).iat, 'one second');
    expect401(await me(u.token));
    expect401(await me(minted));
    expect401(await logout(minted));
    expect401(await srv.api('GET', '/api/users/me/devices', { token: u.token }));
    assert.equal((await me(fresh.body.tokens.accessToken)).status, 200, 'minted after the logout');
    const rt = await srv.api('POST', '/api/auth/refresh', { body: { refreshToken: fresh.body.tokens.refreshToken } });
    assert.equal(rt.status, 200, 'the new session refreshes');
    assert.equal((await me(rt.body.tokens.accessToken)).status, 200);
  });

  test('a new device login works and the other devices keep their tokens', async () => {
    const u = await registerUser(srv);
    const other = await login(srv, u);
    assert.equal((await logout(u.token)).status, 200);
    expect401(await me(u.token));
    assert.equal((await me(other.body.tokens.accessToken)).status, 200);
    const again = await login(srv, u);
    assert.equal(again.status, 200);
    assert.equal((await me(again.body.tokens.accessToken)).status, 200);
  });

  test("closes this device's socket with 4401, not the others'; the old token cannot authenticate", async () => {
    const u = await userWithDevices(srv, 2);
    const c0 = await wsConnect(srv, u.devices[0].token);
    const c1 = await wsConnect(srv, u.devices[1].token);
    assert.equal((await logout(u.devices[0].token)).status, 200);
    assert.equal((await c0.closed).code, 4401);
    await alive(c1);
    assert.deepEqual(await refused(u.devices[0].token), { code: 'unauthenticated', close: 4401 });
    await c1.close();
  });

  test('re-authenticate on an open socket with a token from before the logout fails and closes it', async () => {
    const u = await registerUser(srv);
    const old = u.token;
    assert.equal((await logout(old)).status, 200);
    const fresh = await asDevice(u);
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    const c = await wsConnect(srv, fresh.body.tokens.accessToken);
    await alive(c);
    const r = await c.request('authenticate', { token: old });
    assert.equal(r.event, 'error');
    assert.equal(r.data.code, 'unauthenticated');
    assert.equal((await c.closed).code, 4401);
  });

  test('an authenticate racing the logout never leaves the socket open', async () => {
    for (let i = 0; i < 8; i += 1) {
      const u = await registerUser(srv);
      const c = await wsConnect(srv, null);
      c.send({ event: 'authenticate', data: { token: u.token }, id: 'a' });
      if (i % 2) await sleep(i);
      assert.equal((await logout(u.token)).status, 200);
      const closed = await Promise.race([c.closed, sleep(3000).then(() => null)]);
      assert.ok(closed, `round ${i}: the socket stayed open`);
      assert.equal(closed.code, 4401);
    }
  });
});

describe('logout-all', () => {
  test("ends every device's access tokens and sockets (4401); other accounts are untouched", async () => {
    const u = await userWithDevices(srv, 3);
    const v = await userWithDevices(srv, 1);
    const socks = await Promise.all(u.devices.map((d) => wsConnect(srv, d.token)));
    const vs = await wsConnect(srv, v.token);
    assert.equal((await logoutAll(u.devices[1].token)).status, 200);
    for (const c of socks) assert.equal((await c.closed).code, 4401);
    for (const d of u.devices) expect401(await me(d.token));
    for (const d of u.devices) assert.deepEqual(await refused(d.token), { code: 'unauthenticated', close: 4401 });
    assert.equal((await me(v.token)).status, 200);
    await alive(vs);
    await vs.close();
    const again = await login(srv, u);
    assert.equal(again.status, 200);
    assert.equal((await me(again.body.tokens.accessToken)).status, 200);
    const c = await wsConnect(srv, again.body.tokens.accessToken);
    await alive(c);
    await c.close();
  });
});

describe('reset-password', () => {
  test("ends every device's access tokens and sockets (4401)", async () => {
    const u = await userWithDevices(srv, 2);
    await verifyEmail(srv, u.email);
    const socks = await Promise.all(u.devices.map((d) => wsConnect(srv, d.token)));
    assert.equal((await srv.api('POST', '/api/auth/forgot-password', { body: { email: u.email } })).status, 202);
    const mail = await waitFor(() => outbox(srv).find((m) => m.to === u.email && m.body.includes('reset-password?token=')));
    // A refused password changes nothing: the tokens and sockets stay.
    const token = mailToken(mail, 'reset-password');
    let r = await srv.api('POST', '/api/auth/reset-password', { body: { token, newPassword: u.email } });
    assert.equal(r.status, 400);
    assert.equal((await me(u.devices[0].token)).status, 200);
    await alive(socks[0]);
    r = await srv.api('POST', '/api/auth/reset-password', { body: { token, newPassword: 'a brand new password' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    for (const c of socks) assert.equal((await c.closed).code, 4401);
    for (const d of u.devices) expect401(await me(d.token));
    const again = await login(srv, { ...u, password: 'a brand new password' });
    assert.equal(again.status, 200);
    assert.equal((await me(again.body.tokens.accessToken)).status, 200);
  });
});

describe('revocation', () => {
  test('still closes with 4403, and only once it succeeded', async () => {
    const u = await userWithDevices(srv, 2);
    const v = await userWithDevices(srv, 1);
    const c = await wsConnect(srv, u.devices[1].token);
    const vs = await wsConnect(srv, v.token);
    // Someone else's device: 404, and its socket stays.
    assert.equal((await srv.api('DELETE', `/api/users/devices/${v.deviceId}`, { token: u.token })).status, 404);
    await alive(vs);
    assert.equal((await srv.api('DELETE', `/api/users/devices/${u.devices[1].id}`, { token: u.token })).status, 200);
    assert.equal((await c.closed).code, 4403);
    assert.deepEqual(await refused(u.devices[1].token), { code: 'forbidden', close: 4403 });
    await vs.close();
  });
});
