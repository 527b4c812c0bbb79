// Files between two browsers (issue 19, docs/protocol.md "Attachments"): an image and a
// few-MiB file (then a pasted image and a dropped file) sent from a desktop browser to one in
// the phone layout, the received bytes read back from the browser's downloads and compared with
// the sent ones, the thumbnail shown; an upload that survives a dropped connection and a
// reload; a blob changed on the server's disk shown as "could not be downloaded", never as a
// file; and no file's name or content on the server's disk (database and blob store).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { verifyEmail } from '../api/lib/api.mjs';
import { findMarkers } from '../e2e/lib/e2e.mjs';
import {
  cspViolations, launchBrowser, messageItem, newUser, openChatWith, prerequisites, register, screenshot, send, startChatWith,
  startServer, uniq,
} from './lib/harness.mjs';
import { png as pngWith } from './lib/media.mjs';

const missing = prerequisites();
const MARK = uniq('PLAINMARK');            // in every file's name and content: never on the server's disk
const tag = uniq('');
const A = { email: `alice${tag}@example.test`, username: `alice${tag}`, displayName: 'Alice' };
const B = { email: `bob${tag}@example.test`, username: `bob${tag}`, displayName: 'Bob' };
const work = mkdtempSync(path.join(os.tmpdir(), 'sotto-files-'));
let server, chrome, alice, bob;

/* ------------------------------------------------------------------ files to send */

/** A real PNG with the marker in a text chunk. */
const png = (w, h) => pngWith(w, h, MARK);
/** `size` random bytes with the marker written in every 64 KiB (each chunk of the stream). */
function blob(size) {
  const b = crypto.randomBytes(size);
  for (let o = 100; o + MARK.length < size; o += 65536) b.write(MARK, o);
  return b;
}
function fileOf(name, bytes) {
  const p = path.join(work, name);
  writeFileSync(p, bytes);
  return p;
}

/* ------------------------------------------------------------------ helpers */

async function attach(page, file) {
  await page.locator('input[type=file]').setInputFiles(file);
}
const item = (page, name) => page.locator(`[data-file="${name}"]`);
async function sentFile(page, name) {
  await item(page, name).waitFor({ timeout: 60000 });
  // The upload bar is gone once its message is out.
  await page.getByRole('list', { name: 'Files being sent' }).waitFor({ state: 'detached', timeout: 60000 });
}
/** Saves what the click downloads and returns its name and bytes. */
async function download(page, click) {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), click()]);
  const to = path.join(work, `got-${crypto.randomUUID()}`);
  await d.saveAs(to);
  return { name: d.suggestedFilename(), bytes: readFileSync(to) };
}
function blobsDone() {
  const dir = path.join(server.dataDir, 'blobs', 'done');
  return readdirSync(dir).map((f) => ({ path: path.join(dir, f), id: f, mtime: statSync(path.join(dir, f)).mtimeMs }));
}

