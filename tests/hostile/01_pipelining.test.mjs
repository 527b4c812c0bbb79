// Finding 1 (critical): two requests in one TCP write, the second with a body, wedged the loop
// thread for ever (lws 4.1.6 read the second body from its own buffered head, then looped).
// Every pipelined sequence of every kind, in one write and split across writes, over TCP and
// native TLS: the first request is answered, the server never spins, keeps serving others,
// and still stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertAlive, cpuSeconds, exchange, req, startHostile } from './lib/hostile.mjs';

const KINDS = { g: req.get(), p: req.post(), a: req.patch(), o: req.options(), z: req.emptyPost() };
const SEQUENCES = ['gg', 'gp', 'pg', 'pp', 'ppp', 'gpg', 'pgp', 'ap', 'pa', 'og', 'op', 'zp', 'pz', 'gz', 'gggp', 'pppppppp'];

for (const useTls of [false, true]) {
  describe(`pipelined requests over ${useTls ? 'TLS' : 'TCP'}`, () => {
    let srv;
    before(async () => { srv = await startHostile({ tls: useTls }); });
    after(async () => { await srv?.stop(); }); // asserts exit 0 after SIGTERM, no sanitizer report

    for (const seq of SEQUENCES) {
      test(`${seq} in one write`, async () => {
        const cpu0 = cpuSeconds(srv.child.pid);
        const r = await exchange(srv, [seq.split('').map((k) => KINDS[k]).join('')], { timeoutMs: 1500 });
        assert.ok(r.responses.length >= 1, `the first request is answered (${seq})`);
        const first = r.responses[0].status;
        assert.ok(first >= 200 && first < 500, `first status ${first}`);
        await assertAlive(assert, srv);
        // A wedged loop burns a core; a healthy one spends milliseconds on this.
        assert.ok(cpuSeconds(srv.child.pid) - cpu0 < 1.0, 'the loop does not spin');
      });
    }

    test('a second request sent while the first is still being answered', async () => {
      // Two writes 20 ms apart: the second arrives while the first (a slow-ish POST) is open.
      const r = await exchange(srv, [req.post(), req.post()], { gapMs: 20, timeoutMs: 1500 });
      assert.ok(r.responses.length >= 1);
      await assertAlive(assert, srv);
    });

    test('the second body split across writes', async () => {
      const two = req.post() + req.post();
      const cut = two.length - 7;
      const r = await exchange(srv, [two.slice(0, cut), two.slice(cut)], { gapMs: 30, timeoutMs: 1500 });
      assert.ok(r.responses.length >= 1);
      await assertAlive(assert, srv);
    });

    test('a websocket upgrade pipelined behind a request comes after its answer, or not at all', async () => {
      const up = 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
      const r = await exchange(srv, [req.post() + up], { timeoutMs: 1500 });
      assert.equal(r.responses[0]?.status, 202, 'the request before the upgrade is answered first');
      await assertAlive(assert, srv);
    });

    test('a hundred pipelining connections at once leave the server serving', async () => {
      const bad = req.post() + req.post() + req.get();
      await Promise.all(Array.from({ length: 100 }, () => exchange(srv, [bad], { timeoutMs: 2000 })));
      await assertAlive(assert, srv);
    });

    test('keep-alive without pipelining still serves several requests on one connection', async () => {
      const r = await exchange(srv, [req.get(), req.post(), req.get()], { gapMs: 150, timeoutMs: 1500 });
      assert.equal(r.responses.length, 3, 'answered one after another on one connection');
    });
  });
}
