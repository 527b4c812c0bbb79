// @stores sqlite,pg
// Attachments over tus 1.0.0 (api.md "Attachments", issue 19): creation, an upload in several
// PATCHes, resuming after HEAD, a wrong offset, sizes past the limits, termination, downloads
// whole and by range, and 404 to anyone but the uploader. The server sees opaque bytes only.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { registerUser, sql, startAuthServer } from './lib/api.mjs';

const MAX = 1024 * 1024; // ATTACHMENT_MAX_BYTES for this server
const QUOTA = 3 * MAX;
let srv;
before(async () => {
  srv = await startAuthServer({ ATTACHMENT_MAX_BYTES: String(MAX), ATTACHMENT_QUOTA_BYTES: String(QUOTA) });
});
after(async () => { await srv.stop(); });

const TUS = { 'tus-resumable': '1.0.0' };

async function create(u, length, extra = {}) {
  return srv.api('POST', '/api/attachments', { token: u.token, headers: { ...TUS, 'upload-length': String(length), ...extra } });
}

async function patch(u, loc, offset, bytes, type = 'application/offset+octet-stream') {
  return srv.api('PATCH', loc, {
    token: u.token, raw: bytes, headers: { ...TUS, 'content-type': type, 'upload-offset': String(offset) },
  });
}

// HEAD has no body, also when it is an error (the API client would parse one).
async function head(u, loc) {
  const res = await fetch(srv.url(loc), { method: 'HEAD', headers: { ...TUS, authorization: `Bearer ${u.token}` } });
  return { status: res.status, headers: res.headers };
}

