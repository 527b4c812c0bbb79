// @stores sqlite,pg
// The signed device list (issue 23): PUT /api/keys/device-list keeps each account's latest list
// as given and GET /api/keys/users/:userId serves it. The lists here are built and signed with
// Node's own Ed25519, independently of libsotto, in the format docs/protocol.md gives.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { login, registerUser, sql, startAuthServer } from './lib/api.mjs';
import { ed25519, makeDevice } from './lib/crypto.mjs';
import { conversation, envelopes, uuid, wsConnect } from './lib/rt.mjs';

let srv;
before(async () => { srv = await startAuthServer(); });
after(async () => { await srv.stop(); });

const uuidBytes = (u) => Buffer.from(u.replace(/-/g, ''), 'hex');
const u64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };

// format 1 || userId || accountKey || version || issuedAt || n || entries sorted by id || sig
function signedList(account, userId, version, devices) {
  const sorted = [...devices].sort((a, b) => Buffer.compare(uuidBytes(a.id), uuidBytes(b.id)));
  const body = Buffer.concat([Buffer.from([1]), uuidBytes(userId), account.pub, u64(version), u64(Date.now()),
    Buffer.from([sorted.length]), ...sorted.flatMap((d) => [uuidBytes(d.id), d.signingKey])]);
  const sig = account.sign(Buffer.concat([Buffer.from('Sotto-v1-device-list'), body]));
  return Buffer.concat([body, sig]);
}

async function put(u, list) {
  return srv.api('PUT', '/api/keys/device-list', { token: u.token, body: { deviceList: list.toString('base64') } });
}

async function twoDevices() {
  const u = await registerUser(srv);
  const second = makeDevice();
  const r = await login(srv, u, { keys: second.bundle() });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  u.list = [{ id: u.deviceId, signingKey: u.device.signing.pub }, { id: r.body.device.id, signingKey: second.signing.pub }];
  u.second = { id: r.body.device.id, token: r.body.tokens.accessToken };
  return u;
}

test('the latest list is stored and served; its version only moves forward', async () => {
  const u = await twoDevices();
  const other = await registerUser(srv);
  const account = ed25519();
  let r = await srv.api('GET', `/api/keys/users/${u.userId}`, { token: other.token });
  assert.equal(r.status, 200);
  assert.equal(r.body.deviceList, null, 'none before the first list');
  const v1 = signedList(account, u.userId, 1, u.list);
  r = await put(u, v1);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { version: 1 });
  r = await srv.api('GET', `/api/keys/users/${u.userId}`, { token: other.token });
  assert.equal(r.body.deviceList, v1.toString('base64'), 'served as given');
  assert.equal((await put(u, v1)).status, 200, 'the same list again is a retry');
  const v2 = signedList(account, u.userId, 2, u.list.slice(0, 1));
  assert.equal((await srv.api('PUT', '/api/keys/device-list',
    { token: u.second.token, body: { deviceList: v2.toString('base64') } })).status, 200, 'any device of the account');
  // a rollback, and another list under the same version: 409, the served list stays v2
  r = await put(u, v1);
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'conflict');
  assert.equal((await put(u, signedList(account, u.userId, 2, u.list))).status, 409);
  r = await srv.api('GET', `/api/keys/users/${u.userId}`, { token: other.token });
  assert.equal(r.body.deviceList, v2.toString('base64'));
});

test('a list must be the caller\'s, well formed, and name only its active devices under their keys', async () => {
  const u = await twoDevices();
  const other = await registerUser(srv);
  const account = ed25519();
  const refused = async (list, reason) => {
    const r = await put(u, list);
    assert.equal(r.status, 400, reason);
    assert.equal(r.body.error.code, 'validation_failed');
    assert.deepEqual(r.body.error.details, { field: 'deviceList', reason }, reason);
  };
  await refused(signedList(account, other.userId, 1, u.list), 'wrong_user');
  await refused(signedList(account, u.userId, 1, [...u.list, { id: other.deviceId, signingKey: other.device.signing.pub }]),
    'unknown_device');
  await refused(signedList(account, u.userId, 1, [{ id: u.deviceId, signingKey: crypto.randomBytes(32) }]), 'unknown_device');
  await refused(signedList(account, u.userId, 0, u.list), 'invalid');
  const good = signedList(account, u.userId, 1, u.list);
  await refused(good.subarray(0, good.length - 1), 'invalid');
  const unsorted = Buffer.from(good);
  unsorted.copy(unsorted, 66, 66 + 48, 66 + 96); // the second entry over the first: ids not increasing
  await refused(unsorted, 'invalid');
  const format2 = Buffer.from(good);
  format2[0] = 2;
  await refused(format2, 'invalid');
  let r = await srv.api('PUT', '/api/keys/device-list', { token: u.token, body: { deviceList: 'not base64!' } });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.details.field, 'deviceList');
  r = await srv.api('PUT', '/api/keys/device-list', { token: u.token, body: { deviceList: 7 } });
  assert.equal(r.body.error.details.reason, 'wrong_type');
  // a revoked device may not be listed
  assert.equal((await srv.api('DELETE', `/api/users/devices/${u.second.id}`, { token: u.token })).status, 200);
  await refused(signedList(account, u.userId, 1, u.list), 'unknown_device');
  assert.equal((await put(u, signedList(account, u.userId, 1, u.list.slice(0, 1)))).status, 200);
  r = await srv.api('PUT', '/api/keys/device-list', { body: { deviceList: good.toString('base64') } });
  assert.equal(r.status, 401);
});

