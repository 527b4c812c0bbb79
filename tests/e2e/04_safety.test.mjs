// E2E 4: safety numbers match on both sides; a new device is announced as a safety-number
// change; for a verified contact sending stops until the change is accepted; a device added
// to one's own account is announced on the other devices.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addDevice, assertNoPlaintext, marker, ok, run, send, sync, user, world } from './lib/e2e.mjs';

const TRUST = 4;

describe('safety numbers and trust', () => {
  let w, a, b;
  before(async () => {
    // Version 1 numbers, over every device key: accounts without a signed device list (the
    // lists' version 2 numbers are in 23_device_list).
    w = await world({}, { legacy: true });
    a = await user(w, 'a');
    b = await user(w, 'b');
    await send(w, a, b, marker(w, 'hello'));
    await sync(w, b.devices[0]);
  });
  after(async () => { await w?.close(); });

  const number = async (u, peer) => JSON.parse((await ok(w, u.devices[0], ['verify', peer.name, '--json'])).stdout);

  test('both sides print the same 60-digit number, and a QR code', async () => {
    const [x, y] = [await number(a, b), await number(b, a)];
    assert.match(x.safetyNumber, /^\d{60}$/);
    assert.equal(x.safetyNumber, y.safetyNumber);
    const human = await ok(w, a.devices[0], ['verify', b.name]);
    assert.ok(human.stdout.includes(x.safetyNumber.slice(0, 5)));
    assert.match(human.stdout, /[\u2580\u2584\u2588]/);
  });

  test('a new device of the contact is announced as a safety-number change', async () => {
    const before_ = (await number(a, b)).safetyNumber;
    await addDevice(w, b);
    const r = await send(w, a, b, marker(w, 'newdev'));
    assert.match(r.stderr, /NEW DEVICE/);
    assert.match(r.stderr, /SAFETY NUMBER with .* HAS CHANGED/);
    const [x, y] = [await number(a, b), await number(b, a)];
    assert.notEqual(x.safetyNumber, before_);
    assert.equal(x.safetyNumber, y.safetyNumber);
  });

  test('a verified contact whose devices change is held until accepted', async () => {
    await ok(w, a.devices[0], ['verify', b.name, '--mark-verified']);
    assert.equal((await number(a, b)).verified, true);
    await addDevice(w, b);
    const held = marker(w, 'held');
    const r = await run(w, a.devices[0], ['send', b.name, held]);
    assert.equal(r.code, TRUST, r.stderr);
    assert.match(r.stderr, /held/);
    const again = await run(w, a.devices[0], ['send', b.name, held]);
    assert.equal(again.code, TRUST);
    assert.equal((await sync(w, b.devices[2])).length, 0, 'nothing was sent while held');
    await ok(w, a.devices[0], ['verify', b.name, '--accept']);
    await send(w, a, b, held);
    assert.deepEqual((await sync(w, b.devices[2])).map((m) => m.text), [held]);
  });

  test("a device added to one's own account is announced on the others", async () => {
    await addDevice(w, a);
    const r = await ok(w, a.devices[0], ['sync']);
    assert.match(r.stderr, /NEW DEVICE .* YOUR account/);
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
