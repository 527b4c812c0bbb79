// @stores sqlite,pg
// Account events (events.md, Account events): device:added reaches the user's other connected
// devices when a login creates a device, with the address sottod saw (after TRUSTED_PROXIES),
// and never the new device itself; a refused login sends nothing. user:deleted reaches the
// connected devices of everyone who shared a conversation with a deleted account, and no one
// else; afterwards the conversation stays in the contact's list with the contact alone in it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { login, registerUser, startAuthServer } from './lib/api.mjs';
import { makeDevice } from './lib/crypto.mjs';
import { conversation, sendRest, userWithDevices, wsConnect } from './lib/rt.mjs';

let srv;
// The test client is loopback, so with loopback trusted the forwarded address is the client's.
before(async () => { srv = await startAuthServer({ TRUSTED_PROXIES: '127.0.0.1' }); });
after(async () => { await srv?.stop(); });

const WAIT = 15000; // for an event that must come
const QUIET = 400; // for one that must not (looked for only after one that must has come)
const isAccount = (m) => m.event === 'device:added' || m.event === 'user:deleted';

async function live(token) {
  const c = await wsConnect(srv, token);
  await c.event('queue:drained', WAIT);
  return c;
}

const signIn = (u, extra = {}) => login(srv, u, {
  device: { name: 'work laptop', platform: 'web' }, keys: makeDevice().bundle(), ...extra,
});

describe('device:added', () => {
  test('a new sign-in reaches the other devices with what, where and when; not the new one', async () => {
    const u = await userWithDevices(srv, 2);
    const others = [await live(u.devices[0].token), await live(u.devices[1].token)];
    const before = Date.now();
    const r = await srv.api('POST', '/api/auth/login', {
      headers: { 'x-forwarded-for': '203.0.113.7' },
      body: { email: u.email, password: u.password, device: { name: 'work laptop', platform: 'web' }, keys: makeDevice().bundle() },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const dev = r.body.device;
    for (const c of others) {
      const m = await c.event('device:added', WAIT);
      assert.deepEqual(m.data, { deviceId: dev.id, name: 'work laptop', platform: 'web', createdAt: dev.createdAt, address: '203.0.113.7' });
      assert.ok(Date.parse(m.data.createdAt) >= before - 1000, m.data.createdAt);
    }
    const fresh = await live(r.body.tokens.accessToken);
    await fresh.none(isAccount, QUIET);
    // The list an offline device compares on connect has the same device and time.
    const list = await srv.api('GET', '/api/users/me/devices', { token: u.devices[0].token });
    assert.equal(list.status, 200);
    const row = list.body.find((d) => d.id === dev.id);
    assert.equal(row?.createdAt, dev.createdAt, JSON.stringify(list.body));
    for (const c of [...others, fresh]) await c.close();
  });

  test('a refused login sends nothing; the next good one is told once', async () => {
    const u = await registerUser(srv);
    const c = await live(u.token);
    assert.equal((await login(srv, { ...u, password: 'not the password at all' })).status, 401);
    const again = await signIn(u);
    assert.equal(again.status, 200);
    const m = await c.event('device:added', WAIT); // the new device, told once
    assert.equal(m.data.deviceId, again.body.device.id);
    assert.equal(m.data.address, '127.0.0.1', 'no forwarded header: the peer itself');
    await c.none(isAccount, QUIET); // the refused login told nothing
    await c.close();
  });
});

describe('user:deleted', () => {
  test('a contact hears it, a stranger does not; the conversation keeps the contact alone', async () => {
    const gone = await userWithDevices(srv, 1);
    const contact = await userWithDevices(srv, 2);
    const asker = await userWithDevices(srv, 1); // asked, never answered: shares a conversation
    const stranger = await userWithDevices(srv, 1);
    const conv = await conversation(srv, gone, contact);
    assert.equal((await sendRest(srv, gone, contact, conv)).status, 201);
    assert.equal((await sendRest(srv, contact, gone, conv)).status, 201);
    assert.equal((await sendRest(srv, gone, contact, conv, 'last')).status, 201); // newest, unread
    await conversation(srv, asker, gone);
    const heard = [await live(contact.devices[0].token), await live(contact.devices[1].token), await live(asker.token)];
    const deaf = await live(stranger.token);
    const del = await srv.api('DELETE', '/api/users/me', { token: gone.token, body: { password: gone.password } });
    assert.equal(del.status, 200, JSON.stringify(del.body));
    for (const c of heard) {
      const m = await c.event('user:deleted', WAIT);
      assert.deepEqual(m.data, { userId: gone.userId });
    }
    await deaf.none(isAccount, QUIET);
    // What an offline contact finds: the conversation, with only themselves in it.
    const list = await srv.api('GET', '/api/conversations', { token: contact.token });
    assert.equal(list.status, 200);
    const row = list.body.conversations.find((x) => x.id === conv);
    assert.ok(row, JSON.stringify(list.body));
    assert.deepEqual(row.participants.map((p) => p.user.id), [contact.userId]);
    assert.equal(row.lastMessage?.senderId, contact.userId, 'the deleted account\'s messages went with it');
    assert.equal(row.unreadCount, 0);
    const one = await srv.api('GET', `/api/conversations/${conv}`, { token: contact.token });
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.participants.map((p) => p.user.id), [contact.userId]);
    assert.equal((await srv.api('GET', `/api/users/${gone.userId}`, { token: contact.token })).status, 404);
    const again = await srv.api('POST', '/api/conversations', { token: contact.token, body: { participantId: gone.userId } });
    assert.equal(again.status, 404, JSON.stringify(again.body));
    for (const c of [...heard, deaf]) await c.close();
  });
});
