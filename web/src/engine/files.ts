/* Files out and in (docs/protocol.md "Attachments", api.md "Attachments").
 *
 * Out: the size is checked before anything else; the thumbnail and dimensions are made here
 * (lib/media.ts); the crypto worker pads and encrypts in 64 KiB chunks; tus-js-client uploads
 * the ciphertext (resumable: it retries after a dropped connection from the offset the server
 * holds, and the upload's URL, the ciphertext and its sealed key survive a reload, so the
 * leading tab resumes it at the next start); then the message goes out with the pointer in
 * its payload and the upload in attachmentIds. The server never sees a name or a type: tus
 * metadata stays empty.
 *
 * In: the ciphertext is handed to the worker a piece at a time as it arrives (one piece in the
 * worker at once, so memory holds a piece or two of ciphertext, not the file, and the worker
 * answers other requests between pieces); it checks and decrypts each and releases the file's
 * own bytes only once the whole stream is checked; anything that fails is "could not be
 * downloaded", never another file. */
import * as tus from 'tus-js-client';
import { deleteBlob, loadBlob, saveBlob } from '../lib/blobstore';
import { toBase64 } from '../lib/bytes';
import { describeMedia, FILE_MAX, safeName, safeType } from '../lib/media';
import { uuid } from '../lib/uuid';
import type { FileRef } from '../state/types';
import { useSession } from '../state/session';
import { useUploads } from '../state/uploads';
import { getEngine } from './engine';

const ENDPOINT = '/api/attachments';
/** Retries after a dropped connection, ms apart; then the upload waits for Retry or 'online'. */
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000];
const CHUNK = 16 * 1024 * 1024;
/** Ciphertext goes to the worker in pieces of about this size. */
const PIECE = 1 << 20;
const ledgerKey = (localId: string) => `upload:${localId}`;

/** What the message will carry, but the server's id (known once uploaded); sealed in the ledger. */
type Prepared = Omit<FileRef, 'id'>;
interface Pending {
  conversationId: string;
  file: Prepared;
}

const running = new Map<string, tus.Upload>();
const cancelled = new Set<string>();

const store = () => useUploads.getState();

/** Picked, dropped or pasted: checked, described, encrypted, uploaded, sent. */
export async function attach(conversationId: string, file: File): Promise<void> {
  const localId = uuid();
  const name = safeName(file.name || 'file');
  const job = { localId, conversationId, name, size: file.size, sent: 0, total: 0 };
  if (file.size > FILE_MAX) {
    store().put({ ...job, state: 'failed', error: 'fileTooLarge' });
    return;
  }
  store().put({ ...job, state: 'preparing' });
  try {
    const type = safeType(file.type);
    const media = await describeMedia(file, type);
    const e = getEngine();
    const enc = await e.crypto.call('attachEncrypt', { file });
    if (cancelled.delete(localId)) return;
    const prepared: Prepared = {
      key: enc.key,
      digest: enc.digest,
      size: file.size,
      name,
      type,
      width: media.width,
      height: media.height,
      durationMs: media.durationMs,
      thumbnail: media.thumbnail ? toBase64(media.thumbnail) : undefined,
    };
    await saveBlob(localId, enc.data);
    await e.crypto.call('ledgerWrite', { entries: [{ key: ledgerKey(localId), value: { conversationId, file: prepared } }] });
    void upload(localId, { conversationId, file: prepared }, enc.data);
  } catch {
    store().patch(localId, { state: 'failed', error: 'uploadFailed' });
  }
}

async function upload(localId: string, p: Pending, data: Blob): Promise<void> {
  const u = new tus.Upload(data, {
    endpoint: ENDPOINT,
    chunkSize: CHUNK,
    retryDelays: RETRY_DELAYS,
    metadata: {},
    fingerprint: () => Promise.resolve(`sotto-upload-${localId}`),
    storeFingerprintForResuming: true,
    removeFingerprintOnSuccess: true,
    onBeforeRequest: async (req) => {
      const token = await getEngine().getToken();
      if (token) req.setHeader('Authorization', `Bearer ${token}`);
    },
    onShouldRetry: (err) => {
      const status = err.originalResponse?.getStatus() ?? 0;
      // A refresh that cannot reach the server throws (the session is kept); the upload's own
      // retry comes back here, so that failure needs no answer of its own.
      if (status === 401)
        getEngine()
          .refreshToken()
          .catch(() => undefined);
      // A network failure (0), an expired token, a conflict or the server's trouble: again.
      return status === 0 || status === 401 || status === 409 || status === 423 || status >= 500;
    },
    onProgress: (sent, total) => store().patch(localId, { state: 'uploading', sent, total }),
    onError: () => store().patch(localId, { state: 'failed', error: 'uploadFailed' }),
    onSuccess: () => void sendWith(localId, p, u.url ?? ''),
  });
  running.set(localId, u);
  store().patch(localId, { state: 'uploading', total: data.size, error: undefined });
  const previous = await u.findPreviousUploads();
  if (previous.length) u.resumeFromPreviousUpload(previous[0]);
  u.start();
}

