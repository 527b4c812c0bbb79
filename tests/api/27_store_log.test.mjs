// SQLite's write-ahead log stays small under a steady stream of messages and acks: background
// checkpoints copy it back into the database, and after each one the writer checkpoints the
// little committed meanwhile before its next batch, so that batch's transaction restarts the log
// (realtime.c, sqlite.c). Without that the log only restarts at the backstop, 32,768 pages
// (128 MiB). SQLite never truncates the log file, so its size after the load is the most it held.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startAuthServer } from './lib/api.mjs';
import { conversation, envelopes, userWithDevices, uuid, wsConnect } from './lib/rt.mjs';

const PAIRS = 6;
const PER_SENDER = 1500;
const WINDOW = 48;
const PAGE = 4096;
let srv;

before(async () => {
  srv = await startAuthServer({
    WS_RATE_PER_SEC: '100000', WS_RATE_BURST: '100000', WS_MAX_INFLIGHT: '256', WS_MAX_QUEUE: '4096',
  });
});
after(async () => srv && srv.stop());

// Acknowledges what arrives, every 25 messages and at the end, off the test's event buffer.
function acker(c, expect) {
  let seen = 0, top = 0, n = 0;
  return new Promise((resolve, reject) => {
    c.ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.event === 'message:new') {
        seen += 1;
        top = Math.max(top, m.data.seq);
        if (seen % 25 === 0 || seen === expect) c.send({ event: 'queue:ack', data: { seq: top }, id: `k${(n += 1)}` });
        if (seen === expect) resolve(top);
      } else if (m.event === 'error') {
        reject(new Error(JSON.stringify(m)));
      }
    });
  });
}

// Sends PER_SENDER messages with at most WINDOW unanswered.
async function sender(c, conv, to) {
  let next = 0, done = 0;
  const one = async () => {
    while (next < PER_SENDER) {
      next += 1;
      const r = await c.request('message:send', {
        conversationId: conv, clientMessageId: uuid(), envelopes: envelopes([to.deviceId], `m${next}`),
      }, 30000);
      assert.equal(r.event, 'ack', JSON.stringify(r));
      done += 1;
      if (done % 200 === 0) c.drop((e) => e.event === 'message:delivered');
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, one));
}

test('the log restarts under load instead of growing to the backstop', { timeout: 180000 }, async () => {
  const pairs = [];
  for (let i = 0; i < PAIRS; i += 1) {
    const a = await userWithDevices(srv, 1);
    const b = await userWithDevices(srv, 1);
    const conv = await conversation(srv, a, b);
    const [ca, cb] = await Promise.all([wsConnect(srv, a.token), wsConnect(srv, b.token)]);
    await Promise.all([ca.event('queue:drained'), cb.event('queue:drained')]);
    pairs.push({ a, b, conv, ca, cb, acked: acker(cb, PER_SENDER) });
  }
  await Promise.all(pairs.map((p) => sender(p.ca, p.conv, p.b)));
  const tops = await Promise.all(pairs.map((p) => p.acked));
  assert.deepEqual(tops, pairs.map(() => PER_SENDER)); // every message arrived, in one seq run

  const wal = statSync(path.join(srv.dataDir, 'sotto.db-wal')).size;
  // 9,000 messages and their acks write about 20,000 pages of log here, all of which the log
  // held when it only restarted at the backstop; restarted after each background checkpoint
  // (every 4,096 pages), it peaked at 4,300-5,400 pages.
  const pages = Math.round(wal / (PAGE + 24));
  assert.ok(pages < 3 * 4096, `the log grew to ${pages} pages`);
  await Promise.all(pairs.flatMap((p) => [p.ca.close(), p.cb.close()]));
});
