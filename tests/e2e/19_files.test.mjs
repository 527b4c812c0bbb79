// E2E 18: files between two CLI users (issue 19, the CLI's part): `send-file` pads, encrypts,
// uploads with tus and sends the pointer; `sync` lists the file; `get-file` fetches, checks,
// decrypts and saves exactly the bytes sent. An upload cut off mid-way continues from the
// server's offset when the command runs again; a blob changed on the server's disk is refused
// and nothing is saved; neither the file's name nor its content reaches the server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoPlaintext, cliPath, marker, ok, run, sync, user, world } from './lib/e2e.mjs';

const PATCH_BYTES = 4 << 20; // the CLI's PATCH size (file_upload.c)

// A file whose name and content carry markers; the content is random bytes around them, so
// any copy of it in clear would show.
function makeFile(w, dir, size, tag) {
  const nameMark = marker(w, `${tag}-name`);
  const bodyMark = marker(w, `${tag}-body`);
  const bytes = crypto.randomBytes(size);
  for (const at of [0, Math.floor(size / 2), size - bodyMark.length - 1]) {
    if (at >= 0 && at + bodyMark.length <= size) bytes.write(bodyMark, at, 'latin1');
  }
  const p = path.join(dir, `${nameMark}.bin`);
  writeFileSync(p, bytes);
  return { path: p, name: `${nameMark}.bin`, bytes };
}

