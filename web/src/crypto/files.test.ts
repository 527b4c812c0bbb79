import createSotto from '@sotto-wasm/libsotto.cjs';
import { readFileSync } from 'node:fs';
import { loadSotto, type Sotto } from '@sotto-core/sotto';
import { beforeAll, describe, expect, test } from 'vitest';
import { decryptAbort, decryptFile, decryptFinish, decryptOpen, decryptPart, encryptFile } from './files';

let s: Sotto;
beforeAll(async () => {
  // libsotto's Node build and its WebAssembly, from where vite.config.ts takes them.
  const dir = (import.meta.env.SOTTO_WASM_DIR as string | undefined) ?? '../build-wasm';
  const wasm = dir.startsWith('/') ? `${dir}/libsotto.wasm` : new URL(`../../${dir}/libsotto.wasm`, import.meta.url).pathname;
  s = await loadSotto(createSotto, readFileSync(wasm));
});

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
const read = async (b: Blob) => new Uint8Array(await b.arrayBuffer());

describe('attachments in the crypto worker', () => {
  test.each([0, 1, 541, 65536, 200000])('%i bytes: padded to the bucket, chunked, and back exactly', async (n) => {
    const file = bytes(n);
    const enc = await encryptFile(s, new Blob([file]));
    const padded = s.attachmentPaddedSize(n);
    // header, then each 64 KiB chunk and the final one with 17 bytes each
    expect(enc.data.size).toBe(24 + padded + 17 * (Math.floor(padded / 65536) + 1));
    const out = await decryptFile(s, { data: enc.data, key: enc.key, digest: enc.digest, size: n, type: 'image/png' });
    expect(out.type).toBe('image/png');
    expect(await read(out)).toEqual(file);
  });

  test('only images and videos keep the type the sender named; anything else is bytes to save', async () => {
    const enc = await encryptFile(s, new Blob([bytes(100)]));
    for (const [named, kept] of [
      ['video/mp4', 'video/mp4'],
      ['text/html', 'application/octet-stream'],
      ['image/svg+xml', 'application/octet-stream'],
      ['application/pdf', 'application/octet-stream'],
    ]) {
      const out = await decryptFile(s, { data: enc.data, key: enc.key, digest: enc.digest, size: 100, type: named });
      expect(out.type).toBe(kept);
    }
  });

  test('a changed byte, a cut or another size never opens', async () => {
    const enc = await encryptFile(s, new Blob([bytes(100000)]));
    const data = await read(enc.data);
    const open = (d: Uint8Array, size = 100000) =>
      decryptFile(s, { data: new Blob([d as Uint8Array<ArrayBuffer>]), key: enc.key, digest: enc.digest, size, type: 'text/plain' });
    const changed = data.slice();
    changed[50000] ^= 1;
    await expect(open(changed)).rejects.toThrow();
    await expect(open(data.slice(0, data.length - 1))).rejects.toThrow();
    await expect(open(data, 150000)).rejects.toThrow(); // another bucket
    expect((await open(data)).size).toBe(100000);
  });

  test('a download opened piece by piece as it arrives, two at once, each its own file', async () => {
    const one = bytes(140000);
    const two = bytes(70000).reverse();
    const [e1, e2] = [await encryptFile(s, new Blob([one])), await encryptFile(s, new Blob([two]))];
    const [c1, c2] = [await read(e1.data), await read(e2.data)];
    const d1 = decryptOpen(s, { key: e1.key, digest: e1.digest, size: one.length });
    const d2 = decryptOpen(s, { key: e2.key, digest: e2.digest, size: two.length });
    // Pieces of any size in one or two buffers, not on chunk boundaries, the two downloads interleaved.
    for (let off = 0, n = 1; off < Math.max(c1.length, c2.length); off += n + (n >> 1), n = (n * 7919) % 50000 || 1) {
      if (off < c1.length) decryptPart(d1, [c1.slice(off, off + n), c1.slice(off + n, off + n + (n >> 1))]);
      if (off < c2.length) decryptPart(d2, [c2.slice(off, off + n + (n >> 1))]);
    }
    expect(await read(decryptFinish(d2, 'video/webm'))).toEqual(two);
    expect(await read(decryptFinish(d1, 'text/plain'))).toEqual(one);
    expect(() => decryptFinish(d1, 'text/plain')).toThrow('no such download');
  });

  test('a damaged piece ends the download: nothing more is taken and nothing is released', async () => {
    const enc = await encryptFile(s, new Blob([bytes(200000)]));
    const data = await read(enc.data);
    data[150000] ^= 1;
    const d = decryptOpen(s, { key: enc.key, digest: enc.digest, size: 200000 });
    decryptPart(d, [data.slice(0, 100000)]);
    expect(() => decryptPart(d, [data.slice(100000)])).toThrow();
    expect(() => decryptFinish(d, 'text/plain')).toThrow('no such download');
    // A stream cut short is refused at the end, and a broken-off one can be forgotten.
    const cut = decryptOpen(s, { key: enc.key, digest: enc.digest, size: 200000 });
    decryptPart(cut, [data.slice(0, 100000)]);
    expect(() => decryptFinish(cut, 'text/plain')).toThrow();
    const gone = decryptOpen(s, { key: enc.key, digest: enc.digest, size: 200000 });
    decryptAbort(gone);
    expect(() => decryptPart(gone, [data.slice(0, 10)])).toThrow('no such download');
  });

  test('over 100 MiB is refused before anything is read', async () => {
    const huge = {
      size: 104857601,
      slice: () => {
        throw new Error('read');
      },
    } as unknown as Blob;
    await expect(encryptFile(s, huge)).rejects.toThrow('file too large');
  });
});
