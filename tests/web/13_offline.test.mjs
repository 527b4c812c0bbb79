// Issue 20, items 2, 3 and 4, against a real sottod in Debian's Chromium. Alice at a desktop
// size, Bob on a 390×844 phone with touch. Messages Alice writes offline are "Queued" (never "Not
// sent"), survive a reload made offline, and reach Bob once each and in order when the network
// is back; the offline banner goes as soon as the socket is; the installed app opened offline
// with a stored session shows the chat list, not the sign-in screen, and recovers by itself;
// a long press on a message opens an action sheet with 44 px targets, whose Reply works.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  launchBrowser, messageItem, newUser, openChatWith, prerequisites, register, screenshot, send, sql, startChatWith,
  startServer, uniq, until, watch,
} from './lib/harness.mjs';

const missing = prerequisites();
const tag = uniq('');
const person = (name) => ({ email: `${name}${tag}@example.test`, username: `${name}${tag}`, displayName: name[0].toUpperCase() + name.slice(1) });
const A = person('alice'), B = person('bob');
let server, chrome, alice, bob;

const deviceOf = (username) =>
  sql(server, `SELECT d.id FROM devices d JOIN users u ON u.id = d.user_id WHERE u.username = '${username}' AND d.revoked_at IS NULL`)[0][0];
/** How many messages a device has posted. */
const postedBy = (deviceId) => Number(sql(server, `SELECT count(*) FROM messages WHERE sender_device_id = '${deviceId}'`)[0][0]);
async function statusOf(page, body) {
  return messageItem(page, body).locator('[data-status]').getAttribute('data-status', { timeout: 2000 }).catch(() => null);
}
/** The texts of the message list, top to bottom. */
async function texts(page) {
  return page.getByRole('list', { name: 'Messages' }).getByRole('listitem').allInnerTexts();
}
const banner = (page) => page.getByText(/^(Offline: reconnecting…|Connecting…)$/);
/** The service worker controls the page and holds the shell (shell.json), so it opens offline. */
async function shellCached(page) {
  await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, { timeout: 20000 });
  await page.waitForFunction(async () => {
    const list = await (await fetch('/shell.json')).json();
    const hits = await Promise.all(['/', ...list].map((u) => caches.match(u)));
    return hits.every(Boolean);
  }, null, { timeout: 20000 });
}
async function goOffline(u) {
  await u.context.setOffline(true);
  await u.page.getByText('Offline: reconnecting…').waitFor({ timeout: 15000 });
}
async function goOnline(u) {
  await u.context.setOffline(false);
  // The banner goes as soon as the socket is back (nobody reloads or clicks).
  await banner(u.page).waitFor({ state: 'hidden', timeout: 20000 });
}

