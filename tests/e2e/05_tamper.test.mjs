// E2E 5: an envelope with one byte flipped in the server's database is refused by the
// client (reported, never shown or stored as text), and the conversation goes on.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertNoPlaintext, history, marker, ok, send, sql, sync, user, world } from './lib/e2e.mjs';

describe('a tampered envelope', () => {
  let w, a, b;
  before(async () => {
    w = await world();
    a = await user(w, 'a');
    b = await user(w, 'b');
  });
  after(async () => { await w?.close(); });

  const deviceId = async (u) => JSON.parse((await ok(w, u.devices[0], ['whoami', '--json'])).stdout).deviceId;

  function flip(messageId, device) {
    const pg = w.srv.backend === 'pg';
    const where = `message_id = '${messageId}' AND device_id = '${device}'`;
    const [[hex]] = sql(w.srv, `SELECT ${pg ? "encode(ciphertext, 'hex')" : 'hex(ciphertext)'} FROM device_queue WHERE ${where}`);
    const buf = Buffer.from(hex, 'hex');
    buf[buf.length - 30] ^= 0x01;
    sql(w.srv, `UPDATE device_queue SET ciphertext = ${pg ? `decode('${buf.toString('hex')}', 'hex')` : `X'${buf.toString('hex')}'`} WHERE ${where}`);
  }

  for (const kind of ['prekey', 'message']) {
    test(`a flipped byte in a ${kind} envelope is refused`, async () => {
      if (kind === 'message') { // a session exists after the pre-key test's follow-up
        const m0 = marker(w, 'ok0');
        await send(w, a, b, m0);
        assert.deepEqual((await sync(w, b.devices[0])).map((m) => m.text), [m0]);
      }
      const bad = marker(w, `bad-${kind}`);
      const sent = await send(w, a, b, bad);
      const id = sent.stdout.match(/sent (\S+)/)[1];
      flip(id, await deviceId(b));
      const r = await ok(w, b.devices[0], ['sync', '--json']);
      assert.equal(r.stdout.includes(bad), false);
      assert.match(r.stderr, /REFUSED/);
      assert.equal((await history(w, b.devices[0], a)).some((m) => m.text === bad), false);
      if (kind === 'prekey') {
        // The refusal kept nothing (the one-time pre-key is still there); the sender's session
        // is still pending, so its next message repeats the pre-key header and sets it up.
        const m1 = marker(w, 'after');
        await send(w, a, b, m1);
        assert.deepEqual((await sync(w, b.devices[0])).map((m) => m.text), [m1]);
      }
    });
  }

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
