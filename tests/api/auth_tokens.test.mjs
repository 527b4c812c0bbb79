// @stores sqlite,pg
// Access tokens (tampered, expired, alg none, revoked device), refresh rotation and reuse
// detection, the web cookie path and its Origin check, logout, logout-all, device revocation,
// and one user's token on another's resources.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, jwt } from './lib/crypto.mjs';
import { JWT_SECRET, login, registerUser, sql, startAuthServer } from './lib/api.mjs';

let srv;
before(async () => { srv = await startAuthServer({ CORS_ORIGINS: 'https://app.example.org' }); });
after(async () => { await srv?.stop(); });

const me = (token) => srv.api('GET', '/api/users/me', { token });
const refresh = (body, headers) => srv.api('POST', '/api/auth/refresh', { body, headers });
function expect401(r, code = 'unauthenticated') {
  assert.equal(r.status, 401, JSON.stringify(r.body));
  assert.equal(r.body.error.code, code);
}

describe('access tokens', () => {
  let u, claims;
  before(async () => { u = await registerUser(srv); claims = decodeJwt(u.token); });

  test('claims: user, device, token id, 15 minutes', () => {
    assert.equal(claims.sub, u.userId);
    assert.equal(claims.dev, u.deviceId);
    assert.match(claims.jti, /^[0-9a-f-]{36}$/);
    assert.equal(claims.exp - claims.iat, 900);
  });

  test('missing, malformed and non-Bearer tokens: 401 unauthenticated', async () => {
    expect401(await me(undefined));
    expect401(await me('garbage'));
    expect401(await srv.api('GET', '/api/users/me', { headers: { authorization: `Basic ${u.token}` } }));
    expect401(await me('a.b.c'));
    expect401(await me('x'.repeat(1500)));
    // Beyond libwebsockets' header space the connection is dropped; the server stays up.
    await fetch(srv.url('/api/users/me'), { headers: { authorization: `Bearer ${'x'.repeat(9000)}` } }).catch(() => {});
    assert.equal((await fetch(srv.url('/healthz'))).status, 200);
  });

  test('a tampered token: 401', async () => {
    const [h, , s] = u.token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: '00000000-0000-4000-8000-000000000000' })).toString('base64url');
    expect401(await me(`${h}.${forged}.${s}`));
    expect401(await me(u.token.slice(0, -2) + (u.token.endsWith('AA') ? 'BB' : 'AA')));
  });

  test('alg none and other algorithms: 401', async () => {
    expect401(await me(jwt(claims, null, { alg: 'none', typ: 'JWT' })));
    expect401(await me(jwt(claims, null, { alg: 'none' }).slice(0, -1)));
    expect401(await me(jwt(claims, JWT_SECRET, { alg: 'HS512', typ: 'JWT' })));
  });

  test('an expired token: 401 token_expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect401(await me(jwt({ ...claims, iat: now - 1000, exp: now - 100 }, JWT_SECRET)), 'token_expired');
  });

  test('a well-signed token for a device that does not exist: 401', async () => {
    expect401(await me(jwt({ ...claims, dev: '00000000-0000-4000-8000-000000000000' }, JWT_SECRET)));
  });

  test("a token whose device belongs to someone else: 401", async () => {
    const v = await registerUser(srv);
    expect401(await me(jwt({ ...claims, dev: v.deviceId }, JWT_SECRET)));
  });
});

