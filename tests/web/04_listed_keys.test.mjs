// End-to-end tests of issue 17 in the web client, against a real sottod in Debian's Chromium.
// The server is the adversary: the web client talks only to the keys of the device listing it
// trust-checked (the keys its safety number covers). A claim response carrying another
// device's (Mallory's) bundle, a message relabelled as another user's, and a ghost device the
// server adds to one's own account are each refused and announced in the UI, and nothing of
// them is shown as the claimed sender's message or sent to the ghost. The server lies through
// a rewritten claim response (page.route: what the page receives from /api/keys/claim) and
// through its database (harness sql(), the way tests/e2e does it for the CLI).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  cspViolations, launchBrowser, messageItem, newUser, openChatWith, prerequisites, register, runViolations, screenshot,
  send, sql, startChatWith, startServer, uniq,
} from './lib/harness.mjs';

const missing = prerequisites();
const tag = uniq('');
const person = (name) => ({ email: `${name}${tag}@example.test`, username: `${name}${tag}`, displayName: name[0].toUpperCase() + name.slice(1) });
const A = person('alice'), B = person('bob'), C = person('carol'), M = person('mallory');
let server, chrome, alice, bob, carol, mallory;
const ids = {};

/* ------------------------------------------------------------------ helpers */

function trackToken(page) {
  page.on('request', (r) => {
    const h = r.headers().authorization;
    if (h?.startsWith('Bearer ')) page.sottoToken = h.slice(7);
  });
  return page;
}
async function user(who) {
  const u = await newUser(chrome.browser, server);
  trackToken(u.page);
  await register(u.page, who);
  return u;
}
async function until(what, f, timeout = 15000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await f();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}
async function api(page, method, p, body) {
  const token = await until('an access token', async () => page.sottoToken);
  const res = await fetch(server.base + p, {
    method, headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}
/** { userId, deviceId } of the page's signed-in device. */
async function whoami(page) {
  const me = await api(page, 'GET', '/api/users/me');
  const devices = await api(page, 'GET', '/api/users/me/devices');
  return { userId: me.id, deviceId: (devices.devices ?? devices).find((d) => d.current).id };
}
async function statusOf(page, body) {
  return messageItem(page, body).locator('[data-status]').getAttribute('data-status', { timeout: 2000 }).catch(() => null);
}
async function waitStatus(page, body, want, timeout = 15000) {
  const wanted = [want].flat();
  await until(`status ${wanted.join(' or ')} of "${body}"`, async () => wanted.includes(await statusOf(page, body)), timeout);
}
/** Everything the page's chats show, as text: nothing of a refused message may be in it. */
async function allChatText(page, names) {
  let out = '';
  for (const n of names) {
    await openChatWith(page, n);
    await page.waitForTimeout(300);
    out += (await page.getByRole('list', { name: 'Messages' }).textContent().catch(() => '')) ?? '';
  }
  return out;
}
const queuedFor = (deviceId) => Number(sql(server, `SELECT count(*) FROM device_queue WHERE device_id = '${deviceId}'`)[0][0]);
async function offline(u) {
  await u.context.setOffline(true);
  await u.page.getByText('Offline: reconnecting…').waitFor({ timeout: 15000 });
}
async function online(u) {
  await u.context.setOffline(false);
  await u.page.getByText('Offline: reconnecting…').waitFor({ state: 'hidden', timeout: 20000 });
}

describe('issue 17: the web client talks only to the keys it listed and accepted', () => {
  before(async () => {
    assert.deepEqual(missing, [], `missing: ${missing.join(', ')}`);
    server = await startServer();
    chrome = await launchBrowser();
    alice = await user(A);
    bob = await user(B);
    carol = await user(C);
    mallory = await user(M);
    for (const [k, u] of Object.entries({ alice, bob, carol, mallory })) ids[k] = await whoami(u.page);
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
  });

  test("a claim response carrying Mallory's bundle for Bob's device is refused, announced, and nothing reaches Bob", async () => {
    const malloryKeys = (await api(alice.page, 'GET', `/api/keys/users/${ids.mallory.userId}`)).devices[0];
    let tampered = 0;
    await alice.page.route('**/api/keys/claim', async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      for (const d of body.devices ?? []) {
        if (d.deviceId !== ids.bob.deviceId) continue;
        // Keys and signatures all Mallory's, all valid: only the listing says they are not Bob's.
        for (const k of ['identityKey', 'signingKey', 'identitySignature', 'signedPreKey']) d[k] = malloryKeys[k];
        d.oneTimePreKey = null;
        tampered += 1;
      }
      await route.fulfill({ response, json: body });
    });
    const before_ = queuedFor(ids.bob.deviceId);
    await startChatWith(alice.page, B.username);
    await send(alice.page, 'through a lying claim');
    const notice = alice.page.locator('[data-security="claimed-key-mismatch"]');
    await notice.waitFor({ timeout: 15000 });
    assert.match(await notice.textContent(), /NOT the listed ones/);
    assert.match(await notice.textContent(), /Bob/);
    assert.ok(tampered >= 1, 'the claim was rewritten');
    await waitStatus(alice.page, 'through a lying claim', 'failed');
    assert.equal(queuedFor(ids.bob.deviceId), before_, 'nothing was queued for Bob');
    await screenshot(alice.page, 'security-claimed-key-mismatch');

    // The refusal committed nothing: with an honest server the same message goes (Retry).
    await alice.page.unroute('**/api/keys/claim');
    await messageItem(alice.page, 'through a lying claim').getByRole('button', { name: 'Retry' }).click();
    await openChatWith(bob.page, 'Alice');
    await messageItem(bob.page, 'through a lying claim').waitFor({ timeout: 15000 });
    assert.equal(await bob.page.locator('[data-security]').count(), 0);
  });

  test("Mallory's message relabelled as Carol's device is refused, announced, and never shown as Carol's", async () => {
    // Carol has a chat with Bob but has never written: Bob has no session with her device.
    await startChatWith(carol.page, B.username);
    await startChatWith(mallory.page, B.username);
    await offline(bob);
    const fake = 'mallory wearing carols name';
    await send(mallory.page, fake);
    await waitStatus(mallory.page, fake, ['sent', 'delivered']);
    const [[mid]] = sql(server, `SELECT id FROM messages WHERE sender_user_id = '${ids.mallory.userId}' ORDER BY id DESC LIMIT 1`);
    sql(server, `UPDATE messages SET sender_user_id = '${ids.carol.userId}', sender_device_id = '${ids.carol.deviceId}' WHERE id = '${mid}'`);
    await online(bob);

    await openChatWith(bob.page, 'Mallory');
    const notice = bob.page.locator('[data-security="key-mismatch"]');
    await notice.waitFor({ timeout: 20000 });
    assert.match(await notice.textContent(), /claiming to be from Carol/);
    assert.match(await notice.textContent(), /someone may be in the middle/);
    await screenshot(bob.page, 'security-relabelled-sender');
    const shown = await allChatText(bob.page, ['Mallory', 'Carol', 'Alice']);
    assert.equal(shown.includes(fake), false, 'the relabelled text is shown nowhere');

    // Carol herself still reaches Bob: the refusal pinned nothing to her device.
    await send(carol.page, 'the real carol');
    await openChatWith(bob.page, 'Carol');
    await messageItem(bob.page, 'the real carol').waitFor({ timeout: 15000 });
    assert.equal(await bob.page.locator('[data-security]').count(), 0);
  });

  test('a message from a device not in the sender’s listing is refused as unlisted', async () => {
    const ghost = '0190a000-0000-7000-8000-00000000d0d0';
    const now = Date.now();
    // A device row the listing never shows (revoked, no keys): only the queue names it.
    sql(server, `INSERT INTO devices (id, user_id, name, platform, revoked_at, last_active_at, created_at) VALUES ('${ghost}', '${ids.carol.userId}', 'ghost', 'web', ${now}, ${now}, ${now})`);
    await offline(bob);
    const fake = 'from a device carol does not have';
    await send(mallory.page, fake);
    await waitStatus(mallory.page, fake, ['sent', 'delivered']);
    const [[mid]] = sql(server, `SELECT id FROM messages WHERE sender_user_id = '${ids.mallory.userId}' ORDER BY id DESC LIMIT 1`);
    sql(server, `UPDATE messages SET sender_user_id = '${ids.carol.userId}', sender_device_id = '${ghost}' WHERE id = '${mid}'`);
    await online(bob);
    await openChatWith(bob.page, 'Mallory');
    const notice = bob.page.locator('[data-security="unlisted-device"]');
    await notice.waitFor({ timeout: 20000 });
    assert.match(await notice.textContent(), /NOT in their device list/);
    assert.equal((await allChatText(bob.page, ['Mallory', 'Carol'])).includes(fake), false);
  });

  test("a ghost device added to Bob's own account: announced, its message refused, nothing sent to it until it is gone", async () => {
    // Mallory writes to Bob; then the server moves her device onto Bob's account and relabels
    // the message as coming from Bob's "other device".
    await offline(bob);
    const fake = 'your other device says hi';
    await send(mallory.page, fake);
    await waitStatus(mallory.page, fake, ['sent', 'delivered']);
    const [[mid]] = sql(server, `SELECT id FROM messages WHERE sender_user_id = '${ids.mallory.userId}' ORDER BY id DESC LIMIT 1`);
    await mallory.context.close();
    const ghost = ids.mallory.deviceId;
    sql(server, `UPDATE devices SET user_id = '${ids.bob.userId}' WHERE id = '${ghost}'`);
    sql(server, `UPDATE messages SET sender_user_id = '${ids.bob.userId}' WHERE id = '${mid}'`);
    await online(bob);

    // Announced everywhere before anything is sent to it.
    const banner = bob.page.locator('[data-own-devices="held"]');
    await banner.waitFor({ timeout: 20000 });
    assert.match(await banner.textContent(), /new device was added to your account/);
    await openChatWith(bob.page, 'Mallory');
    const notice = bob.page.locator('[data-security="unaccepted-device"]');
    await notice.waitFor({ timeout: 20000 });
    assert.match(await notice.textContent(), /your account/);
    await screenshot(bob.page, 'security-ghost-own-device');

    // Held: Bob's message to Alice fails, and no copy goes to the ghost (or to Alice).
    const queued = queuedFor(ghost);
    await openChatWith(bob.page, 'Alice');
    assert.equal(await bob.page.getByLabel('Message', { exact: true }).isDisabled(), true, 'the composer is held');
    await bob.page.waitForTimeout(500);
    assert.equal(queuedFor(ghost), queued, 'no copy went to the ghost');
    assert.equal(
      (await allChatText(bob.page, ['Mallory', 'Alice', 'Carol'])).includes(fake),
      false,
      "the ghost's text is shown nowhere",
    );

    // Settings names it; revoking it ends the hold; Bob writes again, and Alice reads it.
    await banner.getByRole('button', { name: 'Review devices' }).click();
    await bob.page.getByRole('heading', { name: 'Devices' }).waitFor();
    await bob.page.locator('[data-new-device]').first().waitFor({ timeout: 15000 });
    const revoke = bob.page.getByRole('button', { name: /^Revoke / });
    assert.equal(await revoke.count(), 1, 'the ghost is the only other device');
    await revoke.click();
    await bob.page.getByRole('dialog').getByRole('button', { name: 'Revoke device' }).click();
    await banner.waitFor({ state: 'hidden', timeout: 20000 });
    await openChatWith(bob.page, 'Alice');
    await send(bob.page, 'bob after the ghost is gone');
    await openChatWith(alice.page, 'Bob');
    await messageItem(alice.page, 'bob after the ghost is gone').waitFor({ timeout: 15000 });
    assert.equal(queuedFor(ghost), queued);
  });

  test('no CSP or Trusted Types violation, no native dialog', () => {
    assert.deepEqual(runViolations, []);
    for (const u of [alice, bob, carol]) {
      assert.deepEqual(cspViolations(u.page), []);
      assert.deepEqual(u.page.sottoDialogs, []);
    }
  });
});
