// Attachments on the S3-compatible blob store (issue 19): the same tus upload, resume, download
// with Range, participant access and deletion with the message as on files, but with sottod's
// blobs in a real object store that checks every signature (Debian's Swift with s3api, from
// scripts/swift-test.sh: SOTTO_TEST_S3_*; this test fails without it). Nothing lands under
// DATA_DIR, the store holds the ciphertext under the attachment's id, and a wrong secret stops
// sottod at start with a clear reason instead of failing uploads later.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { registerUser, startAuthServer } from './lib/api.mjs';
import { runSottod } from './lib/server.mjs';
import { conversation, envelopes, uuid } from './lib/rt.mjs';

const need = (k) => {
  const v = process.env[`SOTTO_TEST_S3_${k}`];
  if (!v) throw new Error(`SOTTO_TEST_S3_${k} is not set: start Swift with scripts/swift-test.sh`);
  return v;
};
const S3 = {
  S3_ENDPOINT: need('ENDPOINT'), S3_BUCKET: need('BUCKET'), S3_REGION: need('REGION'),
  S3_ACCESS_KEY_ID: need('ACCESS_KEY_ID'), S3_SECRET_ACCESS_KEY: need('SECRET_ACCESS_KEY'),
};
const TUS = { 'tus-resumable': '1.0.0' };
const MIB = 1024 * 1024;

// The store's own answer for one key (HEAD, signed by curl as scripts/swift-test.sh does):
// the HTTP status, so a test sees the object itself, not what sottod says of it.
const netrcDir = mkdtempSync(path.join(os.tmpdir(), 'sotto-s3-'));
const netrc = path.join(netrcDir, 'netrc');
writeFileSync(netrc, `machine 127.0.0.1 login ${S3.S3_ACCESS_KEY_ID} password ${S3.S3_SECRET_ACCESS_KEY}\n`, { mode: 0o600 });
function objectStatus(key) {
  return Number(execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-I',
    '--aws-sigv4', `aws:amz:${S3.S3_REGION}:s3`, '--netrc-file', netrc,
    '-H', 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    `${S3.S3_ENDPOINT}/${S3.S3_BUCKET}/${key}`], { encoding: 'utf8' }));
}

let srv;
before(async () => { srv = await startAuthServer(S3); });
after(async () => { await srv.stop(); rmSync(netrcDir, { recursive: true, force: true }); });

function patch(u, loc, offset, bytes) {
  return srv.api('PATCH', loc, {
    token: u.token, raw: bytes, headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) },
  });
}

