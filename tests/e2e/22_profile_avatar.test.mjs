// E2E 22: `sotto profile avatar PATH` and `profile avatar --remove` against a real sottod: a
// PNG and a JPEG are taken (the server's re-encoding is what anyone then fetches, without the
// marker the upload hid in its metadata), a text file named .png is refused by the server
// (exit 7), a missing file or a wrong command line is exit 1, no session is exit 3, and
// removing it makes the picture 404. The hidden marker joins the markers: the server kept none
// of the uploads' own bytes (database, log, pg_dump).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fixture, jpegWithMarker, png } from '../api/lib/images.mjs';
import { assertNoPlaintext, ok, run, user, world } from './lib/e2e.mjs';

const USAGE = 1, AUTH = 3, REFUSED = 7;
const HIDDEN = 'E2E-EXIF-GPS-52.5200N';

let w;
before(async () => { w = await world(); });
after(async () => { await w?.close(); });

const file = (name, bytes) => {
  const p = path.join(w.root, name);
  writeFileSync(p, bytes);
  return p;
};

async function fetchPicture(url) {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
}

test('profile avatar: set (PNG, JPEG), refused, removed; exit codes', async () => {
  const u = await user(w, 'pic');
  const prof = u.devices[0];
  w.markers.push(HIDDEN);

  let r = await ok(w, prof, ['profile', 'avatar', file('me.png', png(80, 60, HIDDEN))]);
  const url = r.stdout.match(/^profile picture set: (\S+)$/m)?.[1];
  assert.ok(url && url.startsWith(`${w.srv.base}/api/users/`), r.stdout);
  let pic = await fetchPicture(url);
  assert.equal(pic.status, 200);
  assert.equal(pic.type, 'image/webp');
  assert.ok(!pic.bytes.includes(HIDDEN), 'the server re-encoded it');

  r = await ok(w, prof, ['profile', 'avatar', '--json', file('me.jpg', jpegWithMarker(fixture('jpeg', 300, 300), HIDDEN))]);
  const body = JSON.parse(r.stdout);
  assert.match(body.avatarUrl, /^\/api\/users\/[0-9a-f-]{36}\/avatar\?v=2$/);
  pic = await fetchPicture(w.srv.base + body.avatarUrl);
  assert.equal(pic.status, 200);
  assert.ok(!pic.bytes.includes(HIDDEN));

  r = await run(w, prof, ['profile', 'avatar', file('notes.png', 'not a picture at all\n')]);
  assert.equal(r.code, REFUSED, r.stderr);
  assert.match(r.stderr, /unsupported_media_type/);
  assert.equal((await run(w, prof, ['profile', 'avatar', path.join(w.root, 'missing.png')])).code, USAGE);
  assert.equal((await run(w, prof, ['profile', 'avatar'])).code, USAGE);
  assert.equal((await run(w, prof, ['profile', 'picture', 'x.png'])).code, USAGE);
  assert.equal((await run(w, path.join(w.root, 'nobody'), ['profile', 'avatar', '--remove'])).code, AUTH);

  r = await ok(w, prof, ['profile', 'avatar', '--remove']);
  assert.match(r.stdout, /^profile picture removed$/m);
  assert.equal((await fetchPicture(url)).status, 404);
  assert.equal((await fetchPicture(w.srv.base + body.avatarUrl)).status, 404);
});

test('no byte of an upload\'s metadata on the server', () => assertNoPlaintext(w));
