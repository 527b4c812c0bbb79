// E2E 16 (issue 17, item 6, the CLI's half of what the web client does): nothing silently lost
// when the network fails. A retry request or a delete for everyone whose send fails for want
// of a connection waits in the profile's queue and goes out with the next sync, under the same
// clientMessageId (so one that did reach the server is not posted twice), and is given up
// with a visible line after 5 failed sends or 7 days. The asking side shows "Waiting for this
// message from X…" until the resend fills it or a day passes ("This message could not be
// decrypted."). Marks and ended rate windows are pruned after 30 days, and a retry for an
// older message gets no resend.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoPlaintext, chat, closedBase, history, marker, ok, sql, sync, user, world } from './lib/e2e.mjs';
import { mitm } from './lib/mitm.mjs';

const whoami = async (w, dev) => JSON.parse((await ok(w, dev, ['whoami', '--json'])).stdout);
const lines = (r) => r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const hours = (n) => ({ env: { SOTTO_TEST_CLOCK_OFFSET: String(n * 3600) } });
const POST_MESSAGE = /^\/api\/conversations\/[^/]+\/messages$/;

describe('controls that wait for a connection', () => {
  let w, a, b, bDev, proxy;
  let mode = null; // what the proxy does to a posted message: null, 'drop' or 'lose'
  before(async () => {
    w = await world();
    a = await user(w, 'a');
    b = await user(w, 'b');
    bDev = (await whoami(w, b.devices[0])).deviceId;
    proxy = await mitm(w.srv.base, () => null, {
      intercept: (method, url) => (method === 'POST' && POST_MESSAGE.test(url) ? mode : null),
    });
    const m0 = marker(w, 'hello');
    await ok(w, a.devices[0], ['send', b.name, m0]);
    assert.deepEqual((await sync(w, b.devices[0])).map((m) => m.text), [m0]);
    await ok(w, b.devices[0], ['send', a.name, marker(w, 'hi')]);
    await sync(w, a.devices[0]);
  });
  after(async () => {
    await proxy?.close();
    await w?.close();
  });

  function flip(messageId, device) {
    const pg = w.srv.backend === 'pg';
    const where = `message_id = '${messageId}' AND device_id = '${device}' AND event = 'new'`;
    const [[hex]] = sql(w.srv, `SELECT ${pg ? "encode(ciphertext, 'hex')" : 'hex(ciphertext)'} FROM device_queue WHERE ${where}`);
    const buf = Buffer.from(hex, 'hex');
    buf[buf.length - 30] ^= 0x01;
    sql(w.srv, `UPDATE device_queue SET ciphertext = ${pg ? `decode('${buf.toString('hex')}', 'hex')` : `X'${buf.toString('hex')}'`} WHERE ${where}`);
  }
  const damaged = async (tag) => {
    const m = marker(w, tag);
    const sent = JSON.parse((await ok(w, a.devices[0], ['--json', 'send', b.name, m])).stdout);
    flip(sent.id, bDev);
    return { id: sent.id, m };
  };
  // Bob's device syncs through the proxy, which fails his posts as told.
  const bobBehind = async (how) => {
    mode = how;
    try {
      return await ok(w, b.devices[0], ['sync', '--json'], { server: proxy.base });
    } finally {
      mode = null;
    }
  };
  const kvNames = (dir, like) => execFileSync('sqlite3', [path.join(dir, 'sotto.db'), `SELECT name FROM kv WHERE name LIKE '${like}'`],
    { encoding: 'utf8' }).split('\n').filter(Boolean);
  const queued = (dir) => Number(execFileSync('sqlite3', [path.join(dir, 'sotto.db'), 'SELECT count(*) FROM controls'], { encoding: 'utf8' }));
  const historyText = async (dir, peer, opts) => (await ok(w, dir, ['history', peer.name], opts)).stdout;
  const fromB = () => Number(sql(w.srv, `SELECT count(*) FROM messages WHERE sender_device_id = '${bDev}'`)[0][0]);

  test('a retry that cannot be sent waits, is sent by the next sync and answered once; the asker waits', async () => {
    const { id, m } = await damaged('offline-retry');
    const rb = await bobBehind('drop');
    assert.deepEqual(lines(rb).map((x) => [x.event, x.id, x.retryRequested, x.retryQueued]), [['undecryptable', id, false, true]]);
    assert.match(rb.stderr, /no connection: that device is asked to resend it with the next sync/);
    assert.equal(queued(b.devices[0]), 1);
    // Nothing reached Alice's device.
    assert.deepEqual(lines(await ok(w, a.devices[0], ['sync', '--json'])), []);
    // Bob's history: waiting for it, and after a day, undecryptable.
    const h0 = (await history(w, b.devices[0], a)).find((x) => x.id === id);
    assert.equal(h0.status, 'undecryptable');
    assert.equal(h0.waiting, true);
    assert.ok((await historyText(b.devices[0], a)).includes(`(Waiting for this message from ${a.name}\u2026)`));
    const later = await historyText(b.devices[0], a, hours(25));
    assert.ok(later.includes('(This message could not be decrypted.)'), later);
    assert.equal(later.includes('Waiting for this message'), false);
    // The next sync sends it; Alice resends once; Bob reads it, marked resent.
    const rb2 = await ok(w, b.devices[0], ['sync', '--json']);
    assert.match(rb2.stderr, new RegExp(`asked for message ${id} \\(a retry request queued earlier\\)`));
    assert.equal(queued(b.devices[0]), 0);
    const ra = await ok(w, a.devices[0], ['sync', '--json']);
    assert.deepEqual(lines(ra).map((x) => [x.event, x.id, x.deviceId]), [['resent', id, bDev]]);
    const rb3 = await ok(w, b.devices[0], ['sync', '--json']);
    assert.deepEqual(lines(rb3).map((x) => [x.id, x.text, x.resent]), [[id, m, true]]);
    const h = (await history(w, b.devices[0], a)).find((x) => x.id === id);
    assert.deepEqual([h.status, h.text, h.resent, h.waiting], ['received', m, true, undefined]);
    const text = await historyText(b.devices[0], a);
    assert.ok(text.includes(`${m}  (resent: it could not be read the first time)`), text);
    assert.equal(text.includes('Waiting for this message'), false);
    // Nothing more: no second retry, no second resend.
    assert.deepEqual(lines(await ok(w, b.devices[0], ['sync', '--json'])), []);
    assert.deepEqual(lines(await ok(w, a.devices[0], ['sync', '--json'])), []);
  });

  test('a retry that reached the server without an answer is sent again under the same id: one copy', async () => {
    const { id, m } = await damaged('lost-answer');
    const rb = await bobBehind('lose');
    assert.deepEqual(lines(rb).map((x) => [x.event, x.id, x.retryQueued]), [['undecryptable', id, true]]);
    const ra = await ok(w, a.devices[0], ['sync', '--json']);
    assert.deepEqual(lines(ra).map((x) => [x.event, x.id]), [['resent', id]]);
    const before = fromB();
    // Bob's next sync posts it again: the server's duplicate check answers with the first copy.
    const rb2 = await ok(w, b.devices[0], ['sync', '--json']);
    assert.match(rb2.stderr, /a retry request queued earlier/);
    assert.deepEqual(lines(rb2).map((x) => [x.id, x.text, x.resent]), [[id, m, true]]);
    // Alice's device got one retry only: nothing refused, nothing resent again.
    assert.deepEqual(lines(await ok(w, a.devices[0], ['sync', '--json'])), []);
    assert.equal(fromB(), before);
  });

  test('a delete for everyone made offline is queued and delivered by the next sync', async () => {
    const m = marker(w, 'delete-offline');
    const sent = JSON.parse((await ok(w, a.devices[0], ['--json', 'send', b.name, m])).stdout);
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [m]);
    const off = await ok(w, a.devices[0], ['delete', b.name, sent.id], { server: await closedBase() });
    assert.match(off.stdout, new RegExp(`^queued ${sent.id}`));
    assert.match(off.stderr, /Deleting for everyone: waiting for a connection/);
    // Not deleted yet anywhere.
    assert.equal((await history(w, a.devices[0], b)).find((x) => x.serverId === sent.id).text, m);
    assert.deepEqual(await sync(w, b.devices[0]), []);
    // Alice's next sync sends it: deleted on both sides, the server's copy dropped.
    const ra = await ok(w, a.devices[0], ['sync']);
    assert.match(ra.stderr, /deleted message .* for everyone \(queued earlier\)/);
    assert.equal((await history(w, a.devices[0], b)).find((x) => x.serverId === sent.id).deleted, true);
    const rb = await ok(w, b.devices[0], ['sync', '--json']);
    assert.deepEqual(lines(rb).map((x) => [x.event, x.id]), [['deleted', sent.id]]);
    const hb = (await history(w, b.devices[0], a)).find((x) => x.id === sent.id);
    assert.equal(hb.deleted, true);
    assert.equal(queued(a.devices[0]), 0);
  });

  test('a delete that never goes out is given up after 5 failed sends, with a line; nothing deleted', async () => {
    const m = marker(w, 'delete-given-up');
    const sent = JSON.parse((await ok(w, a.devices[0], ['--json', 'send', b.name, m])).stdout);
    await sync(w, b.devices[0]);
    await ok(w, a.devices[0], ['delete', b.name, sent.id], { server: await closedBase() });
    mode = 'drop';
    const outs = [];
    try {
      for (let i = 0; i < 4; i++) outs.push(await ok(w, a.devices[0], ['sync'], { server: proxy.base }));
    } finally {
      mode = null;
    }
    assert.equal(outs.slice(0, 3).some((r) => /Not deleted for everyone/.test(r.stderr)), false);
    assert.match(outs[3].stderr, /Not deleted for everyone: it could not be sent\./);
    assert.equal(queued(a.devices[0]), 0);
    await ok(w, a.devices[0], ['sync']);
    assert.equal((await history(w, a.devices[0], b)).find((x) => x.serverId === sent.id).text, m);
    assert.deepEqual(await sync(w, b.devices[0]), []);
  });

  test('a queued retry older than 7 days is given up: the message stays undecryptable', async () => {
    const { id } = await damaged('retry-week');
    await bobBehind('drop');
    assert.equal(queued(b.devices[0]), 1);
    // A chat opens on the recent messages: this one is waiting (its retry still cannot go out).
    mode = 'drop';
    try {
      const c = chat(w, b.devices[0], a, { json: false, server: proxy.base });
      await c.waitOut(`(Waiting for this message from ${a.name}\u2026)`);
      await c.waitFor((x) => x.err.includes('(connected)'), 'connected');
      await c.quit();
    } finally {
      mode = null;
    }
    assert.equal(queued(b.devices[0]), 1);
    const r = await ok(w, b.devices[0], ['sync'], hours(8 * 24));
    assert.match(r.stderr, new RegExp(`gave up asking for message ${id} \\(not sent within 7 days\\)\\. This message could not be decrypted\\.`));
    assert.equal(queued(b.devices[0]), 0);
    assert.deepEqual(lines(await ok(w, a.devices[0], ['sync', '--json'])), []);
    const text = await historyText(b.devices[0], a);
    assert.ok(text.includes('(This message could not be decrypted.)'), text);
  });

  test('retry and resend marks and ended rate windows are pruned after 30 days', async () => {
    // A fresh round trip: Bob asks, Alice resends, Bob reads it.
    const { id, m } = await damaged('pruned');
    await ok(w, b.devices[0], ['sync', '--json']);
    await ok(w, a.devices[0], ['sync', '--json']);
    assert.deepEqual(lines(await ok(w, b.devices[0], ['sync', '--json'])).map((x) => [x.id, x.text]), [[id, m]]);
    assert.ok(kvNames(b.devices[0], 'retry:%').length > 0);
    assert.ok(kvNames(b.devices[0], 'retry-rate:%').length > 0);
    assert.ok(kvNames(a.devices[0], 'resent:%').length > 0);
    assert.ok(kvNames(a.devices[0], 'resend-rate:%').length > 0);
    // A day on: the rate windows have ended, the marks are kept.
    await ok(w, b.devices[0], ['sync'], hours(24));
    await ok(w, a.devices[0], ['sync'], hours(24));
    assert.deepEqual(kvNames(b.devices[0], '%-rate:%'), []);
    assert.deepEqual(kvNames(a.devices[0], '%-rate:%'), []);
    assert.ok(kvNames(b.devices[0], 'retry:%').length > 0);
    assert.ok(kvNames(a.devices[0], 'resent:%').length > 0);
    // 31 days on: the marks are gone too.
    await ok(w, b.devices[0], ['sync'], hours(31 * 24));
    await ok(w, a.devices[0], ['sync'], hours(31 * 24));
    assert.deepEqual(kvNames(b.devices[0], 'retry:%'), []);
    assert.deepEqual(kvNames(a.devices[0], 'resent:%'), []);
  });

  test('a retry for a message older than 30 days gets no resend', async () => {
    const { id } = await damaged('too-old');
    await ok(w, b.devices[0], ['sync', '--json']);
    const ra = await ok(w, a.devices[0], ['sync', '--json'], hours(31 * 24));
    assert.deepEqual(lines(ra).map((x) => [x.event, x.id]), [['resend-refused', id]]);
    const plain = await ok(w, a.devices[0], ['sync'], hours(31 * 24));
    assert.equal(plain.stdout, '');
    assert.deepEqual(lines(await ok(w, b.devices[0], ['sync', '--json'])), []);
  });

  test('no plaintext marker on the server or in the profiles', () => assertNoPlaintext(w));
});
