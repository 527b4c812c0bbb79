// CORS: only origins in CORS_ORIGINS get grants; preflights are answered or refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertSecurityHeaders, startServer } from './lib/server.mjs';

const ALLOWED = 'https://app.example';
let srv;
before(async () => { srv = await startServer({ CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` }); });
after(async () => { await srv.stop(); });

test('an allowed origin gets allow-origin, credentials and Vary', async () => {
  const res = await fetch(srv.url('/healthz'), { headers: { origin: ALLOWED } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED);
  assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
  assert.match(res.headers.get('vary'), /Origin/);
});

test('another origin gets no CORS headers', async () => {
  const res = await fetch(srv.url('/healthz'), { headers: { origin: 'https://evil.example' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), null);
});

test('preflight from an allowed origin: 204 with methods and headers', async () => {
  const res = await fetch(srv.url('/api/_test/echo'), {
    method: 'OPTIONS',
    headers: { origin: ALLOWED, 'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, authorization' },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED);
  assert.match(res.headers.get('access-control-allow-methods'), /POST/);
  assert.match(res.headers.get('access-control-allow-headers'), /Authorization/);
  assertSecurityHeaders(assert, res);
});

test('preflight from another origin: 403 forbidden without grants', async () => {
  const res = await fetch(srv.url('/api/_test/echo'), {
    method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
  });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('access-control-allow-origin'), null);
  assert.equal((await res.json()).error.code, 'forbidden');
});

test('errors carry CORS grants too, so the browser can read them', async () => {
  const res = await fetch(srv.url('/api/nope'), { headers: { origin: ALLOWED } });
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED);
});
