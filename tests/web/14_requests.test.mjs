// Issue 20, items 6 and 7, against a real sottod in Debian's Chromium. Alice writes first to
// Bob, a stranger: Bob's list shows it under "Message requests (1)", and the chat opens on her
// message with Accept / Block / Delete and no composer; Accept brings the composer and moves it
// to the chats. Then presence: the header says "online" while Bob is connected and "last seen
// today at …" once he has gone; with "Show when I was last online" off (Settings → Privacy) it
// says neither, and Alice never learns when he was last seen.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  cspViolations, launchBrowser, messageItem, newUser, prerequisites, register, screenshot, send, startChatWith, startServer,
  uniq,
} from './lib/harness.mjs';

const missing = prerequisites();
const tag = uniq('');
const person = (name) => ({ email: `${name}${tag}@example.test`, username: `${name}${tag}`, displayName: name[0].toUpperCase() + name.slice(1) });
const A = person('alice'), B = person('bob');
let server, chrome, alice, bob;

const presenceOf = (page) => page.locator('[data-presence]').first();

describe('issue 20, items 6 and 7: message requests and last seen', () => {
  before(async () => {
    assert.deepEqual(missing, [], `missing: ${missing.join(', ')}`);
    server = await startServer();
    chrome = await launchBrowser();
    alice = await newUser(chrome.browser, server);
    await register(alice.page, A);
    bob = await newUser(chrome.browser, server);
    await register(bob.page, B);
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
  });

  test('a first message is a request: Accept / Block / Delete, no composer; Accept opens the composer', async () => {
    await startChatWith(alice.page, B.username);
    await send(alice.page, 'hello stranger');
    await messageItem(alice.page, 'hello stranger').waitFor({ timeout: 15000 });
    // Not a request to the one who wrote it: Alice's list has no requests section.
    assert.equal(await alice.page.locator('[data-requests]').count(), 0);

    const requests = bob.page.getByRole('heading', { name: 'Message requests (1)' });
    await requests.waitFor({ timeout: 20000 });
    await bob.page.getByRole('list', { name: 'Message requests (1)' }).getByRole('link', { name: /Open chat with Alice/ }).click();
    await messageItem(bob.page, 'hello stranger').waitFor({ timeout: 15000 });
    const bar = bob.page.getByRole('region', { name: 'Message request', exact: true });
    await bar.waitFor();
    for (const name of ['Accept', 'Block', 'Delete']) assert.ok(await bar.getByRole('button', { name, exact: true }).isVisible(), name);
    assert.equal(await bob.page.getByLabel('Message', { exact: true }).count(), 0, 'no composer before Accept');
    // Not contacts yet: no presence claimed for Alice either way.
    assert.equal(await presenceOf(bob.page).innerText(), `@${A.username}`);
    await screenshot(bob.page, 'request-bar');

    await bar.getByRole('button', { name: 'Accept', exact: true }).click();
    await bob.page.getByLabel('Message', { exact: true }).waitFor({ timeout: 15000 });
    await bar.waitFor({ state: 'detached' });
    await requests.waitFor({ state: 'detached' });
    assert.equal(await bob.page.locator('[data-requests]').count(), 0);
    // Contacts now: each sees the other online, and Bob can answer.
    await bob.page.locator('[data-presence="online"]').waitFor({ timeout: 15000 });
    await alice.page.locator('[data-presence="online"]').waitFor({ timeout: 15000 });
    await send(bob.page, 'hi alice');
    await messageItem(alice.page, 'hi alice').waitFor({ timeout: 15000 });
  });

  test('"last seen today at …" once Bob has gone; hidden by his privacy setting', async () => {
    await bob.page.goto('about:blank');
    const shown = alice.page.locator('[data-presence="last-seen"]');
    await shown.waitFor({ timeout: 20000 });
    assert.match(await shown.innerText(), /· last seen today at \d{1,2}:\d{2}/);
    await screenshot(alice.page, 'last-seen');

    // Bob hides his last seen (Settings → Privacy), then comes and goes again.
    await bob.page.goto('/');
    await bob.page.getByRole('button', { name: 'Settings' }).click();
    await bob.page.getByRole('heading', { name: 'Privacy' }).waitFor();
    const box = bob.page.getByLabel('Show when I was last online');
    assert.equal(await box.isChecked(), true);
    await box.click();
    // The box follows the server's answer: unchecked means the setting is stored.
    await bob.page.waitForFunction(() => document.querySelector('[data-privacy="last-seen"]')?.checked === false);
    await alice.page.locator('[data-presence="online"]').waitFor({ timeout: 20000 });
    await bob.page.goto('about:blank');
    const offline = alice.page.locator('[data-presence="offline"]');
    await offline.waitFor({ timeout: 20000 });
    assert.equal(await offline.innerText(), `@${B.username} · Offline`);
    assert.deepEqual(cspViolations(alice.page), []);
  });
});
