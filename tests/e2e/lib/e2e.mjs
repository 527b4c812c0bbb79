// End-to-end helpers: a real sottod (SQLite or PostgreSQL, from tests/api/lib), the real
// `sotto` CLI (path from $SOTTO_CLI) run with one profile directory per device, and the
// plaintext-marker scan over everything the server and the clients leave on disk.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startAuthServer, sql, BACKEND } from '../../api/lib/api.mjs';

export { BACKEND, sql };

export function cliPath() {
  const p = process.env.SOTTO_CLI;
  if (!p) throw new Error('set SOTTO_CLI to the sotto binary (ctest does)');
  return p;
}

// A server (with `env` added to its settings) plus a scratch directory for profiles; every
// marker sent is remembered. legacy: every CLI acts as a client from before account keys
// (issue 23), so accounts get no signed device list (the test build's SOTTO_TEST_LEGACY_CLIENT).
export async function world(env = {}, { legacy = false } = {}) {
  const srv = await startAuthServer(env);
  const root = mkdtempSync(path.join(os.tmpdir(), 'sotto-e2e-'));
  const w = {
    srv, root, markers: [], profiles: [], legacy,
    cliEnv: legacy ? { SOTTO_TEST_LEGACY_CLIENT: '1' } : {},
    async close() {
      await srv.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return w;
}

// Runs `sotto` with a profile. Resolves {code, stdout, stderr}; never rejects on exit codes.
// `server` points it elsewhere (a proxy, a closed port) for this run.
export function run(w, profile, args, { input, env = {}, timeoutMs = 60000, server } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cliPath(), ['--server', server ?? w.srv.base, '--profile', profile, ...args], {
      env: { ...process.env, SOTTO_PROFILE: '', ...w.cliEnv, ...env }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8'); // whole characters, even split across reads
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`sotto ${args.join(' ')} hung\n${stderr}`)); }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (/Sanitizer|runtime error:/.test(stderr)) reject(new Error(`sanitizer report from sotto ${args[0]}:\n${stderr}`));
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // a command that never reads stdin may exit first (EPIPE)
    child.stdin.end(input ?? '');
  });
}

