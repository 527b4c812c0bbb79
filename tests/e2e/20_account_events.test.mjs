// E2E 20: issue 24, account events in the CLI: a sign-in on a new device is shown live by a
// running `chat` (and `watch`), text and --json, with the revoke and password-change advice;
// a device that was away shows it at its next `sync`, once (the devices it has seen are kept
// in the sealed profile); a contact's running clients show that an account was deleted, and a
// stranger's show nothing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../api/lib/api.mjs';
import { addDevice, assertNoPlaintext, chat, cliPath, marker, ok, run, send, sync, user, world } from './lib/e2e.mjs';

const PASSWORD = 'correct horse battery staple';
const SIGN_IN = /New sign-in on your account: (\S+) \(cli\)( from [^ ]+)? at (\S+)\. Not you\? Run: sotto devices revoke ([0-9a-f-]{36}), then sotto password change/;

let w;
before(async () => { w = await world(); });
after(async () => { await w?.close(); });

const signIns = (lines) => lines.filter((l) => l.event === 'device:added');
const deviceIds = async (u) => JSON.parse((await ok(w, u.devices[0], ['devices', '--json'])).stdout);

// `watch --json` on profile, live once a message from `from` has come through it.
async function liveWatch(profile, from, to) {
  const child = spawn(cliPath(), ['--server', w.srv.base, '--profile', profile, 'watch', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const c = { child, out: '', err: '' };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => { c.out += d; });
  child.stderr.on('data', (d) => { c.err += d; });
  c.exited = new Promise((r) => child.on('exit', r));
  c.lines = () => c.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const m = marker(w, 'ready');
  await send(w, from, to, m);
  await waitFor(() => c.lines().some((l) => l.text === m), 20000).catch(() => { throw new Error(`watch never got ${m}\n${c.out}\n${c.err}`); });
  c.stop = async () => { child.kill('SIGINT'); await c.exited; };
  return c;
}

describe('a new sign-in', () => {
  test('a running chat shows it (text), watch --json shows it with its fields; the new device does not', async () => {
    const a = await user(w, 'ns');
    const b = await user(w, 'nb');
    await send(w, a, b, marker(w, 'hi'));
    await addDevice(w, a); // a's second device, before anything watches
    const c = chat(w, a.devices[0], b, { json: false });
    await c.waitFor((x) => x.err.includes('(connected)'), 'connected', 20000);
    const watch = await liveWatch(a.devices[1], b, a);
    assert.deepEqual(signIns(watch.lines()), [], 'the first look only remembers the list');
    await addDevice(w, a);
    const fresh = (await deviceIds(a)).find((d) => d.name === 'dev3');
    assert.ok(fresh);
    await c.waitFor((x) => SIGN_IN.test(x.out), 'the sign-in line', 20000);
    const [, name, from, at, id] = c.out.match(SIGN_IN);
    assert.deepEqual([name, from, at, id], ['dev3', ' from 127.0.0.1', fresh.createdAt, fresh.id]);
    await waitFor(() => signIns(watch.lines()).length === 1, 20000);
    assert.deepEqual(signIns(watch.lines()), [{ event: 'device:added', deviceId: fresh.id, name: 'dev3', platform: 'cli', createdAt: fresh.createdAt, address: '127.0.0.1' }]);
    await c.quit();
    await watch.stop();
    // Seen live: not again at the next sync; the new device itself sees nothing.
    assert.deepEqual(signIns(await sync(w, a.devices[0])), []);
    assert.deepEqual(signIns(await sync(w, a.devices[2])), []);
  });

  test('a device that was away shows it at its next sync, once', async () => {
    const a = await user(w, 'sy');
    assert.deepEqual(signIns(await sync(w, a.devices[0])), []);
    await addDevice(w, a);
    const fresh = (await deviceIds(a)).find((d) => d.name === 'dev2');
    assert.deepEqual(signIns(await sync(w, a.devices[0])),
      [{ event: 'device:added', deviceId: fresh.id, name: 'dev2', platform: 'cli', createdAt: fresh.createdAt, address: null }]);
    assert.deepEqual(signIns(await sync(w, a.devices[0])), []);
    await addDevice(w, a);
    const third = (await deviceIds(a)).find((d) => d.name === 'dev3');
    const text = await ok(w, a.devices[0], ['sync']);
    const m = text.stdout.match(SIGN_IN);
    assert.ok(m, text.stdout);
    assert.deepEqual([m[1], m[2], m[3], m[4]], ['dev3', undefined, third.createdAt, third.id]);
    assert.equal(text.stdout.split('New sign-in').length, 2, text.stdout);
  });
});

describe('a deleted account', () => {
  test('its contact is told (text and --json), a stranger is not', async () => {
    const gone = await user(w, 'dg');
    const contact = await user(w, 'dc');
    await addDevice(w, contact);
    const stranger = await user(w, 'ds');
    const other = await user(w, 'do');
    await send(w, gone, contact, marker(w, 'hello'));
    await send(w, contact, gone, marker(w, 'hi'));
    await sync(w, contact.devices[1]);
    const text = chat(w, contact.devices[0], gone, { json: false });
    const json = chat(w, contact.devices[1], gone);
    const far = chat(w, stranger.devices[0], other);
    for (const c of [text, json, far]) await c.waitFor((x) => x.err.includes('(connected)'), 'connected', 20000);
    const del = await run(w, gone.devices[0], ['account', 'delete', '--yes', '--password-stdin'], { input: `${PASSWORD}\n` });
    assert.equal(del.code, 0, del.stderr);
    await text.waitOut(`${gone.name} deleted their account`, 20000);
    await json.waitFor((x) => x.lines().some((l) => l.event === 'user:deleted'), 'user:deleted', 20000);
    const ev = json.lines().filter((l) => l.event === 'user:deleted');
    assert.deepEqual(ev, [{ event: 'user:deleted', userId: ev[0].userId, user: gone.name }]);
    assert.match(ev[0].userId, /^[0-9a-f-]{36}$/);
    await new Promise((r) => setTimeout(r, 400)); // the stranger's chance to get it too
    assert.ok(!far.out.includes('deleted'), far.out);
    for (const c of [text, json, far]) await c.quit();
  });
});

test('no plaintext marker on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
