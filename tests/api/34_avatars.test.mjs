// @stores sqlite,pg
// Profile pictures (PUT/DELETE /api/users/me/avatar, GET /api/users/{id}/avatar): public, so
// the server decodes them, and hostile, so it keeps only its own re-encoding. PNG, JPEG and
// WebP are taken and re-encoded (a marker hidden in each upload's metadata is gone from what
// is served); text, SVG and HTML sent as a PNG are 415 by their content; a body over the cap
// is 413; a header declaring 30000 x 30000 pixels is refused before any decode, with no jump
// in the server's memory; the served picture carries nosniff, a sandboxing CSP, its type, a
// version-pinned cache and an ETag; removal, account deletion and a PATCHed URL remove it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { PASSWORD, registerUser, sql, startAuthServer } from './lib/api.mjs';
import { fixture, jpegWithMarker, png, pngBomb, webpSize, webpWithMarker } from './lib/images.mjs';
import { checkResponse } from './lib/openapi.mjs';

const MARKER = 'SOTTO-GPS-48.8584N-2.2945E';

let srv;
before(async () => { srv = await startAuthServer({ RATE_LIMIT_AVATAR: '6/3600' }); });
after(async () => { await srv?.stop(); });

const put = (u, bytes, type = 'image/png') => srv.api('PUT', '/api/users/me/avatar', {
  token: u?.token, raw: bytes, headers: { 'content-type': type },
});

// A GET of the picture without a token, its bytes whole.
async function fetchAvatar(p, headers = {}) {
  const res = await fetch(srv.url(p), { headers });
  const bytes = Buffer.from(await res.arrayBuffer());
  const ct = res.headers.get('content-type') || '';
  checkResponse('GET', p, res.status, ct, ct.startsWith('application/json') ? JSON.parse(bytes) : '',
    Object.fromEntries(res.headers.entries()));
  return { status: res.status, headers: res.headers, bytes };
}

function rssKiB(pid) {
  return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m)[1]);
}

