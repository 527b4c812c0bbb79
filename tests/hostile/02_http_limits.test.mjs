// Findings 2, 3, 8 and 11 of the hardening review: h2c refused, large bodies read only for a
// genuine token, a bound on the process's body memory and an absolute request deadline,
// strict Content-Length, and security headers on the answers libwebsockets writes itself.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { registerUser } from '../api/lib/api.mjs';
import { conversation } from '../api/lib/rt.mjs';
import { assertAlive, exchange, req, startHostile } from './lib/hostile.mjs';

let srv, alice, bob, conv;
before(async () => {
  srv = await startHostile({ env: { BODY_MEMORY_MAX: '1048576', REQUEST_TIMEOUT: '5' } });
  alice = await registerUser(srv);
  bob = await registerUser(srv);
  conv = await conversation(srv, alice, bob);
});
after(async () => { await srv?.stop(); });

const h2c = (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n` +
  'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n';

test('h2c upgrades are refused with 400 on every path, the connection closes', async () => {
  for (const p of ['/healthz', '/ws', '/', '/api/users/me']) {
    const r = await exchange(srv, [h2c(p)], { timeoutMs: 2000 });
    assert.equal(r.responses[0]?.status, 400, p);
    assert.match(r.responses[0].body, /upgrade_refused/);
    assert.match(r.responses[0].head, /content-security-policy:/i, 'security headers on the refusal');
    assert.ok(r.closed && r.ms < 1900, 'closed at once');
  }
  const other = await exchange(srv, [`GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n`]);
  assert.ok([400, 403].includes(other.responses[0]?.status), 'any other protocol too (lws answers 403 itself)');
  assert.match(other.responses[0].head, /x-frame-options: DENY/i);
  await assertAlive(assert, srv);
});

test('answers libwebsockets writes itself carry the security headers', async () => {
  const r = await exchange(srv, ['GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n'], { timeoutMs: 1500 });
  assert.ok(r.responses[0], 'answered');
  assert.match(r.responses[0].head, /x-content-type-options: nosniff/i);
  assert.match(r.responses[0].head, /trusted-types sotto-script-url/i, 'the CSP names the one Trusted Types policy');
});

test('a large body on an authenticated route is refused at the headers without a genuine token', async () => {
  const big = 5 * 1024 * 1024;
  for (const auth of ['', 'Authorization: Bearer not.a.token\r\n', `Authorization: Bearer ${alice.token.slice(0, -2)}xx\r\n`]) {
    const head = `POST /api/conversations/${conv}/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `${auth}Content-Length: ${big}\r\n\r\n`;
    const r = await exchange(srv, [head, '{"x":'], { gapMs: 50, timeoutMs: 3000 });
    assert.equal(r.responses[0]?.status, 401, JSON.stringify(auth));
  }
  // Small bodies still get the usual answer at dispatch (here: 401 from the full check).
  const r = await exchange(srv, [req.post(`/api/conversations/${conv}/messages`, '{}')], { timeoutMs: 2000 });
  assert.equal(r.responses[0]?.status, 401);
  await assertAlive(assert, srv);
});

test('the bodies held at once are bounded: past BODY_MEMORY_MAX, 503 with retry-after', async () => {
  // Two uploads of 700 KB each with a genuine token, both held open (the bodies trickle): the
  // first is reserved, the second would pass 1 MiB and is refused at its headers.
  const head = (n) => `POST /api/conversations/${conv}/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `Authorization: Bearer ${alice.token}\r\nContent-Length: ${n}\r\n\r\n`;
  const first = exchange(srv, [head(700000), '{"clientMessageId":'], { gapMs: 100, timeoutMs: 1500 });
  await new Promise((r) => setTimeout(r, 200));
  const second = await exchange(srv, [head(700000)], { timeoutMs: 1500 });
  assert.equal(second.responses[0]?.status, 503);
  assert.match(second.responses[0].head, /retry-after: 1/i);
  await first;
  // Once the first has gone, its reservation is back.
  await new Promise((r) => setTimeout(r, 300));
  const third = await exchange(srv, [head(700000), '{'], { timeoutMs: 800 });
  assert.notEqual(third.responses[0]?.status, 503, 'room again after the first ended');
});

test('a body trickled a byte at a time is cut at REQUEST_TIMEOUT, however often bytes come', async () => {
  const head = `POST /api/conversations/${conv}/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `Authorization: Bearer ${alice.token}\r\nContent-Length: 100000\r\n\r\n`;
  const parts = [head, ...Array.from({ length: 40 }, () => ' ')];
  const r = await exchange(srv, parts, { gapMs: 400, timeoutMs: 14000 });
  assert.ok(r.closed, 'the server closed it');
  assert.ok(r.ms < 9000, `closed after ${r.ms} ms (deadline 5 s, checked at each byte)`);
  await assertAlive(assert, srv);
});

test('Content-Length must be digits only: duplicates, signs and suffixes get 400 and a close', async () => {
  const body = '{"email":"a@example.org"}';
  for (const cl of [`${body.length}\r\nContent-Length: 5`, `+${body.length}`, `${body.length}abc`, `${body.length}, ${body.length}`,
    '-1', '', ' ', '0x19', '99999999999999999999999']) {
    const raw = `POST /api/auth/forgot-password HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${cl}\r\n\r\n${body}`;
    const r = await exchange(srv, [raw], { timeoutMs: 2000 });
    assert.ok(r.responses.length <= 1, `one answer at most for ${JSON.stringify(cl)}`);
    if (r.responses[0]) assert.equal(r.responses[0].status, 400, `status for ${JSON.stringify(cl)}`);
    assert.ok(r.closed, `closed for ${JSON.stringify(cl)}`);
  }
  const ok = await exchange(srv, [req.post()], { timeoutMs: 1500 });
  assert.equal(ok.responses[0]?.status, 202, 'a plain Content-Length still works');
  await assertAlive(assert, srv);
});

test('a POST without Content-Length is answered and its connection closed (no body taken from a next request)', async () => {
  const raw = 'POST /api/auth/logout HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n';
  const r = await exchange(srv, [raw, req.get()], { gapMs: 100, timeoutMs: 2000 });
  assert.ok(r.responses.length >= 1);
  assert.ok(r.closed, 'closed after the answer');
});