// An interactive `sotto chat` with piped stdin, --json unless json is false: what it printed
// (out, err, lines() for the JSON ones), waitFor/waitOut for something to show, type() for
// input, quit() to end it with /quit and check its exit code.
export function chat(w, profile, peer, { json = true, server } = {}) {
  const child = spawn(cliPath(), ['--server', server ?? w.srv.base, '--profile', profile, 'chat', peer.name, ...(json ? ['--json'] : [])],
    { env: { ...process.env, ...w.cliEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
  const c = { child, out: '', err: '' };
  child.stdout.setEncoding('utf8'); // whole characters, even split across reads
  child.stdout.on('data', (d) => { c.out += d; });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { c.err += d; });
  c.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  c.lines = () => c.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  c.waitFor = async (pred, what, ms = 10000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (pred(c)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}\nstdout:\n${c.out}\nstderr:\n${c.err}`);
  };
  c.waitOut = (text, ms) => c.waitFor((x) => x.out.includes(text), JSON.stringify(text), ms);
  c.type = (s) => child.stdin.write(s);
  c.quit = async () => {
    child.stdin.end('/quit\n');
    assert.equal(await c.exited, 0, c.err);
  };
  return c;
}

// A loopback address where nothing listens: a server that cannot be reached.
export async function closedBase() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

// Like run, but the command must succeed.
export async function ok(w, profile, args, opts) {
  const r = await run(w, profile, args, opts);
  assert.equal(r.code, 0, `sotto ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
  return r;
}

const PASSWORD = 'correct horse battery staple';
let n = 0;

// Registers a user with its first device: {name, email, devices: [profileDir]}.
export async function user(w, prefix = 'u') {
  n += 1;
  const name = `${prefix}${process.pid}x${n}${crypto.randomBytes(2).toString('hex')}`;
  const email = `${name}@example.org`;
  const dir = path.join(w.root, `${name}-1`);
  await ok(w, dir, ['register', '--email', email, '--username', name, '--password-stdin'], { input: `${PASSWORD}\n` });
  w.profiles.push(dir);
  return { name, email, devices: [dir] };
}

// Signs the user in on a new device (a new profile directory). Unless the world is legacy or
// approve is false, the first device then approves it into the account's signed device list,
// as its user would (sotto devices approve).
export async function addDevice(w, u, { approve = true } = {}) {
  const dir = path.join(w.root, `${u.name}-${u.devices.length + 1}`);
  const r = await ok(w, dir, ['login', '--email', u.email, '--password-stdin', '--device-name', `dev${u.devices.length + 1}`],
    { input: `${PASSWORD}\n` });
  u.devices.push(dir);
  w.profiles.push(dir);
  if (approve && !w.legacy) {
    const me = JSON.parse((await ok(w, dir, ['whoami', '--json'])).stdout);
    await ok(w, u.devices[0], ['devices', 'approve', me.deviceId, '--yes']);
  }
  return r;
}

export function marker(w, tag = 'm') {
  const m = `PLAINMARK-${tag}-${crypto.randomBytes(8).toString('hex')}`;
  w.markers.push(m);
  return m;
}

export async function send(w, from, to, text, device = 0) {
  return ok(w, from.devices[device], ['send', to.name, text]);
}

// sync --json on a device: the messages it printed, in order.
export async function sync(w, profile, opts) {
  const r = await ok(w, profile, ['sync', '--json'], opts);
  return r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

export async function history(w, profile, peer, extra = []) {
  const r = await ok(w, profile, ['history', peer.name, '--json', ...extra]);
  return JSON.parse(r.stdout);
}

// ---------------------------------------------------------------- the marker invariant

// Every way a marker could sit in bytes: text, base64 at each of the three alignments (the
// characters that depend only on marker bytes), hex in both cases.
export function markerForms(m) {
  const b = Buffer.from(m);
  const forms = [m, b.toString('hex'), b.toString('hex').toUpperCase()];
  for (let k = 0; k < 3; k += 1) {
    const enc = Buffer.concat([Buffer.alloc(k, 0x20), b]).toString('base64');
    forms.push(enc.slice(k === 0 ? 0 : 4, enc.length - 4));
  }
  return forms;
}

function* files(dir) {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    const st = statSync(p);
    if (st.isDirectory()) yield* files(p);
    else if (st.isFile()) yield p;
  }
}

export function findMarkers(where, buf, markers) {
  const hits = [];
  const text = buf.toString('latin1');
  for (const m of markers) {
    for (const f of markerForms(m)) if (text.includes(f)) hits.push(`${where}: ${m} as ${f === m ? 'text' : f}`);
  }
  return hits;
}

function pgDump(url) {
  const bin = existsSync('/usr/lib/postgresql/15/bin/pg_dump') ? '/usr/lib/postgresql/15/bin/pg_dump' : 'pg_dump';
  return execFileSync(bin, ['--no-owner', url], { maxBuffer: 256 << 20 });
}

// The invariant: no marker in the server's data directory (database, -wal, -shm, logs and
// anything else), its log output, a pg_dump of its database, or the clients' profiles.
export function assertNoPlaintext(w) {
  assert.ok(w.markers.length > 0, 'no markers were sent');
  const hits = [];
  let scanned = 0;
  for (const f of files(w.srv.dataDir)) { hits.push(...findMarkers(f, readFileSync(f), w.markers)); scanned += 1; }
  hits.push(...findMarkers('sottod log', Buffer.from(w.srv.log), w.markers));
  if (w.srv.backend === 'pg') {
    const dump = pgDump(w.srv.dbUrl);
    assert.ok(dump.length > 1000 && dump.includes('device_queue'), 'pg_dump produced a dump');
    hits.push(...findMarkers('pg_dump', dump, w.markers));
  } else {
    assert.ok(scanned >= 1, 'the SQLite data directory had files to scan');
  }
  for (const p of w.profiles) for (const f of files(p)) hits.push(...findMarkers(f, readFileSync(f), w.markers));
  assert.deepEqual(hits, [], `plaintext found:\n${hits.join('\n')}`);
}
