// /healthz and /metrics: status, body, security headers on every answer, metrics access control.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertSecurityHeaders, startServer } from './lib/server.mjs';

let srv;
before(async () => { srv = await startServer({ METRICS_TOKEN: 'metrics-token-0123456789' }); });
after(async () => { await srv.stop(); });

test('GET /healthz is 200 {"status":"ok"} with the security headers', async () => {
  const res = await fetch(srv.url('/healthz'));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.deepEqual(await res.json(), { status: 'ok' });
  assertSecurityHeaders(assert, res);
  assert.match(res.headers.get('x-request-id'), /^[0-9a-f]{16}$/);
});

test('request ids differ between requests', async () => {
  const a = (await fetch(srv.url('/healthz'))).headers.get('x-request-id');
  const b = (await fetch(srv.url('/healthz'))).headers.get('x-request-id');
  assert.notEqual(a, b);
});

test('HEAD /healthz has headers and no body', async () => {
  const res = await fetch(srv.url('/healthz'), { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), '15');
  assert.equal(await res.text(), '');
});

test('many keep-alive requests in a row', async () => {
  for (let i = 0; i < 200; i++) assert.equal((await fetch(srv.url('/healthz'))).status, 200);
});

test('/metrics from loopback is Prometheus text', async () => {
  const res = await fetch(srv.url('/metrics'));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /sotto_open_connections\{kind="http"\} \d+/);
  assert.match(text, /sotto_http_requests_total\{route="\/healthz",status="200"\} \d+/);
  assert.match(text, /sotto_http_request_duration_seconds_bucket\{le="\+Inf"\} \d+/);
  assertSecurityHeaders(assert, res);
});

test('/metrics refuses a loopback peer that forwards for someone else', async () => {
  const res = await fetch(srv.url('/metrics'), { headers: { 'x-forwarded-for': '203.0.113.7' } });
  assert.equal(res.status, 403);
  assert.deepEqual(Object.keys((await res.json()).error).sort(), ['code', 'message']);
});

test('/metrics with the right bearer token is allowed even when forwarded', async () => {
  const ok = await fetch(srv.url('/metrics'), {
    headers: { 'x-forwarded-for': '203.0.113.7', authorization: 'Bearer metrics-token-0123456789' },
  });
  assert.equal(ok.status, 200);
  const bad = await fetch(srv.url('/metrics'), {
    headers: { 'x-forwarded-for': '203.0.113.7', authorization: 'Bearer metrics-token-012345678' },
  });
  assert.equal(bad.status, 403);
});

test('/metrics honours TRUSTED_PROXIES: a remote client behind a trusted proxy needs the token', async () => {
  const s = await startServer({ TRUSTED_PROXIES: '127.0.0.1' });
  try {
    const remote = await fetch(s.url('/metrics'), { headers: { 'x-forwarded-for': '198.51.100.9' } });
    assert.equal(remote.status, 403);
  } finally { await s.stop(); }
});
