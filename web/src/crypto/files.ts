/* Attachments in the crypto worker (docs/protocol.md, "Attachments"): a file is padded with
 * zeros to its size bucket and encrypted in 64 KiB chunks, read from the Blob a chunk at a
 * time, so the page never waits on it and memory holds the ciphertext, not copies of it. A
 * download is opened as it arrives, a piece per request (so other requests run between the
 * pieces of a large file): the core checks each chunk, and each piece's plaintext goes into a
 * Blob at once (the browser keeps Blobs out of the JavaScript heap, on disk when large). The
 * file is released only whole: once the core has checked the final tag, the size and the
 * digest, cut to the file's own size. */
import type { AttachmentDecryptor, AttachmentPointer, Sotto } from '@sotto-core/sotto';
import { fromBase64, toBase64 } from '../lib/bytes';
import { isImage, isVideo } from '../lib/media';
import type { FileRef } from '../state/types';

const CHUNK = 65536;
/** Ciphertext is read back in pieces of this size (any size works: the core re-chunks). */
const READ = 1 << 20;

/** `len` bytes of the padded file at `off`: the file's own bytes, then zeros. */
async function paddedSlice(file: Blob, off: number, len: number): Promise<Uint8Array> {
  const out = new Uint8Array(len);
  const end = Math.min(off + len, file.size);
  if (end > off) out.set(new Uint8Array(await file.slice(off, end).arrayBuffer()));
  return out;
}

/** The wrapper's bytes are copies on an ordinary ArrayBuffer, never a shared one. */
const part = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;

/** finish() frees a stream's state whether or not it succeeds; after a failure its own error
 *  is not the one to report. */
function release(finish: () => unknown): void {
  try {
    finish();
  } catch {
    /* freed */
  }
}

export async function encryptFile(s: Sotto, file: Blob): Promise<{ data: Blob; key: string; digest: string }> {
  const padded = s.attachmentPaddedSize(file.size);
  if (padded === 0) throw new Error('file too large');
  const enc = s.attachmentEncryptor();
  const parts: BlobPart[] = [part(enc.header)];
  try {
    const full = Math.floor(padded / CHUNK);
    for (let i = 0; i < full; i++) parts.push(part(enc.chunk(await paddedSlice(file, i * CHUNK, CHUNK), false)));
    parts.push(part(enc.chunk(await paddedSlice(file, full * CHUNK, padded % CHUNK), true)));
  } catch (e) {
    release(() => enc.finish());
    throw e;
  }
  const { key, digest } = enc.finish();
  return { data: new Blob(parts, { type: 'application/octet-stream' }), key: toBase64(key), digest: toBase64(digest) };
}

interface Opening {
  dec: AttachmentDecryptor;
  parts: Blob[];
  size: number;
}
/** Downloads being opened, by the number decryptOpen gave. */
const opening = new Map<number, Opening>();
let nextOpening = 1;

/** Begins opening a file of `size` bytes; pieces of its ciphertext follow in order. */
export function decryptOpen(s: Sotto, a: { key: string; digest: string; size: number }): number {
  const padded = s.attachmentPaddedSize(a.size);
  if (padded === 0) throw new Error('file too large');
  const id = nextOpening++;
  opening.set(id, { dec: s.attachmentDecryptor(fromBase64(a.key), fromBase64(a.digest), padded), parts: [], size: a.size });
  return id;
}

function take(id: number): Opening {
  const o = opening.get(id);
  if (!o) throw new Error('no such download');
  return o;
}

/** The next piece of ciphertext, in any number of buffers of any size (the core re-chunks):
 *  its plaintext becomes one Blob. A piece that fails to open ends the download: later pieces
 *  and decryptFinish throw. */
export function decryptPart(id: number, data: Uint8Array[]): void {
  const o = take(id);
  try {
    o.parts.push(new Blob(data.map((d) => part(o.dec.update(d)))));
  } catch (e) {
    decryptAbort(id);
    throw e;
  }
}

/** Frees a download's state without releasing anything (after a failed fetch). */
export function decryptAbort(id: number): void {
  const o = opening.get(id);
  opening.delete(id);
  if (o) release(() => o.dec.finish());
}

/** The file, once the whole stream has been checked. */
export function decryptFinish(id: number, named: string): Blob {
  const o = take(id);
  opening.delete(id);
  o.dec.finish(); // throws unless the stream ended whole, with this size and digest
  // The sender names the type: only an image or a video keeps it (the app draws those in <img>
  // and <video>); anything else is bytes to save, never a document the browser might render.
  const type = isImage(named) || isVideo(named) ? named : 'application/octet-stream';
  return new Blob(o.parts, { type }).slice(0, o.size, type);
}

/** A whole ciphertext at once, as the pieces above. */
export async function decryptFile(s: Sotto, a: { data: Blob; key: string; digest: string; size: number; type: string }): Promise<Blob> {
  const id = decryptOpen(s, a);
  try {
    for (let off = 0; off < a.data.size; off += READ) {
      decryptPart(id, [new Uint8Array(await a.data.slice(off, off + READ).arrayBuffer())]);
    }
  } catch (e) {
    decryptAbort(id);
    throw e;
  }
  return decryptFinish(id, a.type);
}

export function toPointer(f: FileRef): AttachmentPointer {
  return {
    id: f.id,
    key: fromBase64(f.key),
    digest: fromBase64(f.digest),
    size: f.size,
    name: f.name,
    type: f.type,
    width: f.width,
    height: f.height,
    durationMs: f.durationMs,
    thumbnail: f.thumbnail ? fromBase64(f.thumbnail) : undefined,
  };
}

export function fromPointer(p: AttachmentPointer): FileRef {
  return {
    id: p.id,
    key: toBase64(p.key),
    digest: toBase64(p.digest),
    size: p.size,
    name: p.name,
    type: p.type,
    width: p.width,
    height: p.height,
    durationMs: p.durationMs,
    thumbnail: p.thumbnail?.length ? toBase64(p.thumbnail) : undefined,
  };
}
