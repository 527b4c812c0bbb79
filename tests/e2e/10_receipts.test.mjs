// E2E 10: receipts that happen while the sender is away. `send` leaves no socket open, so
// message:delivered and message:read reach nobody; the sender's next session asks the REST
// history for the statuses of what it sent (cli/src/receipts.c). A read receipt is a cursor:
// it covers every earlier message, and nothing after it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { addDevice, assertNoPlaintext, cliPath, history, marker, send, sync, user, world } from './lib/e2e.mjs';

// The recipient reads live: an interactive chat marks what it shows as read.
async function readLive(w, profile, peer, expectText) {
  const child = spawn(cliPath(), ['--server', w.srv.base, '--profile', profile, 'chat', peer.name, '--json'],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return {
    async shown() {
      const end = Date.now() + 10000;
      while (!out.includes(expectText)) {
        if (Date.now() > end) throw new Error(`chat never showed the message\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async quit() {
      child.stdin.end('/quit\n');
      assert.equal(await exited, 0, err);
    },
  };
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
    const chat = await readLive(w, b.devices[0], a, fourth);
    await send(w, a, b, fourth);
    await chat.shown();
    await chat.quit();
    const fifth = marker(w, 'r5'); // sent after the read, never fetched by b
    await send(w, a, b, fifth);

    // The chat has quit, but its read may still be on its way into the server's next commit.
    const all = [...first, fourth, fifth];
    for (const dev of a.devices) {
      let got;
      for (let i = 0; i < 20; i += 1) {
        await sync(w, dev);
        got = await statuses(w, dev, b, all);
        if (got[3] === 'read') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(got, ['read', 'read', 'read', 'read', 'sent'], `on ${dev}`);
    }
    // b's own history is not touched by its cursor.
    assert.ok((await history(w, b.devices[0], a)).every((m) => m.status === 'received'));
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
