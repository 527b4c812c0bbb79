// Finding 7: message writes over REST had no rate limit (one account wrote 3,000 messages and
// 185 MB in 20 s). They now share the WebSocket's per-device budget (WS_RATE_BURST at once,
// WS_RATE_PER_SEC after), answered 429 with Retry-After past it; other devices are untouched.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { conversation, sendRest, userWithDevices } from '../api/lib/rt.mjs';
import { startHostile } from './lib/hostile.mjs';

let srv, a, b, conv;
before(async () => {
  srv = await startHostile({ env: { WS_RATE_BURST: '20', WS_RATE_PER_SEC: '10' } });
  a = await userWithDevices(srv, 2);
  b = await userWithDevices(srv, 1);
  conv = await conversation(srv, a, b);
});
after(async () => { await srv?.stop(); });

test('REST sends past the per-device budget get 429; the budget refills; another device is not limited', async () => {
  const results = [];
  for (let i = 0; i < 40; i++) results.push((await sendRest(srv, a, b, conv, `m${i}`, 0)).status);
  const ok = results.filter((s) => s === 201).length;
  const limited = results.filter((s) => s === 429).length;
  assert.ok(ok >= 20 && ok <= 26, `about the burst goes through (${ok})`);
  assert.equal(ok + limited, 40, JSON.stringify(results));
  const r = await sendRest(srv, a, b, conv, 'again', 0);
  assert.equal(r.status, 429);
  assert.equal(r.body.error.code, 'rate_limited');
  // The same account's other device has its own budget.
  assert.equal((await sendRest(srv, a, b, conv, 'other-device', 1)).status, 201);
  await new Promise((res) => setTimeout(res, 2200));
  assert.equal((await sendRest(srv, a, b, conv, 'later', 0)).status, 201, 'refilled');
});