describe('web files', () => {
  before(async () => {
    assert.deepEqual(missing, [], `missing: ${missing.join(', ')}`);
    server = await startServer();
    chrome = await launchBrowser();
    alice = await newUser(chrome.browser, server);
    bob = await newUser(chrome.browser, server, { width: 390, height: 844, isMobile: true });
    await register(alice.page, A);
    await register(bob.page, B);
    await verifyEmail(server, B.email);
    await startChatWith(alice.page, B.username);
    await send(alice.page, `hello ${tag}`);
    await bob.page.getByRole('link', { name: 'Open chat with Alice' }).waitFor({ timeout: 15000 });
    await openChatWith(bob.page, 'Alice');
    await messageItem(bob.page, `hello ${tag}`).waitFor({ timeout: 15000 });
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const image = png(600, 400);
  const imageName = `photo ${MARK}.png`;
  test('an image: the thumbnail shows inline, the full image opens and saves with the same bytes and name', async () => {
    await attach(alice.page, fileOf(imageName, image));
    await sentFile(alice.page, imageName);
    const thumb = item(bob.page, imageName).locator('img[data-thumbnail]');
    await thumb.waitFor({ timeout: 30000 });
    // The thumbnail is a decoded image in its own proportions (3:2), made by the sender.
    const natural = await thumb.evaluate((i) => [i.complete, i.naturalWidth, i.naturalHeight]);
    assert.equal(natural[0], true);
    assert.ok(natural[1] > 0 && Math.abs(natural[1] / natural[2] - 1.5) < 0.05, `thumbnail ${natural}`);
    await screenshot(bob.page, 'phone-files-thumbnail');
    await bob.page.getByRole('button', { name: `Open image ${imageName}` }).click();
    const viewer = bob.page.getByRole('dialog', { name: imageName });
    const full = viewer.locator('img[data-full]');
    await full.waitFor({ timeout: 30000 });
    assert.deepEqual(await full.evaluate((i) => new Promise((ok) => (i.complete ? ok([i.naturalWidth, i.naturalHeight]) : (i.onload = () => ok([i.naturalWidth, i.naturalHeight]))))), [600, 400]);
    const got = await download(bob.page, () => viewer.getByRole('button', { name: 'Save' }).click());
    assert.equal(got.name, imageName);
    assert.ok(got.bytes.equals(image), 'the saved image is the sent one');
    await viewer.getByRole('button', { name: 'Close' }).click();
  });

  const big = blob(3 * 1024 * 1024 + 12345);
  const bigName = `notes ${MARK}.bin`;
  test('a 3 MiB file survives a dropped connection: a card with name and size, downloaded with the same bytes', async () => {
    // The first upload request breaks off: tus-js-client asks the server for its offset and goes on.
    let broken = 0;
    await alice.page.route('**/api/attachments/*', (route) => {
      if (route.request().method() === 'PATCH' && broken === 0) {
        broken++;
        return route.abort('connectionreset');
      }
      return route.continue();
    });
    await attach(alice.page, fileOf(bigName, big));
    await sentFile(alice.page, bigName);
    await alice.page.unroute('**/api/attachments/*');
    assert.equal(broken, 1, 'the connection was dropped once');
    const card = item(bob.page, bigName);
    await card.waitFor({ timeout: 30000 });
    assert.match(await card.innerText(), /3\.0 MB/);
    const got = await download(bob.page, () => bob.page.getByRole('button', { name: `Download ${bigName}` }).click());
    assert.equal(got.name, bigName);
    assert.equal(got.bytes.length, big.length);
    assert.ok(got.bytes.equals(big), 'the downloaded file is the sent one');
  });

  const later = blob(2 * 1024 * 1024);
  const laterName = `later ${MARK}.bin`;
  test('an upload cut off by a reload resumes after it and arrives whole', async () => {
    // No upload request gets through until the page is reloaded.
    await alice.page.route('**/api/attachments/*', (route) =>
      route.request().method() === 'PATCH' ? route.abort('connectionreset') : route.continue());
    await attach(alice.page, fileOf(laterName, later));
    await alice.page.locator('[data-upload="uploading"]').waitFor({ timeout: 30000 });
    await alice.page.waitForTimeout(1500); // created on the server, failing to send bytes
    await alice.page.reload();
    await openChatWith(alice.page, 'Bob');
    // Taken up again from what was kept (still cut off, so it cannot have been sent before).
    await alice.page.locator('[data-upload]').filter({ hasText: laterName }).waitFor({ timeout: 30000 });
    await alice.page.unroute('**/api/attachments/*');
    await sentFile(alice.page, laterName);
    await item(bob.page, laterName).waitFor({ timeout: 30000 });
    const got = await download(bob.page, () => bob.page.getByRole('button', { name: `Download ${laterName}` }).click());
    assert.ok(got.bytes.equals(later), 'the resumed upload is the sent file');
  });

  test('a pasted image and a file dropped onto the chat are sent too', async () => {
    const pasted = png(120, 80), pastedName = `pasted ${MARK}.png`;
    const dropped = blob(5000), droppedName = `dropped ${MARK}.txt`;
    const put = (event, name, bytes, type) =>
      alice.page.evaluate(({ event, name, b64, type }) => {
        const dt = new DataTransfer();
        dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type }));
        const target = document.getElementById('composer');
        const ev = event === 'paste'
          ? new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true })
          : new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true });
        target.dispatchEvent(ev);
      }, { event, name, b64: bytes.toString('base64'), type });
    await put('paste', pastedName, pasted, 'image/png');
    await sentFile(alice.page, pastedName);
    await put('drop', droppedName, dropped, 'text/plain');
    await sentFile(alice.page, droppedName);
    await item(bob.page, pastedName).locator('img[data-thumbnail]').waitFor({ timeout: 30000 });
    await item(bob.page, droppedName).waitFor({ timeout: 30000 });
    const got = await download(bob.page, () => bob.page.getByRole('button', { name: `Download ${droppedName}` }).click());
    assert.equal(got.name, droppedName);
    assert.ok(got.bytes.equals(dropped));
  });

  test('a file over 100 MiB is refused before anything is encrypted or uploaded', async () => {
    const huge = path.join(work, 'huge.bin');
    writeFileSync(huge, Buffer.alloc(0));
    truncateSync(huge, 104857601); // sparse: one byte over 100 MiB
    const before = blobsDone().length;
    let posts = 0;
    alice.page.on('request', (r) => { if (r.method() === 'POST' && r.url().includes('/api/attachments')) posts++; });
    await attach(alice.page, huge);
    await alice.page.getByText('huge.bin is over 100 MB and cannot be sent.').waitFor({ timeout: 30000 });
    assert.equal(posts, 0);
    assert.equal(blobsDone().length, before);
    await alice.page.locator('[data-upload]').filter({ hasText: 'huge.bin' }).getByRole('button', { name: 'Cancel upload' }).click();
  });

  const tampered = blob(100 * 1024);
  const tamperedName = `tampered ${MARK}.bin`;
  test('a blob changed on the server shows "could not be downloaded", never a file', async () => {
    const before = new Set(blobsDone().map((b) => b.id));
    await attach(alice.page, fileOf(tamperedName, tampered));
    await sentFile(alice.page, tamperedName);
    const fresh = blobsDone().filter((b) => !before.has(b.id));
    assert.equal(fresh.length, 1, 'one new blob');
    const bytes = readFileSync(fresh[0].path);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(fresh[0].path, bytes);
    await item(bob.page, tamperedName).waitFor({ timeout: 30000 });
    let downloads = 0;
    bob.page.on('download', () => downloads++);
    await bob.page.getByRole('button', { name: `Download ${tamperedName}` }).click();
    await item(bob.page, tamperedName).getByText('This file could not be downloaded.').waitFor({ timeout: 30000 });
    await bob.page.waitForTimeout(500);
    assert.equal(downloads, 0, 'nothing was saved');
  });

  test('no CSP violation in either page', () => {
    assert.deepEqual(cspViolations(alice.page), []);
    assert.deepEqual(cspViolations(bob.page), []);
  });

  test("no file's name or content on the server's disk (database and blob store)", async () => {
    await alice.context.close();
    await bob.context.close();
    await server.stop({ keepData: true });
    const hits = [];
    const walk = (d) => {
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else hits.push(...findMarkers(path.relative(server.dataDir, p), readFileSync(p), [MARK]));
      }
    };
    assert.ok(blobsDone().length >= 1, 'there are blobs to scan');
    walk(server.dataDir);
    hits.push(...findMarkers('sottod log', Buffer.from(server.log), [MARK]));
    assert.deepEqual(hits, []);
    rmSync(server.dataDir, { recursive: true, force: true });
  });
});