describe('refresh', () => {
  test('rotates on every use; a rotated token coming back revokes the family', async () => {
    const u = await registerUser(srv);
    const r1 = await refresh({ refreshToken: u.refresh });
    assert.equal(r1.status, 200);
    const t1 = r1.body.tokens;
    assert.notEqual(t1.refreshToken, u.refresh);
    assert.equal((await me(t1.accessToken)).status, 200);
    const r2 = await refresh({ refreshToken: t1.refreshToken });
    assert.equal(r2.status, 200);
    const t2 = r2.body.tokens;
    assert.equal((await me(t2.accessToken)).status, 200);
    expect401(await refresh({ refreshToken: t1.refreshToken }));
    expect401(await refresh({ refreshToken: t2.refreshToken }));
    // The access tokens minted from the copied family stop at once, not after 15 minutes.
    expect401(await me(t2.accessToken));
    expect401(await me(t1.accessToken));
    const rows = sql(srv, `SELECT action, success FROM audit_log WHERE user_id = '${u.userId}' AND action = 'refresh_reuse'`);
    assert.equal(rows.length, 1);
  });

  test('other logins stay when one family is revoked', async () => {
    const u = await registerUser(srv);
    const other = await login(srv, u);
    const r1 = await refresh({ refreshToken: u.refresh });
    await refresh({ refreshToken: u.refresh });
    assert.equal(r1.status, 200);
    assert.equal((await refresh({ refreshToken: other.body.tokens.refreshToken })).status, 200);
  });

  test('unknown, malformed and missing tokens', async () => {
    expect401(await refresh({ refreshToken: 'A'.repeat(43) }));
    expect401(await refresh({ refreshToken: 'short' }));
    let r = await refresh({});
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'validation_failed');
    r = await refresh({ refreshToken: 7 });
    assert.equal(r.body.error.details.reason, 'wrong_type');
    r = await srv.api('POST', '/api/auth/refresh', { raw: 'not json', headers: { 'content-type': 'application/json' } });
    assert.equal(r.body.error.code, 'invalid_json');
  });

  test('web: the cookie works only with an allowed Origin, and rotates', async () => {
    const u = await registerUser(srv, { platform: 'web' });
    const cookie = u.res.cookie.split(';')[0];
    let r = await srv.api('POST', '/api/auth/refresh', { headers: { cookie } });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'forbidden');
    r = await srv.api('POST', '/api/auth/refresh', { headers: { cookie, origin: 'https://evil.example' } });
    assert.equal(r.status, 403);
    r = await srv.api('POST', '/api/auth/refresh', { headers: { cookie, origin: `http://localhost:${srv.port}` } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.tokens.refreshToken, undefined);
    const next = r.cookie.split(';')[0];
    assert.notEqual(next, cookie);
    assert.ok(r.cookie.includes('HttpOnly') && r.cookie.includes('Path=/api/auth'));
    r = await srv.api('POST', '/api/auth/refresh', { headers: { cookie: `a=b; ${next}`, origin: 'https://app.example.org' } });
    assert.equal(r.status, 200, 'an origin from CORS_ORIGINS');
    expect401(await srv.api('POST', '/api/auth/refresh', { headers: { cookie, origin: `http://localhost:${srv.port}` } }));
  });
});

// A POST /api/auth/refresh with the cookie, an Origin and a Host of the test's choosing (fetch
// sets Host itself).
function refreshAs(cookie, origin, host) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, path: '/api/auth/refresh', method: 'POST',
      headers: { cookie, origin, host, 'content-length': 0 } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, cookie: (res.headers['set-cookie'] || [''])[0] }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the refresh cookie on another address of this server (issue 20)', () => {
  test('the app opened at 127.0.0.1 or a LAN name keeps its session; other sites and schemes do not', async () => {
    const u = await registerUser(srv, { platform: 'web' });
    let cookie = u.res.cookie.split(';')[0];
    const self = `127.0.0.1:${srv.port}`;
    // the request's own origin: PUBLIC_URL's scheme (http here) and the Host the browser sent
    let r = await refreshAs(cookie, `http://${self}`, self);
    assert.equal(r.status, 200);
    cookie = r.cookie.split(';')[0];
    r = await refreshAs(cookie, 'http://sotto.lan:8080', 'sotto.lan:8080');
    assert.equal(r.status, 200, 'a LAN name, as the browser sent it');
    cookie = r.cookie.split(';')[0];
    for (const [origin, host, why] of [
      [`http://${self}`, 'evil.example', 'another site\'s Host'],
      ['http://evil.example', self, 'another site\'s Origin'],
      [`https://${self}`, self, 'another scheme'],
      [`http://${self}`, `${self}/x`, 'a Host with a path'],
      [`http://evil.example@${self}`, `evil.example@${self}`, 'userinfo in the Host'],
      ['null', 'null', 'an opaque origin'],
    ]) {
      assert.equal((await refreshAs(cookie, origin, host)).status, 403, why);
    }
    assert.equal((await refreshAs(cookie, `HTTP://${self.toUpperCase()}`, self)).status, 200, 'case does not matter');
    assert.match(srv.log, /auth\.refresh_origin_refused.*origin=http:\/\/evil\.example .*set PUBLIC_URL/,
      'the log says what to set');
  });
});

