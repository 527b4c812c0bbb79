// End-to-end tests of running one's own account in the web client (issue 24), against a real
// sottod in Debian's Chromium: the forms check the server's rules and say what is wrong next to
// the field, in English and in Vietnamese; the e-mail state with a rate-limited resend and a
// verify page that does not offer a signed-in person a sign-in; devices with a readable default
// name, renamed, and revoked only after a confirmation; two-factor with a clean success state,
// backup codes copied, downloaded, counted and regenerated; changing the password; deleting the
// account; and the way out of a forgotten passphrase. The scenarios run in order against one
// server.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cspViolations, launchBrowser, newUser, prerequisites, register, runViolations, startServer, uniq } from './lib/harness.mjs';

const missing = prerequisites();
let server, chrome, ann, benToken;
const tag = uniq('');
const PASSWORD = 'correct horse battery';
const A = { email: `ann${tag}@example.test`, username: `ann${tag}`, displayName: 'Ann' };

/* ------------------------------------------------------------------ helpers */

function trackToken(page) {
  page.on('request', (r) => {
    const h = r.headers().authorization;
    if (h?.startsWith('Bearer ')) page.sottoToken = h.slice(7);
  });
  return page;
}
async function user(opts = {}) {
  const u = await newUser(chrome.browser, server, opts);
  trackToken(u.page);
  return u;
}
async function api(token, method, p, body) {
  const res = await fetch(server.base + p, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
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
/** The newest access token the page sent. */
async function tokenOf(page) {
  return until('an access token', async () => page.sottoToken);
}
async function signIn(page, email, password = PASSWORD) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
async function signedIn(page, timeout = 20000) {
  await page.getByRole('button', { name: 'New chat' }).waitFor({ timeout });
}
async function openSettings(page) {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
}
/** The input named `name` of the form on screen, with what describes it and whether it has focus. */
async function fieldState(page, name) {
  return page.locator(`input[name="${name}"]`).evaluate((el) => ({
    invalid: el.getAttribute('aria-invalid') === 'true',
    described: (el.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' | '),
    focused: document.activeElement === el,
  }));
}
/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) from a base32 secret. */
function totp(secretB32, step = Math.floor(Date.now() / 30000)) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretB32.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = crypto.createHmac('sha1', key).update(msg).digest();
  const o = h[h.length - 1] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1e6).padStart(6, '0');
}
/** The link of the newest mail to `to` in sottod's outbox whose text holds `pathPart`. */
async function mailLink(to, pathPart) {
  const dir = path.join(server.dataDir, 'outbox');
  return until(`a mail to ${to} with ${pathPart}`, () => {
    let files = [];
    try { files = readdirSync(dir).filter((f) => f.endsWith('.eml') && !f.startsWith('.')).sort().reverse(); } catch { return null; }
    for (const f of files) {
      const raw = readFileSync(path.join(dir, f), 'latin1');
      if (!new RegExp(`^To:.*${to.replace(/[.+]/g, '\\$&')}`, 'mi').test(raw)) continue;
      // The parts may be base64: look in every decoded block as well as the raw text.
      const blocks = [raw, ...raw.split(/\r?\n\r?\n/).map((b) => Buffer.from(b.replace(/\s+/g, ''), 'base64').toString('utf8'))];
      for (const b of blocks) {
        const m = new RegExp(`https?://\\S+${pathPart}\\?token=[A-Za-z0-9_-]+`).exec(b);
        if (m) return m[0];
      }
    }
    return null;
  });
}
function mailsTo(to) {
  const dir = path.join(server.dataDir, 'outbox');
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.eml') && !f.startsWith('.'))
      .filter((f) => new RegExp(`^To:.*${to.replace(/[.+]/g, '\\$&')}`, 'mi').test(readFileSync(path.join(dir, f), 'latin1'))).length;
  } catch {
    return 0;
  }
}
/** What the profile's local database holds: null when it does not exist. Looking never
 *  creates it (a database deleted between the listing and the open is not made anew, empty). */
