// E2E 15 (issue 17, item 6): no message is silently lost. A message the recipient's device
// cannot decrypt (its ciphertext damaged on the server, or the recipient's session state gone)
// is kept as "could not be decrypted", and the device asks the sender's device for it with an
// end-to-end RETRY; the sender's device starts a new session (a freshly claimed bundle) and
// resends it once; it then arrives, marked resent. Both sides print what happened. A message
// whose resend cannot be read either stays in history as undecryptable.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoPlaintext, history, marker, ok, sql, sync, user, world } from './lib/e2e.mjs';

const whoami = async (w, dev) => JSON.parse((await ok(w, dev, ['whoami', '--json'])).stdout);
const lines = (r) => r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

describe('retry requests and resends', () => {
  let w, a, b, aDev, bDev, aId;
  before(async () => {
    w = await world();
    a = await user(w, 'a');
    b = await user(w, 'b');
    const me = await whoami(w, a.devices[0]);
    aDev = me.deviceId;
    aId = me.id ?? me.user?.id;
    bDev = (await whoami(w, b.devices[0])).deviceId;
    // A session in both directions first.
    const m0 = marker(w, 'hello');
    await ok(w, a.devices[0], ['send', b.name, m0]);
    assert.deepEqual((await sync(w, b.devices[0])).map((m) => m.text), [m0]);
    await ok(w, b.devices[0], ['send', a.name, marker(w, 'hi')]);
    await sync(w, a.devices[0]);
  });
  after(async () => { await w?.close(); });

  const sendJson = async (text) => JSON.parse((await ok(w, a.devices[0], ['--json', 'send', b.name, text])).stdout);

  function flip(messageId, device) {
    const pg = w.srv.backend === 'pg';
    const where = `message_id = '${messageId}' AND device_id = '${device}' AND event = 'new'`;
    const [[hex]] = sql(w.srv, `SELECT ${pg ? "encode(ciphertext, 'hex')" : 'hex(ciphertext)'} FROM device_queue WHERE ${where}`);
    const buf = Buffer.from(hex, 'hex');
    buf[buf.length - 30] ^= 0x01;
    sql(w.srv, `UPDATE device_queue SET ciphertext = ${pg ? `decode('${buf.toString('hex')}', 'hex')` : `X'${buf.toString('hex')}'`} WHERE ${where}`);
  }

  // The newest message the server holds from Alice's device (the resend she just posted).
  const newestFromA = () => sql(w.srv, `SELECT id FROM messages WHERE sender_device_id = '${aDev}' ORDER BY id DESC LIMIT 1`)[0][0];

  async function roundTrip(id, m) {
    // Bob: could not read it, asked; history says so.
    const rb = await ok(w, b.devices[0], ['sync', '--json']);
    assert.match(rb.stderr, /could not be decrypted; asked that device to resend it/);
    assert.deepEqual(lines(rb).map((x) => [x.event, x.id, x.retryRequested]), [['undecryptable', id, true]]);
    assert.equal(rb.stdout.includes(m), false);
    const h0 = (await history(w, b.devices[0], a)).find((x) => x.id === id);
    assert.equal(h0.status, 'undecryptable');
    assert.equal(h0.text ?? null, null);
    // Alice: asked, resends once, says so.
    const ra = await ok(w, a.devices[0], ['sync', '--json']);
    assert.deepEqual(lines(ra).map((x) => [x.event, x.id, x.deviceId]), [['resent', id, bDev]]);
    // Bob: the message arrives, under its original id, marked resent.
    const rb2 = await ok(w, b.devices[0], ['sync', '--json']);
    assert.deepEqual(lines(rb2).map((x) => [x.id, x.text, x.resent]), [[id, m, true]]);
    const h = await history(w, b.devices[0], a);
    assert.equal(h.filter((x) => x.id === id).length, 1);
    assert.equal(h.find((x) => x.id === id).text, m);
    assert.equal(h.find((x) => x.id === id).status, 'received');
    // And the conversation goes on, both ways.
    const next = marker(w, 'next');
    await ok(w, a.devices[0], ['send', b.name, next]);
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [next]);
    const back = marker(w, 'back');
    await ok(w, b.devices[0], ['send', a.name, back]);
    assert.deepEqual((await sync(w, a.devices[0])).map((x) => x.text), [back]);
  }

  test('a damaged ciphertext: asked for, resent on a new session, read', async () => {
    const m = marker(w, 'damaged');
    const sent = await sendJson(m);
    flip(sent.id, bDev);
    await roundTrip(sent.id, m);
  });

  test("the recipient's session state lost: asked for on a new session, resent, read", async () => {
    execFileSync('sqlite3', [path.join(b.devices[0], 'sotto.db'), `DELETE FROM peers WHERE user_id = '${aId}'`]);
    const m = marker(w, 'nosession');
    const sent = await sendJson(m);
    await roundTrip(sent.id, m);
  });

  test('a message whose resend cannot be read either stays, shown as undecryptable', async () => {
    const m = marker(w, 'lost');
    const sent = await sendJson(m);
    flip(sent.id, bDev);
    const rb = await ok(w, b.devices[0], ['sync', '--json']);
    assert.deepEqual(lines(rb).map((x) => [x.event, x.id]), [['undecryptable', sent.id]]);
    const ra = await ok(w, a.devices[0], ['sync']);
    assert.match(ra.stdout, /resent a message to .*'s device/);
    flip(newestFromA(), bDev); // the resend is damaged too
    const rb2 = await ok(w, b.devices[0], ['sync', '--json']);
    assert.equal(rb2.stdout.includes(m), false);
    // Alice's device is asked about the resend, not a message she holds: nothing is resent twice.
    const ra2 = await ok(w, a.devices[0], ['sync', '--json']);
    assert.deepEqual(lines(ra2), []);
    const h = (await history(w, b.devices[0], a)).find((x) => x.id === sent.id);
    assert.equal(h.status, 'undecryptable');
    assert.equal(h.text ?? null, null);
    // Waiting for a resend for a day (one may still come), then undecryptable for good.
    assert.match((await ok(w, b.devices[0], ['history', a.name])).stdout, new RegExp(`\\(Waiting for this message from ${a.name}\u2026\\)`));
    const dayLater = { env: { SOTTO_TEST_CLOCK_OFFSET: String(25 * 3600) } };
    assert.match((await ok(w, b.devices[0], ['history', a.name], dayLater)).stdout, /\(This message could not be decrypted\.\)/);
  });

  test('no plaintext marker on the server or in the profiles', () => assertNoPlaintext(w));
});