describe('logout and revocation', () => {
  test('logout ends this device\'s refresh tokens and clears the cookie; the device stays', async () => {
    const u = await registerUser(srv);
    const other = await login(srv, u);
    const r = await srv.api('POST', '/api/auth/logout', { token: u.token });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { success: true });
    assert.match(r.cookie, /sotto_refresh=; .*Max-Age=0/);
    expect401(await refresh({ refreshToken: u.refresh }));
    assert.equal((await refresh({ refreshToken: other.body.tokens.refreshToken })).status, 200);
    const list = await srv.api('GET', '/api/users/me/devices', { token: other.body.tokens.accessToken });
    assert.ok(list.body.some((d) => d.id === u.deviceId));
    expect401(await srv.api('POST', '/api/auth/logout', {}));
  });

  test('logout-all ends every refresh token of the account', async () => {
    const u = await registerUser(srv);
    const other = await login(srv, u);
    assert.equal((await srv.api('POST', '/api/auth/logout-all', { token: u.token })).status, 200);
    expect401(await refresh({ refreshToken: u.refresh }));
    expect401(await refresh({ refreshToken: other.body.tokens.refreshToken }));
    expect401(await srv.api('POST', '/api/auth/logout-all', {}));
  });

  test("a revoked device's tokens stop at once", async () => {
    const u = await registerUser(srv);
    const other = await login(srv, u);
    const otherTok = other.body.tokens.accessToken;
    assert.equal((await me(otherTok)).status, 200);
    const r = await srv.api('DELETE', `/api/users/devices/${other.body.device.id}`, { token: u.token });
    assert.equal(r.status, 200);
    const after1 = await me(otherTok);
    assert.equal(after1.status, 403);
    assert.equal(after1.body.error.code, 'forbidden');
    assert.deepEqual(after1.body.error.details, { reason: 'device_revoked' }); // not "blocked", say
    expect401(await refresh({ refreshToken: other.body.tokens.refreshToken }));
    const list = await srv.api('GET', '/api/users/me/devices', { token: u.token });
    assert.ok(!list.body.some((d) => d.id === other.body.device.id));
    const again = await srv.api('DELETE', `/api/users/devices/${other.body.device.id}`, { token: u.token });
    assert.equal(again.status, 404);
    const rows = sql(srv, `SELECT count(*) FROM audit_log WHERE action = 'device_revoke' AND device_id = '${other.body.device.id}'`);
    assert.equal(rows[0][0], '1');
  });
});

describe("one user's token on another's resources", () => {
  test("A cannot revoke B's device or see B's private profile", async () => {
    const a = await registerUser(srv);
    const b = await registerUser(srv);
    const r = await srv.api('DELETE', `/api/users/devices/${b.deviceId}`, { token: a.token });
    assert.equal(r.status, 404);
    assert.equal((await me(b.token)).status, 200, "B's device still works");
    const pub = await srv.api('GET', `/api/users/${b.userId}`, { token: a.token });
    assert.equal(pub.status, 200);
    assert.equal(pub.body.email, undefined, 'public form has no email');
    assert.equal((await me(a.token)).body.id, a.userId);
    const logout = await srv.api('POST', '/api/auth/logout', { token: a.token });
    assert.equal(logout.status, 200);
    assert.equal((await refresh({ refreshToken: b.refresh })).status, 200, "A's logout leaves B alone");
  });
});
