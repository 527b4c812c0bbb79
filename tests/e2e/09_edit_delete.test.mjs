// E2E 9: edits and deletes. The sender edits and deletes its own messages (`sotto edit`,
// `sotto delete`); every other device (the contact's two, the sender's other one) applies the
// edit (text replaced, "(edited)" with the sender's edit time) and the delete (text wiped);
// only the sender may edit or delete; then no marker, old or new text, anywhere on disk.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addDevice, assertNoPlaintext, history, marker, ok, run, send, sync, user, world } from './lib/e2e.mjs';

describe('edits and deletes', () => {
  let w, a, b;
  before(async () => {
    w = await world();
    a = await user(w, 'a');
    b = await user(w, 'b');
    await addDevice(w, a);
    await addDevice(w, b);
  });
  after(async () => { await w?.close(); });

  const lastOf = async (dev, peer, text) => (await history(w, dev, peer)).find((m) => m.text === text);

  test('an edit replaces the text on every device, marked edited', async () => {
    const before1 = marker(w, 'orig');
    const after1 = marker(w, 'edited');
    const sent = JSON.parse((await ok(w, a.devices[0], ['--json', 'send', b.name, before1])).stdout);
    for (const dev of [...b.devices, a.devices[1]]) await sync(w, dev);
    const r = await ok(w, a.devices[0], ['edit', b.name, sent.id, after1]);
    assert.match(r.stdout, /edited/);
    const mine = (await history(w, a.devices[0], b)).find((m) => m.serverId === sent.id || m.id === sent.id);
    assert.equal(mine.text, after1);
    assert.equal(mine.edited, true);
    for (const dev of [...b.devices, a.devices[1]]) {
      const out = await sync(w, dev);
      assert.deepEqual(out.map((e) => [e.event, e.text]), [['edited', after1]], `sync on ${dev}`);
      const peer = dev.includes(b.name) ? a : b;
      const h = await history(w, dev, peer);
      assert.equal(h.length, 1);
      assert.equal(h[0].text, after1);
      assert.equal(h[0].edited, true);
      assert.ok(h[0].editedAt >= h[0].sentAt);
      const text = (await ok(w, dev, ['history', peer.name])).stdout;
      assert.match(text, /\(edited\)/);
      assert.ok(!text.includes(before1));
    }
    // Nothing is applied twice.
    for (const dev of b.devices) assert.deepEqual(await sync(w, dev), []);
  });

  test("only the sender may edit or delete; a contact cannot touch someone else's message", async () => {
    const m = marker(w, 'notyours');
    const sent = JSON.parse((await ok(w, a.devices[0], ['--json', 'send', b.name, m])).stdout);
    await sync(w, b.devices[0]);
    const e = await run(w, b.devices[0], ['edit', a.name, sent.id, 'hijack']);
    assert.equal(e.code, 1, e.stderr);
    const d = await run(w, b.devices[0], ['delete', a.name, sent.id]);
    assert.equal(d.code, 1, d.stderr);
    assert.ok(await lastOf(b.devices[0], a, m));
  });

  test('a delete wipes the text on every device; history shows "(deleted)"', async () => {
    const m = marker(w, 'todelete');
    const sent = JSON.parse((await ok(w, b.devices[1], ['--json', 'send', a.name, m])).stdout);
    for (const dev of [...a.devices, b.devices[0]]) await sync(w, dev);
    await ok(w, b.devices[1], ['delete', a.name, sent.id]);
    for (const dev of [...a.devices, ...b.devices]) {
      if (dev !== b.devices[1]) {
        const out = await sync(w, dev);
        assert.deepEqual(out.map((x) => x.event), ['deleted'], `sync on ${dev}`);
      }
      const peer = dev.includes(a.name) ? b : a;
      const h = await history(w, dev, peer);
      const gone = h.find((x) => x.serverId === sent.id || x.id === sent.id);
      assert.equal(gone.deleted, true, `on ${dev}`);
      assert.equal(gone.text ?? null, null);
      assert.match((await ok(w, dev, ['history', peer.name])).stdout, /\(deleted\)/);
      assert.deepEqual((await history(w, dev, peer, ['--search', m])), []);
    }
    // A deleted message cannot be edited.
    const e = await run(w, b.devices[1], ['edit', a.name, sent.id, 'too late']);
    assert.equal(e.code, 1);
  });

  test('blank or over 10,000 characters: refused before anything is stored or sent', async () => {
    const count = async () => (await history(w, a.devices[0], b)).length;
    const n0 = await count();
    for (const text of ['', ' \n\t ', 'x'.repeat(10001), 'é'.repeat(10001)]) {
      const r = await run(w, a.devices[0], ['send', b.name, text]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /nothing to send|at most 10000/);
    }
    const sent = JSON.parse((await ok(w, a.devices[0], ['--json', 'send', b.name, 'é'.repeat(10000)])).stdout);
    assert.equal(await count(), n0 + 1); // only the one that fits, in 20,000 bytes
    const r = await run(w, a.devices[0], ['edit', b.name, sent.id, 'y'.repeat(10001)]);
    assert.equal(r.code, 1, r.stderr);
    const got = (await sync(w, b.devices[0])).filter((m) => m.text !== undefined);
    assert.deepEqual(got.map((m) => m.text.length), [10000]);
  });

  test("'send USER -' takes the text from stdin, multi-line, without its final newline", async () => {
    const m = marker(w, 'stdin');
    await ok(w, a.devices[0], ['send', b.name, '-'], { input: `${m} first line\nsecond line\n` });
    const got = (await sync(w, b.devices[0])).filter((x) => x.text !== undefined);
    assert.deepEqual(got.map((x) => x.text), [`${m} first line\nsecond line`]);
    const big = await run(w, a.devices[0], ['send', b.name, '-'], { input: 'x'.repeat(40003) });
    assert.equal(big.code, 1, big.stderr);
    assert.match(big.stderr, /too long/);
  });

  test('no plaintext marker (original, edited or deleted) on the server or in the profiles', () => assertNoPlaintext(w));
});
