// @stores sqlite,pg
// Attachments sent with messages (api.md "Attachments", issue 19): attachmentIds on REST and
// WebSocket sends (each the caller's own finished upload, at most 10, else 400 and nothing
// stored), downloads for the conversation's participants and 404 for outsiders and across a
// block, deletion with the message and with the account, storage in /me, and the start-up
// reconciliation that keeps what a message references and removes what no row names.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import net from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BACKEND, FAST_ENV, PASSWORD, apiClient, registerUser, sql, startAuthServer } from './lib/api.mjs';
import { startServer } from './lib/server.mjs';
import { conversation, envelopes, uuid, wsConnect } from './lib/rt.mjs';

const QUOTA = 8 * 1024 * 1024;
let srv;
before(async () => {
  srv = await startAuthServer({ ATTACHMENT_QUOTA_BYTES: String(QUOTA), QUEUE_RETENTION_DAYS: '7' });
});
after(async () => { await srv.stop(); });

const TUS = { 'tus-resumable': '1.0.0' };

// A finished upload of u (or only its first half); returns its id.
async function upload(s, u, bytes, { complete = true } = {}) {
  const c = await s.api('POST', '/api/attachments', { token: u.token, headers: { ...TUS, 'upload-length': String(bytes.length) } });
  assert.equal(c.status, 201, c.text);
  const loc = c.headers.get('location');
  const part = complete ? bytes : bytes.subarray(0, bytes.length >> 1);
  const r = await s.api('PATCH', loc, {
    token: u.token, raw: part, headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
  });
  assert.equal(r.status, 204, r.text);
  return loc.split('/').pop();
}

