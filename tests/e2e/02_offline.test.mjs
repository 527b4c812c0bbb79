// E2E 2: a device that is offline during a conversation gets everything, in order, when it
// returns; its copies of its own account's messages too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addDevice, assertNoPlaintext, history, marker, send, sync, user, world } from './lib/e2e.mjs';

describe('an offline device catches up', () => {
  let w, a, b;
  before(async () => {
    w = await world();
    a = await user(w, 'a');
    b = await user(w, 'b');
    await addDevice(w, b); // b.devices[1] stays offline
  });
  after(async () => { await w?.close(); });

  test('everything arrives in order on return', async () => {
    const sent = [];
    for (let i = 0; i < 6; i += 1) {
      const [from, to] = i % 2 ? [b, a] : [a, b];
      const m = marker(w, `off${i}`);
      await send(w, from, to, m);
      sent.push(m);
      await sync(w, i % 2 ? a.devices[0] : b.devices[0]);
    }
    const out = await sync(w, b.devices[1]);
    assert.deepEqual(out.map((m) => m.text), sent);
    assert.deepEqual(out.map((m) => m.outgoing), sent.map((_, i) => i % 2 === 1));
    assert.deepEqual((await history(w, b.devices[1], a)).map((m) => m.text), sent);
    assert.deepEqual(await sync(w, b.devices[1]), []);
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
