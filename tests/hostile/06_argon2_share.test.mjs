// Finding 4: the Argon2id queue was first come, first served, so 95 wrong logins from one
// address (inside its own rate limit) raised a real login from 0.6 s to 40 s. Each address
// and each account now has a bounded share of the queue; past it, 429 at once.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { PASSWORD, registerUser } from '../api/lib/api.mjs';
import { makeDevice } from '../api/lib/crypto.mjs';
import { startHostile } from './lib/hostile.mjs';

let srv, user;
before(async () => {
  // A real cost, so that each hash takes a noticeable time, and two at once.
  srv = await startHostile({ env: { ARGON2_MEMORY_COST: '32768', ARGON2_TIME_COST: '2', ARGON2_PARALLELISM: '1',
    ARGON2_MAX_CONCURRENT: '2', WORKERS: '4', ARGON2_PER_ADDRESS: '0' } });
  user = await registerUser(srv);
});
after(async () => { await srv?.stop(); });

// POST /api/auth/login from a chosen loopback source address: {status, ms}.
function loginFrom(localAddress, email, password) {
  const body = JSON.stringify({ email, password, device: { name: 'phone', platform: 'cli' }, keys: makeDevice().bundle() });
  const t0 = Date.now();
  return new Promise((resolve) => {
    const r = http.request({ host: '127.0.0.1', port: srv.port, path: '/api/auth/login', method: 'POST', localAddress,
      agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Date.now() - t0 }));
    });
    r.on('error', () => resolve({ status: 0, ms: Date.now() - t0 }));
    r.setTimeout(60000, () => r.destroy());
    r.end(body);
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test('a flood of wrong logins from one address does not hold up another address', async () => {
  const base = [];
  for (let i = 0; i < 3; i++) base.push((await loginFrom('127.0.0.6', user.email, PASSWORD)).ms);
  const single = median(base);
  // 80 wrong logins at once from one address, each for a different unknown account.
  const flood = Array.from({ length: 80 }, (_, i) => loginFrom('127.0.0.5', `nobody${i}@example.org`, 'wrong password 123'));
  await new Promise((r) => setTimeout(r, 100));
  const real = await loginFrom('127.0.0.6', user.email, PASSWORD);
  const results = await Promise.all(flood);
  assert.equal(real.status, 200);
  const limited = results.filter((r) => r.status === 429).length;
  assert.ok(limited >= 60, `most of the flood is refused at once (${limited} of 80)`);
  // Without the share the real login waited behind all 80 (40 hashes' time on two lanes).
  assert.ok(real.ms < single * 5 + 500, `the real login took ${real.ms} ms (alone: ${single} ms)`);
});

test('one account gets at most two password checks at a time', async () => {
  const tries = await Promise.all(Array.from({ length: 6 }, (_, i) => loginFrom(`127.0.0.${10 + i}`, user.email, 'not the password 1')));
  assert.ok(tries.filter((r) => r.status === 429).length >= 3, JSON.stringify(tries.map((r) => r.status)));
});
