// E2E 13 (issue 17): a ghost device the server adds to one's own account. It is announced,
// sending is held (no copy of what one sends goes to it) until the user accepts it or revokes
// it, and a message from it is refused as a security event, never shown. Also: the process
// runs without core dumps and not dumpable (the CLI's own hardening).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { assertNoPlaintext, cliPath, marker, ok, run, send, sql, sync, user, world } from './lib/e2e.mjs';

const TRUST = 4;
const whoami = async (w, u, d = 0) => JSON.parse((await ok(w, u.devices[d], ['whoami', '--json'])).stdout);
const userId = (me) => me.id ?? me.user?.id;

describe("a ghost device on one's own account", () => {
  let w, a, b, m, bMe, mMe;
  before(async () => {
    w = await world({}, { legacy: true }); // accounts without a signed list: 23_device_list has those
    [a, b, m] = [await user(w, 'a'), await user(w, 'b'), await user(w, 'm')];
    [bMe, mMe] = [await whoami(w, b), await whoami(w, m)];
    await send(w, b, a, marker(w, 'before')); // Bob's client accepts his own device set
  });
  after(async () => { await w?.close(); });

  const queuedFor = (dev) => Number(sql(w.srv, `SELECT count(*) FROM device_queue WHERE device_id = '${dev}'`)[0][0]);

  test('is announced, its message refused as a security event, and sending held', async () => {
    // Mallory writes to Bob; then the server moves her device onto Bob's account and relabels
    // the message as coming from Bob's "other device".
    const fake = marker(w, 'ghost');
    const r = await send(w, m, b, fake);
    const id = r.stdout.match(/sent (\S+)/)[1];
    sql(w.srv, `UPDATE devices SET user_id = '${userId(bMe)}' WHERE id = '${mMe.deviceId}'`);
    sql(w.srv, `UPDATE messages SET sender_user_id = '${userId(bMe)}' WHERE id = '${id}'`);
    const s = await ok(w, b.devices[0], ['sync', '--json']);
    const lines = s.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    assert.equal(s.stdout.includes(fake), false);
    assert.deepEqual(lines.filter((l) => !l.event), []);
    const ev = lines.filter((l) => l.event === 'security');
    assert.equal(ev.length, 1, s.stdout + s.stderr);
    assert.equal(ev[0].deviceId, mMe.deviceId);
    assert.equal(ev[0].reason, 'unaccepted-device');
    assert.match(s.stderr, /NEW DEVICE .* YOUR account/);
    assert.match(s.stderr, /HELD/);

    const held = marker(w, 'held');
    const before_ = queuedFor(mMe.deviceId);
    const h = await run(w, b.devices[0], ['send', a.name, held]);
    assert.equal(h.code, TRUST, h.stderr);
    assert.match(h.stderr, /devices accept/);
    assert.equal(queuedFor(mMe.deviceId), before_, 'no copy went to the ghost');
    assert.equal((await sync(w, a.devices[0])).some((x) => x.text === held), false);
  });

  test('revoking the ghost ends the hold; Bob writes again', async () => {
    await ok(w, b.devices[0], ['devices', 'revoke', mMe.deviceId]);
    const after_ = marker(w, 'after');
    await send(w, b, a, after_);
    assert.deepEqual((await sync(w, a.devices[0])).map((x) => x.text), [after_]);
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});

describe('a device the user adds is accepted with devices accept', () => {
  let w, a, b;
  before(async () => {
    w = await world({}, { legacy: true }); // accounts without a signed list: 23_device_list has those
    [a, b] = [await user(w, 'a'), await user(w, 'b')];
    await send(w, b, a, marker(w, 'first'));
  });
  after(async () => { await w?.close(); });

  test('held until accepted, then every device gets the copy', async () => {
    const { addDevice } = await import('./lib/e2e.mjs');
    await addDevice(w, b);
    const t = marker(w, 'second');
    const h = await run(w, b.devices[0], ['send', a.name, t]);
    assert.equal(h.code, TRUST, h.stderr);
    await ok(w, b.devices[0], ['devices', 'accept']);
    await send(w, b, a, t);
    assert.deepEqual((await sync(w, a.devices[0])).map((x) => x.text).slice(-1), [t]);
    assert.deepEqual((await sync(w, b.devices[1])).map((x) => x.text), [t]);
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});

describe('process hardening', () => {
  let w, a;
  before(async () => {
    w = await world({}, { legacy: true }); // accounts without a signed list: 23_device_list has those
    a = await user(w, 'a');
    marker(w, 'unused');
  });
  after(async () => { await w?.close(); });

  test('no core dumps, not dumpable', async () => {
    const child = spawn(cliPath(), ['--server', w.srv.base, '--profile', a.devices[0], 'watch', '--timeout', '5'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise((r) => child.on('exit', r));
    let limits = '';
    for (let i = 0; i < 100 && !/core file size\s+0\s+0/.test(limits); i += 1) {
      await new Promise((r) => setTimeout(r, 30));
      try { limits = readFileSync(`/proc/${child.pid}/limits`, 'utf8'); } catch { /* not yet */ }
    }
    assert.match(limits, /Max core file size\s+0\s+0/);
    // A process that is not dumpable has its /proc files owned by root.
    assert.equal(statSync(`/proc/${child.pid}/environ`).uid, 0);
    child.kill('SIGINT');
    await exited;
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
