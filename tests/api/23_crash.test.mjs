// @stores sqlite,pg
// Durability: sottod killed with SIGKILL while items wait in device queues and while acks and
// sends are in flight, then restarted on the same store: nothing acknowledged to a sender is
// lost, nothing is delivered twice after its ack, and queues come back in seq order.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BACKEND, FAST_ENV, apiClient } from './lib/api.mjs';
import { startServer } from './lib/server.mjs';
import { conversation, envelopes, sendRest, userWithDevices, uuid, wsConnect } from './lib/rt.mjs';

const state = {};
const psql = (url, q) => execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAtX', '-c', q], { encoding: 'utf8' });

before(() => {
  if (BACKEND === 'pg') {
    const base = process.env.SOTTO_TEST_PG_URL;
    if (!base) throw new Error('SOTTO_TEST_PG_URL is not set: start PostgreSQL with scripts/pg-test.sh');
    state.db = `sotto_t_${crypto.randomBytes(6).toString('hex')}`;
    psql(base, `CREATE DATABASE ${state.db}`);
    const u = new URL(base);
    u.pathname = `/${state.db}`;
    state.url = u.toString();
  } else {
    state.dir = mkdtempSync(path.join(os.tmpdir(), 'sotto-crash-'));
  }
});
after(() => {
  if (state.db) psql(process.env.SOTTO_TEST_PG_URL, `DROP DATABASE IF EXISTS ${state.db} WITH (FORCE)`);
  if (state.dir) rmSync(state.dir, { recursive: true, force: true });
});

async function boot() {
  const env = { ...FAST_ENV, ...(state.url ? { DATABASE_URL: state.url } : { DATA_DIR: state.dir }) };
  const s = await startServer(env);
  s.api = apiClient(s);
  return s;
}

async function reconnect(s, u) {
  // The account and tokens live in the store: the same access token works after a restart.
  const c = await wsConnect(s, u.token);
  const seqs = [], ids = [];
  for (;;) {
    const m = await c.next((e) => e.event === 'message:new' || e.event === 'queue:drained', 10000);
    if (m.event === 'queue:drained') return { c, seqs, ids, lastSeq: m.data.lastSeq };
    seqs.push(m.data.seq);
    ids.push(m.data.id);
  }
}

test('SIGKILL with queued items, acks and sends in flight: nothing lost or duplicated', { timeout: 60000 }, async () => {
  let s = await boot();
  const a = await userWithDevices(s, 1);
  const b = await userWithDevices(s, 1);
  const conv = await conversation(s, a, b);
  const sent = [];
  for (let i = 0; i < 20; i += 1) sent.push((await sendRest(s, a, b, conv, `m${i}`)).body.id);

  // 1. Killed with 20 items queued for b.
  await s.stop('SIGKILL');
  s = await boot();
  let r = await reconnect(s, b);
  assert.deepEqual(r.seqs, Array.from({ length: 20 }, (_, i) => i + 1));
  assert.deepEqual(r.ids, sent);
  assert.equal(r.lastSeq, 20);

  // 2. Killed while b's acks and a's sends are in flight.
  const a1 = await wsConnect(s, a.token);
  const acked = [];
  const pending = [];
  for (let i = 0; i < 20; i += 1) {
    r.c.send({ event: 'queue:ack', data: { seq: i + 1 } });
    const p = a1.request('message:send', { conversationId: conv, clientMessageId: uuid(), envelopes: envelopes([b.deviceId], `f${i}`) }, 3000)
      .then((m) => { if (m.event === 'ack') acked.push(m.data.id); }, () => {});
    pending.push(p);
  }
  await new Promise((res) => setTimeout(res, 15));
  await s.stop('SIGKILL');
  await Promise.all(pending);

  s = await boot();
  r = await reconnect(s, b);
  // What comes back is a contiguous run of seqs ending at the newest, each once, in order.
  for (let i = 1; i < r.seqs.length; i += 1) assert.equal(r.seqs[i], r.seqs[i - 1] + 1, JSON.stringify(r.seqs));
  if (r.seqs.length) assert.equal(r.seqs.at(-1), r.lastSeq);
  assert.equal(new Set(r.ids).size, r.ids.length);
  // Every send acknowledged to a before the kill is stored and reaches b (unless b acked it).
  const h = await s.api('GET', `/api/conversations/${conv}/messages?limit=100`, { token: b.token });
  const stored = new Set(h.body.messages.map((m) => m.id));
  for (const id of [...sent, ...acked]) assert.ok(stored.has(id), `message ${id} lost`);
  const firstUnacked = r.seqs[0] ?? r.lastSeq + 1;
  for (const id of acked) {
    const idx = h.body.messages.length - 1 - h.body.messages.findIndex((m) => m.id === id); // 0-based send order
    if (idx + 1 >= firstUnacked) assert.ok(r.ids.includes(id), `acknowledged send ${id} not redelivered`);
  }
  // Acknowledge everything: a later connect has nothing.
  assert.equal((await r.c.request('queue:ack', { seq: r.lastSeq })).event, 'ack');
  await r.c.close();
  const again = await reconnect(s, b);
  assert.deepEqual(again.seqs, []);
  await again.c.close();
  await s.stop();
});

