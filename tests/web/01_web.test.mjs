// End-to-end tests of the web client: two (and three) browser users against a real sottod,
// in Debian's Chromium (English locale). The scenarios build on each other, so they run in
// order against one server; the last one checks the server's disk for plaintext.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { verifyEmail } from '../api/lib/api.mjs';
import {
  ARTIFACTS, cspViolations, launchBrowser, runViolations, messageItem, newUser, openChatWith, prerequisites, register, screenshot,
  seedLocalHistory, send, startChatWith, startServer, uniq, watch,
} from './lib/harness.mjs';

const missing = prerequisites();
const MARK = uniq('PLAINMARK');            // in every message text: must never reach the disk
const report = { budgets: {}, screenshots: [] };
let server, chrome, alice, bob;
const tag = uniq('');
const A = { email: `alice${tag}@example.test`, username: `alice${tag}`, displayName: 'Alice' };
const B = { email: `bob${tag}@example.test`, username: `bob${tag}`, displayName: 'Bob' };
const C = { email: `carol${tag}@example.test`, username: `carol${tag}`, displayName: 'Carol' };
const text = (s) => `${s} ${MARK}`;

async function shot(page, name) {
  report.screenshots.push(path.relative(ARTIFACTS, await screenshot(page, name)));
}
function statusOf(page, body) {
  return messageItem(page, body).locator('[data-status]').getAttribute('data-status');
}
async function waitStatus(page, body, want, timeout = 15000) {
  const deadline = Date.now() + timeout;
  let got;
  while (Date.now() < deadline) {
    got = await statusOf(page, body).catch(() => null);
    if (got === want) return;
    await page.waitForTimeout(100);
  }
  assert.fail(`status of "${body}" is ${got}, wanted ${want}`);
}
/** No CSP violation of any kind (script, style, connect, worker...) nor Trusted Types one. */
function noScriptViolations(page) {
  assert.deepEqual(cspViolations(page), [], 'CSP or Trusted Types violations');
}