function localData(page) {
  return page.evaluate(async () => {
    if (!(await indexedDB.databases()).some((d) => d.name === 'sotto')) return null;
    const req = (r) => new Promise((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const open = indexedDB.open('sotto');
    open.onupgradeneeded = () => open.transaction.abort();
    const db = await req(open).catch(() => null);
    if (!db) return null;
    try {
      const out = {};
      for (const s of db.objectStoreNames) out[s] = await req(db.transaction(s).objectStore(s).count());
      return out;
    } finally {
      db.close();
    }
  });
}

/* ------------------------------------------------------------------ scenarios */

describe('running one’s own account', () => {
  before(async () => {
    assert.deepEqual(missing, [], `missing: ${missing.join(', ')}`);
    // One verification resend per account per two minutes: the second is refused humanely.
    server = await startServer({ RATE_LIMIT_FORGOT_ACCOUNT: '1/120' });
    chrome = await launchBrowser();
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
  });

  test('the register form: the server’s rules, next to each field, the cursor in the first wrong one', async () => {
    ann = await user();
    const page = ann.page;
    await register(page, A);
    const other = await user();
    const p = other.page;
    await p.getByRole('link', { name: 'Create account' }).click();
    // The hint is the server's number (GET /api/auth/rules), not a copy of it.
    const rules = (await api(null, 'GET', '/api/auth/rules')).body;
    await p.getByText(`At least ${rules.password.minLength} characters`).waitFor();

    await p.getByRole('button', { name: 'Create account' }).click();
    let s = await fieldState(p, 'email');
    assert.deepEqual(s, { invalid: true, described: 'Fill this in.', focused: true });
    assert.equal((await fieldState(p, 'username')).described.includes('Fill this in.'), true);

    await p.locator('input[name="email"]').fill('not-an-address');
    await p.locator('input[name="username"]').fill('has space');
    await p.locator('input[name="password"]').fill('short');
    await p.getByRole('button', { name: 'Create account' }).click();
    s = await fieldState(p, 'email');
    assert.equal(s.described, 'This is not an email address (like name@example.com).');
    assert.equal(s.focused, true);
    assert.match((await fieldState(p, 'username')).described, /Use only letters A–Z, digits and _\./);
    assert.match((await fieldState(p, 'password')).described, new RegExp(`Too short: at least ${rules.password.minLength} characters\\.`));
    // Typing in a field clears its message.
    await p.locator('input[name="email"]').fill(`new${tag}@example.test`);
    assert.equal((await fieldState(p, 'email')).invalid, false);

    // The password may not be the username; then the strength hint (loaded by this form only).
    await p.locator('input[name="username"]').fill(`Carl${tag}`);
    await p.locator('input[name="password"]').fill(`carl${tag}`);
    await p.getByRole('button', { name: 'Create account' }).click();
    s = await fieldState(p, 'password');
    assert.match(s.described, /Must not be the same as your username\./);
    assert.equal(s.focused, true);
    await p.locator('input[name="password"]').fill('password123');
    await until('a weak strength', async () => (await p.locator('[data-strength]').getAttribute('data-strength').catch(() => null)) === '0'
      || (await p.locator('[data-strength]').getAttribute('data-strength').catch(() => null)) === '1');
    await p.locator('input[name="password"]').fill('violet tractor umbrella quietly');
    await until('a strong strength', async () => Number(await p.locator('[data-strength]').getAttribute('data-strength').catch(() => -1)) >= 3);
    assert.match((await fieldState(p, 'password')).described, /Strength: (strong|very strong)\./);

    // Show password: the same input shows its text, and hides it again.
    const toggle = p.locator('button[aria-controls]').first();
    await toggle.click();
    assert.equal(await p.locator('input[name="password"]').getAttribute('type'), 'text');
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
    await toggle.click();
    assert.equal(await p.locator('input[name="password"]').getAttribute('type'), 'password');

    // What only the server knows (a username taken) lands on that field too.
    await p.locator('input[name="username"]').fill(A.username);
    await p.getByRole('button', { name: 'Create account' }).click();
    await until('the taken username', async () => (await fieldState(p, 'username')).described.endsWith('| This username is taken.'));
    assert.equal((await fieldState(p, 'username')).focused, true);
    assert.deepEqual(cspViolations(p), []);
    await other.context.close();
  });

  test('the forms in Vietnamese: the same checks, in the user’s language', async () => {
    const v = await user();
    const p = v.page;
    // Chosen before any account exists, on the sign-in screen; kept for the other pages.
    await p.getByLabel('Language').selectOption('vi');
    await p.getByRole('button', { name: 'Đăng nhập' }).waitFor();
    await p.goto('/register');
    await p.locator('input[name="email"]').fill('x');
    await p.locator('input[name="username"]').fill(`vy${tag}`);
    await p.locator('input[name="password"]').fill('ngan');
    await p.locator('form button[type="submit"]').click();
    const email = await fieldState(p, 'email');
    assert.equal(email.described, 'Đây không phải là địa chỉ email (ví dụ ten@example.com).');
    assert.equal(email.focused, true);
    assert.match((await fieldState(p, 'password')).described, /Quá ngắn: cần ít nhất 10 ký tự\./);
    // Sign-in and reset too.
    await p.goto('/');
    await p.locator('form button[type="submit"]').click();
    assert.equal((await fieldState(p, 'email')).described, 'Vui lòng điền mục này.');
    await p.goto('/reset-password?token=whatever');
    await p.locator('input[name="newPassword"]').fill('ngan');
    await p.locator('form button[type="submit"]').click();
    const np = await fieldState(p, 'newPassword');
    assert.match(np.described, /Quá ngắn: cần ít nhất 10 ký tự\./);
    assert.equal(np.focused, true);
    // The account registered in Vietnamese gets its mails in it.
    await p.goto('/register');
    const V = { email: `vy${tag}@example.test`, username: `vy${tag}` };
    await p.locator('input[name="email"]').fill(V.email);
    await p.locator('input[name="username"]').fill(V.username);
    await p.locator('input[name="password"]').fill(PASSWORD);
    await p.locator('form button[type="submit"]').click();
    const token = await tokenOf(p);
    await until('signed in in Vietnamese', async () => (await api(token, 'GET', '/api/users/me')).body?.language === 'vi');
    await v.context.close();
  });

  test('e-mail: unverified shown, resend limited kindly, the link offers a signed-in person the app', async () => {
    const page = ann.page;
    await openSettings(page);
    await page.locator('[data-email-verified="no"]').waitFor();
    const before = mailsTo(A.email);
    await page.getByRole('button', { name: 'Send the link again' }).click();
    await page.getByRole('status').filter({ hasText: `A new link is on its way to ${A.email}.` }).waitFor({ timeout: 10000 });
    await until('the second mail', async () => mailsTo(A.email) > before);
    await page.getByRole('button', { name: 'Send the link again' }).click();
    const wait = page.getByRole('status').filter({ hasText: 'A link was sent a moment ago. You can ask for another in' });
    await wait.waitFor({ timeout: 10000 });
    assert.match(await wait.textContent(), /in (\d+ seconds|\d+ minutes)\.$/);

    const link = await mailLink(A.email, '/verify-email');
    await page.goto(link);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText('Your email address is verified.').waitFor({ timeout: 10000 });
    await page.getByRole('link', { name: 'Back to Sotto' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Go to sign in' }).count(), 0);
    await page.getByRole('link', { name: 'Back to Sotto' }).click();
    await signedIn(page);
    await openSettings(page);
    await page.locator('[data-email-verified="yes"]').waitFor({ timeout: 10000 });

    // The language chosen in Settings is the account's (its mails come in it), and back.
    const token = await tokenOf(page);
    await page.getByRole('combobox').first().selectOption('vi');
    await until('language vi on the account', async () => (await api(token, 'GET', '/api/users/me')).body.language === 'vi');
    await page.getByRole('combobox').first().selectOption('en');
    await until('language en on the account', async () => (await api(token, 'GET', '/api/users/me')).body.language === 'en');
  });

  test('devices: a readable default name, renamed, and revoked only once confirmed', async () => {
    const page = ann.page;
    const token = await tokenOf(page);
    const mine = (await api(token, 'GET', '/api/users/me/devices')).body;
    assert.equal(mine.length, 1);
    // Headless Chromium says Chrome (HeadlessChrome) in its user agent; Debian's may say Chromium.
    assert.match(mine[0].name, /^(Chrome|Chromium) on Linux$/);

    const second = await user();
    await signIn(second.page, A.email);
    await signedIn(second.page);
    await page.reload();
    await openSettings(page);
    const list = page.getByRole('list', { name: 'Devices' });
    await until('two devices listed', async () => (await list.getByRole('listitem').count()) === 2);
    const secondName = (await api(token, 'GET', '/api/users/me/devices')).body.find((d) => !d.current).name;

    // Rename this device.
    const here = list.getByRole('listitem').filter({ hasText: 'This device' });
    await here.getByRole('button', { name: /^Rename / }).click();
    await page.getByLabel('Device name').fill('   ');
    await page.getByRole('button', { name: 'Save', exact: true }).last().click();
    await page.getByText('Fill this in.').waitFor();
    await page.getByLabel('Device name').fill('Ann’s laptop');
    await page.getByRole('button', { name: 'Save', exact: true }).last().click();
    await list.getByText('Ann’s laptop').waitFor({ timeout: 10000 });
    const renamed = (await api(token, 'GET', '/api/users/me/devices')).body.find((d) => d.current);
    assert.equal(renamed.name, 'Ann’s laptop');

    // Revoke asks first; cancelling keeps the device.
    const revoke = page.getByRole('button', { name: /^Revoke / });
    await revoke.click();
    const dialog = page.getByRole('dialog', { name: `Revoke ${secondName}?` });
    await dialog.getByText('signed out at once').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await api(token, 'GET', '/api/users/me/devices')).body.length, 2);
    assert.equal(await second.page.getByRole('button', { name: 'New chat' }).count(), 1, 'still signed in there');
    await revoke.click();
    await dialog.getByRole('button', { name: 'Revoke device' }).click();
    await second.page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 20000 });
    await until('one device left', async () => (await api(token, 'GET', '/api/users/me/devices')).body.length === 1);
    await second.context.close();
  });

  test('two-factor: no stale error, backup codes copied, downloaded, counted and regenerated', async () => {
    const { page } = ann;
    await ann.context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const section = page.getByRole('region', { name: 'Two-factor authentication' });
    await section.getByLabel('Current password').fill(PASSWORD);
    await section.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    await section.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor({ timeout: 10000 });
    const secret = (await section.locator('p.font-mono').first().textContent()).trim();
    const codes = await section.getByRole('list', { name: /Backup codes/ }).getByRole('listitem').allTextContents();
    assert.equal(codes.length, 10);

    await section.getByRole('button', { name: 'Copy codes' }).click();
    await section.getByText('Copied.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), codes.join('\n') + '\n');
    const [download] = await Promise.all([page.waitForEvent('download'), section.getByRole('button', { name: 'Download codes' }).click()]);
    assert.equal(download.suggestedFilename(), 'sotto-backup-codes.txt');
    assert.deepEqual(readFileSync(await download.path(), 'utf8').trim().split('\n'), codes);

    // A wrong code says so; the right one turns it on and the error is gone.
    await section.getByLabel('Authentication code').fill('000000');
    await section.getByRole('button', { name: 'Verify' }).click();
    await section.getByText('That code did not work.').waitFor({ timeout: 10000 });
    await section.getByLabel('Authentication code').fill(totp(secret));
    await section.getByRole('button', { name: 'Verify' }).click();
    await section.getByText('Two-factor authentication is on.').waitFor({ timeout: 10000 });
    assert.equal(await page.getByText('That code did not work.').count(), 0, 'no stale error under the success');
    await section.getByText('10 unused backup codes left.').waitFor();

    // A backup code used at sign-in counts down.
    await page.reload();
    await page.getByRole('button', { name: 'Settings' }).waitFor({ timeout: 20000 });
    const token = await tokenOf(page);
    await api(token, 'POST', '/api/auth/logout');
    await page.reload();
    await signIn(page, A.email);
    await page.getByLabel('Authentication code').fill(codes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await signedIn(page);
    await openSettings(page);
    await section.getByText('9 unused backup codes left.').waitFor({ timeout: 10000 });

    // Regenerate: a wrong password is said at its field; then new codes, 10 left, old ones dead.
    const regen = section.getByRole('form', { name: 'New backup codes' });
    await regen.getByLabel('Current password').fill('not the password');
    await regen.getByLabel('Authentication code').fill(codes[1]);
    await regen.getByRole('button', { name: 'New backup codes' }).click();
    await regen.getByText('Wrong password.').waitFor({ timeout: 10000 });
    assert.equal(await regen.locator('input[name="password"]').getAttribute('aria-invalid'), 'true');
    await regen.getByLabel('Current password').fill(PASSWORD);
    await regen.getByLabel('Authentication code').fill(codes[2]);
    await regen.getByRole('button', { name: 'New backup codes' }).click();
    const fresh = section.getByRole('list', { name: /Backup codes/ }).getByRole('listitem');
    await until('ten new codes', async () => (await fresh.count()) === 10);
    const newCodes = await fresh.allTextContents();
    assert.equal(newCodes.filter((c) => codes.includes(c)).length, 0);
    await section.getByText('10 unused backup codes left.').waitFor({ timeout: 10000 });
    A.codes = newCodes;
    A.secret = secret;
  });

  test('change password: wrong current password at its field, then the other devices are signed out', async () => {
    const B = { email: `ben${tag}@example.test`, username: `ben${tag}`, displayName: 'Ben' };
    const ben = await user();
    await register(ben.page, B);
    // (Before Ann's account is deleted: Ben finds it, so that its absence later means something.)
    assert.equal((await api(await tokenOf(ben.page), 'GET', `/api/users/by-username/${A.username}`)).status, 200);
    const other = await user();
    await signIn(other.page, B.email);
    await signedIn(other.page);
    const page = ben.page;
    await openSettings(page);
    const form = page.getByRole('form', { name: 'Change password' });
    await form.locator('input[name="currentPassword"]').fill('not my password');
    await form.locator('input[name="newPassword"]').fill('short');
    await form.getByRole('button', { name: 'Change password' }).click();
    let np = await fieldState(page, 'newPassword');
    assert.match(np.described, /Too short: at least 10 characters\./);
    assert.equal(np.focused, true);
    await form.locator('input[name="newPassword"]').fill('a better passphrase now');
    await form.getByRole('button', { name: 'Change password' }).click();
    await until('wrong current password', async () => (await fieldState(page, 'currentPassword')).described === 'Wrong password.');
    assert.equal((await fieldState(page, 'currentPassword')).focused, true);
    await form.locator('input[name="currentPassword"]').fill(PASSWORD);
    await form.getByRole('button', { name: 'Change password' }).click();
    await form.getByRole('status').filter({ hasText: 'Password changed.' }).waitFor({ timeout: 10000 });
    await other.page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 20000 });
    assert.equal(await page.getByRole('button', { name: 'Settings' }).count(), 1, 'this device stays signed in');
    await signIn(other.page, B.email);
    await other.page.getByText('Wrong email or password.').waitFor({ timeout: 10000 });
    other.page.sottoToken = null;
    await signIn(other.page, B.email, 'a better passphrase now');
    await signedIn(other.page);
    benToken = await tokenOf(other.page);
    await other.context.close();
    await ben.context.close();
  });

  test('delete account: a plain warning, a typed word, password and code; then nothing is left', async () => {
    const page = ann.page;
    const token = await tokenOf(page);
    const me = (await api(token, 'GET', '/api/users/me')).body;
    const section = page.getByRole('form', { name: 'Delete account' });
    await page.getByText('This cannot be undone.').waitFor();
    const go = section.getByRole('button', { name: 'Delete my account for good' });
    assert.equal(await go.isDisabled(), true, 'not before the word is typed');
    await section.getByLabel('Type “delete” to confirm').fill('delete');
    assert.equal(await go.isDisabled(), false);
    await section.getByLabel('Current password').fill('not the password');
    await section.getByLabel('Authentication code').fill(A.codes[0]);
    await go.click();
    await until('wrong password', async () => (await section.locator('input[name="password"]').getAttribute('aria-invalid')) === 'true');
    assert.equal((await api(token, 'GET', '/api/users/me')).status, 200, 'still there');
    await section.getByLabel('Current password').fill(PASSWORD);
    await section.getByLabel('Authentication code').fill(A.codes[1]);
    await go.click();
    await page.getByText('Your account was deleted').waitFor({ timeout: 20000 }).catch(async (e) => {
      e.message += ` | the page says: ${(await page.locator('body').innerText()).slice(0, 3000)}`;
      throw e;
    });
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await until('local data erased', async () => {
      const d = await localData(page);
      return d === null || (d.kv === 0 && d.messages === 0);
    });
    // Gone for others too: Ben no longer finds the account.
    assert.equal((await api(benToken, 'GET', `/api/users/by-username/${A.username}`)).status, 404);
    assert.equal((await api(benToken, 'GET', `/api/users/${me.id}`)).status, 404);
    await ann.context.close();
  });

  test('a forgotten passphrase: erase this device, warned, and sign in again as a new device', async () => {
    const L = { email: `lu${tag}@example.test`, username: `lu${tag}`, displayName: 'Lu' };
    const lu = await user();
    const page = lu.page;
    await register(page, L);
    const token = await tokenOf(page);
    const firstDevice = (await api(token, 'GET', '/api/users/me/devices')).body[0].id;
    await openSettings(page);
    await page.getByLabel('Passphrase', { exact: true }).fill('a long passphrase');
    await page.getByLabel('Passphrase again').fill('a long passphrase');
    await page.getByRole('button', { name: 'Turn on lock' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor({ timeout: 20000 });
    await page.reload();
    await page.getByRole('heading', { name: 'Sotto is locked' }).waitFor({ timeout: 15000 });

    await page.getByRole('button', { name: 'Forgot the passphrase?' }).click();
    await page.getByText('the history on this device is lost for good').waitFor();
    const erase = page.getByRole('button', { name: 'Erase this device and sign in again' });
    assert.equal(await erase.isDisabled(), true, 'not before the loss is acknowledged');
    // Back leaves everything as it was.
    await page.getByRole('button', { name: 'Back' }).click();
    await page.getByLabel('Passphrase').waitFor();
    assert.ok((await localData(page)).kv > 0);
    await page.getByRole('button', { name: 'Forgot the passphrase?' }).click();
    await page.getByLabel('I understand that the message history on this device will be lost').check();
    await erase.click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 15000 });
    await until('the local data erased', async () => {
      const d = await localData(page);
      return d === null || (d.kv === 0 && d.messages === 0);
    });

    await signIn(page, L.email);
    await signedIn(page);
    const t2 = await until('the new device’s token', async () => page.sottoToken !== token && page.sottoToken);
    const devices = (await api(t2, 'GET', '/api/users/me/devices')).body;
    const current = devices.find((x) => x.current);
    assert.ok(current && current.id !== firstDevice, 'signed in as a new device');
    // Online with its session still good, the erased device was revoked on the way out: it is
    // not left on the account for someone to remove from elsewhere.
    assert.ok(!devices.some((x) => x.id === firstDevice && x.active), JSON.stringify(devices));
    assert.equal((await api(token, 'GET', '/api/users/me')).status, 403, 'its token is refused (revoked device)');
    await page.reload();
    await signedIn(page);
    assert.equal(await page.getByRole('heading', { name: 'Sotto is locked' }).count(), 0);
    await lu.context.close();
  });

  test('no CSP or Trusted Types violation anywhere in this run', () => {
    assert.deepEqual(runViolations, []);
  });
});
