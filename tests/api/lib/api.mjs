// The API tests' client and fixtures for the auth, users and keys routes: sottod on the
// store chosen by SOTTO_TEST_BACKEND (sqlite, or pg: a fresh database per server on the
// cluster at SOTTO_TEST_PG_URL), cheap Argon2 settings, a fetch wrapper that checks every
// response against docs/api/openapi.yaml, account helpers, the mail outbox, and raw SQL
// access for checks on what was stored.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { checkResponse } from './openapi.mjs';
import { makeDevice } from './crypto.mjs';
import { startServer } from './server.mjs';

export const JWT_SECRET = 'test-jwt-secret-0123456789abcdef-0123456789';
export const MFA_KEY = 'ab'.repeat(32);
export const BACKEND = process.env.SOTTO_TEST_BACKEND || 'sqlite';

// Low Argon2 cost for speed; generous limits so only the limit tests hit them.
export const FAST_ENV = {
  ARGON2_MEMORY_COST: '4096', ARGON2_TIME_COST: '1', ARGON2_PARALLELISM: '1',
  RATE_LIMIT_MAX: '100000', RATE_LIMIT_WINDOW: '60', ARGON2_PER_ADDRESS: '1000',
  JWT_SECRET, MFA_ENCRYPTION_KEY: MFA_KEY,
};

function pgUrl() {
  const url = process.env.SOTTO_TEST_PG_URL;
  if (!url) throw new Error('SOTTO_TEST_PG_URL is not set: start PostgreSQL with scripts/pg-test.sh');
  return url;
}

function psql(url, sql) {
  return execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAtX', '-c', sql], { encoding: 'utf8' });
}