describe('issue 20, items 2–4: offline outbox, offline start, touch menu', () => {
  before(async () => {
    assert.deepEqual(missing, [], `missing: ${missing.join(', ')}`);
    server = await startServer();
    chrome = await launchBrowser();
    alice = await newUser(chrome.browser, server);
    await register(alice.page, A);
    bob = await newUser(chrome.browser, server, { width: 390, height: 844, isMobile: true });
    await register(bob.page, B);
    await startChatWith(alice.page, B.username);
    await send(alice.page, 'hello bob');
    await openChatWith(bob.page, 'Alice');
    await messageItem(bob.page, 'hello bob').waitFor({ timeout: 15000 });
    await shellCached(alice.page);
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
  });

  test('written offline: "Queued", across a reload made offline, then once each and in order at Bob', async () => {
    const aliceDevice = deviceOf(A.username);
    const posted = postedBy(aliceDevice);
    const queued = ['first while away', 'second while away', 'third while away'];
    await goOffline(alice);
    const hint = alice.page.locator('[data-offline-hint]');
    await hint.waitFor({ timeout: 15000 });
    for (const text of queued) {
      await send(alice.page, text);
      await until(`${text} queued`, async () => (await statusOf(alice.page, text)) === 'queued');
    }
    const mark = messageItem(alice.page, queued[0]).locator('[data-status="queued"]');
    assert.equal(await mark.getAttribute('aria-label'), 'Queued');
    assert.equal(await alice.page.getByRole('button', { name: 'Retry' }).count(), 0, 'never "Not sent" for being offline');
    assert.equal(await alice.page.getByText('You are offline.').count(), 0);
    await screenshot(alice.page, 'offline-queued');

    // A reload while still offline: the shell comes from the service worker, the session and
    // the queue from the sealed store. Nothing went out.
    await alice.page.reload();
    await openChatWith(alice.page, 'Bob');
    for (const text of queued) await until(`${text} still queued`, async () => (await statusOf(alice.page, text)) === 'queued');
    assert.equal(await alice.page.getByRole('button', { name: 'Sign in' }).count(), 0);
    assert.equal(postedBy(aliceDevice), posted);

    await goOnline(alice);
    await hint.waitFor({ state: 'hidden', timeout: 5000 });
    for (const text of queued) {
      await until(`${text} sent`, async () => ['sent', 'delivered', 'read'].includes(await statusOf(alice.page, text)));
      await messageItem(bob.page, text).waitFor({ timeout: 20000 });
    }
    assert.equal(postedBy(aliceDevice), posted + 3, 'each queued message posted once');
    await bob.page.waitForTimeout(1000);
    for (const text of queued) assert.equal(await messageItem(bob.page, text).count(), 1, `${text} once at Bob`);
    const atBob = (await texts(bob.page)).map((t) => queued.find((q) => t.includes(q))).filter(Boolean);
    assert.deepEqual(atBob, queued, 'in the order written');
    // And the chat goes on as before.
    await send(bob.page, 'got all three');
    await messageItem(alice.page, 'got all three').waitFor({ timeout: 15000 });
  });

  test('opened offline with a stored session: the chat list, not sign-in; back by itself when online', async () => {
    await alice.page.close();
    await alice.context.setOffline(true);
    alice.page = watch(await alice.context.newPage());
    await alice.page.goto('/');
    await alice.page.getByRole('link', { name: /Open chat with Bob/ }).waitFor({ timeout: 20000 });
    await alice.page.getByText('Offline: reconnecting…').waitFor({ timeout: 15000 });
    assert.equal(await alice.page.getByRole('button', { name: 'Sign in' }).count(), 0);
    await openChatWith(alice.page, 'Bob');
    await messageItem(alice.page, 'got all three').waitFor({ timeout: 15000 });
    await screenshot(alice.page, 'offline-start');
    // Bob writes meanwhile; it reaches Alice when her network is back, with no click.
    await send(bob.page, 'are you there?');
    await alice.page.waitForTimeout(1500); // the back-off runs a few rounds offline
    assert.equal(await messageItem(alice.page, 'are you there?').count(), 0);
    await goOnline(alice);
    await messageItem(alice.page, 'are you there?').waitFor({ timeout: 20000 });
    await send(alice.page, 'yes, back');
    await messageItem(bob.page, 'yes, back').waitFor({ timeout: 15000 });
    assert.equal(await alice.page.getByRole('button', { name: 'Sign in' }).count(), 0);
  });

  test('a long press on a phone opens the action sheet (44 px targets); a moved finger does not; Reply works', async () => {
    const cdp = await bob.context.newCDPSession(bob.page);
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 5 });
    const press = async (text, { hold = 700, move = 0 } = {}) => {
      const box = await messageItem(bob.page, text).locator('[data-bubble]').boundingBox();
      const x = box.x + box.width / 2, y = box.y + box.height / 2;
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y }] });
      if (move) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x, y: y + move }] });
      await bob.page.waitForTimeout(hold);
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    };
    const sheet = bob.page.getByRole('dialog', { name: 'Message actions' });

    // A finger that moves is scrolling: no sheet.
    await press('yes, back', { move: 40 });
    await bob.page.waitForTimeout(300);
    assert.equal(await sheet.count(), 0);

    // Alice's message: Reply and Copy text, no Edit or Delete.
    await press('yes, back');
    await sheet.waitFor({ timeout: 5000 });
    const names = await sheet.locator('[data-message-sheet] button').allInnerTexts();
    assert.deepEqual(names, ['Reply', 'Copy text', 'Cancel']);
    for (const b of await sheet.locator('[data-message-sheet] button').all()) {
      const box = await b.boundingBox();
      assert.ok(box.height >= 44 && box.width >= 44, `target ${JSON.stringify(box)} is at least 44 px`);
    }
    await screenshot(bob.page, 'touch-menu');
    await sheet.getByRole('button', { name: 'Reply' }).tap();
    await sheet.waitFor({ state: 'hidden', timeout: 5000 });
    await bob.page.getByText('Replying to Alice').waitFor({ timeout: 5000 });
    await send(bob.page, 'a reply by touch');
    const reply = messageItem(alice.page, 'a reply by touch');
    await reply.waitFor({ timeout: 15000 });
    assert.match(await reply.innerText(), /yes, back/, 'the reply quotes the pressed message');

    // His own message: Edit and Delete as well.
    await press('a reply by touch');
    await sheet.waitFor({ timeout: 5000 });
    assert.deepEqual(await sheet.locator('[data-message-sheet] button').allInnerTexts(), ['Reply', 'Copy text', 'Edit', 'Delete', 'Cancel']);
    await sheet.getByRole('button', { name: 'Cancel' }).tap();
    await sheet.waitFor({ state: 'hidden', timeout: 5000 });
  });
});
