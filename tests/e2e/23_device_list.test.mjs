// E2E 23 (issue 23): the account key and the signed device list, with the server as the
// adversary. A CLI account publishes its list at registration; a contact encrypts only to the
// devices it names, so a device the server adds gets nothing and the sender says why; an older
// list, or none where one was seen, stops sending; a device that signs in with the password is
// not trusted until a device holding the account key approves it (same fingerprint on both),
// and revoking takes it out again. The safety number (version 2) stays the same meanwhile.
// Accounts from before account keys keep working and are migrated by the first new client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BACKEND, addDevice, assertNoPlaintext, marker, ok, run, send, sql, sync, user, world } from './lib/e2e.mjs';

const TRUST = 4;
const USAGE = 1;

const whoami = async (w, dir) => JSON.parse((await ok(w, dir, ['whoami', '--json'])).stdout);
const userId = (me) => me.id ?? me.user?.id;

// The stored list of a user as bytes (null when none), and writing one back (the adversary).
function storedList(w, uid) {
  const q = BACKEND === 'pg' ? `SELECT encode(list, 'hex') FROM device_lists WHERE user_id = '${uid}'`
    : `SELECT hex(list) FROM device_lists WHERE user_id = '${uid}'`;
  const rows = sql(w.srv, q);
  return rows.length ? Buffer.from(rows[0][0], 'hex') : null;
}
function writeList(w, uid, list) {
  const version = Number(list.readBigUInt64BE(49));
  const lit = BACKEND === 'pg' ? `decode('${list.toString('hex')}', 'hex')` : `X'${list.toString('hex')}'`;
  sql(w.srv, `UPDATE device_lists SET version = ${version}, list = ${lit} WHERE user_id = '${uid}'`);
}

// format 1 || userId (16) || accountKey (32) || version (8) || issuedAt (8) || n || n x (id, key) || sig.
// The signature is libsodium's multi-part Ed25519 (Ed25519ph), which Node cannot check: the
// contact's CLI checks it, and a list whose signature is flipped is refused (below).
const uuidText = (b) => b.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
function openList(list) {
  const n = list[65];
  assert.equal(list[0], 1);
  assert.equal(list.length, 66 + n * 48 + 64);
  const devices = [];
  for (let i = 0; i < n; i += 1) {
    const e = list.subarray(66 + i * 48, 66 + (i + 1) * 48);
    devices.push({ id: uuidText(e.subarray(0, 16)), signingKey: e.subarray(16).toString('hex') });
  }
  return { userId: uuidText(list.subarray(1, 17)), accountKey: list.subarray(17, 49).toString('hex'), version: Number(list.readBigUInt64BE(49)), devices };
}
const signingKey = (w, dev) => {
  const q = BACKEND === 'pg' ? `SELECT encode(signing_key, 'hex') FROM devices WHERE id = '${dev}'`
    : `SELECT lower(hex(signing_key)) FROM devices WHERE id = '${dev}'`;
  return sql(w.srv, q)[0][0];
};
const queued = (w, dev) => Number(sql(w.srv, `SELECT count(*) FROM device_queue WHERE device_id = '${dev}'`)[0][0]);
const fingerprint = (text) => text.match(/fingerprint:? (\d{4}(?: \d{4}){4})/)?.[1];

