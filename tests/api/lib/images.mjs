// Test pictures for the avatar tests: PNGs built here (zlib), JPEG and WebP from the built
// image_fixture (server/tests/image_fixture.c, beside sottod), and the ways to hide a marker
// in each format (a PNG tEXt chunk and trailing bytes, a JPEG comment and EXIF segment, a
// WebP EXIF chunk) so a test can look for it in what the server serves.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import zlib from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function ihdr(w, h) {
  const b = Buffer.alloc(13);
  b.writeUInt32BE(w, 0);
  b.writeUInt32BE(h, 4);
  b[8] = 8; // bit depth
  b[9] = 2; // RGB
  return chunk('IHDR', b);
}

// An RGB gradient of w x h; with marker, a tEXt Comment before the pixels and the marker
// again after IEND.
export function png(w, h, marker) {
  const raw = Buffer.alloc(h * (w * 3 + 1));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = (x * 255) / w; raw[o + 1] = (y * 255) / h; raw[o + 2] = 90;
    }
  }
  const parts = [PNG_SIG, ihdr(w, h)];
  if (marker) parts.push(chunk('tEXt', Buffer.from(`Comment\0${marker}`, 'latin1')));
  parts.push(chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0)));
  if (marker) parts.push(Buffer.from(marker));
  return Buffer.concat(parts);
}

// A PNG whose header declares w x h, with only a few rows of (zero) pixels behind it: a
// decoder that trusts the header allocates w * h * 4 bytes before it finds out.
export function pngBomb(w, h) {
  return Buffer.concat([PNG_SIG, ihdr(w, h), chunk('IDAT', zlib.deflateSync(Buffer.alloc(4 * (w * 3 + 1)))),
    chunk('IEND', Buffer.alloc(0))]);
}

export function fixture(format, w, h) {
  const bin = path.join(path.dirname(process.env.SOTTOD), 'image_fixture');
  return execFileSync(bin, [format, String(w), String(h)], { maxBuffer: 8 << 20 });
}

// After SOI: a COM segment and an APP1 "Exif" segment, each holding the marker.
export function jpegWithMarker(jpeg, marker) {
  const seg = (code, body) => {
    const h = Buffer.from([0xff, code, 0, 0]);
    h.writeUInt16BE(body.length + 2, 2);
    return Buffer.concat([h, body]);
  };
  return Buffer.concat([jpeg.subarray(0, 2), seg(0xfe, Buffer.from(marker)),
    seg(0xe1, Buffer.concat([Buffer.from('Exif\0\0'), Buffer.from(marker)])), jpeg.subarray(2)]);
}

// An EXIF chunk after the image chunk, the RIFF size grown to hold it.
export function webpWithMarker(webp, marker) {
  let body = Buffer.from(marker);
  if (body.length % 2) body = Buffer.concat([body, Buffer.alloc(1)]);
  const head = Buffer.alloc(8);
  head.write('EXIF', 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  const out = Buffer.concat([webp, head, body]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

// The pixel size a WebP declares (VP8, VP8L or VP8X first chunk), or null.
export function webpSize(b) {
  if (b.length < 30 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WEBP') return null;
  const kind = b.toString('latin1', 12, 16);
  if (kind === 'VP8 ') return { w: b.readUInt16LE(26) & 0x3fff, h: b.readUInt16LE(28) & 0x3fff };
  if (kind === 'VP8L') { const v = b.readUInt32LE(21); return { w: (v & 0x3fff) + 1, h: ((v >>> 14) & 0x3fff) + 1 }; }
  if (kind === 'VP8X') return { w: b.readUIntLE(24, 3) + 1, h: b.readUIntLE(27, 3) + 1 };
  return null;
}