// Group commit: several senders burst sends (many per batch, one transaction each batch) and the
// recipients ack, and sottod is killed in the middle: every send acknowledged before the kill is
// stored and queued, nothing unacknowledged is half there (each stored message is in its
// recipient's queue or was acked), and no seq repeats.
test('SIGKILL during group-committed batches: nothing acknowledged is lost', { timeout: 60000 }, async () => {
  let s = await boot();
  const pairs = [];
  for (let i = 0; i < 3; i += 1) {
    const a = await userWithDevices(s, 1);
    const b = await userWithDevices(s, 1);
    pairs.push({ a, b, conv: await conversation(s, a, b), acked: [] });
  }
  const pending = [];
  let firstAck;
  const gotAck = new Promise((res) => { firstAck = res; });
  for (const p of pairs) {
    p.a1 = await wsConnect(s, p.a.token);
    p.b1 = await wsConnect(s, p.b.token);
    await p.b1.event('queue:drained');
  }
  for (let round = 0; round < 4; round += 1) {
    for (const p of pairs) {
      for (let i = 0; i < 25; i += 1) {
        pending.push(p.a1.request('message:send', { conversationId: p.conv, clientMessageId: uuid(), envelopes: envelopes([p.b.deviceId], `k${round}.${i}`) }, 3000)
          .then((m) => { if (m.event === 'ack') { p.acked.push(m.data.id); firstAck(); } }, () => {}));
      }
      p.b1.send({ event: 'queue:ack', data: { seq: round * 5 } });
    }
    await new Promise((res) => setTimeout(res, 3));
  }
  // Killed once the first batch has committed, with the next ones in flight.
  await Promise.race([gotAck, new Promise((res) => setTimeout(res, 5000))]);
  await s.stop('SIGKILL');
  await Promise.all(pending);

  s = await boot();
  let total = 0;
  try {
    for (const p of pairs) {
      total += p.acked.length;
      const h = await s.api('GET', `/api/conversations/${p.conv}/messages?limit=100`, { token: p.b.token });
      const stored = new Set(h.body.messages.map((m) => m.id));
      for (const id of p.acked) assert.ok(stored.has(id), `message ${id} lost`);
      const r = await reconnect(s, p.b);
      for (let i = 1; i < r.seqs.length; i += 1) assert.equal(r.seqs[i], r.seqs[i - 1] + 1, JSON.stringify(r.seqs));
      assert.equal(new Set(r.ids).size, r.ids.length);
      // Every stored message took a seq: the newest seq is the number stored.
      assert.equal(r.lastSeq, stored.size);
      for (const id of r.ids) assert.ok(stored.has(id));
      await r.c.close();
    }
    assert.ok(total > 0, 'some sends were acknowledged before the kill');
  } finally {
    await s.stop();
  }
});
