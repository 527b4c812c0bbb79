// Search and accessibility (issue 20, items 5 and 9), between a desktop browser and one in the
// phone layout (390×844): a Vietnamese search that ignores diacritics and case, shows the text as
// written with the match marked, and jumps to the message; a new message read out by a polite
// live region (never the whole list); conversation links named with their unread count and last
// message; focus inside the chat after opening it; a composer that grows with its text; and
// axe-core (injected into the page) finding no serious or critical violation on the sign-in,
// chat list and chat screens at both sizes. The announcement, the link's name and the search are
// also checked with the interface in Vietnamese.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { verifyEmail } from '../api/lib/api.mjs';
import {
  cspViolations, launchBrowser, messageItem, newUser, openChatWith, prerequisites, register, screenshot, send, startChatWith,
  startServer, uniq,
} from './lib/harness.mjs';

const missing = prerequisites();
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const tag = uniq('');
const A = { email: `alice${tag}@example.test`, username: `alice${tag}`, displayName: 'Alice' };
const B = { email: `bob${tag}@example.test`, username: `bob${tag}`, displayName: 'Bob' };
const C = { email: `carol${tag}@example.test`, username: `carol${tag}`, displayName: 'Carol' };
const HEALTH = 'Bạn khỏe không?';
const STREET = 'Nhà mình ở Đường Lê Lợi nhé';
const FILLERS = 30; // after the hits, so that on a phone they start far out of view
let server, chrome, alice, bob;

/** axe-core in the page (evaluated through the DevTools protocol, which the page's CSP does not
 *  govern), run on the whole document; the serious and critical violations, summed up. */
