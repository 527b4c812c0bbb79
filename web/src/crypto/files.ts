/* Attachments in the crypto worker (docs/protocol.md, "Attachments"): a file is padded with
 * zeros to its size bucket and encrypted in 64 KiB chunks, read from the Blob a chunk at a
 * time, so the page never waits on it and memory holds the ciphertext, not copies of it. A
 * downloaded ciphertext opens only whole: the core checks every chunk, the final tag, the size
 * and the digest, and only then is the plaintext released, cut to the file's own size. */
import type { AttachmentPointer, Sotto } from '@sotto-core/sotto';
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

export async function decryptFile(s: Sotto, a: { data: Blob; key: string; digest: string; size: number; type: string }): Promise<Blob> {
  const padded = s.attachmentPaddedSize(a.size);
  if (padded === 0) throw new Error('file too large');
  const dec = s.attachmentDecryptor(fromBase64(a.key), fromBase64(a.digest), padded);
  const parts: BlobPart[] = [];
  try {
    for (let off = 0; off < a.data.size; off += READ) {
      parts.push(part(dec.update(new Uint8Array(await a.data.slice(off, off + READ).arrayBuffer()))));
    }
  } catch (e) {
    release(() => dec.finish());
    throw e;
  }
  dec.finish(); // throws unless the stream ended whole, with this size and digest
  // The sender names the type: only an image or a video keeps it (the app draws those in <img>
  // and <video>); anything else is bytes to save, never a document the browser might render.
  const type = isImage(a.type) || isVideo(a.type) ? a.type : 'application/octet-stream';
  return new Blob(parts, { type }).slice(0, a.size, type);
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