async function sendWith(localId: string, p: Pending, url: string): Promise<void> {
  running.delete(localId);
  store().patch(localId, { state: 'sending' });
  const id = url.slice(url.lastIndexOf('/') + 1);
  try {
    // A send that fails keeps the message (with its file) as failed, to be retried from there.
    await getEngine().send(p.conversationId, '', undefined, [{ id, ...p.file }]);
  } catch {
    /* shown on the message */
  } finally {
    await forget(localId);
  }
}

async function forget(localId: string): Promise<void> {
  running.delete(localId);
  store().drop(localId);
  await getEngine()
    .crypto.call('ledgerWrite', { entries: [{ key: ledgerKey(localId), value: null }] })
    .catch(() => undefined);
  await deleteBlob(localId).catch(() => undefined);
}

export function pause(localId: string): void {
  const u = running.get(localId);
  if (!u) return;
  void u.abort(false);
  store().patch(localId, { state: 'paused' });
}

/** Paused or failed: on from the offset the server holds. */
export function resume(localId: string): void {
  const u = running.get(localId);
  if (!u) return;
  store().patch(localId, { state: 'uploading', error: undefined });
  u.start();
}

/** Stops it and deletes what the server holds of it (tus termination). */
export async function cancel(localId: string): Promise<void> {
  const u = running.get(localId);
  if (!u) cancelled.add(localId);
  await u?.abort(true).catch(() => undefined);
  await forget(localId);
}

let resumed = false;
/** After a reload: the leading tab takes up every upload that was not finished. */
export async function resumeUploads(): Promise<void> {
  if (resumed || useSession.getState().role !== 'leader') return;
  resumed = true;
  const e = getEngine();
  const pending = await e.crypto.call('ledgerList', { prefix: 'upload:' }).catch(() => []);
  for (const { key, value } of pending) {
    const localId = key.slice('upload:'.length);
    const p = value as Pending;
    const data = await loadBlob(localId).catch(() => undefined);
    if (!data) {
      await forget(localId);
      continue;
    }
    store().put({
      localId,
      conversationId: p.conversationId,
      name: p.file.name,
      size: p.file.size,
      state: 'uploading',
      sent: 0,
      total: data.size,
    });
    void upload(localId, p, data);
  }
}

if (typeof window !== 'undefined') {
  // Back online: uploads that gave up retrying go on by themselves.
  window.addEventListener('online', () => {
    for (const j of store().jobs) if (j.state === 'failed' && running.has(j.localId)) resume(j.localId);
  });
}

/* ------------------------------------------------------------------ in */

const fetched = new Map<string, Promise<Blob>>();

/** The file's bytes, checked and decrypted (one fetch per file while the page lives). */
export function fetchFile(f: FileRef, onProgress?: (got: number, total: number) => void): Promise<Blob> {
  const k = `${f.id}:${f.digest}`;
  let p = fetched.get(k);
  if (!p) {
    p = download(f, onProgress);
    fetched.set(k, p);
    p.catch(() => fetched.delete(k));
  }
  return p;
}

async function download(f: FileRef, onProgress?: (got: number, total: number) => void): Promise<Blob> {
  const e = getEngine();
  const get = async (token: string | null) =>
    fetch(`${ENDPOINT}/${encodeURIComponent(f.id)}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  let res = await get(await e.getToken());
  if (res.status === 401) res = await get(await e.refreshToken());
  if (!res.ok || !res.body) throw new Error(`download failed: ${res.status}`);
  const total = Number(res.headers.get('Content-Length')) || 0;
  const download = await e.crypto.call('attachOpen', { key: f.key, digest: f.digest, size: f.size });
  let inWorker: Promise<void> = Promise.resolve();
  let held: Uint8Array[] = [];
  let heldLen = 0;
  // Waits for the piece before, so only one is in the worker; its failure surfaces here. The
  // response's own buffers go to the worker (transferred, not copied).
  const hand = async () => {
    const data = held;
    held = [];
    heldLen = 0;
    await inWorker;
    inWorker = e.crypto.call('attachPart', { download, data }, [...new Set(data.map((d) => d.buffer as ArrayBuffer))]);
    inWorker.catch(() => undefined); // awaited at the next piece or at the end
  };
  try {
    let got = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      held.push(value);
      heldLen += value.length;
      got += value.length;
      onProgress?.(got, total);
      if (heldLen >= PIECE) await hand();
    }
    if (heldLen) await hand();
    await inWorker;
  } catch (err) {
    await e.crypto.call('attachAbort', { download }).catch(() => undefined);
    throw err;
  }
  return e.crypto.call('attachFinish', { download, type: f.type });
}
