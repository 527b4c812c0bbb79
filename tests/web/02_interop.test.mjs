// Interop: a browser user (the web client in Chromium, libsotto as WebAssembly) and a CLI user
// (the real `sotto`, libsotto in C) chat with each other through one real sottod. Messages in
// both directions, delivered and seen marks both ways (also those sent while the tab was
// closed), the CLI's sync/history decrypting what the browser sent, deletes end to end both
// ways (and the server's own message:deleted erasing nothing), undecryptable messages asked
// for and resent both ways, and finally no plaintext
// marker on the server's disk or in the CLI profile.
//   SOTTO_CLI the sotto binary (ctest passes it; default ../../build/bin/sotto)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
  launchBrowser, messageItem, newUser, openChatWith, prerequisites, register, screenshot, send, sql, uniq,
  startServer, watch,
} from './lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SOTTO_CLI = process.env.SOTTO_CLI || path.resolve(here, '../../build/bin/sotto');
const missing = prerequisites();
if (!existsSync(SOTTO_CLI)) missing.push(`the sotto CLI (${SOTTO_CLI}; set SOTTO_CLI, build the cli part)`);

const MARK = uniq('PLAINMARK');
const text = (s) => `${s} ${MARK}`;
const tag = uniq('');
const W = { email: `web${tag}@example.test`, username: `web${tag}`, displayName: 'Webby' };
const C = { email: `cli${tag}@example.test`, username: `cli${tag}`, displayName: 'Clio' };
const PASSWORD = 'correct horse battery';
let server, chrome, web, profileRoot, profile;

// Runs `sotto` on the CLI user's profile: {code, stdout, stderr}; never rejects on exit codes.
function cli(args, { input = '', timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(SOTTO_CLI, ['--server', server.base, '--profile', profile, ...args], {
      env: { ...process.env, SOTTO_PROFILE: '' }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8'); // whole characters, even split across reads
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`sotto ${args.join(' ')} hung\n${stderr}`)); }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (/Sanitizer|runtime error:/.test(stderr)) reject(new Error(`sanitizer report from sotto ${args[0]}:\n${stderr}`));
      else resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}
