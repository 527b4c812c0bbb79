// Profile pictures in the web client, against a real sottod in Debian's Chromium: Ann chooses a
// picture in Settings (the browser downscales it on a canvas, the server re-encodes it; a marker
// hidden in the file's metadata is in neither), sees it there, and Ben sees it beside her name
// in his conversation list and the chat header; a file that is not a picture is refused with a
// message; removing it brings the initials back. No CSP violation on the way (img-src 'self').
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { png } from '../api/lib/images.mjs';
import { cspViolations, launchBrowser, newUser, prerequisites, register, startChatWith, startServer, uniq } from './lib/harness.mjs';

const missing = prerequisites();
const HIDDEN = 'WEB-EXIF-GPS-10.7769N';
const tag = uniq('');
const ANN = { email: `ann${tag}@example.test`, username: `ann${tag}`, displayName: 'Ann Avatar' };
const BEN = { email: `ben${tag}@example.test`, username: `ben${tag}`, displayName: 'Ben' };
let server, chrome, ann, ben;

/** The state of the first profile picture inside `scope`: null when initials show instead. */
function picture(scope) {
  return scope.locator('img[data-avatar]').first().evaluate((img) => ({
    src: img.getAttribute('src'),
    loaded: img.complete && img.naturalWidth > 0,
    width: img.naturalWidth,
  })).catch(() => null);
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

describe('profile pictures', () => {
  before(async () => {
    assert.deepEqual(missing, [], `missing: ${missing.join(', ')}`);
    server = await startServer();
    chrome = await launchBrowser();
    ann = await newUser(chrome.browser, server);
    ben = await newUser(chrome.browser, server);
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
  });

  test('chosen in Settings: downscaled, re-encoded, shown', async () => {
    const page = ann.page;
    await register(page, ANN);
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Profile picture' }).waitFor();
    assert.equal(await picture(page.locator('main, body')), null, 'initials before a picture is chosen');
    assert.ok(await page.getByRole('button', { name: 'Remove picture' }).isDisabled());

    // What the page PUTs (a Blob body, which the request events do not carry): its size and
    // whether the marker is in it, seen by wrapping fetch in the page.
    await page.evaluate((marker) => {
      const real = window.fetch;
      window.avatarPuts = [];
      window.fetch = async (input, init) => {
        if (init?.method === 'PUT' && String(input).endsWith('/api/users/me/avatar')) {
          const bytes = new Uint8Array(await init.body.arrayBuffer());
          const text = new TextDecoder('latin1').decode(bytes);
          window.avatarPuts.push({ size: bytes.length, type: init.body.type, marker: text.includes(marker) });
        }
        return real(input, init);
      };
    }, HIDDEN);
    await page.getByLabel('Choose a picture').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png(1600, 1200, HIDDEN) });
    await page.getByRole('status').filter({ hasText: 'Picture saved.' }).waitFor();
    const shown = await until('the picture in Settings', async () => {
      const p = await picture(page.locator('body'));
      return p?.loaded ? p : null;
    });
    assert.match(shown.src, /^\/api\/users\/[0-9a-f-]{36}\/avatar\?v=1$/);
    assert.ok(shown.width <= 512, `the server's fitted copy: ${shown.width}`);

    const puts = await page.evaluate(() => window.avatarPuts);
    assert.equal(puts.length, 1);
    assert.ok(puts[0].size < 200 * 1024, `downscaled before upload: ${puts[0].size} bytes`);
    assert.equal(puts[0].type, 'image/webp');
    assert.equal(puts[0].marker, false, 'the canvas keeps only pixels');
    const served = await fetch(server.base + shown.src);
    assert.equal(served.headers.get('content-type'), 'image/webp');
    assert.ok(!Buffer.from(await served.arrayBuffer()).includes(HIDDEN));

    await page.getByLabel('Choose a picture').setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not a picture\n') });
    await page.getByRole('alert').filter({ hasText: 'not a picture this app can read' }).waitFor();
    assert.equal((await page.evaluate(() => window.avatarPuts)).length, 1, 'nothing was sent for it');
    assert.deepEqual(cspViolations(page), []);
  });

  test('others see it beside her name: conversation list and chat header', async () => {
    const page = ben.page;
    await register(page, BEN);
    await startChatWith(page, ANN.username);
    const header = page.locator('header').filter({ has: page.getByRole('heading', { name: ANN.displayName }) });
    const inHeader = await until('her picture in the chat header', async () => {
      const p = await picture(header);
      return p?.loaded ? p : null;
    });
    assert.match(inHeader.src, /\/avatar\?v=1$/);
    const link = page.getByRole('link', { name: new RegExp(`Open chat with ${ANN.displayName}`) });
    await until('her picture in the list', async () => (await picture(link))?.loaded);
    assert.deepEqual(cspViolations(page), []);
  });

  test('removed: the initials are back', async () => {
    const page = ann.page;
    await page.getByRole('button', { name: 'Remove picture' }).click();
    await page.getByRole('status').filter({ hasText: 'Picture removed.' }).waitFor();
    assert.equal(await picture(page.locator('body')), null);
    assert.ok(await page.getByRole('button', { name: 'Remove picture' }).isDisabled());
  });
});
