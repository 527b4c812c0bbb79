// E2E 8: one-time pre-keys are replenished when the server runs low, and a device whose
// keys ran out entirely is still reachable (X3DH without a one-time key).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertNoPlaintext, marker, ok, send, sql, sync, user, world } from './lib/e2e.mjs';

describe('pre-key upkeep', () => {
  let w, a, b, bDevice;
  before(async () => {
    w = await world();
    a = await user(w, 'a');
    b = await user(w, 'b');
    bDevice = JSON.parse((await ok(w, b.devices[0], ['whoami', '--json'])).stdout).deviceId;
  });
  after(async () => { await w?.close(); });

  const count = () => Number(sql(w.srv, `SELECT count(*) FROM one_time_pre_keys WHERE device_id = '${bDevice}'`)[0][0]);

  test('registration uploads 100 one-time pre-keys', () => assert.equal(count(), 100));

  test('below 20 on the server, the next connection uploads more', async () => {
    sql(w.srv, `DELETE FROM one_time_pre_keys WHERE device_id = '${bDevice}' AND key_id > 5`);
    assert.equal(count(), 5);
    await sync(w, b.devices[0]);
    assert.equal(count(), 85);
  });

  test('with none left, a new sender still reaches the device (3-DH)', async () => {
    sql(w.srv, `DELETE FROM one_time_pre_keys WHERE device_id = '${bDevice}'`);
    const m = marker(w, 'nootk');
    await send(w, a, b, m);
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [m]);
    assert.equal(count(), 80, 'and the sync replenished');
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});

describe('signed pre-key rotation', () => {
  let w, a, b, c, bDevice;
  before(async () => {
    w = await world();
    [a, b, c] = [await user(w, 'a'), await user(w, 'b'), await user(w, 'c')];
    bDevice = JSON.parse((await ok(w, b.devices[0], ['whoami', '--json'])).stdout).deviceId;
  });
  after(async () => { await w?.close(); });

  const spkId = () => Number(sql(w.srv, `SELECT spk_id FROM devices WHERE id = '${bDevice}'`)[0][0]);
  const weekLater = { env: { SOTTO_TEST_CLOCK_OFFSET: String(8 * 86400) } };

  test('a week on, the signed pre-key is replaced; old and new sessions both work', async () => {
    const first = spkId();
    const m1 = marker(w, 'oldspk');
    await send(w, a, b, m1); // a pre-key message for the current signed pre-key
    assert.equal(spkId(), first);
    assert.deepEqual((await sync(w, b.devices[0], weekLater)).map((x) => x.text), [m1]);
    assert.ok(spkId() > first, 'rotated and uploaded');
    const m2 = marker(w, 'newspk');
    await send(w, c, b, m2); // X3DH against the new one
    assert.deepEqual((await sync(w, b.devices[0], weekLater)).map((x) => x.text), [m2]);
    await sync(w, b.devices[0], weekLater);
    assert.equal(spkId(), first + 1, 'no second rotation within the week');
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
