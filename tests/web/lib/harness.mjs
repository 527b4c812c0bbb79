// Harness for the web client's end-to-end tests: a real sottod serving web/dist on a free
// port with a temporary DATA_DIR, and Debian's Chromium driven by playwright-core.
//   SOTTOD   the sottod binary (default ../../build/bin/sottod)
//   WEB_DIST the built client (default ../../web/dist)
//   CHROMIUM the browser (default /usr/bin/chromium)
//   SOTTO_WEB_ARTIFACTS where screenshots and the report go (default ../../build/web-e2e)
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
export const SOTTOD = process.env.SOTTOD ?? path.join(root, 'build/bin/sottod');
export const WEB_DIST = process.env.WEB_DIST ?? path.join(root, 'web/dist');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = process.env.SOTTO_WEB_ARTIFACTS ?? path.join(root, 'build/web-e2e');
mkdirSync(path.join(ARTIFACTS, 'screenshots'), { recursive: true });

export function prerequisites() {
  const missing = [];
  if (!existsSync(SOTTOD)) missing.push(`sottod (${SOTTOD}; set SOTTOD)`);
  if (!existsSync(path.join(WEB_DIST, 'index.html'))) missing.push(`the built client (${WEB_DIST}; npm run build --prefix web)`);
  if (!existsSync(CHROMIUM)) missing.push(`Chromium (${CHROMIUM}; apt-get install chromium)`);
  return missing;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// PUBLIC_URL must name the port before sottod starts, so the port is chosen here (the API
// tests use PORT=0 instead). Another test may take it between the choice and sottod's bind:
// then sottod exits naming PORT, and the next port is tried.
export async function startServer(extra = {}) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(await freePort(), extra);
    } catch (e) {
      if (attempt >= 3 || !/PORT: cannot listen/.test(e.message)) throw e;
    }
  }
}

