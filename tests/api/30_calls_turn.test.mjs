// TURN credentials against a real coturn (Debian's coturn, scripts/deps.sh): turnserver on
// loopback with a free port and use-auth-secret, and coturn's own client turnutils_uclient
// allocating relays with what sottod issued. Fresh credentials relay; the same credentials
// once expired, and a credential whose HMAC is wrong, are refused. And deploy/turnserver.conf
// itself (moved to loopback, without TLS) accepts the credentials but refuses to relay to a
// loopback peer.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startAuthServer } from './lib/api.mjs';
import { userWithDevices } from './lib/rt.mjs';

const SECRET = 'coturn-test-secret-0123456789abcdef';
const TTL = 3;
let srv, dir;
const turns = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// Starts turnserver with the given configuration lines plus a loopback listener on a free
// port; returns {port, log()}.
async function startTurn(name, lines) {
  const port = await freePort();
  const relay = 50000 + Math.floor(Math.random() * 150) * 100;
  const conf = path.join(dir, `${name}.conf`);
  writeFileSync(conf, [
    ...lines, 'listening-ip=127.0.0.1', 'relay-ip=127.0.0.1', `listening-port=${port}`,
    `min-port=${relay}`, `max-port=${relay + 99}`, `static-auth-secret=${SECRET}`, 'no-tls',
    'log-file=stdout', `userdb=${path.join(dir, `${name}.db`)}`, `pidfile=${path.join(dir, `${name}.pid`)}`,
  ].join('\n') + '\n');
  const child = spawn('turnserver', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  turns.push(child);
  for (let i = 0; i < 100; i += 1) {
    if (/Total General servers/.test(log)) return { port, log: () => log };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`turnserver did not start:\n${log}`);
}

// The test server: use-auth-secret, loopback peers allowed (one machine).
const TEST_CONF = ['realm=sotto.test', 'use-auth-secret', 'fingerprint', 'no-dtls', 'allow-loopback-peers',
  'no-cli', 'no-multicast-peers'];

// deploy/turnserver.conf without what a loopback test cannot have (its addresses, ports,
// secret, certificate and syslog); everything it refuses stays.
function deployConf() {
  const drop = /^(listening-port|tls-listening-port|min-port|max-port|static-auth-secret|cert|pkey|syslog)\b/;
  return readFileSync(new URL('../../deploy/turnserver.conf', import.meta.url), 'utf8').split('\n')
    .map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !drop.test(l));
}

// One allocation and a few relayed packets between two clients of coturn's test client.
function uclient(port, username, credential) {
  return new Promise((resolve) => {
    execFile('turnutils_uclient', ['-y', '-n', '2', '-m', '1', '-l', '64', '-p', String(port), '-u', username,
      '-w', credential, '127.0.0.1'], { timeout: 20000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? -1) : 0, out: stdout + stderr });
    });
  });
}

let turn;
before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sotto-turn-'));
  turn = await startTurn('test', TEST_CONF);
  srv = await startAuthServer({ TURN_URLS: `turn:127.0.0.1:${turn.port}?transport=udp`, TURN_SECRET: SECRET, TURN_TTL: String(TTL) });
});
after(async () => {
  for (const t of turns) if (t.exitCode === null) t.kill('SIGTERM');
  await srv?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('coturn relays with the credentials sottod issued, and refuses them expired or forged', async () => {
  const u = await userWithDevices(srv, 1);
  const r = await srv.api('GET', '/api/calls/turn-credentials', { token: u.token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.urls, [`turn:127.0.0.1:${turn.port}?transport=udp`]);
  const { username, credential } = r.body;

  const good = await uclient(turn.port, username, credential);
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /tot_recv_bytes ~ [1-9]/, good.out);
  assert.doesNotMatch(good.out, /Cannot complete Allocation/);

  const forged = Buffer.from(credential, 'base64');
  forged[0] ^= 1;
  const bad = await uclient(turn.port, username, forged.toString('base64'));
  assert.notEqual(bad.code, 0, bad.out);
  assert.match(bad.out, /Cannot complete Allocation/);

  await new Promise((res) => setTimeout(res, (TTL + 1.5) * 1000));
  const expired = await uclient(turn.port, username, credential);
  assert.notEqual(expired.code, 0, expired.out);
  assert.match(expired.out, /Cannot complete Allocation/);
  assert.match(turn.log(), new RegExp(`check_stun_auth: .*${username.split(':')[1]}`));
});

test('the production configuration takes the credentials and relays to no loopback peer', async () => {
  const prod = await startTurn('deploy', deployConf());
  assert.doesNotMatch(prod.log(), /Bad configuration format/, prod.log());
  const u = await userWithDevices(srv, 1);
  const { username, credential } = (await srv.api('GET', '/api/calls/turn-credentials', { token: u.token })).body;
  const r = await uclient(prod.port, username, credential);
  assert.notEqual(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /Cannot complete Allocation/, 'the credential itself is accepted');
  assert.match(r.out, /403 \(Forbidden IP\)/, r.out);
});