async function cliOk(args, opts) {
  const r = await cli(args, opts);
  assert.equal(r.code, 0, `sotto ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
  return r;
}
const jsonLines = (s) => s.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

// An interactive `sotto chat USER --json` with a pipe for stdin; waits for output by predicate.
function startChat(peer) {
  const child = spawn(SOTTO_CLI, ['--server', server.base, '--profile', profile, '--json', 'chat', peer], {
    env: { ...process.env, SOTTO_PROFILE: '' }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  const c = { child, stdout: '', stderr: '', waiters: [] };
  const poke = () => { for (const w of [...c.waiters]) w(); };
  child.stdout.setEncoding('utf8'); // whole characters, even split across reads
  child.stdout.on('data', (d) => { c.stdout += d; poke(); });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { c.stderr += d; poke(); });
  c.exited = new Promise((resolve) => child.on('exit', (code) => { c.code = code; poke(); resolve(code); }));
  c.until = (what, pred, timeoutMs = 20000) => new Promise((resolve, reject) => {
    const check = () => {
      const v = pred(c);
      if (v) { done(); resolve(v); } else if (c.code !== undefined) { done(); reject(new Error(`sotto chat exited ${c.code} waiting for ${what}\n${c.stderr}`)); }
    };
    const timer = setTimeout(() => { done(); reject(new Error(`sotto chat: no ${what} within ${timeoutMs} ms\nstdout:\n${c.stdout}\nstderr:\n${c.stderr}`)); }, timeoutMs);
    const done = () => { clearTimeout(timer); c.waiters = c.waiters.filter((w) => w !== check); };
    c.waiters.push(check);
    check();
  });
  c.line = (s) => child.stdin.write(`${s}\n`);
  c.events = () => jsonLines(c.stdout);
  return c;
}

async function until(what, pred, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`no ${what} within ${timeoutMs} ms`);
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

describe('a browser user and a CLI user chat with each other', () => {
  before(async () => {
    // make test builds all of these; a missing one is a broken build, never a reason to skip.
    assert.deepEqual(missing, [], `missing: ${missing.join(', ')}`);
    server = await startServer();
    chrome = await launchBrowser();
    profileRoot = mkdtempSync(path.join(os.tmpdir(), 'sotto-interop-cli-'));
    profile = path.join(profileRoot, 'clio');
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
    if (profileRoot) rmSync(profileRoot, { recursive: true, force: true });
  });

  test('both register; the CLI finds the browser user', async () => {
    web = await newUser(chrome.browser, server);
    await register(web.page, W);
    await cliOk(['register', '--email', C.email, '--username', C.username, '--display-name', C.displayName, '--password-stdin'],
      { input: `${PASSWORD}\n` });
    const who = JSON.parse((await cliOk(['--json', 'whoami'])).stdout);
    assert.equal(who.username ?? who.user?.username, C.username);
    const found = (await cliOk(['--json', 'users', 'search', W.username])).stdout;
    assert.match(found, new RegExp(W.username));
  });

  test('the CLI sends; the browser shows it, decrypted', async () => {
    await cliOk(['send', W.username, text('hello from the terminal')]);
    const row = web.page.getByRole('link', { name: `Open chat with ${C.displayName}` });
    // The row can appear (conversation:new) before the message is decrypted: wait for the
    // preview itself, decrypted locally, rather than reading the row once.
    await row.filter({ hasText: text('hello from the terminal') }).waitFor({ timeout: 20000 });
    assert.match(await row.textContent(), /hello from the terminal/);
    await openChatWith(web.page, C.displayName);
    await messageItem(web.page, text('hello from the terminal')).waitFor({ timeout: 15000 });
  });

  test('the browser replies while the CLI is offline; sync and history show it decrypted', async () => {
    await send(web.page, text('hello from the browser'));
    await waitStatus(web.page, text('hello from the browser'), 'sent');
    const got = jsonLines((await cliOk(['--json', 'sync'])).stdout);
    const mine = got.filter((m) => m.text === text('hello from the browser'));
    assert.equal(mine.length, 1, `sync printed: ${JSON.stringify(got)}`);
    assert.equal(mine[0].from, W.username);
    assert.equal(mine[0].outgoing, false);
    // The browser sees its message delivered once the CLI acknowledged it.
    await waitStatus(web.page, text('hello from the browser'), 'delivered');
    const hist = JSON.parse((await cliOk(['--json', 'history', W.username])).stdout);
    assert.deepEqual(hist.map((m) => m.text), [text('hello from the terminal'), text('hello from the browser')]);
    // Nothing is delivered twice.
    assert.deepEqual(jsonLines((await cliOk(['--json', 'sync'])).stdout), []);
  });

  test('live: sotto chat and the browser, with delivered and seen marks both ways', async () => {
    const chat = startChat(W.username);
    try {
      await chat.until('the connection', (c) => c.stderr.includes('(connected)'));
      // CLI -> browser: the browser has the chat open, so the CLI sees delivered, then seen.
      chat.line(text('live from the terminal'));
      const sid = (await chat.until('the sent id', (c) => c.stdout.match(/\(sent: ([0-9a-f-]{36})\)/)))[1];
      await messageItem(web.page, text('live from the terminal')).waitFor({ timeout: 15000 });
      await chat.until('the seen mark', (c) => c.events().some((e) => e.event === 'read' && e.messageId === sid));
      // Browser -> CLI: printed by the chat as it arrives; the chat's read receipt reaches the browser.
      await send(web.page, text('live from the browser'));
      await chat.until('the browser message', (c) => c.events().some((e) => e.text === text('live from the browser')));
      const m = chat.events().find((e) => e.text === text('live from the browser'));
      assert.equal(m.from, W.username);
      await waitStatus(web.page, text('live from the browser'), 'read');
      await screenshot(web.page, 'interop-browser-with-cli');
      chat.line('/quit');
      assert.equal(await chat.exited, 0, chat.stderr);
      const evs = chat.events();
      // the CLI saw its message delivered (the browser acked it), then seen (the chat was open)
      const kinds = evs.filter((e) => e.messageId === sid).map((e) => e.event);
      assert.deepEqual(kinds, ['delivered', 'read'], `receipt events for ${sid}`);
    } finally {
      if (chat.code === undefined) chat.child.kill('SIGKILL');
    }
    const hist = JSON.parse((await cliOk(['--json', 'history', W.username])).stdout);
    const out = hist.find((m) => m.text === text('live from the terminal'));
    assert.equal(out.status, 'read', 'the CLI stored the seen mark');
    assert.ok(hist.some((m) => m.text === text('live from the browser') && !m.outgoing));
  });

  test('receipts sent while the browser was closed show when it comes back', async () => {
    await send(web.page, text('sent, then the tab closed'));
    await waitStatus(web.page, text('sent, then the tab closed'), 'sent');
    await web.page.close();
    // The CLI's chat fetches it from its queue (acked: delivered) and shows it (read): both
    // receipts go to a browser that is not there.
    const chat = startChat(W.username);
    try {
      await chat.until('the queued message', (c) => c.events().some((e) => e.text === text('sent, then the tab closed')));
      chat.line('/quit');
      assert.equal(await chat.exited, 0, chat.stderr);
    } finally {
      if (chat.code === undefined) chat.child.kill('SIGKILL');
    }
    web.page = watch(await web.context.newPage());
    await web.page.goto('/');
    await openChatWith(web.page, C.displayName);
    await waitStatus(web.page, text('sent, then the tab closed'), 'read');
    await waitStatus(web.page, text('live from the browser'), 'read');
  });

  test('deletes are end to end: a CLI delete removes it in the browser, a browser delete on the CLI', async () => {
    // CLI -> browser: the authenticated delete payload wipes it; no blank bubble in its place.
    await cliOk(['send', W.username, text('the terminal takes this back')]);
    await messageItem(web.page, text('the terminal takes this back')).waitFor({ timeout: 15000 });
    const theirs = JSON.parse((await cliOk(['--json', 'history', W.username])).stdout)
      .find((m) => m.text === text('the terminal takes this back'));
    assert.ok(theirs?.serverId, 'the CLI knows the server id of its message');
    const deletedBefore = await messageItem(web.page, 'This message was deleted.').count();
    await cliOk(['delete', W.username, theirs.serverId]);
    await until('the CLI delete in the browser', async () => (await messageItem(web.page, text('the terminal takes this back')).count()) === 0);
    await until('the deleted mark', async () => (await messageItem(web.page, 'This message was deleted.').count()) === deletedBefore + 1);
    assert.equal(await web.page.locator('[data-security="refused-delete"]').count(), 0);

    // Browser -> CLI: the web client sends the delete payload first, so the CLI wipes it (the
    // server's message:deleted alone would only be noted as server-removed).
    await send(web.page, text('the browser takes this back'));
    await waitStatus(web.page, text('the browser takes this back'), 'sent');
    const synced = jsonLines((await cliOk(['--json', 'sync'])).stdout);
    const ours = synced.find((m) => m.text === text('the browser takes this back'));
    assert.ok(ours, `sync printed: ${JSON.stringify(synced)}`);
    const doomed = messageItem(web.page, text('the browser takes this back'));
    await doomed.hover();
    await doomed.getByRole('button', { name: 'Delete' }).click();
    const dialog = web.page.getByRole('dialog', { name: 'Delete this message for everyone?' });
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await until('the browser delete in the browser', async () => (await messageItem(web.page, text('the browser takes this back')).count()) === 0);
    const after = jsonLines((await cliOk(['--json', 'sync'])).stdout);
    const id = ours.id ?? ours.serverId;
    assert.ok(after.some((e) => e.event === 'deleted' && (e.id === id || e.serverId === id)), `sync printed: ${JSON.stringify(after)}`);
    assert.ok(!after.some((e) => e.event === 'delete-refused'), `sync printed: ${JSON.stringify(after)}`);
    const hist = JSON.parse((await cliOk(['--json', 'history', W.username])).stdout);
    const gone = hist.find((m) => m.serverId === id || m.id === id);
    assert.equal(gone?.deleted, true, `history: ${JSON.stringify(gone)}`);
    assert.ok(!hist.some((m) => m.text === text('the browser takes this back')), 'the CLI wiped the text');
    assert.ok(!hist.some((m) => m.text === ''), 'the delete payload is no history row on the CLI');
  });

  test("the server's own message:deleted erases nothing in the browser", async () => {
    // A server that lies: it marks the CLI's first message deleted and queues message:deleted
    // for the browser's device, with no delete payload from the sender.
    const target = JSON.parse((await cliOk(['--json', 'history', W.username])).stdout)
      .find((m) => m.text === text('hello from the terminal'));
    assert.ok(target?.serverId);
    const [[device]] = sql(server, `SELECT d.id FROM devices d JOIN users u ON u.id = d.user_id WHERE u.username = '${W.username}' AND d.revoked_at IS NULL`);
    const now = Date.now();
    const [[seq]] = sql(server, `UPDATE devices SET next_seq = next_seq + 1 WHERE id = '${device}' RETURNING next_seq - 1`);
    sql(server, `UPDATE messages SET deleted_at = ${now} WHERE id = '${target.serverId}';
      INSERT INTO device_queue (device_id, seq, message_id, event, created_at) VALUES ('${device}', ${seq}, '${target.serverId}', 'deleted', ${now})`);
    // A reconnect fetches the queue: the event is acknowledged (handled), and the text stays.
    await web.page.reload();
    await openChatWith(web.page, C.displayName);
    await until('the server delete acknowledged', async () => Number(sql(server, `SELECT acked_seq FROM devices WHERE id = '${device}'`)[0][0]) >= Number(seq));
    await messageItem(web.page, text('hello from the terminal')).waitFor({ timeout: 15000 });
    await web.page.reload();
    await openChatWith(web.page, C.displayName);
    await messageItem(web.page, text('hello from the terminal')).waitFor({ timeout: 15000 });
    assert.equal(await messageItem(web.page, text('the browser takes this back')).count(), 0);
  });

  // Damages one queued ciphertext for one device, as the server or the network could.
  function flip(messageId, device) {
    const where = `message_id = '${messageId}' AND device_id = '${device}' AND event = 'new'`;
    const [[hex]] = sql(server, `SELECT hex(ciphertext) FROM device_queue WHERE ${where}`);
    const buf = Buffer.from(hex, 'hex');
    buf[buf.length - 30] ^= 0x01;
    sql(server, `UPDATE device_queue SET ciphertext = X'${buf.toString('hex')}' WHERE ${where}`);
  }
  const deviceOf = (username) => sql(server, `SELECT d.id FROM devices d JOIN users u ON u.id = d.user_id WHERE u.username = '${username}' AND d.revoked_at IS NULL`)[0][0];

  test('a message the browser cannot decrypt: kept, asked for, resent by the CLI on a new session, read', async () => {
    await web.page.close();
    const sent = JSON.parse((await cliOk(['--json', 'send', W.username, text('damaged on the way to the browser')])).stdout);
    assert.ok(sent.id);
    flip(sent.id, deviceOf(W.username));
    web.page = watch(await web.context.newPage());
    await web.page.goto('/');
    await openChatWith(web.page, C.displayName);
    // The CLI gets the browser's retry and answers it once.
    let events = [];
    await until('the retry on the CLI', async () => {
      events = events.concat(jsonLines((await cliOk(['--json', 'sync'])).stdout));
      return events.some((e) => e.event === 'resent' && e.id === sent.id);
    }, 20000);
    const resent = events.find((e) => e.event === 'resent');
    assert.equal(resent.deviceId, deviceOf(W.username));
    const item = messageItem(web.page, text('damaged on the way to the browser'));
    await item.waitFor({ timeout: 15000 });
    assert.equal(await item.locator('[data-resent]').count(), 1);
    assert.equal(await messageItem(web.page, 'This message could not be decrypted.').count(), 0);
    // Once only: another sync answers nothing more, and the conversation goes on.
    assert.ok(!jsonLines((await cliOk(['--json', 'sync'])).stdout).some((e) => e.event === 'resent'));
    await cliOk(['send', W.username, text('after the resend')]);
    await messageItem(web.page, text('after the resend')).waitFor({ timeout: 15000 });
  });

  test('a message the CLI cannot decrypt: the browser resends it on a new session when asked', async () => {
    await send(web.page, text('damaged on the way to the terminal'));
    await waitStatus(web.page, text('damaged on the way to the terminal'), 'sent');
    const [[id]] = sql(server, `SELECT id FROM messages WHERE sender_device_id = '${deviceOf(W.username)}' ORDER BY id DESC LIMIT 1`);
    flip(id, deviceOf(C.username));
    const first = await cliOk(['--json', 'sync']);
    assert.match(first.stderr, /could not be decrypted; asked that device to resend it/);
    // The browser may answer within the same sync: then the resend follows in it.
    let got = jsonLines(first.stdout);
    assert.deepEqual([got[0]?.event, got[0]?.id, got[0]?.retryRequested], ['undecryptable', id, true]);
    await until('the resend on the CLI', async () => {
      if (got.some((e) => e.id === id && e.text === text('damaged on the way to the terminal'))) return true;
      got = got.concat(jsonLines((await cliOk(['--json', 'sync'])).stdout));
      return false;
    }, 20000);
    assert.equal(got.find((e) => e.id === id && e.text !== undefined).resent, true, JSON.stringify(got));
    const hist = JSON.parse((await cliOk(['--json', 'history', W.username])).stdout);
    assert.equal(hist.filter((m) => m.serverId === id || m.id === id).length, 1);
    // The browser says so on its message (issue 17, item 6: both users see what happened).
    const note = messageItem(web.page, text('damaged on the way to the terminal')).locator('[data-outcome="resent-for"]');
    await note.waitFor({ timeout: 15000 });
    assert.equal(await note.textContent(), `Resent — ${C.displayName}'s device could not read it`);
    // And back: the CLI's reply still reads in the browser.
    await cliOk(['send', W.username, text('read you again')]);
    await messageItem(web.page, text('read you again')).waitFor({ timeout: 15000 });
  });

  test('no plaintext marker on the server disk or unencrypted in the CLI profile', async () => {
    await web.context.close();
    await server.stop({ keepData: true });
    const forms = [MARK, Buffer.from(MARK).toString('hex'), Buffer.from(MARK).toString('hex').toUpperCase()];
    for (let k = 0; k < 3; k += 1) {
      const enc = Buffer.concat([Buffer.alloc(k, 0x20), Buffer.from(MARK)]).toString('base64');
      forms.push(enc.slice(k === 0 ? 0 : 4, enc.length - 4));
    }
    const walk = (d, out = []) => {
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (statSync(p).isDirectory()) walk(p, out);
        else out.push(p);
      }
      return out;
    };
    const files = [...walk(server.dataDir), ...walk(profile)];
    assert.ok(files.some((f) => f.startsWith(server.dataDir)) && files.some((f) => f.endsWith('sotto.db')));
    const hits = [];
    for (const f of files) {
      const buf = readFileSync(f).toString('latin1');
      for (const n of forms) if (buf.includes(n)) hits.push(`${f}: ${n}`);
    }
    const log = server.log;
    for (const n of forms) if (log.includes(n)) hits.push(`sottod log: ${n}`);
    assert.deepEqual(hits, [], `plaintext found:\n${hits.join('\n')}`);
    rmSync(server.dataDir, { recursive: true, force: true });
  });
});
