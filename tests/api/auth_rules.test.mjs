// GET /api/auth/rules: the rules the server publishes are the ones it applies. Each rule's
// bounds and characters are tried at their edges against the routes that check them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeDevice } from './lib/crypto.mjs';
import { registerUser, startAuthServer, uniq } from './lib/api.mjs';

let srv, rules, u;
before(async () => {
  srv = await startAuthServer();
  const r = await srv.api('GET', '/api/auth/rules');
  assert.equal(r.status, 200);
  rules = r.body;
  u = await registerUser(srv);
});
after(async () => { await srv?.stop(); });

const chars = (n, c = 'x') => c.repeat(n);

function register(over) {
  const username = uniq('r');
  const body = {
    email: `${username}@example.org`, username, password: 'correct horse battery staple',
    device: { name: 'laptop', platform: 'cli' }, keys: makeDevice().bundle(), ...over,
  };
  return srv.api('POST', '/api/auth/register', { body });
}

async function refused(over, field) {
  const r = await register(over);
  assert.equal(r.status, 400, JSON.stringify(over).slice(0, 200));
  assert.equal(r.body.error.details.field, field);
  return r.body.error.details.reason;
}

test('public, cacheable, and the same for everyone', async () => {
  const r = await srv.api('GET', '/api/auth/rules', { token: u.token });
  assert.deepEqual(r.body, rules);
  assert.match(r.headers.get('cache-control'), /public, max-age=\d+/);
  for (const k of ['password', 'email', 'username', 'displayName', 'bio', 'deviceName']) {
    assert.equal(rules[k].unit, 'characters', k);
    assert.ok(Number.isInteger(rules[k].minLength) && rules[k].maxLength > rules[k].minLength, k);
  }
  assert.deepEqual(rules.password.notEqualTo, ['email', 'username']);
});

test('password: its lengths are the policy, in characters', async () => {
  const { minLength, maxLength } = rules.password;
  assert.equal(await refused({ password: chars(minLength - 1, 'é') }, 'password'), 'too_short');
  assert.equal((await register({ password: chars(minLength, 'é') })).status, 201);
  assert.equal((await register({ password: chars(maxLength, 'p') })).status, 201);
  assert.equal(await refused({ password: chars(maxLength + 1, 'p') }, 'password'), 'too_long');
  const name = uniq('same_as_the_name');
  assert.equal(await refused({ username: name, password: name.toUpperCase() }, 'password'), 'equals_username');
});

test('username: the pattern and lengths are what registration takes', async () => {
  const re = new RegExp(rules.username.pattern, 'u');
  const { minLength, maxLength } = rules.username;
  for (const ok of ['abc_DEF_09', 'x'.repeat(maxLength)]) assert.ok(re.test(ok), ok);
  for (const bad of ['has-dash', 'has space', 'dotted.name', 'ünï']) {
    assert.ok(!re.test(bad), bad);
    assert.equal(await refused({ username: bad }, 'username'), 'invalid_characters', bad);
  }
  assert.equal(await refused({ username: 'a'.repeat(minLength - 1) }, 'username'), 'too_short');
  assert.equal(await refused({ username: 'a'.repeat(maxLength + 1) }, 'username'), 'too_long');
  const name = `${uniq('n').slice(0, maxLength - 2)}_Z`;
  assert.ok(re.test(name));
  assert.equal((await register({ username: name, email: `${name}@example.org` })).status, 201);
});

test('email: the pattern is the address check', async () => {
  const re = new RegExp(rules.email.pattern, 'u');
  for (const bad of ['no-at.example.org', 'two@@example.org', 'a b@example.org', 'a<b@example.org', 'é@example.org']) {
    assert.ok(!re.test(bad), bad);
    assert.equal(await refused({ email: bad }, 'email'), 'invalid', bad);
  }
  const ok = `${uniq('m')}+tag!#$%&'*/=?^_\`{|}~@example.org`;
  assert.ok(re.test(ok));
  assert.equal((await register({ email: ok })).status, 201);
});

test('display name, bio and device name: lengths and refused characters', async () => {
  const refusedRe = new RegExp(rules.displayName.refused, 'u');
  for (const c of ['\u0000', '\t', '\n', '\u007f', '\u0085', '\u202e', '\u2066']) assert.ok(refusedRe.test(c), escape(c));
  for (const c of ['a', 'é', 'ع', '中', '😀', '\u200d']) assert.ok(!refusedRe.test(c), c);
  assert.equal(rules.bio.refused, rules.displayName.refused);
  assert.equal(await refused({ displayName: 'Bob\u202egpj.exe' }, 'displayName'), 'invalid_characters');
  assert.equal(await refused({ displayName: chars(rules.displayName.maxLength + 1, '中') }, 'displayName'), 'too_long');
  assert.equal((await register({ displayName: chars(rules.displayName.maxLength, '中') })).status, 201);
  assert.equal(await refused({ device: { name: chars(rules.deviceName.maxLength + 1), platform: 'cli' } }, 'device.name'), 'too_long');
  assert.equal(await refused({ device: { name: '', platform: 'cli' } }, 'device.name'), 'too_short');
  const patch = (body) => srv.api('PATCH', '/api/users/me', { token: u.token, body });
  assert.equal((await patch({ bio: chars(rules.bio.maxLength, 'ü') })).status, 200);
  const r = await patch({ bio: chars(rules.bio.maxLength + 1) });
  assert.deepEqual(r.body.error.details, { field: 'bio', reason: 'too_long' });
});