async function axeProblems(page) {
  await page.evaluate(`${axeSource}\n;0`);
  const found = await page.evaluate(async () => {
    const r = await globalThis.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

async function assertAccessible(page, screen) {
  await page.waitForTimeout(300); // transitions settle: axe reads computed colours
  const problems = await axeProblems(page);
  assert.deepEqual(problems, [], `${screen}: ${JSON.stringify(problems, null, 1)}`);
}

/** The element that has focus, described by what the assertions need. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    return {
      tag: el?.tagName.toLowerCase(),
      id: el?.id,
      message: el?.getAttribute('data-message') ?? null,
      inChat: Boolean(el?.closest('section')),
    };
  });
}

describe('web search and accessibility', () => {
  before(async () => {
    assert.deepEqual(missing, [], `missing: ${missing.join(', ')}`);
    server = await startServer();
    chrome = await launchBrowser();
    alice = await newUser(chrome.browser, server);
    bob = await newUser(chrome.browser, server, { width: 390, height: 844, isMobile: true });
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
  });

  test('axe: the sign-in screen, desktop and phone', async () => {
    await alice.page.getByRole('button', { name: 'Sign in' }).waitFor();
    await bob.page.getByRole('button', { name: 'Sign in' }).waitFor();
    await assertAccessible(alice.page, 'sign-in, desktop');
    await assertAccessible(bob.page, 'sign-in, phone');
    await register(alice.page, A);
    await register(bob.page, B);
    await verifyEmail(server, B.email);
  });

  test('axe: the chat list, desktop and phone', async () => {
    await startChatWith(alice.page, B.username);
    await send(alice.page, `hello ${tag}`);
    await bob.page.getByRole('link', { name: /Open chat with Alice/ }).waitFor({ timeout: 15000 });
    await assertAccessible(alice.page, 'chat list and chat, desktop');
    await assertAccessible(bob.page, 'chat list, phone');
  });

  test('a new message is read out by a polite live region, not by the list', async () => {
    const region = bob.page.locator('[data-announcer]');
    assert.equal(await region.getAttribute('aria-live'), 'polite');
    assert.equal(await region.getAttribute('role'), 'status');
    await send(alice.page, 'Xin chào Bob');
    await bob.page.waitForFunction(
      () => document.querySelector('[data-announcer]')?.textContent === 'New message from Alice: Xin chào Bob',
      null,
      { timeout: 15000 },
    );
    // Exactly one live region speaks of messages: the list itself is not live.
    assert.equal(await bob.page.locator('ul[aria-live], [role="log"]').count(), 0);
  });

  test("a conversation link's name says who, how many unread and the last message with its time", async () => {
    await bob.page.locator('[data-unread="2"]').waitFor({ timeout: 15000 });
    // The name as the accessibility tree computes it, in the order the row shows its parts.
    const name = /^Open chat with Alice\s*,\s*(Online|Offline)\s*,\s*last message \d\d:\d\d\s*:\s*Xin chào Bob\s*,\s*2 unread$/;
    await bob.page.getByRole('link', { name }).waitFor({ timeout: 5000 });
    // Named by its content: an aria-label would hide the preview and counts again.
    assert.equal(await bob.page.locator('a[data-conversation]').getAttribute('aria-label'), null);
  });

  test('opening a chat moves focus into it, on the phone and on the desktop', async () => {
    await openChatWith(bob.page, 'Alice');
    const phone = await focused(bob.page);
    assert.ok(phone.inChat && (phone.id === 'composer' || phone.tag === 'h2'), JSON.stringify(phone));
    await bob.page.getByRole('button', { name: 'Back to chats' }).click();

    // On the desktop the chat pane stays mounted from one chat to the next: focus must follow.
    const carol = await newUser(chrome.browser, server);
    try {
      await register(carol.page, C);
      await verifyEmail(server, A.email);
      await startChatWith(carol.page, A.username);
      await send(carol.page, 'Chào Alice');
      await alice.page.getByRole('link', { name: /Open chat with Carol/ }).click();
      await alice.page.getByRole('heading', { name: 'Carol' }).waitFor();
      // Carol wrote first: a message request, whose Accept brings the composer and focus to it.
      await alice.page.locator('[data-request-accept]').click();
      await alice.page.waitForFunction(() => document.activeElement?.id === 'composer', null, { timeout: 10000 });
      assert.equal(await alice.page.evaluate(() => document.activeElement?.closest('section')?.getAttribute('aria-label')), 'Carol');
      await alice.page.getByRole('link', { name: /Open chat with Bob/ }).click();
      await alice.page.getByRole('heading', { name: 'Bob' }).waitFor();
      await alice.page.waitForFunction(() => document.activeElement?.closest('section')?.getAttribute('aria-label') === 'Bob', null, {
        timeout: 10000,
      });
      assert.equal((await focused(alice.page)).id, 'composer');
    } finally {
      await carol.context.close();
    }
  });

  test('the composer grows with the text, up to a bound', async () => {
    const box = alice.page.getByLabel('Message', { exact: true });
    const one = (await box.boundingBox()).height;
    await box.fill('một\nhai\nba');
    const three = (await box.boundingBox()).height;
    assert.ok(three > one + 20, `three lines: ${three} px, one line: ${one} px`);
    await box.fill(Array.from({ length: 30 }, (_, i) => `dòng ${i}`).join('\n'));
    const many = (await box.boundingBox()).height;
    assert.ok(many > three && many <= 160, `thirty lines: ${many} px`);
    assert.equal(await box.evaluate((el) => getComputedStyle(el).overflowY), 'auto');
    await box.fill('');
    assert.ok((await box.boundingBox()).height < three, 'shrinks again when emptied');
  });

  test('search in Vietnamese ignores diacritics and case, shows the text as written and marks the match', async () => {
    await send(alice.page, HEALTH);
    await send(alice.page, STREET);
    for (let i = 0; i < FILLERS; i++) await send(alice.page, `filler ${i} ${tag}`);
    await bob.page.locator('[data-unread]').waitFor({ timeout: 15000 });
    await bob.page.waitForFunction(
      (n) => document.querySelector('[data-announcer]')?.textContent === `New message from Alice: filler ${n}`,
      `${FILLERS - 1} ${tag}`,
      { timeout: 30000 },
    );
    const search = bob.page.getByLabel('Search messages');
    await search.fill('khoe');
    const hit = bob.page.locator('[data-search-hit]');
    await hit.first().waitFor({ timeout: 10000 });
    assert.equal(await hit.count(), 1);
    assert.equal(await hit.locator('mark').textContent(), 'khỏe');
    assert.match(await hit.textContent(), /Bạn khỏe không\?/);

    await search.fill('DUONG le loi');
    await bob.page.waitForFunction(() => document.querySelector('[data-search-hit] mark')?.textContent === 'Đường Lê Lợi', null, {
      timeout: 10000,
    });
    assert.equal(await hit.count(), 1);

    await search.fill('khoa');
    await bob.page.getByText('No messages match.').waitFor({ timeout: 10000 });
    assert.equal(await hit.count(), 0);
  });

  test('a hit jumps to its message in the conversation: scrolled into view, marked and focused', async () => {
    const search = bob.page.getByLabel('Search messages');
    await search.fill('KHỎE');
    const hit = bob.page.locator('[data-search-hit]');
    await hit.first().waitFor({ timeout: 10000 });
    const id = await hit.getAttribute('data-search-hit');
    await hit.click();

    const item = bob.page.locator(`li[data-message="${id}"]`);
    await item.waitFor({ timeout: 10000 });
    await bob.page.waitForFunction((id) => document.activeElement?.getAttribute('data-message') === id, id, { timeout: 10000 });
    assert.equal(await item.getAttribute('data-marked'), 'true');
    assert.match(await item.textContent(), /Bạn khỏe không\?/);
    assert.match(bob.page.url(), new RegExp(`/c/[0-9a-f-]{36}\\?m=${id}$`));
    // In view: inside the visible part of the message list, not below the fold with the fillers.
    const visible = await item.evaluate((el) => {
      const list = el.closest('.overflow-y-auto').getBoundingClientRect();
      const r = el.getBoundingClientRect();
      return r.top >= list.top && r.bottom <= list.bottom;
    });
    assert.ok(visible, 'the message is scrolled into view');
    // The newest filler is far below: the view did not stay at the end.
    assert.equal(await messageItem(bob.page, `filler ${FILLERS - 1} ${tag}`).isVisible(), false);
    await screenshot(bob.page, 'search-jump-phone');
  });

  test('axe: the chat screen, desktop and phone', async () => {
    await assertAccessible(bob.page, 'chat, phone');
    await assertAccessible(alice.page, 'chat, desktop');
  });

  test('in Vietnamese: the announcement, the link name and a search without marks', async () => {
    await alice.page.getByRole('button', { name: 'Settings' }).click();
    await alice.page.getByRole('combobox').first().selectOption('vi');
    await alice.page.getByLabel('Tìm tin nhắn').waitFor();
    await send(bob.page, 'Cảm ơn nhé');
    await alice.page.waitForFunction(
      () => document.querySelector('[data-announcer]')?.textContent === 'Tin nhắn mới từ Bob: Cảm ơn nhé',
      null,
      { timeout: 15000 },
    );
    const name = /^Mở trò chuyện với Bob\s*,.*tin nhắn cuối lúc \d\d:\d\d\s*:\s*Cảm ơn nhé\s*,\s*1 chưa đọc$/;
    await alice.page.getByRole('link', { name }).waitFor({ timeout: 10000 });
    await alice.page.getByLabel('Tìm tin nhắn').fill('CAM ON');
    await alice.page.waitForFunction(() => document.querySelector('[data-search-hit] mark')?.textContent === 'Cảm ơn', null, {
      timeout: 10000,
    });
    await alice.page.getByLabel('Tìm tin nhắn').fill('');
    await alice.page.getByRole('combobox').first().selectOption('en');
  });

  test('no CSP violation in either page', () => {
    assert.deepEqual([...cspViolations(alice.page), ...cspViolations(bob.page)], []);
  });
});