async function startOnce(port, extra) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sotto-web-'));
  const base = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp',
    PORT: String(port), DATA_DIR: dataDir, WEB_ROOT: WEB_DIST, PUBLIC_URL: base, LOG_LEVEL: 'warn',
    ARGON2_MEMORY_COST: '4096', ARGON2_TIME_COST: '1', ARGON2_PARALLELISM: '1',
    RATE_LIMIT_MAX: '100000', RATE_LIMIT_WINDOW: '60',
    ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=0',
    ...extra,
  };
  const child = spawn(SOTTOD, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.setEncoding('utf8'); // whole characters, even split across reads
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { log += d; });
  // 'close': after the exit and the last of its output.
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const early = () => { rmSync(dataDir, { recursive: true, force: true }); return new Error(`sottod exited early:\n${log}`); };
  const deadline = Date.now() + 15000;
  for (;;) {
    if (child.exitCode !== null) { await exited; throw early(); }
    try {
      if ((await fetch(base + '/healthz')).status === 200) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`sottod did not start:\n${log}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  // An answer from a sottod that won the port from ours: ours has exited by now.
  await new Promise((r) => setTimeout(r, 50));
  if (child.exitCode !== null) { await exited; throw early(); }
  return {
    port, base, dataDir, child,
    get log() { return log; },
    async stop({ keepData = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Test-only tampering, as a server that lies would do it: a query on the running sottod's SQLite
 * database (DATA_DIR/sotto.db; WAL, so sottod may keep running). Rows of '|'-separated fields.
 */
export function sql(server, query) {
  const out = execFileSync('sqlite3', ['-cmd', '.timeout 10000', path.join(server.dataDir, 'sotto.db'), query], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.length).map((l) => l.split('|'));
}

/** `args`: more Chromium flags (the calls test's fake camera and microphone). */
export async function launchBrowser({ args = [] } = {}) {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'sotto-chromium-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--lang=en-US',
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
      ...args,
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh browser profile (its own IndexedDB, cookies, service worker) at the app. */
export async function newUser(browser, server, { width = 1280, height = 800, isMobile = false } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, isMobile, hasTouch: isMobile, locale: 'en-US', baseURL: server.base });
  const page = await context.newPage();
  watch(page);
  await page.goto('/');
  return { context, page };
}

/** Collects console errors, CSP/Trusted Types violations and dialogs (alert() must never run). */
export function watch(page) {
  page.sottoErrors = [];
  page.sottoDialogs = [];
  const error = (text) => {
    page.sottoErrors.push(text);
    if (isViolation(text)) runViolations.push(`${page.url()}: ${text}`);
  };
  page.on('console', (m) => { if (m.type() === 'error') error(m.text()); });
  page.on('pageerror', (e) => error(String(e)));
  page.on('dialog', async (d) => { page.sottoDialogs.push(`${d.type()}: ${d.message()}`); await d.dismiss(); });
  return page;
}

/** Polls `f` until it returns something truthy (which it returns), or fails naming `what`. */
export async function until(what, f, timeout = 20000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await f();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

export function uniq(prefix) {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

export async function register(page, { email, username, displayName, password = 'correct horse battery' }) {
  await page.getByRole('link', { name: 'Create account' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Display name').fill(displayName);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('button', { name: 'New chat' }).waitFor({ timeout: 20000 });
}

export async function startChatWith(page, username) {
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.getByLabel('Search users').fill(username);
  await page.getByRole('button', { name: new RegExp(`@${username}`) }).click();
  await page.getByLabel('Message', { exact: true }).waitFor();
}

/** Opens the chat with name. A first message from someone this user has not accepted opens as
 *  a message request (Accept / Block / Delete, no composer): the people of these scenarios
 *  mean to talk, so it is accepted (tests/web/14_requests.test.mjs tests the request itself). */
export async function openChatWith(page, name) {
  await page.getByRole('link', { name: `Open chat with ${name}` }).click();
  const composer = page.getByLabel('Message', { exact: true });
  const accept = page.locator('[data-request-accept]');
  await composer.or(accept).first().waitFor();
  // By keyboard: a toast (a call's, a new message's) may cover the bar's bottom edge.
  if (await accept.isVisible()) await accept.press('Enter');
  await composer.waitFor();
}

export async function send(page, text) {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
}

/** The list item holding a message with this exact text. */
export function messageItem(page, text) {
  return page.getByRole('list', { name: 'Messages' }).getByRole('listitem').filter({ hasText: text });
}

export async function screenshot(page, name) {
  const file = path.join(ARTIFACTS, 'screenshots', `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

const isViolation = (e) => /Content Security Policy|Trusted Type|Refused to (load|execute|apply|connect|create|frame|evaluate)/i.test(e);
/** Every CSP or Trusted Types violation logged by any watched page of this run. */
export const runViolations = [];
/** Every CSP or Trusted Types violation the page logged (script, style, worker, connect...). */
export function cspViolations(page) {
  return page.sottoErrors.filter(isViolation);
}

/**
 * Test-only: stores n synthetic messages in one conversation of this profile's local database,
 * in the client's own at-rest format (worker.ts MessageRow: ids, order and status in clear, the
 * rest AES-GCM under the database key, bound to its slot: atrest.ts slotOf, the store name, the
 * row's id, conversation and sender as associated data). Nothing of this is in the production bundle: it runs
 * from the test through page.evaluate, with the same-origin access any page script has. The
 * sender is this profile's user. Reload afterwards so nothing of the conversation is cached.
 */
export async function seedLocalHistory(page, conversationId, n) {
  return page.evaluate(async ({ conversationId, n }) => {
    const req = (r) => new Promise((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const db = await req(indexedDB.open('sotto'));
    try {
      const key = await req(db.transaction('keys').objectStore('keys').get('db'));
      if (!(key instanceof CryptoKey)) throw new Error('no unlocked database key');
      const slot = (...parts) => new TextEncoder().encode(['sotto-at-rest-v2', ...parts].join('\0'));
      const open = async (s, ad) =>
        JSON.parse(new TextDecoder().decode(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: s.iv, additionalData: ad }, key, s.ct)));
      const seal = async (v, ad) => {
        const iv = crypto.getRandomValues(new Uint8Array(12));
        return { iv, ct: await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: ad }, key, new TextEncoder().encode(JSON.stringify(v))) };
      };
      const profile = await open(await req(db.transaction('kv').objectStore('kv').get('profile')), slot('kv', 'profile'));
      const base = Date.now() - n * 60_000;
      const rows = [];
      for (let i = 0; i < n; i++) {
        const ts = base + i * 60_000;
        const hex = ts.toString(16).padStart(12, '0');
        const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-${i.toString(16).padStart(12, '0')}`;
        rows.push({
          id, clientMessageId: id, conversationId, senderId: profile.userId, ts, status: 'read',
          sealed: await seal({ body: `Seeded message number ${i} with a little text to render`, kind: 'text' },
            slot('messages', id, conversationId, profile.userId)),
        });
      }
      const tx = db.transaction('messages', 'readwrite');
      for (const r of rows) tx.objectStore('messages').put(r);
      await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = () => rej(tx.error); });
      return rows.length;
    } finally {
      db.close();
    }
  }, { conversationId, n });
}