async function download(u, loc, range) {
  const headers = range ? { range } : {};
  if (u) headers.authorization = `Bearer ${u.token}`;
  const res = await fetch(srv.url(loc), { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

// A whole upload: create, then PATCH in pieces of `piece` bytes.
async function upload(u, bytes, piece = bytes.length) {
  const c = await create(u, bytes.length);
  assert.equal(c.status, 201, c.text);
  const loc = c.headers.get('location');
  for (let off = 0; off < bytes.length; off += piece) {
    const r = await patch(u, loc, off, bytes.subarray(off, off + piece));
    assert.equal(r.status, 204, r.text);
  }
  return loc;
}

describe('attachments (tus)', () => {
  test('OPTIONS names the protocol, its extensions and the largest upload', async () => {
    const u = await registerUser(srv);
    const r = await srv.api('OPTIONS', '/api/attachments', { token: u.token });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('tus-resumable'), '1.0.0');
    assert.equal(r.headers.get('tus-version'), '1.0.0');
    assert.equal(r.headers.get('tus-extension'), 'creation,termination,expiration');
    assert.equal(r.headers.get('tus-max-size'), String(MAX));
    assert.equal((await srv.api('OPTIONS', '/api/attachments', {})).status, 401);
  });

  test('an upload in several PATCHes, then downloaded whole and by range', async () => {
    const u = await registerUser(srv);
    const bytes = crypto.randomBytes(700 * 1024 + 13);
    const c = await create(u, bytes.length, { 'upload-metadata': 'filename ZmlsZS5iaW4=' });
    assert.equal(c.status, 201, c.text);
    const loc = c.headers.get('location');
    assert.match(loc, /^\/api\/attachments\/[0-9a-f-]{36}$/);
    assert.ok(Date.parse(c.headers.get('upload-expires')) > Date.now() + 23 * 3600 * 1000);
    let h = await head(u, loc);
    assert.equal(h.status, 200);
    assert.equal(h.headers.get('upload-offset'), '0');
    assert.equal(h.headers.get('upload-length'), String(bytes.length));
    assert.equal(h.headers.get('cache-control'), 'no-store');
    // Not downloadable before it is complete.
    assert.equal((await download(u, loc)).status, 404);

    const cuts = [0, 100000, 400000, bytes.length];
    for (let i = 0; i + 1 < cuts.length; i += 1) {
      const r = await patch(u, loc, cuts[i], bytes.subarray(cuts[i], cuts[i + 1]));
      assert.equal(r.status, 204, r.text);
      assert.equal(r.headers.get('upload-offset'), String(cuts[i + 1]));
      assert.equal(r.headers.get('tus-resumable'), '1.0.0');
    }
    h = await head(u, loc);
    assert.equal(h.headers.get('upload-offset'), String(bytes.length));

    const whole = await download(u, loc);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'application/octet-stream');
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.ok(whole.headers.get('etag'));
    assert.ok(whole.bytes.equals(bytes));

    const mid = await download(u, loc, 'bytes=1000-299999');
    assert.equal(mid.status, 206);
    assert.equal(mid.headers.get('content-range'), `bytes 1000-299999/${bytes.length}`);
    assert.ok(mid.bytes.equals(bytes.subarray(1000, 300000)));
    const tail = await download(u, loc, 'bytes=-10');
    assert.equal(tail.status, 206);
    assert.ok(tail.bytes.equals(bytes.subarray(bytes.length - 10)));
    const open = await download(u, loc, `bytes=${bytes.length - 5}-`);
    assert.ok(open.bytes.equals(bytes.subarray(bytes.length - 5)));
    const past = await download(u, loc, `bytes=${bytes.length}-`);
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), `bytes */${bytes.length}`);

    // What the server keeps is the bytes it was given, under the upload's id.
    const id = loc.split('/').pop();
    const stored = path.join(srv.dataDir, 'blobs', 'done', id);
    assert.ok(existsSync(stored));
    assert.deepEqual(readdirSync(path.join(srv.dataDir, 'blobs', 'partial')).filter((n) => n === id), []);
  });

  test('a wrong offset is 409, a resumed upload continues from HEAD', async () => {
    const u = await registerUser(srv);
    const bytes = crypto.randomBytes(300000);
    const c = await create(u, bytes.length);
    const loc = c.headers.get('location');
    assert.equal((await patch(u, loc, 0, bytes.subarray(0, 50000))).status, 204);
    const wrong = await patch(u, loc, 10, bytes.subarray(10, 20));
    assert.equal(wrong.status, 409);
    assert.equal(wrong.body.error.code, 'conflict');
    const ahead = await patch(u, loc, 60000, bytes.subarray(60000, 70000));
    assert.equal(ahead.status, 409);
    const h = await head(u, loc);
    const off = Number(h.headers.get('upload-offset'));
    assert.equal(off, 50000);
    assert.equal((await patch(u, loc, off, bytes.subarray(off))).status, 204);
    assert.ok((await download(u, loc)).bytes.equals(bytes));
  });

  test('bytes a broken connection delivered are kept, and the upload resumes', async () => {
    const u = await registerUser(srv);
    const bytes = crypto.randomBytes(600000);
    const c = await create(u, bytes.length);
    const loc = c.headers.get('location');
    const sent = 400000;
    await new Promise((resolve, reject) => {
      const s = net.connect(srv.port, '127.0.0.1', () => {
        s.write(`PATCH ${loc} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${u.token}\r\n`
          + 'Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n'
          + `Upload-Offset: 0\r\nContent-Length: ${bytes.length}\r\n\r\n`);
        s.write(bytes.subarray(0, sent), () => setTimeout(() => { s.destroy(); resolve(); }, 300));
      });
      s.on('error', reject);
    });
    let off = 0;
    for (let i = 0; i < 50 && off !== sent; i += 1) {
      off = Number((await head(u, loc)).headers.get('upload-offset'));
      if (off !== sent) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(off, sent);
    assert.equal((await patch(u, loc, off, bytes.subarray(off))).status, 204);
    assert.ok((await download(u, loc)).bytes.equals(bytes));
  });

  test('one user has at most four PATCHes at once; slow ones hold no more than that', async () => {
    const u = await registerUser(srv);
    const locs = [];
    for (let i = 0; i < 5; i += 1) locs.push((await create(u, 200000)).headers.get('location'));
    // Four slow uploads: headers and a first piece, then nothing.
    const socks = await Promise.all(locs.slice(0, 4).map((loc) => new Promise((resolve, reject) => {
      const s = net.connect(srv.port, '127.0.0.1', () => {
        s.write(`PATCH ${loc} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${u.token}\r\n`
          + 'Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n'
          + 'Upload-Offset: 0\r\nContent-Length: 200000\r\n\r\n');
        s.write(crypto.randomBytes(1000), () => resolve(s));
      });
      s.on('error', reject);
    })));
    // Probed at a wrong offset, which changes nothing (409) until the limit answers first.
    let fifth;
    for (let i = 0; i < 50; i += 1) {
      fifth = await patch(u, locs[4], 5, crypto.randomBytes(10));
      if (fifth.status === 429) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(fifth.status, 429);
    assert.equal(fifth.body.error.code, 'rate_limited');
    for (const s of socks) s.destroy();
    // Once they are gone (their bytes kept), the fifth goes through.
    let ok;
    for (let i = 0; i < 50; i += 1) {
      ok = await patch(u, locs[4], 0, crypto.randomBytes(10));
      if (ok.status === 204) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(ok.status, 204);
    assert.equal((await head(u, locs[0])).headers.get('upload-offset'), '1000');
  });

  test('sizes: over ATTACHMENT_MAX_BYTES, past Upload-Length, over the quota', async () => {
    const u = await registerUser(srv);
    const big = await create(u, MAX + 1);
    assert.equal(big.status, 413);
    assert.equal(big.body.error.code, 'payload_too_large');
    const c = await create(u, 1000);
    const loc = c.headers.get('location');
    const past = await patch(u, loc, 0, crypto.randomBytes(1001));
    assert.equal(past.status, 413);
    assert.equal(past.body.error.code, 'payload_too_large');
    assert.equal((await head(u, loc)).headers.get('upload-offset'), '0');
    // Quota: the declared lengths count, complete or not.
    assert.equal((await create(u, MAX)).status, 201);
    assert.equal((await create(u, MAX)).status, 201);
    const over = await create(u, MAX);
    assert.equal(over.status, 413);
    assert.equal(over.body.error.code, 'quota_exceeded');
    // Deleting one makes room.
    assert.equal((await srv.api('DELETE', loc, { token: u.token, headers: TUS })).status, 204);
    assert.equal((await create(u, MAX - 1000)).status, 201);
    assert.equal((await create(u, 1000)).status, 201);
    assert.equal((await create(u, 1)).status, 413);
  });

  test('bad requests: no Upload-Length, wrong content type, no Upload-Offset', async () => {
    const u = await registerUser(srv);
    const none = await srv.api('POST', '/api/attachments', { token: u.token, headers: TUS });
    assert.equal(none.status, 400);
    assert.equal(none.body.error.code, 'validation_failed');
    assert.equal((await create(u, '12x')).status, 400);
    const loc = (await create(u, 10)).headers.get('location');
    const type = await patch(u, loc, 0, Buffer.alloc(10), 'application/octet-stream');
    assert.equal(type.status, 415);
    assert.equal(type.body.error.code, 'unsupported_media_type');
    const noOffset = await srv.api('PATCH', loc, {
      token: u.token, raw: Buffer.alloc(10), headers: { ...TUS, 'content-type': 'application/offset+octet-stream' },
    });
    assert.equal(noOffset.status, 400);
  });

  test("someone else's upload is 404 for every method; DELETE ends one's own", async () => {
    const owner = await registerUser(srv);
    const other = await registerUser(srv);
    const bytes = crypto.randomBytes(5000);
    const loc = await upload(owner, bytes, 2000);
    assert.equal((await head(other, loc)).status, 404);
    assert.equal((await patch(other, loc, 5000, Buffer.alloc(1))).status, 404);
    assert.equal((await download(other, loc)).status, 404);
    assert.equal((await download(null, loc)).status, 401);
    assert.equal((await srv.api('DELETE', loc, { token: other.token, headers: TUS })).status, 404);
    // Unknown and malformed ids look the same.
    assert.equal((await head(owner, `/api/attachments/${crypto.randomUUID()}`)).status, 404);
    assert.equal((await head(owner, '/api/attachments/not-an-id')).status, 404);
    assert.ok((await download(owner, loc)).bytes.equals(bytes));

    const id = loc.split('/').pop();
    assert.equal((await srv.api('DELETE', loc, { token: owner.token, headers: TUS })).status, 204);
    assert.equal((await head(owner, loc)).status, 404);
    assert.equal((await download(owner, loc)).status, 404);
    assert.equal((await srv.api('DELETE', loc, { token: owner.token, headers: TUS })).status, 404);
    assert.ok(!existsSync(path.join(srv.dataDir, 'blobs', 'done', id)));
    assert.deepEqual(sql(srv, `SELECT COUNT(*) FROM attachments WHERE id = '${id}'`), [['0']]);
  });

  test('an expired upload is gone for its owner too', async () => {
    const u = await registerUser(srv);
    const loc = (await create(u, 100)).headers.get('location');
    const id = loc.split('/').pop();
    sql(srv, `UPDATE attachments SET expires_at = 1 WHERE id = '${id}'`);
    assert.equal((await head(u, loc)).status, 404);
    assert.equal((await patch(u, loc, 0, Buffer.alloc(100))).status, 404);
  });
});

describe('attachments: the start-up reconciliation', () => {
  test('blobs no row names (a crash between deleting the row and the blob) are removed at start', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sotto-att-'));
    const orphan = crypto.randomUUID();
    const half = crypto.randomUUID();
    mkdirSync(path.join(dir, 'blobs', 'done'), { recursive: true });
    mkdirSync(path.join(dir, 'blobs', 'partial'), { recursive: true });
    writeFileSync(path.join(dir, 'blobs', 'done', orphan), 'ciphertext');
    writeFileSync(path.join(dir, 'blobs', 'partial', half), 'cipher');
    const s = await startAuthServer({ DATA_DIR: dir });
    try {
      // A live upload made meanwhile is left alone.
      const u = await registerUser(s);
      const c = await s.api('POST', '/api/attachments', { token: u.token, headers: { ...TUS, 'upload-length': '5' } });
      assert.equal(c.status, 201);
      const live = c.headers.get('location').split('/').pop();
      let left = [];
      for (let i = 0; i < 100; i += 1) {
        left = [...readdirSync(path.join(dir, 'blobs', 'done')), ...readdirSync(path.join(dir, 'blobs', 'partial'))];
        if (!left.includes(orphan) && !left.includes(half)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(left, [live]);
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