test('with a signed list a send must cover the listed active devices; unlisted ones are allowed, not required', async () => {
  const a = await twoDevices();
  const b = await twoDevices();
  const [ka, kb] = [ed25519(), ed25519()];
  // Each list names only the first device: the second ones are active but unlisted.
  assert.equal((await put(a, signedList(ka, a.userId, 1, a.list.slice(0, 1)))).status, 200);
  assert.equal((await put(b, signedList(kb, b.userId, 1, b.list.slice(0, 1)))).status, 200);
  const conv = await conversation(srv, a, b);
  const send = (ids) => srv.api('POST', `/api/conversations/${conv}/messages`,
    { token: a.token, body: { clientMessageId: uuid(), envelopes: envelopes(ids) } });
  const queued = (dev) => Number(sql(srv, `SELECT count(*) FROM device_queue WHERE device_id = '${dev}'`)[0][0]);

  let r = await send([b.deviceId]);
  assert.equal(r.status, 201, 'the listed device alone is enough: ' + JSON.stringify(r.body));
  assert.equal(queued(b.second.id), 0, 'nothing queued for an unlisted device sent nothing');
  r = await send([b.deviceId, b.second.id, a.second.id]);
  assert.equal(r.status, 201, 'unlisted devices may still be sent to: ' + JSON.stringify(r.body));
  assert.equal(queued(b.second.id), 1);
  assert.equal(queued(a.second.id), 1);
  r = await send([b.second.id]);
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'device_list_mismatch');
  assert.deepEqual(r.body.error.details, { missing: [b.deviceId], extra: [] });

  // Once the list names the second device it is required again; without any list, all are.
  assert.equal((await put(b, signedList(kb, b.userId, 2, b.list))).status, 200);
  r = await send([b.deviceId]);
  assert.equal(r.status, 409);
  assert.deepEqual(r.body.error.details.missing, [b.second.id]);
  const c = await twoDevices();
  const conv2 = await conversation(srv, c, b);
  r = await srv.api('POST', `/api/conversations/${conv2}/messages`,
    { token: c.token, body: { clientMessageId: uuid(), envelopes: envelopes(b.list.map((d) => d.id)) } });
  assert.equal(r.status, 409, 'c has no list: its second device is required');
  assert.deepEqual(r.body.error.details.missing, [c.second.id]);
});

test('a call offer, like a message, needs only the callee\'s listed devices', async () => {
  const a = await twoDevices();
  const b = await twoDevices();
  assert.equal((await put(b, signedList(ed25519(), b.userId, 1, b.list.slice(0, 1)))).status, 200);
  const conv = await conversation(srv, a, b);
  const post = (u, ids) => srv.api('POST', `/api/conversations/${conv}/messages`,
    { token: u.token, body: { clientMessageId: uuid(), envelopes: envelopes(ids) } });
  // Contacts: a message each way (a has no list, so a's second device is required of b).
  assert.equal((await post(a, [b.deviceId, a.second.id])).status, 201);
  assert.equal((await post(b, [a.deviceId, a.second.id])).status, 201);
  const aws = await wsConnect(srv, a.token);
  const bws = await wsConnect(srv, b.token);
  await Promise.all([aws.event('queue:drained'), bws.event('queue:drained')]);
  const init = await aws.request('call:initiate', { conversationId: conv, callType: 'audio' });
  assert.equal(init.event, 'ack', JSON.stringify(init));
  const callId = init.data.callId;
  let r = await aws.request('call:offer', { callId, envelopes: [] });
  assert.equal(r.data.code, 'device_list_mismatch');
  assert.deepEqual(r.data.details, { missing: [b.deviceId], extra: [] });
  r = await aws.request('call:offer', { callId, envelopes: envelopes([b.deviceId], 'offer') });
  assert.equal(r.event, 'ack', JSON.stringify(r));
  await Promise.all([aws.close(), bws.close()]);
});
