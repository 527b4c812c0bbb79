// Issue 17, item 6 between two browsers, against a real sottod in Debian's Chromium: nothing is
// silently lost. A message Bob's browser cannot decrypt (its ciphertext damaged in the server's
// queue, as the server or the network could) shows "Waiting for this message from Alice…"
// while the retry is out, also after a reload, which asks nothing a second time; Alice's browser
// resends it once when it is back online and says so on the message; Bob's shows the text,
// marked resent. A delete for everyone made offline waits in the queue, marked, and goes out
// when the connection is back. Both sides' notes survive a reload.
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
/** How many messages (texts and control payloads alike) a device has posted. */
const postedBy = (deviceId) => Number(sql(server, `SELECT count(*) FROM messages WHERE sender_device_id = '${deviceId}'`)[0][0]);
/** Damages one queued ciphertext for one device. */
function flip(messageId, deviceId) {
  const where = `message_id = '${messageId}' AND device_id = '${deviceId}' AND event = 'new'`;
  const [[hex]] = sql(server, `SELECT hex(ciphertext) FROM device_queue WHERE ${where}`);
  const buf = Buffer.from(hex, 'hex');
  buf[buf.length - 30] ^= 0x01;
  sql(server, `UPDATE device_queue SET ciphertext = X'${buf.toString('hex')}' WHERE ${where}`);
}
async function statusOf(page, body) {
  return messageItem(page, body).locator('[data-status]').getAttribute('data-status', { timeout: 2000 }).catch(() => null);
}
async function offline(u) {
  await u.context.setOffline(true);
  await u.page.getByText('Offline: reconnecting…').waitFor({ timeout: 15000 });
}
async function online(u) {
  await u.context.setOffline(false);
  await u.page.getByText('Offline: reconnecting…').waitFor({ state: 'hidden', timeout: 20000 });
}
async function reopen(u, chatWith) {
  await u.page.reload();
  await openChatWith(u.page, chatWith);
}

describe('issue 17, item 6: a message that cannot be decrypted is asked for, resent and shown', () => {
  before(async () => {
    assert.deepEqual(missing, [], `missing: ${missing.join(', ')}`);
    server = await startServer();
    chrome = await launchBrowser();
    alice = await newUser(chrome.browser, server);
    await register(alice.page, A);
    bob = await newUser(chrome.browser, server);
    await register(bob.page, B);
    await startChatWith(alice.page, B.username);
    await send(alice.page, 'hello bob');
    await openChatWith(bob.page, 'Alice');
    await messageItem(bob.page, 'hello bob').waitFor({ timeout: 15000 });
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
  });

  test("Bob's browser waits for it (across a reload, asking once), Alice's resends it and says so", async () => {
    const bobDevice = deviceOf(B.username), aliceDevice = deviceOf(A.username);
    const asked = postedBy(bobDevice);
    // Bob is away while the message is queued for him, and it is damaged there.
    await bob.page.close();
    await send(alice.page, 'damaged on the way to bob');
    await until('sent', async () => ['sent', 'delivered'].includes(await statusOf(alice.page, 'damaged on the way to bob')));
    const [[id]] = sql(server, `SELECT id FROM messages WHERE sender_device_id = '${aliceDevice}' ORDER BY id DESC LIMIT 1`);
    flip(id, bobDevice);
    // Alice goes offline: the retry waits for her on the server.
    await offline(alice);

    bob.page = watch(await bob.context.newPage());
    await bob.page.goto('/');
    await openChatWith(bob.page, 'Alice');
    const waiting = messageItem(bob.page, 'Waiting for this message from Alice…');
    await waiting.waitFor({ timeout: 15000 });
    await until('the retry on the server', async () => postedBy(bobDevice) === asked + 1);
    await screenshot(bob.page, 'retry-waiting');

    // A reload: still waiting, and nothing is asked a second time.
    await reopen(bob, 'Alice');
    await waiting.waitFor({ timeout: 15000 });
    await bob.page.waitForTimeout(1500);
    assert.equal(postedBy(bobDevice), asked + 1, 'one retry, not two');
    assert.equal(await messageItem(bob.page, 'This message could not be decrypted.').count(), 0);

    // Alice is back: her browser answers the retry with a resend, once.
    await online(alice);
    const resent = messageItem(bob.page, 'damaged on the way to bob');
    await resent.waitFor({ timeout: 20000 });
    assert.equal(await resent.locator('[data-resent]').count(), 1);
    assert.equal(await waiting.count(), 0);
    const note = messageItem(alice.page, 'damaged on the way to bob').locator('[data-outcome="resent-for"]');
    await note.waitFor({ timeout: 15000 });
    assert.equal(await note.textContent(), "Resent — Bob's device could not read it");
    await screenshot(alice.page, 'retry-resent-note');

    // Both survive a reload; nothing was resent twice.
    await reopen(alice, 'Bob');
    await note.waitFor({ timeout: 15000 });
    await reopen(bob, 'Alice');
    await resent.locator('[data-resent]').waitFor({ timeout: 15000 });
    assert.equal(await waiting.count(), 0);
    assert.equal(postedBy(bobDevice), asked + 1);
    // And the conversation goes on both ways.
    await send(bob.page, 'read you now');
    await messageItem(alice.page, 'read you now').waitFor({ timeout: 15000 });
  });

  test('a delete for everyone made offline waits, marked, and goes out when the connection is back', async () => {
    await send(alice.page, 'take this back later');
    await messageItem(bob.page, 'take this back later').waitFor({ timeout: 15000 });
    await offline(alice);
    const doomed = messageItem(alice.page, 'take this back later');
    await doomed.hover();
    await doomed.getByRole('button', { name: 'Delete' }).click();
    await alice.page.getByRole('dialog', { name: 'Delete this message for everyone?' }).getByRole('button', { name: 'Delete' }).click();
    await doomed.locator('[data-outcome="delete-queued"]').waitFor({ timeout: 15000 });
    assert.equal(await messageItem(bob.page, 'take this back later').count(), 1);
    await online(alice);
    await until('the delete on both sides', async () =>
      (await messageItem(bob.page, 'take this back later').count()) === 0 && (await doomed.count()) === 0);
    assert.ok((await messageItem(bob.page, 'This message was deleted.').count()) >= 1);
  });
});
