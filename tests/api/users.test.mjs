// @stores sqlite,pg
// /api/users: profile read and update (bounds, https-only avatars), look-ups, search,
// devices, blocks, and their errors.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { registerUser, startAuthServer, uniq, verifyEmail } from './lib/api.mjs';

let srv, a, b;
before(async () => {
  srv = await startAuthServer();
  a = await registerUser(srv);
  b = await registerUser(srv, { displayName: 'Bob Builder' });
});
after(async () => { await srv?.stop(); });

const get = (p, token = a.token) => srv.api('GET', p, { token });

test('PATCH /me: set, clear, bounds, https-only avatar', async () => {
  const patch = (body) => srv.api('PATCH', '/api/users/me', { token: a.token, body });
  let r = await patch({ displayName: 'Ada', bio: 'Hi there', avatarUrl: 'https://img.example.org/a.png' });
  assert.equal(r.status, 200);
  assert.equal(r.body.displayName, 'Ada');
  assert.equal(r.body.bio, 'Hi there');
  assert.equal(r.body.avatarUrl, 'https://img.example.org/a.png');
  assert.equal(r.body.email, a.email);
  r = await patch({ bio: null });
  assert.equal(r.body.bio, null);
  assert.equal(r.body.displayName, 'Ada', 'untouched fields stay');
  for (const [body, field] of [
    [{ avatarUrl: 'http://img.example.org/a.png' }, 'avatarUrl'],
    [{ avatarUrl: 'javascript:alert(1)' }, 'avatarUrl'],
    [{ avatarUrl: 'https://x/a b' }, 'avatarUrl'],
    [{ avatarUrl: `https://x.org/${'a'.repeat(2100)}` }, 'avatarUrl'],
    [{ displayName: 'x'.repeat(101) }, 'displayName'],
    [{ bio: 'x'.repeat(501) }, 'bio'],
    [{ displayName: 5 }, 'displayName'],
    [{ displayName: 'tab\there' }, 'displayName'],
  ]) {
    r = await patch(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.error.details.field, field);
  }
  r = await patch({ displayName: '名前 ✓' });
  assert.equal(r.body.displayName, '名前 ✓');
  assert.equal((await srv.api('PATCH', '/api/users/me', { body: {} })).status, 401);
});

test('look-ups by id and username: public form; 404s', async () => {
  let r = await get(`/api/users/${b.userId}`);
  assert.equal(r.status, 200);
  assert.equal(r.body.username, b.username);
  assert.equal(r.body.displayName, 'Bob Builder');
  assert.equal(r.body.email, undefined);
  r = await get(`/api/users/by-username/${b.username.toUpperCase()}`);
  assert.equal(r.body.id, b.userId);
  assert.equal((await get('/api/users/00000000-0000-4000-8000-000000000000')).status, 404);
  assert.equal((await get('/api/users/not-a-uuid')).status, 404);
  assert.equal((await get('/api/users/by-username/no_such_user_here')).status, 404);
  assert.equal((await get('/api/users/by-username/a%20b')).status, 404);
  assert.equal((await get(`/api/users/${b.userId}`, null)).status, 401);
});

test('search: matches, paging, bounds', async () => {
  const tag = uniq('srch');
  for (let i = 0; i < 3; i++) await verifyEmail(srv, (await registerUser(srv, { name: `${tag}_${i}` })).email);
  await verifyEmail(srv, b.email);
  let r = await get(`/api/users/search?q=${tag}`);
  assert.equal(r.status, 200);
  assert.equal(r.body.total, 3);
  assert.deepEqual(r.body.users.map((u) => u.username), [0, 1, 2].map((i) => `${tag}_${i}`));
  r = await get(`/api/users/search?q=${tag}&limit=1&offset=1`);
  assert.equal(r.body.users.length, 1);
  assert.equal(r.body.users[0].username, `${tag}_1`);
  assert.equal(r.body.total, 3);
  r = await get('/api/users/search?q=Bob%20Build');
  assert.ok(r.body.users.some((u) => u.id === b.userId), 'display names match too');
  r = await get('/api/users/search?q=%25');
  assert.equal(r.body.total, 0, '% is literal');
  for (const q of ['', 'q=', `q=${'x'.repeat(101)}`, 'q=a&limit=0', 'q=a&limit=51', 'q=a&offset=-1', 'q=a&limit=x']) {
    r = await get(`/api/users/search?${q}`);
    assert.equal(r.status, 400, q);
    assert.equal(r.body.error.code, 'validation_failed');
  }
});

test('search: an address not yet verified is listed only for its exact username', async () => {
  const tag = uniq('unv');
  const u = await registerUser(srv, { name: `${tag}_Name`, displayName: `Hidden ${tag}` });
  for (const q of [tag, `Hidden ${tag}`, `${tag}_Nam`]) {
    assert.equal((await get(`/api/users/search?q=${encodeURIComponent(q)}`)).body.total, 0, q);
  }
  let r = await get(`/api/users/search?q=${tag}_name`);
  assert.deepEqual(r.body.users.map((x) => x.id), [u.userId], 'the exact username, in any case, as by-username');
  assert.equal((await get(`/api/users/by-username/${tag}_name`)).status, 200);
  await verifyEmail(srv, u.email);
  r = await get(`/api/users/search?q=Hidden%20${tag}`);
  assert.deepEqual(r.body.users.map((x) => x.id), [u.userId], 'verified: found like anyone');
});

test('devices: listed with current; revoking an unknown one is 404', async () => {
  const r = await get('/api/users/me/devices');
  assert.equal(r.status, 200);
  assert.equal(r.body.length, 1);
  assert.equal(r.body[0].id, a.deviceId);
  assert.equal(r.body[0].current, true);
  assert.equal(r.body[0].active, true);
  assert.equal((await srv.api('DELETE', '/api/users/devices/00000000-0000-4000-8000-000000000000', { token: a.token })).status, 404);
  assert.equal((await srv.api('DELETE', '/api/users/devices/zzz', { token: a.token })).status, 404);
});

test('block, list, unblock; errors', async () => {
  const block = (m, id, token = a.token) => srv.api(m, `/api/users/block/${id}`, { token });
  assert.equal((await block('POST', b.userId)).status, 200);
  assert.equal((await block('POST', b.userId)).status, 200, 'idempotent');
  let r = await get('/api/users/blocked');
  assert.deepEqual(r.body.map((u) => u.id), [b.userId]);
  r = await block('POST', a.userId);
  assert.equal(r.status, 400);
  assert.equal(r.body.error.details.reason, 'self');
  assert.equal((await block('POST', '00000000-0000-4000-8000-000000000000')).status, 404);
  assert.equal((await block('DELETE', '00000000-0000-4000-8000-000000000000')).status, 404);
  assert.equal((await block('POST', 'nope')).status, 404);
  assert.equal((await block('DELETE', b.userId)).status, 200);
  assert.equal((await block('DELETE', b.userId)).status, 200, 'idempotent');
  assert.deepEqual((await get('/api/users/blocked')).body, []);
  assert.deepEqual((await get('/api/users/blocked', b.token)).body, []);
});