describe('upload and serve', () => {
  let u;
  before(async () => { u = await registerUser(srv); });

  const cases = [
    ['PNG', () => png(64, 48, MARKER), 'image/png'],
    ['JPEG', () => jpegWithMarker(fixture('jpeg', 1200, 600), MARKER), 'image/jpeg'],
    ['WebP', () => webpWithMarker(fixture('webp', 100, 80), MARKER), 'image/webp'],
  ];
  for (const [name, make, type] of cases) {
    test(`${name}: taken, re-encoded without its metadata, served safely`, async () => {
      const upload = make();
      assert.ok(upload.includes(MARKER), 'the marker is in the upload');
      const r = await put(u, upload, type);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.match(r.body.avatarUrl, new RegExp(`^/api/users/${u.userId}/avatar\\?v=\\d+$`));
      const me = await srv.api('GET', '/api/users/me', { token: u.token });
      assert.equal(me.body.avatarUrl, r.body.avatarUrl);
      const other = await registerUser(srv);
      const seen = await srv.api('GET', `/api/users/${u.userId}`, { token: other.token });
      assert.equal(seen.body.avatarUrl, r.body.avatarUrl, 'others see the URL');

      const g = await fetchAvatar(r.body.avatarUrl);
      assert.equal(g.status, 200);
      assert.equal(g.headers.get('content-type'), 'image/webp');
      assert.equal(g.headers.get('x-content-type-options'), 'nosniff');
      const csp = g.headers.get('content-security-policy');
      assert.ok(csp.includes("default-src 'none'") && csp.includes('sandbox'), csp);
      assert.match(g.headers.get('cache-control'), /immutable/);
      assert.ok(!g.bytes.equals(upload), 'the served bytes are a re-encoding');
      assert.ok(!g.bytes.includes(MARKER), 'no marker survives');
      const size = webpSize(g.bytes);
      assert.ok(size && size.w <= 512 && size.h <= 512, JSON.stringify(size));
      if (name === 'JPEG') assert.deepEqual(size, { w: 512, h: 256 }, 'scaled to fit, aspect kept');
      // Without the version it may change: asked again every time.
      const bare = await fetchAvatar(`/api/users/${u.userId}/avatar`);
      assert.equal(bare.status, 200);
      assert.equal(bare.headers.get('cache-control'), 'no-cache');
    });
  }

  test('versions grow; ETag and If-None-Match give 304', async () => {
    const v1 = (await put(u, png(20, 20))).body.avatarUrl;
    const v2 = (await put(u, png(30, 20))).body.avatarUrl;
    assert.notEqual(v1, v2);
    const g = await fetchAvatar(v2);
    const etag = g.headers.get('etag');
    assert.match(etag, /^"v\d+"$/);
    const again = await fetchAvatar(v2, { 'if-none-match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.bytes.length, 0);
    assert.equal((await fetchAvatar(v2, { 'if-none-match': '"v0"' })).status, 200);
    // Five uploads so far: RATE_LIMIT_AVATAR (6/3600 here) takes one more, then 429.
    assert.equal((await put(u, png(8, 8))).status, 200);
    const limited = await put(u, png(8, 8));
    assert.equal(limited.status, 429, 'RATE_LIMIT_AVATAR: six uploads an hour');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  });
});

describe('refusals', () => {
  test('text, SVG and HTML sent as a PNG are 415 by their content; other declared types too', async () => {
    const u = await registerUser(srv);
    for (const body of [
      'just some text, renamed to avatar.png\n',
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
      '<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>',
    ]) {
      const r = await put(u, Buffer.from(body), 'image/png');
      assert.equal(r.status, 415, body);
      assert.equal(r.body.error.code, 'unsupported_media_type');
      assert.equal(r.body.error.details.reason, 'image_type');
    }
    for (const type of ['image/svg+xml', 'text/html', 'application/octet-stream']) {
      assert.equal((await put(u, png(4, 4), type)).status, 415, type);
    }
    const empty = await put(u, Buffer.alloc(0));
    assert.equal(empty.status, 400);
    const broken = png(16, 16).subarray(0, 60); // a PNG cut inside its pixels
    const r = await put(u, broken);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.deepEqual(r.body.error.details, { field: 'image', reason: 'undecodable' });
    assert.equal((await srv.api('GET', '/api/users/me', { token: u.token })).body.avatarUrl, null);
    assert.equal(sql(srv, `SELECT count(*) FROM avatars WHERE user_id = '${u.userId}'`)[0][0], '0');
  });

  test('a body over 2 MiB is 413; no token is 401', async () => {
    const u = await registerUser(srv);
    let status;
    try {
      status = (await put(u, Buffer.alloc(2 * 1024 * 1024 + 1, 1))).status;
    } catch { status = 'cut'; } // the server may close before reading it all
    assert.ok(status === 413 || status === 'cut', String(status));
    assert.equal((await put(null, png(4, 4))).status, 401);
    assert.equal((await srv.api('DELETE', '/api/users/me/avatar')).status, 401);
  });

  test('a pixel bomb is refused from its header, without the memory to decode it', async () => {
    const u = await registerUser(srv);
    const before = rssKiB(srv.child.pid);
    for (const [w, h] of [[30000, 30000], [8193, 1], [4096, 4096]]) {
      const r = await put(u, pngBomb(w, h));
      assert.equal(r.status, 413, `${w}x${h}`);
      assert.equal(r.body.error.details.reason, 'dimensions');
    }
    // A JPEG whose frame header declares 60000 x 60000.
    const jpeg = Buffer.from(fixture('jpeg', 16, 16));
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    jpeg.writeUInt16BE(60000, sof + 5);
    jpeg.writeUInt16BE(60000, sof + 7);
    assert.equal((await put(u, jpeg, 'image/jpeg')).status, 413);
    const grew = rssKiB(srv.child.pid) - before;
    assert.ok(grew < 32 * 1024, `RSS grew by ${grew} KiB`);
  });
});

describe('removal', () => {
  test('DELETE removes it; a PATCHed URL replaces it; idempotent', async () => {
    const u = await registerUser(srv);
    const url = (await put(u, png(10, 10))).body.avatarUrl;
    let r = await srv.api('DELETE', '/api/users/me/avatar', { token: u.token });
    assert.equal(r.status, 200);
    assert.equal(r.body.avatarUrl, null);
    assert.equal((await fetchAvatar(url)).status, 404);
    assert.equal((await srv.api('GET', '/api/users/me', { token: u.token })).body.avatarUrl, null);
    assert.equal((await srv.api('DELETE', '/api/users/me/avatar', { token: u.token })).status, 200);

    const again = (await put(u, png(10, 10))).body.avatarUrl;
    assert.notEqual(again, url, 'a version is never reused');
    r = await srv.api('PATCH', '/api/users/me', { token: u.token, body: { avatarUrl: 'https://img.example.org/me.png' } });
    assert.equal(r.body.avatarUrl, 'https://img.example.org/me.png');
    assert.equal((await fetchAvatar(again)).status, 404, 'the uploaded one is gone');
    assert.equal((await fetchAvatar('/api/users/00000000-0000-4000-8000-000000000000/avatar')).status, 404);
    assert.equal((await fetchAvatar('/api/users/not-a-uuid/avatar')).status, 404);
  });

  test('deleting the account deletes its picture', async () => {
    const u = await registerUser(srv);
    const url = (await put(u, png(12, 12))).body.avatarUrl;
    assert.equal((await fetchAvatar(url)).status, 200);
    const del = await srv.api('DELETE', '/api/users/me', { token: u.token, body: { password: PASSWORD } });
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.equal((await fetchAvatar(url)).status, 404);
    assert.equal(sql(srv, `SELECT count(*) FROM avatars WHERE user_id = '${u.userId}'`)[0][0], '0');
  });
});