async function download(u, id, headers = {}) {
  const res = await fetch(srv.url(`/api/attachments/${id}`), { headers: { authorization: `Bearer ${u.token}`, ...headers } });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe('attachments on the S3-compatible store', () => {
  test('a 7 MiB upload in two PATCHes, resumed from HEAD, is one object; downloads whole and by range', async () => {
    const a = await registerUser(srv);
    const b = await registerUser(srv);
    const conv = await conversation(srv, a, b);
    const bytes = crypto.randomBytes(7 * MIB); // more than one 5 MiB piece
    const c = await srv.api('POST', '/api/attachments', { token: a.token, headers: { ...TUS, 'upload-length': String(bytes.length) } });
    assert.equal(c.status, 201, c.text);
    const loc = c.headers.get('location');
    const id = loc.split('/').pop();
    assert.equal((await patch(a, loc, 0, bytes.subarray(0, 3 * MIB))).status, 204);
    // A client that lost its place asks where to go on, and a wrong offset is refused.
    const head = await srv.api('HEAD', loc, { token: a.token, headers: TUS });
    assert.equal(head.headers.get('upload-offset'), String(3 * MIB));
    assert.equal((await patch(a, loc, 2 * MIB, bytes.subarray(2 * MIB))).status, 409);
    assert.equal(objectStatus(`done/${id}`), 404, 'no finished object before the last byte');
    assert.equal((await patch(a, loc, 3 * MIB, bytes.subarray(3 * MIB))).status, 204);
    assert.equal(objectStatus(`done/${id}`), 200, 'the finished object is in the store');
    assert.ok(!existsSync(path.join(srv.dataDir, 'blobs')) ||
      readdirSync(path.join(srv.dataDir, 'blobs'), { recursive: true }).every((n) => !String(n).includes(id)),
    'nothing of it under DATA_DIR');

    const whole = await download(a, id);
    assert.equal(whole.status, 200);
    assert.ok(whole.bytes.equals(bytes), 'the bytes come back unchanged');
    const from = 5 * MIB - 100, to = 5 * MIB + 100; // across the first piece's end
    const part = await download(a, id, { range: `bytes=${from}-${to}` });
    assert.equal(part.status, 206);
    assert.ok(part.bytes.equals(bytes.subarray(from, to + 1)));

    // Sent, Bob may read it; deleting the message deletes the object.
    const m = await srv.api('POST', `/api/conversations/${conv}/messages`, {
      token: a.token, body: { clientMessageId: uuid(), envelopes: envelopes([b.deviceId], 'file'), attachmentIds: [id] },
    });
    assert.equal(m.status, 201, m.text);
    assert.ok((await download(b, id)).bytes.equals(bytes));
    const del = await srv.api('DELETE', `/api/messages/${m.body.id}`, { token: a.token });
    assert.equal(del.status, 200, del.text);
    for (let i = 0; i < 100 && objectStatus(`done/${id}`) !== 404; i += 1) await new Promise((r) => setTimeout(r, 50));
    assert.equal(objectStatus(`done/${id}`), 404, 'the object went with its message');
    assert.equal((await download(b, id)).status, 404);
  });

  test('an unfinished upload deleted by its uploader leaves nothing in the store', async () => {
    const a = await registerUser(srv);
    const c = await srv.api('POST', '/api/attachments', { token: a.token, headers: { ...TUS, 'upload-length': String(6 * MIB) } });
    const loc = c.headers.get('location');
    const id = loc.split('/').pop();
    assert.equal((await patch(a, loc, 0, crypto.randomBytes(5 * MIB + 1))).status, 204);
    assert.equal(objectStatus(`partial/${id}/000000`), 200, 'a full piece is stored as it comes');
    assert.equal((await srv.api('DELETE', loc, { token: a.token, headers: TUS })).status, 204);
    assert.equal(objectStatus(`partial/${id}/000000`), 404);
    assert.equal(objectStatus(`done/${id}`), 404);
  });

  // A PATCH begun with part of its body: the server writes what came (holding a piece of the
  // store's) and waits for the rest, which `finish` sends. `answer` is the response's head.
  function openPatch(u, loc, length, first) {
    const sock = net.connect(srv.port, '127.0.0.1');
    let head = '';
    const answer = new Promise((resolve) => {
      sock.on('data', (d) => {
        head += d.toString('latin1');
        if (head.includes('\r\n\r\n')) resolve(head);
      });
      sock.on('close', () => resolve(head));
    });
    sock.on('error', () => {});
    sock.write(`PATCH ${new URL(loc, srv.base).pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${u.token}\r\n` +
      `Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n` +
      `Content-Length: ${length}\r\nConnection: close\r\n\r\n`);
    sock.write(first);
    answer.then(() => sock.destroy());
    return { answer, finish: (rest) => sock.write(rest) };
  }

  test('past the pieces the store may hold at once, a PATCH is 503 with Retry-After and resumes later', async () => {
    const HELD_MAX = 64; // BLOB_S3_HELD_MAX (server/src/blobs/blobs.h)
    const n = HELD_MAX + 2, size = 400 * 1024, first = 300 * 1024; // more than one write buffer
    const PER_USER = 4; // ATT_TRANSFERS_PER_USER (server/src/attachments/internal.h)
    const users = [];
    for (let i = 0; i < Math.ceil(n / PER_USER); i += 1) users.push(await registerUser(srv));
    const uploads = [];
    for (let i = 0; i < n; i += 1) {
      const u = users[i % users.length];
      const c = await srv.api('POST', '/api/attachments', { token: u.token, headers: { ...TUS, 'upload-length': String(size) } });
      assert.equal(c.status, 201, c.text);
      uploads.push({ u, loc: c.headers.get('location'), bytes: crypto.randomBytes(size) });
    }
    // All begin; each holds a piece until its body ends, so exactly two find the store full.
    const open = uploads.map((x) => openPatch(x.u, x.loc, size, x.bytes.subarray(0, first)));
    const settled = [];
    open.forEach((o, i) => o.answer.then((h) => { settled[i] = h; }));
    const early = () => settled.flatMap((h, i) => (h === undefined ? [] : [i]));
    for (let t = 0; t < 400 && early().length < 2; t += 1) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000)); // and no third
    const busy = early();
    assert.equal(busy.length, 2, `answered early: ${busy.map((i) => settled[i].split('\r\n')[0])}`);
    for (const i of busy) {
      assert.match(settled[i], /^HTTP\/1\.1 503 /);
      assert.match(settled[i], /\r\nretry-after: 1\r\n/i);
      assert.match(settled[i], /"code":\s*"unavailable"/);
    }
    // The others go on to the end; then the refused ones resume from the offset HEAD gives.
    for (const [i, o] of open.entries()) if (!busy.includes(i)) o.finish(uploads[i].bytes.subarray(first));
    const done = await Promise.all(open.filter((_, i) => !busy.includes(i)).map((o) => o.answer));
    assert.ok(done.every((h) => /^HTTP\/1\.1 204 /.test(h)), done.map((h) => h.split('\r\n')[0]).join(', '));
    for (const i of busy) {
      const { u, loc, bytes } = uploads[i];
      const head = await srv.api('HEAD', loc, { token: u.token, headers: TUS });
      assert.equal(head.headers.get('upload-offset'), '0', 'nothing of the refused PATCH was recorded');
      assert.equal((await patch(u, loc, 0, bytes)).status, 204);
      const got = await download(u, loc.split('/').pop());
      assert.ok(got.bytes.equals(bytes));
    }
  });

  test('a wrong secret: sottod refuses to start and says why', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sotto-s3-bad-'));
    try {
      const r = await runSottod({ ...S3, S3_SECRET_ACCESS_KEY: 'not-the-secret', PORT: '0', DATA_DIR: dir }, [], 30000);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /S3/);
      assert.doesNotMatch(r.stdout + r.stderr, /not-the-secret/, 'the secret is never printed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