describe('signed device lists', () => {
  let w, a, b, m, aMe, bMe, mMe, v1;
  before(async () => {
    w = await world();
    [a, b, m] = [await user(w, 'a'), await user(w, 'b'), await user(w, 'm')];
    [aMe, bMe, mMe] = [await whoami(w, a.devices[0]), await whoami(w, b.devices[0]), await whoami(w, m.devices[0])];
    await send(w, a, b, marker(w, 'hello'));
    await sync(w, b.devices[0]);
  });
  after(async () => { await w?.close(); });

  test('registering publishes version 1, naming the first device, signed by the account key', async () => {
    v1 = storedList(w, userId(bMe));
    assert.ok(v1, 'a list is stored');
    const l = openList(v1);
    assert.equal(l.userId, userId(bMe));
    assert.equal(l.version, 1);
    assert.deepEqual(l.devices, [{ id: bMe.deviceId, signingKey: signingKey(w, bMe.deviceId) }]);
    assert.match((await ok(w, b.devices[0], ['whoami'])).stdout, /in your account's signed list \(version 1\); it holds the account key/);
    const v = JSON.parse((await ok(w, a.devices[0], ['verify', b.name, '--json'])).stdout);
    assert.equal(v.version, 2, 'both sides have a list: safety number version 2');
    // The contact's client opens it with the account key: a flipped signature bit is refused.
    const bad = Buffer.from(v1);
    bad[bad.length - 1] ^= 1;
    writeList(w, userId(bMe), bad);
    const r = await run(w, a.devices[0], ['send', b.name, marker(w, 'bad-signature')]);
    assert.equal(r.code, TRUST, r.stderr);
    assert.match(r.stderr, /does not open/);
    writeList(w, userId(bMe), v1);
  });

  test('a device the server adds receives nothing, and the sender says why', async () => {
    // The server moves Mallory's device (with its own valid keys) onto Bob's account.
    sql(w.srv, `UPDATE devices SET user_id = '${userId(bMe)}' WHERE id = '${mMe.deviceId}'`);
    const before_ = queued(w, mMe.deviceId);
    const text = marker(w, 'listed-only');
    const r = await ok(w, a.devices[0], ['--json', 'send', b.name, text]);
    assert.match(r.stderr, /NOT in the signed device list/);
    const ev = r.stdout.split('\n').filter((l) => l.startsWith('{"event"')).map((l) => JSON.parse(l));
    assert.deepEqual(ev.map((e) => [e.reason, e.deviceId]), [['unlisted-device', mMe.deviceId]]);
    assert.equal(queued(w, mMe.deviceId), before_, 'nothing was queued for the added device');
    const got = await sync(w, b.devices[0]);
    sql(w.srv, `UPDATE devices SET user_id = '${userId(mMe)}' WHERE id = '${mMe.deviceId}'`);
    assert.deepEqual(got.filter((x) => !x.event).map((x) => x.text), [text], JSON.stringify(got));
  });

  test('a new device is not trusted until approved; approving and revoking re-sign the list', async () => {
    const number = async () => JSON.parse((await ok(w, a.devices[0], ['verify', b.name, '--json'])).stdout).safetyNumber;
    const sn = await number();
    const login = await addDevice(w, b, { approve: false });
    assert.match(login.stderr, /NOT YET TRUSTED/);
    const me2 = await whoami(w, b.devices[1]);
    const who2 = (await ok(w, b.devices[1], ['whoami'])).stdout;
    assert.match(who2, /NOT YET APPROVED/);
    const fp = fingerprint(who2);
    assert.ok(fp, who2);
    assert.equal(me2.keyFingerprint, fp);
    assert.deepEqual(me2.deviceList, { version: 1, listed: false, holdsAccountKey: false });
    assert.equal(fingerprint(login.stderr), fp, 'the sign-in shows the same fingerprint');

    const early = marker(w, 'unapproved');
    const s = await ok(w, a.devices[0], ['send', b.name, early]);
    assert.match(s.stderr, /NOT in the signed device list/);
    assert.equal((await sync(w, b.devices[1])).length, 0, 'the unapproved device got nothing');

    const refused = await run(w, b.devices[0], ['devices', 'approve', me2.deviceId]);
    assert.equal(refused.code, USAGE, 'no terminal and no --yes: nothing approved');
    assert.equal(openList(storedList(w, userId(bMe))).version, 1);
    const no = await run(w, b.devices[1], ['devices', 'approve', me2.deviceId, '--yes']);
    assert.equal(no.code, USAGE, 'a device without the account key cannot approve');
    assert.match(no.stderr, /does not hold your account key/);

    const ap = await ok(w, b.devices[0], ['devices', 'approve', me2.deviceId, '--yes']);
    assert.equal(fingerprint(ap.stdout), fp, 'the approving device shows the same fingerprint');
    assert.match(ap.stdout, /"dev2" \(cli\)/);
    const l2 = openList(storedList(w, userId(bMe)));
    assert.equal(l2.accountKey, openList(v1).accountKey, 'signed by the same account key');
    assert.equal(l2.version, 2);
    assert.deepEqual(l2.devices.map((d) => d.id).sort(), [bMe.deviceId, me2.deviceId].sort());
    assert.match((await ok(w, b.devices[1], ['whoami'])).stdout, /in your account's signed list \(version 2\)/);

    const late = marker(w, 'approved');
    await send(w, a, b, late);
    assert.deepEqual((await sync(w, b.devices[1])).map((x) => x.text), [late]);
    assert.equal(await number(), sn, 'the safety number did not change');

    await ok(w, b.devices[0], ['devices', 'revoke', me2.deviceId]);
    const l3 = openList(storedList(w, userId(bMe)));
    assert.equal(l3.version, 3);
    assert.deepEqual(l3.devices.map((d) => d.id), [bMe.deviceId]);
    const after_ = marker(w, 'after-revoke');
    await send(w, a, b, after_);
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [early, late, after_]);
  });

  test('an older list served makes the sender refuse; so does a list that disappears', async () => {
    const newest = storedList(w, userId(bMe));
    const bDev = bMe.deviceId;
    writeList(w, userId(bMe), v1);
    const before_ = queued(w, bDev);
    const r = await run(w, a.devices[0], ['send', b.name, marker(w, 'rollback')]);
    assert.equal(r.code, TRUST, r.stderr);
    assert.match(r.stderr, /the server served an older device list for/);
    assert.equal(queued(w, bDev), before_, 'nothing was sent');

    sql(w.srv, `DELETE FROM device_lists WHERE user_id = '${userId(bMe)}'`);
    const gone = await run(w, a.devices[0], ['send', b.name, marker(w, 'gone')]);
    assert.equal(gone.code, TRUST, gone.stderr);
    assert.match(gone.stderr, /no longer serves the signed device list/);
    assert.equal(queued(w, bDev), before_);

    sql(w.srv, `INSERT INTO device_lists (user_id, version, list, updated_at) VALUES ('${userId(bMe)}', 1, ${BACKEND === 'pg' ? "'\\x00'::bytea" : "X'00'"}, 0)`);
    writeList(w, userId(bMe), newest);
    const fine = marker(w, 'restored');
    await send(w, a, b, fine);
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [fine]);
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});

describe('a changed account key', () => {
  let w, a, b, bMe;
  before(async () => {
    w = await world();
    [a, b] = [await user(w, 'a'), await user(w, 'b')];
    bMe = await whoami(w, b.devices[0]);
    await send(w, a, b, marker(w, 'hello'));
    await ok(w, a.devices[0], ['verify', b.name, '--mark-verified']);
  });
  after(async () => { await w?.close(); });

  test('is a safety-number change: a verified contact is held until accepted', async () => {
    const sn = JSON.parse((await ok(w, a.devices[0], ['verify', b.name, '--json'])).stdout).safetyNumber;
    // The server drops Bob's list; a new device of his, knowing none, makes another key.
    sql(w.srv, `DELETE FROM device_lists WHERE user_id = '${userId(bMe)}'`);
    const login = await addDevice(w, b, { approve: false });
    assert.match(login.stderr, /made your account key/);
    const held = marker(w, 'held');
    const r = await run(w, a.devices[0], ['send', b.name, held]);
    assert.equal(r.code, TRUST, r.stderr);
    assert.match(r.stderr, /ACCOUNT KEY CHANGED/);
    assert.match(r.stderr, /held until/);
    assert.equal((await run(w, a.devices[0], ['send', b.name, held])).code, TRUST, 'still held');
    const v = JSON.parse((await ok(w, a.devices[0], ['verify', b.name, '--accept', '--json'])).stdout);
    assert.notEqual(v.safetyNumber, sn);
    assert.equal(v.version, 2);
    await send(w, a, b, held);
    assert.deepEqual((await sync(w, b.devices[1])).map((x) => x.text), [held]);
  });
});

describe('accounts from before account keys', () => {
  let w, a, b, aMe;
  before(async () => {
    w = await world({}, { legacy: true });
    [a, b] = [await user(w, 'a'), await user(w, 'b')];
    aMe = await whoami(w, a.devices[0]);
  });
  after(async () => { await w?.close(); });

  test('keep working without a list, with version 1 safety numbers', async () => {
    const t = marker(w, 'legacy');
    await send(w, a, b, t);
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [t]);
    assert.equal(storedList(w, aMe.id ?? aMe.user?.id), null);
    assert.equal(JSON.parse((await ok(w, a.devices[0], ['verify', b.name, '--json'])).stdout).version, 1);
  });

  test('the first client that knows account keys signs the list of the active devices', async () => {
    const t = marker(w, 'migrated');
    const r = await ok(w, a.devices[0], ['send', b.name, t], { env: { SOTTO_TEST_LEGACY_CLIENT: '' } });
    assert.match(r.stderr, /made your account key/);
    const l = openList(storedList(w, userId(aMe)));
    assert.equal(l.version, 1);
    assert.deepEqual(l.devices.map((d) => d.id), [aMe.deviceId]);
    // b (still a legacy client) pins a's list at first sight and keeps receiving.
    assert.deepEqual((await sync(w, b.devices[0])).map((x) => x.text), [t]);
    const back = marker(w, 'reply');
    await send(w, b, a, back);
    assert.deepEqual((await sync(w, a.devices[0])).map((x) => x.text), [back]);
  });

  test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