// Starts sottod on the chosen backend; stop() also drops the PostgreSQL database.
export async function startAuthServer(extra = {}) {
  const env = { ...FAST_ENV, ...extra };
  let dbUrl = null, dbName = null;
  if (BACKEND === 'pg') {
    const base = pgUrl();
    dbName = `sotto_t_${crypto.randomBytes(6).toString('hex')}`;
    psql(base, `CREATE DATABASE ${dbName}`);
    const u = new URL(base);
    u.pathname = `/${dbName}`;
    dbUrl = u.toString();
    env.DATABASE_URL = dbUrl;
  }
  const srv = await startServer(env);
  const stop = srv.stop.bind(srv);
  srv.backend = BACKEND;
  srv.dbUrl = dbUrl;
  srv.stop = async (signal) => {
    const r = await stop(signal);
    if (dbName) psql(pgUrl(), `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    return r;
  };
  srv.api = apiClient(srv);
  return srv;
}

// Rows of a query as arrays of strings (sqlite3 or psql, '|' separated).
export function sql(srv, query) {
  const out = srv.backend === 'pg'
    ? psql(srv.dbUrl, query)
    : execFileSync('sqlite3', [path.join(srv.dataDir, 'sotto.db'), query], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.length).map((l) => l.split('|'));
}

export function apiClient(srv) {
  return async function call(method, p, { body, token, headers = {}, raw, check = true } = {}) {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    let payload;
    if (raw !== undefined) payload = raw;
    else if (body !== undefined) { payload = JSON.stringify(body); h['content-type'] ??= 'application/json'; }
    const res = await fetch(srv.url(p), { method, headers: h, body: payload });
    const text = await res.text();
    const ct = res.headers.get('content-type') || '';
    let json;
    if (ct.startsWith('application/json')) json = JSON.parse(text);
    const hdrs = Object.fromEntries(res.headers.entries());
    if (check) checkResponse(method, p, res.status, ct, json ?? text, hdrs);
    return { status: res.status, body: json, text, headers: res.headers, cookie: res.headers.get('set-cookie') };
  };
}

let counter = 0;
export function uniq(prefix = 'u') {
  counter += 1;
  return `${prefix}${process.pid}_${counter}_${crypto.randomBytes(2).toString('hex')}`;
}

export const PASSWORD = 'correct horse battery staple';

// Registers a fresh account; returns {email, username, password, device (keys), res, token,
// refresh, userId, deviceId}.
export async function registerUser(srv, { platform = 'cli', password = PASSWORD, name, displayName, extra = {} } = {}) {
  const username = name || uniq('user');
  const email = `${username}@example.org`;
  const device = makeDevice();
  const body = { email, username, password, device: { name: 'laptop', platform }, keys: device.bundle(), ...extra };
  if (displayName) body.displayName = displayName;
  const res = await srv.api('POST', '/api/auth/register', { body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return {
    email, username, password, device, res,
    token: res.body.tokens.accessToken, refresh: res.body.tokens.refreshToken,
    userId: res.body.user.id, deviceId: res.body.device.id,
  };
}

export async function login(srv, u, extra = {}) {
  return srv.api('POST', '/api/auth/login', {
    body: { email: u.email, password: u.password, device: { name: 'phone', platform: 'cli' }, ...extra },
  });
}

// The mails in DATA_DIR/outbox (decoded text bodies, oldest first). sottod writes each mail
// as .tmp-<name>.eml and renames it: those are mails being written, not yet sent.
export function outbox(srv) {
  const dir = path.join(srv.dataDir, 'outbox');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.eml') && !f.startsWith('.')).sort()
    .map((f) => parseMail(readFileSync(path.join(dir, f), 'utf8')));
}

// One part of a mail: its head, and its body decoded (base64 or as is).
function mailPart(text) {
  const [head, ...rest] = text.split('\r\n\r\n');
  let body = rest.join('\r\n\r\n');
  if (/Content-Transfer-Encoding: base64/i.test(head)) body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return { head, body };
}

// RFC 2047 encoded-words (=?UTF-8?B?...?=), folded or not, as sottod writes non-ASCII subjects.
function decodeSubject(s) {
  if (!s || !s.includes('=?')) return s;
  return s.split(/\r\n /).map((w) => {
    const m = w.match(/^=\?UTF-8\?B\?([^?]*)\?=$/i);
    return m ? Buffer.from(m[1], 'base64') : Buffer.from(w);
  }).reduce((a, b) => Buffer.concat([a, b]), Buffer.alloc(0)).toString('utf8');
}

// {head, to, subject, body (the plain text), html (the HTML part, if any)}.
export function parseMail(text) {
  const top = mailPart(text);
  const { head } = top;
  let { body } = top;
  let html;
  const boundary = (head.match(/^Content-Type: multipart\/alternative; boundary="([^"]+)"/mi) || [])[1];
  if (boundary) {
    const parts = body.split(`--${boundary}`).slice(1, -1).map((p) => mailPart(p.replace(/^\r\n/, '')));
    body = parts.find((p) => /Content-Type: text\/plain/i.test(p.head))?.body;
    html = parts.find((p) => /Content-Type: text\/html/i.test(p.head))?.body;
  }
  const to = ((head.match(/^To: (.*)$/mi) || [])[1] || '').replace(/^<|>$/g, '');
  const subject = decodeSubject((head.match(/^Subject: (.*(?:\r\n .*)*)$/mi) || [])[1]);
  return { head, body, html, to, subject };
}

export function mailToken(mail, kind) {
  const m = mail.body.match(new RegExp(`/${kind}\\?token=([A-Za-z0-9_-]{43})`));
  return m && m[1];
}

// Confirms u's address with the link of the verification mail (the newest one to it).
export async function verifyEmail(srv, email) {
  const mail = await waitFor(() => outbox(srv).filter((m) => m.to === email && mailToken(m, 'verify-email')).pop());
  const base = srv.base ?? srv.url('');
  const res = await fetch(`${base}/api/auth/verify-email`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: mailToken(mail, 'verify-email') }),
  });
  assert.equal(res.status, 200, await res.text());
}

export async function waitFor(fn, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}
