// Static files from WEB_ROOT: types, cache headers, SPA fallback, traversal refusal.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertSecurityHeaders, rawRequest, startServer } from './lib/server.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv.stop(); });

test('/ serves index.html with no-cache', async () => {
  const res = await fetch(srv.url('/'));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.match(await res.text(), /sotto-fixture-index/);
  assertSecurityHeaders(assert, res);
});

test('hashed assets are immutable with the right types', async () => {
  const cases = [
    ['/assets/app-3f9a1c.js', 'text/javascript; charset=utf-8'],
    ['/assets/style-77aa01.css', 'text/css; charset=utf-8'],
    ['/assets/core-0b1d2e.wasm', 'application/wasm'],
  ];
  for (const [p, type] of cases) {
    const res = await fetch(srv.url(p));
    assert.equal(res.status, 200, p);
    assert.equal(res.headers.get('content-type'), type, p);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable', p);
    assertSecurityHeaders(assert, res);
  }
  const wasm = new Uint8Array(await (await fetch(srv.url('/assets/core-0b1d2e.wasm'))).arrayBuffer());
  assert.deepEqual([...wasm.slice(0, 4)], [0, 0x61, 0x73, 0x6d]);
});

test('other files are no-cache; manifest type', async () => {
  const res = await fetch(srv.url('/manifest.webmanifest'));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/manifest+json');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
});

test('a directory serves its index.html', async () => {
  const res = await fetch(srv.url('/docs/'));
  assert.equal(res.status, 200);
  assert.match(await res.text(), /docs-index/);
});

test('client-side routes fall back to index.html; missing files and assets are 404 JSON', async () => {
  const spa = await fetch(srv.url('/chat/0193a6f2'));
  assert.equal(spa.status, 200);
  assert.equal(spa.headers.get('cache-control'), 'no-cache');
  assert.match(await spa.text(), /sotto-fixture-index/);
  for (const p of ['/assets/missing-123.js', '/favicon.ico', '/api/nope', '/api']) {
    const res = await fetch(srv.url(p));
    assert.equal(res.status, 404, p);
    assert.deepEqual(await res.json(), { error: { code: 'not_found', message: 'Not found.' } });
    assertSecurityHeaders(assert, res);
  }
});

test('path traversal and dot-files are refused', async () => {
  for (const p of ['/../../../../etc/passwd', '/assets/..%2f..%2f..%2fetc%2fpasswd',
    '/%2e%2e/%2e%2e/etc/passwd', '/.env', '/assets/%2e%2e/.env', '/..%5c..%5cetc%5cpasswd']) {
    const text = await rawRequest(srv.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.ok(!text.includes('root:'), `${p} leaked /etc/passwd`);
    assert.ok(!text.includes('secret-dotfile'), `${p} leaked a dot-file`);
  }
});
