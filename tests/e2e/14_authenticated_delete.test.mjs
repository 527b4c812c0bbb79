// E2E 14 (issue 17, item 4): deletes and edits are the sender's word, not the server's.
// A `message:deleted` the server makes up (injected into a device's queue) changes nothing in
// the client's history: it is only reported ("server-removed"). `sotto delete` sends an
// authenticated DELETE payload to every device, and that is what deletes: it works even when
// the server's own event never arrives. An edit relabelled onto someone else's message is
// refused and noted, both texts unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addDevice, assertNoPlaintext, history, marker, ok, run, sql, sync, user, world } from './lib/e2e.mjs';

const whoami = async (w, dev) => JSON.parse((await ok(w, dev, ['whoami', '--json'])).stdout);

describe('authenticated deletes and edits', () => {
  let w, a, b, bDev, aDev;
  before(async () => {
    w = await world();
    a = await user(w, 'a');
    b = await user(w, 'b');
    await addDevice(w, a);
    aDev = (await whoami(w, a.devices[0])).deviceId;
    bDev = (await whoami(w, b.devices[0])).deviceId;
  });
  after(async () => { await w?.close(); });

  const sendJson = async (from, to, text, d = 0) => JSON.parse((await ok(w, from.devices[d], ['--json', 'send', to.name, text])).stdout);
  const find = async (dev, peer, id) => (await history(w, dev, peer)).find((m) => m.serverId === id || m.id === id);

  // A message:deleted the server queues for `device` on its own (no DELETE payload anywhere).
  function serverDelete(messageId, device) {
    const now = Date.now();
    sql(w.srv, `UPDATE messages SET deleted_at = ${now} WHERE id = '${messageId}'`);
    sql(w.srv, `UPDATE device_queue SET ciphertext = NULL WHERE message_id = '${messageId}'`);
    sql(w.srv, `INSERT INTO device_queue (device_id, seq, message_id, event, created_at) SELECT id, next_seq, '${messageId}', 'deleted', ${now} FROM devices WHERE id = '${device}'`);
    sql(w.srv, `UPDATE devices SET next_seq = next_seq + 1 WHERE id = '${device}'`);
  }

  test("a delete made by the server does not erase the client's history", async () => {
    const m = marker(w, 'kept');
    const sent = await sendJson(a, b, m);
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [m]);
    serverDelete(sent.id, bDev);
    const r = await ok(w, b.devices[0], ['sync', '--json']);
    const out = r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    assert.deepEqual(out.map((x) => [x.event, x.id]), [['server-removed', sent.id]]);
    const kept = await find(b.devices[0], a, sent.id);
    assert.equal(kept.text, m);
    assert.equal(kept.deleted, false);
    // In words, too: the server removed it; the copy stays.
    serverDelete(sent.id, bDev);
    const h = await ok(w, b.devices[0], ['sync']);
    assert.match(h.stdout, /the server removed message .* \(your copy is kept\)/);
    assert.match((await ok(w, b.devices[0], ['history', a.name])).stdout, new RegExp(m));
  });

  test("the sender's delete (an E2E payload) deletes, even without the server's event", async () => {
    const m = marker(w, 'gone');
    const sent = await sendJson(a, b, m);
    await sync(w, b.devices[0]);
    await sync(w, a.devices[1]);
    await ok(w, a.devices[0], ['delete', b.name, sent.id]);
    // The server's own message:deleted never reaches the devices: only the payload can delete.
    sql(w.srv, `DELETE FROM device_queue WHERE message_id = '${sent.id}' AND event = 'deleted'`);
    for (const [dev, peer] of [[b.devices[0], a], [a.devices[1], b]]) {
      const out = await sync(w, dev);
      assert.deepEqual(out.map((x) => [x.event, x.id]), [['deleted', sent.id]], `sync on ${dev}`);
      const gone = await find(dev, peer, sent.id);
      assert.equal(gone.deleted, true, `on ${dev}`);
      assert.equal(gone.text ?? null, null);
      assert.match((await ok(w, dev, ['history', peer.name])).stdout, /\(deleted\)/);
    }
    assert.equal((await find(a.devices[0], b, sent.id)).deleted, true);
    // Nothing happens twice.
    assert.deepEqual(await sync(w, b.devices[0]), []);
  });

  test("an edit relabelled onto someone else's message is refused and noted", async () => {
    const mine = marker(w, 'alices');
    const theirs = marker(w, 'bobs');
    const edit = marker(w, 'bobsedit');
    const sa = await sendJson(a, b, mine);
    const sb = await sendJson(b, a, theirs);
    await sync(w, b.devices[0]);
    await sync(w, a.devices[0]);
    await ok(w, b.devices[0], ['edit', a.name, sb.id, edit]);
    // The server presents Bob's edit (of his own message) as an edit of Alice's message.
    sql(w.srv, `UPDATE device_queue SET message_id = '${sa.id}' WHERE message_id = '${sb.id}' AND event = 'edited' AND device_id = '${aDev}'`);
    const r = await ok(w, a.devices[0], ['sync', '--json']);
    assert.match(r.stderr, /REFUSED an edit/);
    assert.equal(r.stdout.includes(edit), false);
    assert.equal((await find(a.devices[0], b, sa.id)).text, mine);
    assert.equal((await find(a.devices[0], b, sa.id)).edited, false);
    assert.equal((await find(a.devices[0], b, sb.id)).text, theirs);
  });

  test('only the sender may delete: a contact cannot send a delete of your message', async () => {
    const m = marker(w, 'notyours');
    const sent = await sendJson(a, b, m);
    await sync(w, b.devices[0]);
    const d = await run(w, b.devices[0], ['delete', a.name, sent.id]);
    assert.equal(d.code, 1, d.stderr);
    assert.equal((await find(b.devices[0], a, sent.id)).text, m);
  });

  test('no plaintext marker on the server or in the profiles', () => assertNoPlaintext(w));
});
