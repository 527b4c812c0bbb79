// E2E 10: receipts that happen while the sender is away. `send` leaves no socket open, so
// message:delivered and message:read reach nobody; the sender's next session asks the REST
// history for the statuses of what it sent (cli/src/receipts.c). A read receipt is a cursor:
// it covers every earlier message, and nothing after it. A chat on a terminal opens on the
// recent messages and so reads them; `conversations` lists the unread counts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addDevice, assertNoPlaintext, chat, history, marker, ok, send, sync, user, world } from './lib/e2e.mjs';

// Syncs dev until the texts have the wanted statuses (a receipt may still be on its way
// into the server's next commit), then asserts them.
async function expectStatuses(w, dev, peer, texts, want) {
  let got;
  for (let i = 0; i < 20; i += 1) {
    await sync(w, dev);
    got = await statuses(w, dev, peer, texts);
    if (JSON.stringify(got) === JSON.stringify(want)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(got, want, `on ${dev}`);
}

const statuses = async (w, dev, peer, texts) => {
  const h = await history(w, dev, peer);
  return texts.map((t) => h.find((m) => m.text === t)?.status);
};

describe('receipts missed while away', () => {
  let w, a, b;
  before(async () => {
    w = await world();
    a = await user(w, 'a');
    b = await user(w, 'b');
    await addDevice(w, a); // a.devices[1] holds copies of what a.devices[0] sends
  });
  after(async () => { await w?.close(); });

  test('delivered, then read up to the cursor, on every device of the sender', async () => {
    const first = [marker(w, 'r1'), marker(w, 'r2'), marker(w, 'r3')];
    for (const m of first) await send(w, a, b, m);
    await sync(w, a.devices[0]);
    assert.deepEqual(await statuses(w, a.devices[0], b, first), ['sent', 'sent', 'sent']);

    await sync(w, b.devices[0]); // acknowledged while a is away
    await sync(w, a.devices[0]);
    assert.deepEqual(await statuses(w, a.devices[0], b, first), ['delivered', 'delivered', 'delivered']);

    // b reads the fourth message live: its read cursor covers the three before it too.
    const fourth = marker(w, 'r4');
    const reader = chat(w, b.devices[0], a);
    await send(w, a, b, fourth);
    await reader.waitOut(fourth);
    await reader.quit();
    const fifth = marker(w, 'r5'); // sent after the read, never fetched by b
    await send(w, a, b, fifth);

    const all = [...first, fourth, fifth];
    for (const dev of a.devices) await expectStatuses(w, dev, b, all, ['read', 'read', 'read', 'read', 'sent']);
    // b's own history is not touched by its cursor.
    assert.ok((await history(w, b.devices[0], a)).every((m) => m.status === 'received'));
  });

  test('a chat opens on the recent messages and marks them read', async () => {
    const texts = [marker(w, 'c1'), marker(w, 'c2')];
    for (const m of texts) await send(w, a, b, m);
    await sync(w, b.devices[0]); // stored and printed by sync, which reads nothing
    await expectStatuses(w, a.devices[0], b, texts, ['delivered', 'delivered']);
    const reader = chat(w, b.devices[0], a, { json: false });
    for (const m of texts) await reader.waitOut(`${a.name}: ${m}`);
    await expectStatuses(w, a.devices[0], b, texts, ['read', 'read']);
    await reader.quit();
  });

  test('the conversation list: unread counts, and the last message as this device has it', async () => {
    const texts = [marker(w, 'l1'), marker(w, 'l2')];
    for (const m of texts) await send(w, a, b, m);
    const list = async (dev) => JSON.parse((await ok(w, dev, ['--json', 'conversations'])).stdout);
    let [entry] = await list(b.devices[0]);
    assert.equal(entry.peer.username, a.name);
    assert.equal(entry.unread, 2);
    assert.equal(entry.lastMessage.text, null, 'not fetched yet: nothing to show');
    await sync(w, b.devices[0]);
    [entry] = await list(b.devices[0]);
    assert.equal(entry.lastMessage.text, texts[1]);
    const human = (await ok(w, b.devices[0], ['conversations'])).stdout;
    assert.match(human, new RegExp(`^${a.name}\\s+2 unread\\s+\\[[^\\]]+\\] ${a.name}: ${texts[1]}$`, 'm'));
    const [mine] = await list(a.devices[0]);
    assert.equal(mine.peer.username, b.name);
    assert.equal(mine.unread, 0);
    assert.equal(mine.lastMessage.text, texts[1]);
    // Opening the chat reads them.
    const reader = chat(w, b.devices[0], a, { json: false });
    await reader.waitOut(texts[1]);
    for (let i = 0; i < 50 && (await list(b.devices[0]))[0].unread !== 0; i += 1) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await list(b.devices[0]))[0].unread, 0);
    await reader.quit();
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
