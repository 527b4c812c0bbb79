// E2E 12 (issue 17): the server is the adversary. A client talks only to the keys of the
// device listing it trust-checked (and whose safety number the user can compare): a claimed
// bundle with another key, a pre-key message relabelled as another user's, or one from a
// device that user's listing does not hold, is refused and announced as a security event
// (stderr, and {"event":"security"} with --json), never shown or stored as a message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertNoPlaintext, history, marker, ok, run, send, sql, sync, user, world } from './lib/e2e.mjs';
import { mitm } from './lib/mitm.mjs';

const TRUST = 4;

const whoami = async (w, u, d = 0) => JSON.parse((await ok(w, u.devices[d], ['whoami', '--json'])).stdout);
const userId = (me) => me.id ?? me.user?.id;

// sync --json split into messages and security events.
async function syncAll(w, profile) {
  const r = await ok(w, profile, ['sync', '--json']);
  const lines = r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  return { r, messages: lines.filter((l) => !l.event), events: lines.filter((l) => l.event === 'security') };
}

// The message the sender just sent (its server id, from `send`'s output).
const sentId = (r) => r.stdout.match(/sent (\S+)/)[1];

function relabel(w, messageId, senderUser, senderDevice) {
  sql(w.srv, `UPDATE messages SET sender_user_id = '${senderUser}', sender_device_id = '${senderDevice}' WHERE id = '${messageId}'`);
}

describe('a tampered claim response', () => {
  let w, a, b, m, proxy, bDev, mId, tamper = true;
  before(async () => {
    w = await world();
    [a, b, m] = [await user(w, 'a'), await user(w, 'b'), await user(w, 'm')];
    bDev = (await whoami(w, b)).deviceId;
    mId = userId(await whoami(w, m));
    // Mallory's bundle served for Bob's device (keys and signatures all Mallory's, valid).
    proxy = await mitm(w.srv.base, async (method, p, status, body, auth) => {
      if (!tamper || method !== 'POST' || p !== '/api/keys/claim' || status !== 200) return null;
      const mal = await (await fetch(`${w.srv.base}/api/keys/users/${mId}`, { headers: { authorization: auth } })).json();
      const md = mal.devices[0];
      for (const d of body.devices) {
        if (d.deviceId !== bDev) continue;
        for (const k of ['identityKey', 'signingKey', 'identitySignature', 'signedPreKey']) d[k] = md[k];
        delete d.oneTimePreKey;
      }
      return body;
    });
  });
  after(async () => { await proxy?.close(); await w?.close(); });

  const queued = () => Number(sql(w.srv, `SELECT count(*) FROM device_queue WHERE device_id = '${bDev}'`)[0][0]);

  test('is refused as a security event; nothing is encrypted for the wrong key or sent', async () => {
    const secret = marker(w, 'claim');
    const r = await run(w, a.devices[0], ['--server', proxy.base, 'send', b.name, secret]);
    assert.equal(r.code, TRUST, r.stderr);
    assert.match(r.stderr, /SECURITY/);
    assert.match(r.stderr, /NOT the listed ones/);
    assert.equal(queued(), 0, 'nothing reached the server for Bob');
    assert.equal((await history(w, a.devices[0], b)).some((x) => x.text === secret), false);
    const j = await run(w, a.devices[0], ['--server', proxy.base, '--json', 'send', b.name, secret]);
    assert.equal(j.code, TRUST);
    const ev = j.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((e) => e.event === 'security');
    assert.equal(ev?.reason, 'claimed-key-mismatch');
    assert.equal(ev?.deviceId, bDev);
  });

  test('the refusal left nothing behind: with an honest server the message goes through', async () => {
    tamper = false;
    const fine = marker(w, 'honest');
    await send(w, a, b, fine);
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [fine]);
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});

describe('a message relabelled by the server', () => {
  let w, a, b, m, aMe;
  before(async () => {
    w = await world();
    [a, b, m] = [await user(w, 'a'), await user(w, 'b'), await user(w, 'm')];
    aMe = await whoami(w, a);
    await sync(w, b.devices[0]);
  });
  after(async () => { await w?.close(); });

  test("Mallory's pre-key message relabelled as Alice's device is refused, announced, not shown", async () => {
    const fake = marker(w, 'relabel');
    const r = await send(w, m, b, fake);
    relabel(w, sentId(r), userId(aMe), aMe.deviceId);
    const { r: s, messages, events } = await syncAll(w, b.devices[0]);
    assert.equal(s.stdout.includes(fake), false);
    assert.deepEqual(messages, []);
    assert.equal(events.length, 1, s.stdout + s.stderr);
    assert.equal(events[0].reason, 'key-mismatch');
    assert.equal(events[0].fromId, userId(aMe));
    assert.equal(events[0].deviceId, aMe.deviceId);
    assert.match(s.stderr, /SECURITY.*claiming to be from/);
    assert.equal((await history(w, b.devices[0], a)).some((x) => x.text === fake), false);
    assert.equal((await history(w, b.devices[0], m)).some((x) => x.text === fake), false);
  });

  test('Alice herself still reaches Bob: the refusal pinned nothing', async () => {
    const real = marker(w, 'real');
    await send(w, a, b, real);
    const { messages, events } = await syncAll(w, b.devices[0]);
    assert.deepEqual(messages.map((x) => [x.text, x.fromId]), [[real, userId(aMe)]]);
    assert.deepEqual(events, []);
  });

  test('the same relabelling onto a known session is refused the same way', async () => {
    const fake = marker(w, 'relabel2');
    const r = await send(w, m, b, fake);
    relabel(w, sentId(r), userId(aMe), aMe.deviceId);
    const { messages, events } = await syncAll(w, b.devices[0]);
    assert.deepEqual(messages, []);
    assert.equal(events[0]?.reason, 'key-mismatch');
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});

describe('a pre-key message from a device not in the listing', () => {
  let w, a, b, m, aMe;
  before(async () => {
    w = await world();
    [a, b, m] = [await user(w, 'a'), await user(w, 'b'), await user(w, 'm')];
    aMe = await whoami(w, a);
  });
  after(async () => { await w?.close(); });

  test('is refused as from an unlisted device, announced, never shown as Alice', async () => {
    const ghost = '0190a000-0000-7000-8000-00000000d0d0';
    const now = Date.now();
    // A device row the listing never shows (revoked, no keys): only the queue names it.
    sql(w.srv, `INSERT INTO devices (id, user_id, name, platform, revoked_at, last_active_at, created_at) VALUES ('${ghost}', '${userId(aMe)}', 'ghost', 'cli', ${now}, ${now}, ${now})`);
    const fake = marker(w, 'unlisted');
    const r = await send(w, m, b, fake);
    relabel(w, sentId(r), userId(aMe), ghost);
    const { r: s, messages, events } = await syncAll(w, b.devices[0]);
    assert.equal(s.stdout.includes(fake), false);
    assert.deepEqual(messages, []);
    assert.equal(events.length, 1, s.stdout + s.stderr);
    assert.equal(events[0].reason, 'unlisted-device');
    assert.equal(events[0].deviceId, ghost);
    assert.match(s.stderr, /NOT in their device list/);
    assert.equal((await history(w, b.devices[0], a)).some((x) => x.text === fake), false);
    // A redelivery (nothing was lost locally: the refusal is recorded) is not announced twice.
    const again = await syncAll(w, b.devices[0]);
    assert.deepEqual([again.messages, again.events], [[], []]);
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