describe('web client', () => {
  before(async () => {
    // make test builds all of these; a missing one is a broken build, never a reason to skip.
    assert.deepEqual(missing, [], `missing: ${missing.join(', ')}`);
    server = await startServer();
    chrome = await launchBrowser();
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
    writeFileSync(path.join(ARTIFACTS, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  });

  test('the sign-in screen loads and is usable (load time goes to the report)', async () => {
    const ctx = await chrome.browser.newContext({ baseURL: server.base, locale: 'en-US', viewport: { width: 1280, height: 800 } });
    const page = watch(await ctx.newPage());
    const t0 = Date.now();
    await page.goto('/');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').waitFor();
    const ms = Date.now() - t0;
    // A budget, measured here and reported (docs/benchmarks.md), never asserted: a loaded CI
    // machine must not fail a functional test on time.
    report.budgets.firstLoadToSignInMs = ms;
    await page.getByLabel('Password').waitFor();
    assert.ok(await page.getByRole('link', { name: 'Create account' }).isVisible());
    await shot(page, 'desktop-sign-in');
    // Installable: a manifest with icons, and a service worker that takes control.
    const manifest = await (await fetch(server.base + '/manifest.webmanifest')).json();
    assert.equal(manifest.display, 'standalone');
    assert.ok(manifest.icons.some((i) => i.sizes === '512x512'));
    assert.equal(await page.evaluate(() => navigator.serviceWorker.ready.then((r) => Boolean(r.active))), true);
    noScriptViolations(page);
    await page.getByRole('link', { name: 'Create account' }).click();
    for (const f of ['Email', 'Username', 'Display name', 'Password']) await page.getByLabel(f, { exact: true }).waitFor();
    await shot(page, 'desktop-register');
    await ctx.close();
  });

  test('two users register, find each other and chat both ways, with typing, delivered and seen', async () => {
    alice = await newUser(chrome.browser, server);
    bob = await newUser(chrome.browser, server);
    await register(alice.page, A);
    await register(bob.page, B);
    // Only a verified account is found by part of its name (docs/security.md).
    await verifyEmail(server, B.email);

    // Alice finds Bob by username; results show usernames.
    await alice.page.getByRole('button', { name: 'New chat' }).click();
    await alice.page.getByLabel('Search users').fill(B.username.slice(0, 8));
    await alice.page.getByText(`@${B.username}`).waitFor();
    await alice.page.keyboard.press('Escape');
    await startChatWith(alice.page, B.username);
    await send(alice.page, text('hello bob'));
    await messageItem(alice.page, text('hello bob')).waitFor();
    // Bob is online but has not opened the chat: delivered, not seen. His list shows it unread.
    await waitStatus(alice.page, text('hello bob'), 'delivered');
    const row = bob.page.getByRole('link', { name: 'Open chat with Alice' });
    await row.waitFor({ timeout: 15000 });
    await bob.page.locator('[data-unread="1"]').waitFor();
    await row.filter({ hasText: text('hello bob') }).waitFor({ timeout: 15000 }); // preview decrypted locally
    await shot(bob.page, 'desktop-conversation-list');
    await openChatWith(bob.page, 'Alice');
    await messageItem(bob.page, text('hello bob')).waitFor();
    await waitStatus(alice.page, text('hello bob'), 'read');

    // Bob answers: now both have accepted the conversation, so typing flows.
    await send(bob.page, text('hi alice'));
    await messageItem(alice.page, text('hi alice')).waitFor({ timeout: 15000 });
    await waitStatus(bob.page, text('hi alice'), 'read');
    await alice.page.getByLabel('Message', { exact: true }).fill('typing something');
    await bob.page.getByText('Alice is typing…').waitFor({ timeout: 10000 });
    await alice.page.getByLabel('Message', { exact: true }).fill('');
    await send(alice.page, text('second from alice'));
    await messageItem(bob.page, text('second from alice')).waitFor({ timeout: 15000 });
    // Enter sends; the messages are a list of list items.
    const items = await bob.page.getByRole('list', { name: 'Messages' }).getByRole('listitem').count();
    assert.ok(items >= 3, `${items} list items`);
    await shot(alice.page, 'desktop-chat');
    noScriptViolations(alice.page);
    noScriptViolations(bob.page);
  });

  test('markup in a message shows as text and runs nothing', async () => {
    const img = text('<img src=x onerror=alert(1)>');
    const script = text('<script>window.__pwned=1;alert(2)</script>');
    const link = text('javascript:alert(3) https://example.org/ok');
    for (const s of [img, script, link]) await send(alice.page, s);
    for (const s of [img, script, link]) await messageItem(bob.page, s).waitFor({ timeout: 15000 });
    const list = bob.page.getByRole('list', { name: 'Messages' });
    assert.equal(await list.locator('img').count(), 0);
    assert.equal(await list.locator('script').count(), 0);
    assert.equal(await bob.page.evaluate(() => window.__pwned), undefined);
    const anchors = await list.locator('a').evaluateAll((as) => as.map((a) => ({ href: a.getAttribute('href'), rel: a.getAttribute('rel') })));
    assert.deepEqual(anchors, [{ href: 'https://example.org/ok', rel: 'noopener noreferrer' }]);
    await bob.page.waitForTimeout(300);
    assert.deepEqual(bob.page.sottoDialogs, []);
    assert.deepEqual(alice.page.sottoDialogs, []);
  });

  test('history survives a reload, and an offline user gets the messages on return', async () => {
    await bob.page.close();
    for (const s of ['while you were away 1', 'while you were away 2', 'while you were away 3']) await send(alice.page, text(s));
    await waitStatus(alice.page, text('while you were away 3'), 'sent');
    const page = watch(await bob.context.newPage());
    bob.page = page;
    await page.goto('/');
    await openChatWith(page, 'Alice');
    await messageItem(page, text('hello bob')).waitFor(); // from local history
    for (const s of ['while you were away 1', 'while you were away 2', 'while you were away 3']) {
      await messageItem(page, text(s)).waitFor({ timeout: 15000 });
    }
    await waitStatus(alice.page, text('while you were away 3'), 'read');
  });

  test('two tabs of one user stay consistent', async () => {
    const tab2 = watch(await alice.context.newPage());
    await tab2.goto('/');
    await openChatWith(tab2, 'Bob');
    await messageItem(tab2, text('hello bob')).waitFor();
    // Sent from the second tab: it goes through the leading tab's socket and keys.
    await send(tab2, text('from the second tab'));
    await messageItem(bob.page, text('from the second tab')).waitFor({ timeout: 15000 });
    await messageItem(alice.page, text('from the second tab')).waitFor({ timeout: 15000 });
    await send(bob.page, text('reply to both tabs'));
    await messageItem(alice.page, text('reply to both tabs')).waitFor({ timeout: 15000 });
    await messageItem(tab2, text('reply to both tabs')).waitFor({ timeout: 15000 });
    await waitStatus(tab2, text('from the second tab'), 'read');
    await tab2.close();
  });

  test('the phone layout works at 360×740', async () => {
    const carol = await newUser(chrome.browser, server, { width: 360, height: 740, isMobile: true });
    await carol.page.getByRole('button', { name: 'Sign in' }).waitFor(); // not the blank first paint
    await shot(carol.page, 'phone-sign-in');
    await register(carol.page, C);
    await startChatWith(carol.page, A.username);
    // One pane: the list is hidden while the chat is open, with a way back.
    assert.equal(await carol.page.getByRole('navigation', { name: 'Chats' }).isVisible(), false);
    await send(carol.page, text('hello from a phone'));
    const row = alice.page.getByRole('link', { name: 'Open chat with Carol' });
    await row.waitFor({ timeout: 15000 });
    await openChatWith(alice.page, 'Carol'); // a message request: accepted there
    await messageItem(alice.page, text('hello from a phone')).waitFor({ timeout: 15000 });
    await send(alice.page, text('hello back, https://example.org'));
    await messageItem(carol.page, 'hello back, https://example.org').waitFor({ timeout: 15000 });
    const box = await carol.page.getByLabel('Message', { exact: true }).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 360, 'composer fits the screen');
    await shot(carol.page, 'phone-chat');
    // The header leaves the name its room: the safety number is an icon, blocking is in its dialog.
    assert.equal(await carol.page.getByRole('button', { name: 'Block Alice' }).count(), 0);
    await carol.page.getByRole('button', { name: 'View safety number' }).click();
    const safety = carol.page.getByRole('dialog', { name: 'Safety number with Alice' });
    await safety.getByRole('button', { name: 'Block Alice' }).waitFor();
    await safety.getByRole('button', { name: 'Close' }).click();
    await carol.page.getByRole('button', { name: 'Back to chats' }).click();
    await carol.page.getByRole('navigation', { name: 'Chats' }).waitFor();
    await shot(carol.page, 'phone-conversation-list');
    await carol.context.close();
  });

  test('settings and the safety number screen', async () => {
    await openChatWith(alice.page, 'Bob');
    await alice.page.getByRole('button', { name: 'View safety number' }).click();
    const digits = alice.page.locator('[data-safety-number]');
    await digits.waitFor({ timeout: 15000 });
    const a = await digits.getAttribute('data-safety-number');
    assert.match(a, /^\d{60}$/);
    await shot(alice.page, 'desktop-safety-number');
    await alice.page.getByRole('button', { name: 'Mark as verified' }).click();
    await alice.page.getByText('✓ Verified').waitFor();
    await alice.page.keyboard.press('Escape');
    // Bob sees the same 60 digits.
    await bob.page.getByRole('button', { name: 'View safety number' }).click();
    await bob.page.locator('[data-safety-number]').waitFor({ timeout: 15000 });
    assert.equal(await bob.page.locator('[data-safety-number]').getAttribute('data-safety-number'), a);
    await bob.page.keyboard.press('Escape');
    await alice.page.getByRole('button', { name: 'Settings' }).click();
    await alice.page.getByRole('heading', { name: 'Devices' }).waitFor();
    await alice.page.getByText('This device', { exact: true }).waitFor({ timeout: 10000 });
    await shot(alice.page, 'desktop-settings');
    await alice.page.getByRole('button', { name: 'Back to chats' }).click();
  });

  test('opening a conversation with 1,000 stored messages stays virtualized (open time goes to the report)', async () => {
    const page = alice.page;
    // No test hook in the production bundle: the test writes the rows itself.
    assert.equal(await page.evaluate(() => 'sottoBench' in window), false);
    await page.getByRole('link', { name: 'Open chat with Carol' }).waitFor({ timeout: 15000 });
    const conv = await page.getByRole('link', { name: 'Open chat with Carol' }).getAttribute('data-conversation');
    assert.equal(await seedLocalHistory(page, conv, 1000), 1000);
    await page.goto('/'); // a fresh start: nothing of that conversation in memory
    await page.getByRole('link', { name: 'Open chat with Bob' }).waitFor({ timeout: 15000 });
    const samples = [];
    for (let i = 0; i < 3; i++) {
      await openChatWith(page, 'Bob');
      await messageItem(page, text('reply to both tabs')).waitFor();
      const ms = await page.evaluate(async () => {
        const t0 = performance.now();
        [...document.querySelectorAll('a[data-conversation]')].find((a) => a.textContent.includes('Open chat with Carol')).click();
        for (;;) {
          const items = [...document.querySelectorAll('ul[aria-label="Messages"] li')];
          if (items.some((li) => li.textContent.includes('hello back'))) return performance.now() - t0;
          await new Promise((r) => requestAnimationFrame(r));
        }
      });
      samples.push(Math.round(ms));
    }
    const count = await page.evaluate(() => document.querySelectorAll('ul[aria-label="Messages"] li').length);
    assert.ok(count < 100, `virtualized: ${count} items in the DOM`);
    samples.sort((x, y) => x - y);
    report.budgets.openConversation1000Ms = samples; // the ≤ 300 ms budget: reported, not asserted
    noScriptViolations(page);
  });

  test('no CSP or Trusted Types violation of any kind was logged during the run', () => {
    assert.deepEqual(runViolations, []);
  });

  test('no plaintext marker on the server disk (text, base64 or hex)', async () => {
    await alice.context.close();
    await bob.context.close();
    await server.stop({ keepData: true });
    const needles = [Buffer.from(MARK)];
    for (let shift = 0; shift < 3; shift++) {
      const b64 = Buffer.from('x'.repeat(shift) + MARK).toString('base64');
      needles.push(Buffer.from(b64.slice(Math.ceil(shift * 4 / 3) + 2, b64.length - 4)));
    }
    needles.push(Buffer.from(Buffer.from(MARK).toString('hex')), Buffer.from(Buffer.from(MARK).toString('hex').toUpperCase()));
    const files = [];
    const walk = (d) => {
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(server.dataDir);
    assert.ok(files.length > 0);
    for (const f of files) {
      const buf = readFileSync(f);
      for (const n of needles) assert.equal(buf.indexOf(n), -1, `${path.relative(server.dataDir, f)} holds ${n}`);
    }
    server.child = null;
  });
});
