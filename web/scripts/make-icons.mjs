// Writes the PWA's PNG icons (public/icons/icon-{192,512}.png, icon-maskable-512.png) from a
// tiny built-in rasterizer of the same shapes as icon.svg: no image tooling needed. Run once;
// the PNGs are committed.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const BRAND = [0x2f, 0x6f, 0x5e],
  WHITE = [255, 255, 255];

function crc32(buf) {
  let c,
    crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, pixel) {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(((x + 0.5) / size) * 512, ((y + 0.5) / size) * 512);
      raw.set([r, g, b, a], y * (size * 4 + 1) + 1 + x * 4);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
// The shapes in a 512 box: rounded square, speech bubble (ellipse + tail), padlock.
function shape(x, y, { rounded }) {
  const r = 112,
    inSq = rounded
      ? !((x < r || x > 512 - r) && (y < r || y > 512 - r)) ||
        Math.hypot(Math.min(Math.abs(x - r), Math.abs(x - (512 - r))), Math.min(Math.abs(y - r), Math.abs(y - (512 - r)))) <= r
      : true;
  if (!inSq) return [0, 0, 0, 0];
  const bubble = ((x - 256) / 160) ** 2 + ((y - 244) / 134) ** 2 <= 1 || (x > 150 && x < 200 && y > 330 && y < 400 - (x - 150) * 0.8);
  const lockBody = x > 206 && x < 306 && y > 226 && y < 304;
  const shackle = Math.hypot(x - 256, y - 204) < 40 && Math.hypot(x - 256, y - 204) > 24 && y < 226;
  if (bubble && !(lockBody || shackle)) return [...WHITE, 255];
  return [...BRAND, 255];
}
writeFileSync(
  'public/icons/icon-192.png',
  png(192, (x, y) => shape(x, y, { rounded: true })),
);
writeFileSync(
  'public/icons/icon-512.png',
  png(512, (x, y) => shape(x, y, { rounded: true })),
);
// Maskable: full bleed, content inside the safe zone (80 %).
writeFileSync(
  'public/icons/icon-maskable-512.png',
  png(512, (x, y) => shape(256 + (x - 256) / 0.8, 256 + (y - 256) / 0.8, { rounded: false })),
);
console.log('icons written');
