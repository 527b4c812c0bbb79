// E2E 3: clients killed between decrypt and ack, or between encrypt and send (crash points
// set through SOTTO_CRASH_AT, and a real SIGKILL during `watch`), recover with nothing lost
// and nothing shown twice.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { addDevice, assertNoPlaintext, cliPath, history, marker, ok, run, send, sync, user, world } from './lib/e2e.mjs';

const CRASHED = 70; // crash.c's _exit code

describe('crash recovery', () => {
  let w, a, b;
  before(async () => {
    w = await world();
    a = await user(w, 'a');
    b = await user(w, 'b');
  });
  after(async () => { await w?.close(); });

  const texts = async (dev, peer) => (await history(w, dev, peer)).map((m) => m.text);
  const crashAt = (point) => ({ env: { SOTTO_CRASH_AT: point } });

  test('killed after decrypting, before committing: redelivered and decrypted', async () => {
    const m = marker(w, 'rxpre');
    await send(w, a, b, m);
    const r = await run(w, b.devices[0], ['sync', '--json'], crashAt('receive-before-commit'));
    assert.equal(r.code, CRASHED, r.stderr);
    assert.deepEqual(await texts(b.devices[0], a), []);
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [m]);
    assert.deepEqual(await texts(b.devices[0], a), [m]);
  });

  test('killed after committing, before queue:ack: stored once, not shown again', async () => {
    const m = marker(w, 'rxpost');
    await send(w, a, b, m);
    const r = await run(w, b.devices[0], ['sync', '--json'], crashAt('receive-after-commit'));
    assert.equal(r.code, CRASHED, r.stderr);
    assert.deepEqual(await sync(w, b.devices[0]), []); // the redelivery is a known duplicate
    const h = await texts(b.devices[0], a);
    assert.equal(h.filter((t) => t === m).length, 1);
  });

  test('killed after encrypting and committing, before sending: the stored envelopes go out', async () => {
    const m = marker(w, 'txpre');
    const r = await run(w, a.devices[0], ['send', b.name, m], crashAt('send-after-commit'));
    assert.equal(r.code, CRASHED, r.stderr);
    assert.deepEqual(await sync(w, b.devices[0]), []); // nothing reached the server
    const f = await ok(w, a.devices[0], ['sync']); // flushes the outbox
    assert.match(f.stderr, /queued earlier/);
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [m]);
    // The session continues: the next message decrypts.
    const m2 = marker(w, 'txpre2');
    await send(w, a, b, m2);
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [m2]);
  });

  test('killed after the server accepted, before recording it: the resend is idempotent', async () => {
    const m = marker(w, 'txpost');
    const r = await run(w, a.devices[0], ['send', b.name, m], crashAt('send-after-post'));
    assert.equal(r.code, CRASHED, r.stderr);
    await ok(w, a.devices[0], ['sync']); // resends with the same clientMessageId
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [m]);
    assert.equal((await texts(b.devices[0], a)).filter((t) => t === m).length, 1);
    const mine = (await history(w, a.devices[0], b)).filter((x) => x.text === m);
    assert.equal(mine.length, 1);
    assert.equal(mine[0].status, 'sent');
  });

  test('a stored message whose device list changed meanwhile: 409, amended, delivered', async () => {
    const m = marker(w, 'mismatch');
    const r = await run(w, a.devices[0], ['send', b.name, m], crashAt('send-after-commit'));
    assert.equal(r.code, CRASHED, r.stderr);
    await addDevice(w, b); // the stored envelopes now miss b's new device
    const f = await ok(w, a.devices[0], ['sync']);
    assert.match(f.stderr, /queued earlier/);
    assert.match(f.stderr, /NEW DEVICE/);
    // b's first device also shows the sign-in it missed (cli/README.md, sign-in alerts).
    const seen = await sync(w, b.devices[0]);
    assert.deepEqual(seen.filter((x) => x.event === 'device:added').map((x) => x.name), ['dev2']);
    assert.deepEqual(seen.filter((x) => x.event !== 'device:added').map((x) => x.text), [m]);
    assert.deepEqual((await sync(w, b.devices[1])).map((x) => x.text), [m]);
  });

  test('SIGKILL while watching: nothing lost, nothing twice', async () => {
    const sent = [];
    for (let i = 0; i < 8; i += 1) {
      const m = marker(w, `kill${i}`);
      await send(w, a, b, m);
      sent.push(m);
    }
    const child = spawn(cliPath(), ['--server', w.srv.base, '--profile', b.devices[0], 'watch', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const shown = [];
    let partial = ''; // a read can end mid-line (and, without the decoder, mid-character)
    await new Promise((resolve) => {
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d) => {
        const lines = (partial + d).split('\n');
        partial = lines.pop();
        for (const l of lines.filter((x) => x.trim())) shown.push(JSON.parse(l).text);
        if (shown.length >= 2) { child.kill('SIGKILL'); resolve(); }
      });
      child.on('exit', resolve);
    });
    const rest = (await sync(w, b.devices[0])).map((x) => x.text);
    const all = [...shown, ...rest];
    assert.equal(new Set(all).size, all.length, 'nothing shown twice');
    const h = await texts(b.devices[0], a);
    for (const m of sent) assert.equal(h.filter((t) => t === m).length, 1, `${m} stored once`);
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