// A TCP proxy to sottod that cuts the first PATCH off after `cutAfter` bytes (both sides
// closed, as a network failure would), and notes the Upload-Offset of every PATCH it forwards.
async function cuttingProxy(port, cutAfter) {
  const p = { cuts: 0, offsets: [], sockets: new Set() };
  const server = net.createServer((c) => {
    const up = net.connect(port, '127.0.0.1');
    let patched = 0, dead = false;
    p.sockets.add(c);
    p.sockets.add(up);
    c.on('data', (d) => {
      if (dead) return; // cut: nothing more reaches the server
      const text = d.toString('latin1');
      if (/^PATCH /m.test(text)) {
        for (const m of text.matchAll(/^Upload-Offset: (\d+)\r$/gim)) p.offsets.push(Number(m[1]));
        patched = 1;
      }
      if (patched && p.cuts === 0) {
        patched += d.length;
        if (patched > cutAfter) {
          p.cuts += 1;
          dead = true;
          up.write(d, () => setTimeout(() => { c.destroy(); up.destroy(); }, 200));
          return;
        }
      }
      up.write(d);
    });
    up.on('data', (d) => c.write(d));
    for (const s of [c, up]) {
      s.on('error', () => {});
      s.on('close', () => { c.destroy(); up.destroy(); });
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  p.base = `http://127.0.0.1:${server.address().port}`;
  p.close = () => {
    for (const s of p.sockets) s.destroy();
    return new Promise((r) => server.close(r));
  };
  return p;
}

async function sendFile(w, from, to, file, extra = [], opts = {}) {
  const r = await ok(w, from.devices[0], ['send-file', to.name, file.path, '--json', ...extra], opts);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

// The receiver's sync: the one message carrying files.
async function receive(w, to) {
  const got = (await sync(w, to.devices[0])).filter((m) => m.files);
  assert.equal(got.length, 1, 'one message with files arrived');
  return got[0];
}

describe('files between CLI users', () => {
  let w, a, b, inDir, outDir;
  before(async () => {
    w = await world();
    a = await user(w, 'fa');
    b = await user(w, 'fb');
    inDir = path.join(w.root, 'in');
    outDir = path.join(w.root, 'out'); // not a profile: the saved plaintext belongs here
    mkdirSync(inDir);
    mkdirSync(outDir);
  });
  after(async () => { await w?.close(); });

  test('a few MiB and a small file arrive byte for byte, listed with name and size', async () => {
    for (const [size, tag] of [[3 * 1024 * 1024 + 12345, 'big'], [700, 'small']]) {
      const f = makeFile(w, inDir, size, tag);
      const caption = marker(w, `${tag}-caption`);
      const sent = await sendFile(w, a, b, f, ['--caption', caption]);
      assert.equal(sent.size, size);
      const m = await receive(w, b);
      assert.equal(m.id, sent.id);
      assert.equal(m.text, caption);
      assert.equal(m.files.length, 1);
      assert.equal(m.files[0].name, f.name);
      assert.equal(m.files[0].size, size);
      assert.equal(m.files[0].index, 1);
      // The server holds a padded size: never the file's own.
      const blob = path.join(w.srv.dataDir, 'blobs', 'done', sent.attachmentId);
      assert.ok(statSync(blob).size > size, 'the stored ciphertext is padded past the file');
      const r = await ok(w, b.devices[0], ['get-file', a.name, m.id, '1', '-o', outDir, '--json']);
      const saved = JSON.parse(r.stdout);
      assert.equal(saved.path, path.join(outDir, f.name));
      assert.ok(readFileSync(saved.path).equals(f.bytes), `${tag}: the bytes received are the bytes sent`);
      // The plain listing names the file too.
      const again = await run(w, b.devices[0], ['get-file', a.name, m.id, '-o', outDir]);
      assert.equal(again.code, 1, 'an existing file is not overwritten');
      assert.match(again.stderr, /exists; --force replaces it/);
      await ok(w, b.devices[0], ['get-file', a.name, m.id, '-o', outDir, '--force']);
      assert.ok(readFileSync(saved.path).equals(f.bytes));
    }
  });

  test('the text listing of sync shows the file with its size and how to fetch it', async () => {
    const f = makeFile(w, inDir, 2048, 'listing');
    f.bytes = Buffer.from(`${marker(w, 'text')}\n`.repeat(64).slice(0, 2048));
    writeFileSync(f.path, f.bytes);
    const sent = await sendFile(w, a, b, f);
    const r = await ok(w, b.devices[0], ['sync']);
    // The type is found by content (libmagic): plain text here.
    assert.ok(r.stdout.includes(`file 1: ${f.name} (2.0 KiB, text/plain)`), r.stdout);
    assert.ok(r.stdout.includes(`get-file USER ${sent.id} 1`), r.stdout);
    // history lists it too (and chat's opening lines, the same way), on both sides.
    const hb = JSON.parse((await ok(w, b.devices[0], ['history', a.name, '--json'])).stdout);
    assert.deepEqual(hb.find((m) => m.id === sent.id).files.map((x) => [x.name, x.size, x.type]),
      [[f.name, 2048, 'text/plain']]);
    const ha = await ok(w, a.devices[0], ['history', b.name]);
    assert.ok(ha.stdout.includes(`file 1: ${f.name} (2.0 KiB, text/plain)`), ha.stdout);
    // Deleted for everyone: the file is no longer listed or fetched (its pointer is dropped).
    await ok(w, a.devices[0], ['delete', b.name, sent.id]);
    await ok(w, b.devices[0], ['sync']);
    const gone = JSON.parse((await ok(w, b.devices[0], ['history', a.name, '--json'])).stdout);
    assert.equal(gone.find((m) => m.id === sent.id).files, undefined);
    const g = await run(w, b.devices[0], ['get-file', a.name, sent.id, '-o', path.join(outDir, 'deleted.bin')]);
    assert.equal(g.code, 1);
    assert.equal(existsSync(path.join(outDir, 'deleted.bin')), false);
  });

  test('a progress bar on a terminal, nothing on stderr when piped', async () => {
    const f = makeFile(w, inDir, 1024 * 1024, 'progress');
    const piped = await ok(w, a.devices[0], ['send-file', b.name, f.path]);
    assert.equal(piped.stderr, '', 'quiet when piped');
    assert.match(piped.stdout, /^sent [0-9a-f-]{36}\n$/);
    await receive(w, b);
    // The same on a pseudo-terminal (util-linux script): the bar is drawn and ends at 100%.
    const g = makeFile(w, inDir, 1024 * 1024, 'progress2');
    const cmd = [cliPath(), '--server', w.srv.base, '--profile', a.devices[0], 'send-file', b.name, g.path]
      .map((x) => `'${x.replace(/'/g, "'\\''")}'`).join(' ');
    const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'latin1', timeout: 60000 });
    assert.equal(tty.status, 0, tty.stdout);
    assert.match(tty.stdout, /uploading \[#+\] 100%/);
    assert.match(tty.stdout, /encrypting \[#+\] 100%/);
    await receive(w, b);
  });

  test('an upload cut off after its first PATCH continues from the offset, not from 0', async () => {
    const f = makeFile(w, inDir, 6 * 1024 * 1024, 'resume');
    const cut = await run(w, a.devices[0], ['send-file', b.name, f.path, '--json'],
      { env: { SOTTO_CRASH_AT: 'upload-after-patch' } });
    assert.equal(cut.code, 70, cut.stderr);
    const partial = readdirSync(path.join(w.srv.dataDir, 'blobs', 'partial'));
    assert.equal(partial.length, 1, 'the server holds one upload begun');
    assert.equal(statSync(path.join(w.srv.dataDir, 'blobs', 'partial', partial[0])).size, PATCH_BYTES);
    const sent = await sendFile(w, a, b, f);
    assert.equal(sent.attachmentId, partial[0], 'the same upload, not a new one');
    assert.equal(sent.resumedFrom, PATCH_BYTES, 'continued from the server\'s offset');
    const m = await receive(w, b);
    const r = await ok(w, b.devices[0], ['get-file', a.name, m.id, '-o', path.join(outDir, 'resumed.bin'), '--json']);
    assert.ok(readFileSync(JSON.parse(r.stdout).path).equals(f.bytes));
    // Done uploads leave no spool behind in the sender's profile.
    assert.deepEqual(readdirSync(path.join(a.devices[0], 'uploads')), []);
  });

  test('a connection dropped mid-PATCH is resumed in the same run from the server\'s offset', async () => {
    const f = makeFile(w, inDir, 3 * 1024 * 1024, 'dropped');
    const proxy = await cuttingProxy(w.srv.port, 1024 * 1024);
    try {
      const sent = await sendFile(w, a, b, f, [], { server: proxy.base });
      assert.equal(proxy.cuts, 1, 'the first PATCH was cut off');
      // The PATCHes' offsets: 0 (cut), then where the server stood, never 0 again.
      assert.equal(proxy.offsets[0], 0);
      assert.ok(proxy.offsets.length >= 2, JSON.stringify(proxy.offsets));
      assert.ok(proxy.offsets.slice(1).every((o) => o > 0), JSON.stringify(proxy.offsets));
      const m = await receive(w, b);
      assert.equal(m.id, sent.id);
      await ok(w, b.devices[0], ['get-file', a.name, m.id, '-o', path.join(outDir, 'dropped.bin')]);
      assert.ok(readFileSync(path.join(outDir, 'dropped.bin')).equals(f.bytes));
    } finally {
      await proxy.close();
    }
  });

  test('a send-file stopped after its message was committed does not send the file twice', async () => {
    const f = makeFile(w, inDir, 5000, 'committed');
    const cut = await run(w, a.devices[0], ['send-file', b.name, f.path, '--json'],
      { env: { SOTTO_CRASH_AT: 'send-after-commit' } });
    assert.equal(cut.code, 70, cut.stderr);
    const again = await ok(w, a.devices[0], ['send-file', b.name, f.path, '--json']);
    assert.equal(JSON.parse(again.stdout.trim()).alreadySent, true);
    assert.match(again.stderr, /sent in a message already/);
    const m = await receive(w, b); // exactly one message with files
    assert.equal(m.files[0].name, f.name);
    const r = await ok(w, b.devices[0], ['get-file', a.name, m.id, '-o', path.join(outDir, 'committed.bin')]);
    assert.match(r.stdout, /^saved /);
    assert.ok(readFileSync(path.join(outDir, 'committed.bin')).equals(f.bytes));
  });

  test('a blob changed on the server is refused and nothing is saved', async () => {
    const f = makeFile(w, inDir, 200000, 'tamper');
    const sent = await sendFile(w, a, b, f);
    const m = await receive(w, b);
    const blob = path.join(w.srv.dataDir, 'blobs', 'done', sent.attachmentId);
    const bytes = readFileSync(blob);
    bytes[100000] ^= 0x01;
    writeFileSync(blob, bytes);
    const dest = path.join(outDir, 'tampered.bin');
    const r = await run(w, b.devices[0], ['get-file', a.name, m.id, '-o', dest]);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /could not be downloaded/);
    assert.equal(existsSync(dest), false, 'no file under the final name');
    assert.deepEqual(readdirSync(outDir).filter((n) => n.startsWith('.sotto-part')), [], 'no partial left');
    // Put back, it opens: the refusal was the damage, not the message.
    bytes[100000] ^= 0x01;
    writeFileSync(blob, bytes);
    await ok(w, b.devices[0], ['get-file', a.name, m.id, '-o', dest]);
    assert.ok(readFileSync(dest).equals(f.bytes));
  });

  test('a download broken off continues from what arrived (Range)', async () => {
    const f = makeFile(w, inDir, 1024 * 1024, 'ranged');
    const sent = await sendFile(w, a, b, f);
    const m = await receive(w, b);
    const blob = readFileSync(path.join(w.srv.dataDir, 'blobs', 'done', sent.attachmentId));
    const partial = path.join(b.devices[0], 'downloads', `${m.id}-1.ct`);
    mkdirSync(path.dirname(partial), { recursive: true });
    // What a broken download left: the first 300,000 bytes, but damaged. Resuming asks only
    // for the rest, so the damage stays in and the file is refused...
    const head = Buffer.from(blob.subarray(0, 300000));
    head[1000] ^= 0x40;
    writeFileSync(partial, head);
    const dest = path.join(outDir, 'ranged.bin');
    const bad = await run(w, b.devices[0], ['get-file', a.name, m.id, '-o', dest]);
    assert.equal(bad.code, 7, 'the kept prefix was used, not fetched again');
    assert.equal(existsSync(dest), false);
    // ...and an undamaged prefix completes to the very file.
    writeFileSync(partial, blob.subarray(0, 300000));
    await ok(w, b.devices[0], ['get-file', a.name, m.id, '-o', dest]);
    assert.ok(readFileSync(dest).equals(f.bytes));
    assert.equal(existsSync(partial), false, 'the partial copy is gone once saved');
  });

  test('the size is checked before anything is encrypted or uploaded', async () => {
    const big = path.join(inDir, 'too-big.bin');
    writeFileSync(big, Buffer.alloc(0));
    const fd = await import('node:fs').then((fs) => fs.openSync(big, 'r+'));
    (await import('node:fs')).ftruncateSync(fd, 100 * 1024 * 1024 + 1);
    (await import('node:fs')).closeSync(fd);
    const spool = () => (existsSync(path.join(a.devices[0], 'uploads')) ? readdirSync(path.join(a.devices[0], 'uploads')) : []);
    const before = spool();
    const partialBefore = readdirSync(path.join(w.srv.dataDir, 'blobs', 'partial'));
    const r = await run(w, a.devices[0], ['send-file', b.name, big]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /at most 100 MiB/);
    assert.deepEqual(spool(), before, 'nothing encrypted');
    assert.deepEqual(readdirSync(path.join(w.srv.dataDir, 'blobs', 'partial')), partialBefore, 'nothing uploaded');
  });

  test('no file name or content on the server or unencrypted in the profiles', () => assertNoPlaintext(w));
});
