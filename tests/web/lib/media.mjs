// Files for the web tests to send: real images and videos the browser decodes, and large
// random files written and hashed a piece at a time (the test process never holds them whole).
import crypto from 'node:crypto';
import { createReadStream, openSync, writeSync, closeSync } from 'node:fs';
import zlib from 'node:zlib';

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A real PNG (w×h, noisy colours, so its thumbnail has to be shrunk) with `comment` in a text chunk. */
export function png(w, h, comment) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  const noise = crypto.randomBytes(raw.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = (x * 255) / w;
      raw[o + 1] = (y * 255) / h;
      raw[o + 2] = noise[o];
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('tEXt', Buffer.from(`Comment\0${comment}`)),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const PIECE = 1 << 20;

/**
 * Writes `head`, then random bytes up to `size` in all, `mark` at the start of every MiB of
 * them, to `file`; returns the SHA-256 (hex).
 */
export function randomFile(file, size, mark, head = Buffer.alloc(0)) {
  const fd = openSync(file, 'w');
  const h = crypto.createHash('sha256');
  try {
    h.update(head);
    writeSync(fd, head);
    for (let off = head.length; off < size; off += PIECE) {
      const b = crypto.randomBytes(Math.min(PIECE, size - off));
      if (b.length > mark.length) b.write(mark, 0, 'latin1');
      h.update(b);
      writeSync(fd, b);
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** The SHA-256 (hex) of a file, read as a stream. */
export function sha256File(file) {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    createReadStream(file).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

export const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

/**
 * A WebM recorded in the page (canvas.captureStream and MediaRecorder), `ms` long, as bytes.
 * The page must allow blob: media, as the app's does.
 */
export async function recordWebm(page, ms = 1200) {
  const b64 = await page.evaluate(async (ms) => {
    const c = document.createElement('canvas');
    c.width = 320;
    c.height = 240;
    const g = c.getContext('2d');
    let n = 0;
    const draw = () => {
      g.fillStyle = `hsl(${(n * 37) % 360} 70% 50%)`;
      g.fillRect(0, 0, 320, 240);
      g.fillStyle = '#fff';
      g.fillRect((n * 9) % 300, 100, 20, 40);
      n += 1;
    };
    draw();
    const rec = new MediaRecorder(c.captureStream(25), { mimeType: 'video/webm;codecs=vp8' });
    const parts = [];
    rec.ondataavailable = (e) => parts.push(e.data);
    const stopped = new Promise((ok) => (rec.onstop = ok));
    const timer = setInterval(draw, 40);
    rec.start(200);
    await new Promise((ok) => setTimeout(ok, ms));
    rec.stop();
    await stopped;
    clearInterval(timer);
    const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }, ms);
  return Buffer.from(b64, 'base64');
}

/**
 * The WebM and the head of a Matroska Void element (ID 0xEC, an 8-byte size) that grows it to
 * `size` bytes: randomFile fills the element, and the file stays one a player skips through.
 */
export function webmGrown(webm, size) {
  const head = Buffer.alloc(9);
  const len = size - webm.length - head.length;
  if (len < 0) throw new Error('the video is larger than the size asked for');
  head[0] = 0xec;
  head[1] = 0x01; // an 8-byte size: 7 bytes of length follow
  head.writeUIntBE(len, 3, 6);
  return Buffer.concat([webm, head]);
}
