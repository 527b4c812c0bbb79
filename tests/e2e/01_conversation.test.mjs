// E2E 1: two users with two devices each talk in both directions; every device gets every
// message exactly once, in order; then no plaintext marker anywhere on disk.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addDevice, assertNoPlaintext, findMarkers, history, marker, send, sync, user, world } from './lib/e2e.mjs';

describe('two users, two devices each', () => {
  let w, a, b;
  before(async () => {
    w = await world();
    a = await user(w, 'a');
    b = await user(w, 'b');
    await addDevice(w, a);
    await addDevice(w, b);
  });
  after(async () => { await w?.close(); });

  test('messages in both directions reach every device once, in order', async () => {
    const sent = [];
    for (let round = 0; round < 2; round += 1) {
      for (const [from, to, dev] of [[a, b, 0], [b, a, 0], [a, b, 1], [b, a, 1]]) {
        const m = marker(w, 'conv');
        await send(w, from, to, m, dev);
        sent.push(m);
      }
      // Half the devices read between the rounds, the rest only at the end.
      if (round === 0) { await sync(w, a.devices[0]); await sync(w, b.devices[1]); }
    }
    for (const dev of [...a.devices, ...b.devices]) await sync(w, dev);
    for (const [u, peer] of [[a, b], [b, a]]) {
      for (const dev of u.devices) {
        const texts = (await history(w, dev, peer)).map((m) => m.text);
        assert.deepEqual(texts, sent, `history on ${dev}`);
      }
    }
    // Nothing is delivered twice: a second sync prints nothing.
    for (const dev of [...a.devices, ...b.devices]) assert.deepEqual(await sync(w, dev), []);
  });

  test('what each device printed while syncing is every message addressed to it, once', async () => {
    const m1 = marker(w, 'once');
    await send(w, a, b, m1, 0);
    const got = await Promise.all([sync(w, b.devices[0]), sync(w, b.devices[1]), sync(w, a.devices[1])]);
    for (const out of got) assert.deepEqual(out.map((m) => m.text), [m1]);
    assert.equal(got[2][0].outgoing, true, "a copy of one's own message is marked outgoing");
  });

  test('search works over the local (encrypted) history', async () => {
    const m = marker(w, 'findme');
    await send(w, b, a, `lunch at noon ${m}`, 1);
    await sync(w, a.devices[0]);
    const found = await history(w, a.devices[0], b, ['--search', 'LUNCH AT']);
    assert.deepEqual(found.map((x) => x.text), [`lunch at noon ${m}`]);
  });

  test('the scanner itself finds a marker as text, base64 at any alignment, and hex', () => {
    const m = 'PLAINMARK-selftest-0123456789abcdef';
    for (let k = 0; k < 3; k += 1) {
      const b64 = Buffer.concat([Buffer.alloc(k, 7), Buffer.from(m), Buffer.alloc(2)]).toString('base64');
      assert.ok(findMarkers('t', Buffer.from(`xx${b64}yy`), [m]).length > 0, `base64 alignment ${k}`);
    }
    assert.ok(findMarkers('t', Buffer.from(`\\x${Buffer.from(m).toString('hex')}`), [m]).length > 0);
    assert.ok(findMarkers('t', Buffer.from(`a${m}b`), [m]).length > 0);
    assert.equal(findMarkers('t', Buffer.from('nothing here'), [m]).length, 0);
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