async function download(s, u, id) {
  const res = await fetch(s.url(`/api/attachments/${id}`), { headers: { authorization: `Bearer ${u.token}` } });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

function send(s, from, to, conv, attachmentIds) {
  const body = { clientMessageId: uuid(), envelopes: envelopes([to.deviceId], 'att') };
  if (attachmentIds !== undefined) body.attachmentIds = attachmentIds;
  return s.api('POST', `/api/conversations/${conv}/messages`, { token: from.token, body });
}

async function history(s, u, conv) {
  const r = await s.api('GET', `/api/conversations/${conv}/messages`, { token: u.token });
  assert.equal(r.status, 200);
  return r.body.messages;
}

const blobPath = (s, id) => path.join(s.dataDir, 'blobs', 'done', id);

async function pair(s) {
  const a = await registerUser(s);
  const b = await registerUser(s);
  return { a, b, conv: await conversation(s, a, b) };
}

describe('attachments sent with messages', () => {
  test('a participant downloads what was sent; an outsider gets 404', async () => {
    const { a, b, conv } = await pair(srv);
    const c = await registerUser(srv);
    const bytes = crypto.randomBytes(20000);
    const id = await upload(srv, a, bytes);
    assert.equal((await download(srv, b, id)).status, 404, 'not before it is sent');
    const m = await send(srv, a, b, conv, [id]);
    assert.equal(m.status, 201, m.text);
    const got = await download(srv, b, id);
    assert.equal(got.status, 200);
    assert.ok(got.bytes.equals(bytes));
    assert.ok((await download(srv, a, id)).bytes.equals(bytes));
    assert.equal((await download(srv, c, id)).status, 404);
    // Sent, it lives as long as the queue keeps messages.
    const [[expires]] = sql(srv, `SELECT expires_at FROM attachments WHERE id = '${id}'`);
    const week = 7 * 24 * 3600 * 1000;
    assert.ok(Math.abs(Number(expires) - (Date.now() + week)) < 60000, expires);
    // And it goes with its message, not by itself.
    const del = await srv.api('DELETE', `/api/attachments/${id}`, { token: a.token, headers: TUS });
    assert.equal(del.status, 409);
  });

  test('over the WebSocket too', async () => {
    const { a, b, conv } = await pair(srv);
    const id = await upload(srv, a, crypto.randomBytes(3000));
    const ws = await wsConnect(srv, a.token);
    try {
      const r = await ws.request('message:send', {
        conversationId: conv, clientMessageId: uuid(), envelopes: envelopes([b.deviceId]), attachmentIds: [id],
      });
      assert.equal(r.event, 'ack', JSON.stringify(r));
      assert.equal((await download(srv, b, id)).status, 200);
      const bad = await ws.request('message:send', {
        conversationId: conv, clientMessageId: uuid(), envelopes: envelopes([b.deviceId]), attachmentIds: [id],
      });
      assert.equal(bad.event, 'error');
      assert.equal(bad.data.code, 'validation_failed');
      assert.deepEqual(bad.data.details, { field: 'attachmentIds', reason: 'invalid' });
    } finally {
      await ws.close();
    }
  });

  test('refused: not the caller\'s, unfinished, unknown, sent already, 11 ids, not ids; nothing stored', async () => {
    const { a, b, conv } = await pair(srv);
    const mine = await upload(srv, a, crypto.randomBytes(1000));
    const half = await upload(srv, a, crypto.randomBytes(1000), { complete: false });
    const theirs = await upload(srv, b, crypto.randomBytes(1000));
    const sent = await upload(srv, a, crypto.randomBytes(1000));
    assert.equal((await send(srv, a, b, conv, [sent])).status, 201);
    const before = (await history(srv, a, conv)).length;
    for (const ids of [[mine, theirs], [half], [mine, uuid()], [sent], [mine, mine]]) {
      const r = await send(srv, a, b, conv, ids);
      assert.equal(r.status, 400, `${JSON.stringify(ids)}: ${r.text}`);
      assert.equal(r.body.error.code, 'validation_failed');
      assert.deepEqual(r.body.error.details, { field: 'attachmentIds', reason: 'invalid' });
    }
    const eleven = await send(srv, a, b, conv, Array.from({ length: 11 }, () => mine));
    assert.equal(eleven.status, 400);
    assert.deepEqual(eleven.body.error.details, { field: 'attachmentIds', reason: 'too_many' });
    for (const [ids, reason] of [[['nope'], 'invalid'], [[7], 'wrong_type'], ['x', 'wrong_type'], [null, 'wrong_type']]) {
      const r = await send(srv, a, b, conv, ids);
      assert.equal(r.status, 400, r.text);
      assert.deepEqual(r.body.error.details, { field: 'attachmentIds', reason });
    }
    assert.equal((await history(srv, a, conv)).length, before);
    assert.equal((await download(srv, b, mine)).status, 404);
    assert.deepEqual(sql(srv, `SELECT COUNT(*) FROM attachments WHERE id = '${mine}' AND message_id IS NULL`), [['1']]);
    // Ten of one's own are fine; no attachmentIds, or none, as before.
    const ten = [];
    for (let i = 0; i < 10; i += 1) ten.push(await upload(srv, a, crypto.randomBytes(10)));
    assert.equal((await send(srv, a, b, conv, ten)).status, 201);
    assert.equal((await send(srv, a, b, conv, [])).status, 201);
    assert.equal((await send(srv, a, b, conv)).status, 201);
  });

  test('a block either way hides it from the other participant, not from the uploader', async () => {
    const { a, b, conv } = await pair(srv);
    const id = await upload(srv, a, crypto.randomBytes(500));
    assert.equal((await send(srv, a, b, conv, [id])).status, 201);
    const block = (m, who, whom) => srv.api(m, `/api/users/block/${whom.userId}`, { token: who.token });
    assert.equal((await block('POST', b, a)).status, 200);
    assert.equal((await download(srv, b, id)).status, 404);
    assert.equal((await download(srv, a, id)).status, 200);
    assert.equal((await block('DELETE', b, a)).status, 200);
    assert.equal((await block('POST', a, b)).status, 200);
    assert.equal((await download(srv, b, id)).status, 404);
    assert.equal((await block('DELETE', a, b)).status, 200);
    assert.equal((await download(srv, b, id)).status, 200);
  });

  test('deleting the message deletes its attachments, rows and blobs', async () => {
    const { a, b, conv } = await pair(srv);
    const ids = [await upload(srv, a, crypto.randomBytes(800)), await upload(srv, a, crypto.randomBytes(900))];
    const keep = await upload(srv, a, crypto.randomBytes(100));
    const m = await send(srv, a, b, conv, ids);
    assert.equal(m.status, 201);
    assert.ok(existsSync(blobPath(srv, ids[0])));
    const del = await srv.api('DELETE', `/api/messages/${m.body.id}`, { token: a.token });
    assert.equal(del.status, 200);
    for (const id of ids) {
      assert.equal((await download(srv, b, id)).status, 404);
      assert.equal((await download(srv, a, id)).status, 404);
      assert.ok(!existsSync(blobPath(srv, id)));
      assert.deepEqual(sql(srv, `SELECT COUNT(*) FROM attachments WHERE id = '${id}'`), [['0']]);
    }
    assert.equal((await download(srv, a, keep)).status, 200);
  });

  test('GET /api/users/me says how much of the quota is used', async () => {
    const u = await registerUser(srv);
    let me = await srv.api('GET', '/api/users/me', { token: u.token });
    assert.deepEqual(me.body.storage, { used: 0, quota: QUOTA });
    await upload(srv, u, crypto.randomBytes(1234));
    await upload(srv, u, crypto.randomBytes(1000), { complete: false }); // declared lengths count
    me = await srv.api('GET', '/api/users/me', { token: u.token });
    assert.deepEqual(me.body.storage, { used: 2234, quota: QUOTA });
  });

  test('a PATCH without a token is 401 and changes nothing', async () => {
    const u = await registerUser(srv);
    const c = await srv.api('POST', '/api/attachments', { token: u.token, headers: { ...TUS, 'upload-length': '10' } });
    const loc = c.headers.get('location');
    const r = await srv.api('PATCH', loc, {
      raw: Buffer.alloc(10), headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
    });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'unauthenticated');
    const h = await fetch(srv.url(loc), { method: 'HEAD', headers: { ...TUS, authorization: `Bearer ${u.token}` } });
    assert.equal(h.headers.get('upload-offset'), '0');
  });

  test('a deleted account\'s attachments go, rows and blobs', async () => {
    const { a, b, conv } = await pair(srv);
    const sentId = await upload(srv, a, crypto.randomBytes(300));
    const unsent = await upload(srv, a, crypto.randomBytes(300));
    const theirs = await upload(srv, b, crypto.randomBytes(300));
    assert.equal((await send(srv, a, b, conv, [sentId])).status, 201);
    const del = await srv.api('DELETE', '/api/users/me', { token: a.token, body: { password: PASSWORD } });
    assert.equal(del.status, 200, del.text);
    for (const id of [sentId, unsent]) {
      assert.ok(!existsSync(blobPath(srv, id)), id);
      assert.deepEqual(sql(srv, `SELECT COUNT(*) FROM attachments WHERE id = '${id}'`), [['0']]);
    }
    assert.equal((await download(srv, b, sentId)).status, 404);
    assert.equal((await download(srv, b, theirs)).status, 200);
  });

  test('/metrics counts bytes in and out, uploads in progress, store errors', async () => {
    const metric = async (name) => {
      const text = await (await fetch(srv.url('/metrics'))).text();
      const m = text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
      assert.ok(m, `${name} in ${text.slice(0, 200)}`);
      return Number(m[1]);
    };
    const u = await registerUser(srv);
    const inBefore = await metric('sotto_attachment_bytes_total\\{direction="in"\\}');
    const outBefore = await metric('sotto_attachment_bytes_total\\{direction="out"\\}');
    const id = await upload(srv, u, crypto.randomBytes(4321));
    assert.equal(await metric('sotto_attachment_bytes_total\\{direction="in"\\}'), inBefore + 4321);
    assert.equal((await download(srv, u, id)).status, 200);
    assert.equal(await metric('sotto_attachment_bytes_total\\{direction="out"\\}'), outBefore + 4321);
    assert.equal(await metric('sotto_attachment_uploads_in_progress'), 0);
    // A PATCH whose body has not all come is in progress until its client goes.
    const loc = (await srv.api('POST', '/api/attachments', { token: u.token, headers: { ...TUS, 'upload-length': '5000' } })).headers.get('location');
    const sock = await new Promise((resolve, reject) => {
      const s = net.connect(srv.port, '127.0.0.1', () => {
        s.write(`PATCH ${loc} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${u.token}\r\n`
          + 'Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n'
          + 'Upload-Offset: 0\r\nContent-Length: 5000\r\n\r\n');
        s.write(crypto.randomBytes(100), () => resolve(s));
      });
      s.on('error', reject);
    });
    const gauge = async (want) => {
      let v;
      for (let i = 0; i < 100 && v !== want; i += 1) {
        v = await metric('sotto_attachment_uploads_in_progress');
        if (v !== want) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(v, want);
    };
    await gauge(1);
    sock.destroy();
    await gauge(0);
    // A blob gone from under its row is a store error (and a 404).
    const errors = await metric('sotto_attachment_store_errors_total');
    rmSync(blobPath(srv, id));
    assert.equal((await download(srv, u, id)).status, 404);
    assert.equal(await metric('sotto_attachment_store_errors_total'), errors + 1);
  });
});

describe('attachments: a crash, then the reconciliation at start', () => {
  const state = {};
  const psql = (url, q) => execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAtX', '-c', q], { encoding: 'utf8' });
  before(() => {
    state.dir = mkdtempSync(path.join(os.tmpdir(), 'sotto-attcrash-'));
    if (BACKEND === 'pg') {
      state.db = `sotto_t_${crypto.randomBytes(6).toString('hex')}`;
      psql(process.env.SOTTO_TEST_PG_URL, `CREATE DATABASE ${state.db}`);
      const u = new URL(process.env.SOTTO_TEST_PG_URL);
      u.pathname = `/${state.db}`;
      state.url = u.toString();
    }
  });
  after(() => {
    if (state.db) psql(process.env.SOTTO_TEST_PG_URL, `DROP DATABASE IF EXISTS ${state.db} WITH (FORCE)`);
    rmSync(state.dir, { recursive: true, force: true });
  });
  async function boot() {
    const s = await startServer({ ...FAST_ENV, DATA_DIR: state.dir, ...(state.url ? { DATABASE_URL: state.url } : {}) });
    s.api = apiClient(s);
    s.dataDir = state.dir;
    s.backend = BACKEND;
    s.dbUrl = state.url;
    return s;
  }

  test('a sent attachment survives; a deleted message\'s blob left by a crash is removed', async () => {
    let s = await boot();
    const { a, b, conv } = await pair(s);
    const bytes = crypto.randomBytes(7000);
    const kept = await upload(s, a, bytes);
    const gone = await upload(s, a, crypto.randomBytes(700));
    assert.equal((await send(s, a, b, conv, [kept])).status, 201);
    const m = await send(s, a, b, conv, [gone]);
    assert.equal(m.status, 201);
    // The message's deletion committed its rows, then the server died before the blob went.
    sql(s, `DELETE FROM attachments WHERE message_id = '${m.body.id}'`);
    sql(s, `UPDATE messages SET deleted_at = 1 WHERE id = '${m.body.id}'`);
    await s.stop('SIGKILL');
    assert.ok(existsSync(path.join(state.dir, 'blobs', 'done', gone)));
    writeFileSync(path.join(state.dir, 'blobs', 'done', uuid()), 'stray');

    s = await boot();
    try {
      let left;
      for (let i = 0; i < 100; i += 1) {
        left = execFileSync('ls', [path.join(state.dir, 'blobs', 'done')], { encoding: 'utf8' }).split('\n').filter(Boolean);
        if (left.length === 1) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(left, [kept]);
      const got = await download(s, b, kept);
      assert.equal(got.status, 200);
      assert.ok(got.bytes.equals(bytes));
    } finally {
      await s.stop();
    }
  });
});
