// Error statuses and the contract's error shape: 404, 405, 413, 415, 400, 411, 401.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertSecurityHeaders, rawRequest, startServer } from './lib/server.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv.stop(); });

async function expectError(res, status, code) {
  assert.equal(res.status, status);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const body = await res.json();
  assert.deepEqual(Object.keys(body), ['error']);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assertSecurityHeaders(assert, res);
  return body;
}

const echo = (init) => fetch(srv.url('/api/_test/echo'), { method: 'POST', ...init });
const json = { 'content-type': 'application/json' };

test('404 not_found for an unknown API path', async () => {
  await expectError(await fetch(srv.url('/api/does/not/exist')), 404, 'not_found');
});

test('405 with Allow for a known path and the wrong method', async () => {
  const res = await fetch(srv.url('/healthz'), { method: 'DELETE' });
  assert.equal(res.headers.get('allow'), 'GET, HEAD');
  await expectError(res, 405, 'method_not_allowed');
});

test('the test echo route works (these tests need a SOTTO_TEST_ROUTES build)', async () => {
  const res = await echo({ headers: json, body: '{"a":[1,2]}' });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { received: { a: [1, 2] } });
});

test('400 invalid_json for malformed, empty and duplicate-key bodies', async () => {
  for (const body of ['{"a":', 'nope', '{"a":1,"a":2}', '\u0000']) {
    await expectError(await echo({ headers: json, body }), 400, 'invalid_json');
  }
  await expectError(await echo({ headers: json }), 400, 'invalid_json');
});

test('415 unsupported_media_type without application/json', async () => {
  await expectError(await echo({ headers: { 'content-type': 'text/plain' }, body: '{}' }), 415,
    'unsupported_media_type');
  await expectError(await echo({ body: new URLSearchParams({ a: '1' }) }), 415, 'unsupported_media_type');
  const ok = await echo({ headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{}' });
  assert.equal(ok.status, 200);
});

test('413 payload_too_large over the route limit (declared and actual)', async () => {
  await expectError(await echo({ headers: json, body: JSON.stringify({ a: 'x'.repeat(2000) }) }), 413,
    'payload_too_large');
  // A lying Content-Length smaller than the body: only the declared bytes are read.
  const text = await rawRequest(srv.port, 'POST /api/_test/echo HTTP/1.1\r\nHost: x\r\n' +
    'Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{"a":1}');
  assert.match(text, /^HTTP\/1\.1 413 /);
  assert.match(text, /"code":"payload_too_large"/);
});

test('411 length_required for chunked bodies', async () => {
  const text = await rawRequest(srv.port, 'POST /api/_test/echo HTTP/1.1\r\nHost: x\r\n' +
    'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n');
  assert.match(text, /^HTTP\/1\.1 411 /);
});

test('401 unauthenticated on an auth route without an auth hook (fail closed)', async () => {
  await expectError(await fetch(srv.url('/api/_test/auth')), 401, 'unauthenticated');
});

test('server still healthy after all that', async () => {
  assert.equal((await fetch(srv.url('/healthz'))).status, 200);
});
