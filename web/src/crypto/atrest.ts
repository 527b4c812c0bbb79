/* Encryption at rest for the local database: AES-256-GCM under a non-extractable WebCrypto
 * key kept in IndexedDB, or, with a passphrase lock, a key unwrapped each time the app is
 * unlocked (then nothing on disk decrypts the history without the passphrase). The
 * wrapping key comes from Argon2id in libsotto (sotto_passphrase_key, the CLI's KDF too);
 * records made before that used PBKDF2-SHA-256 and are re-wrapped at their next unlock.
 *
 * Every sealed value is bound to its slot: the associated data names the store and the key
 * (for a message row, also the conversation and sender kept in clear beside it), so a value
 * moved to another slot, or a row relabelled, fails to open. Databases from before that
 * (format 1, no associated data) are re-sealed once, under a new database key, at the first
 * unlock (migrateToBound). */
import { commit, get, request, type Write } from './idb';

export interface Sealed {
  iv: Uint8Array<ArrayBuffer>;
  ct: ArrayBuffer;
}
/** The database key wrapped under a passphrase. `kdf` absent: PBKDF2 with `iterations`. */
export interface Wrapped {
  kdf?: 'argon2id';
  salt: Uint8Array<ArrayBuffer>;
  ops?: number;
  memKiB?: number;
  iterations?: number;
  iv: Uint8Array<ArrayBuffer>;
  wrapped: ArrayBuffer;
}
/** Argon2id through libsotto: (passphrase, 16-byte salt, passes, KiB) -> 32 bytes. */
export type PassphraseKdf = (passphrase: string, salt: Uint8Array, ops: number, memKiB: number) => Uint8Array;
export const ARGON2_OPS = 2;
export const ARGON2_MEM_KIB = 65536;
export type StoredKey = CryptoKey | Wrapped;

const enc = new TextEncoder();
/** WebCrypto wants ArrayBuffer-backed views; ours always are (never shared memory). */
const ab = (u: Uint8Array) => u as Uint8Array<ArrayBuffer>;
const dec = new TextDecoder();

export function isWrapped(k: StoredKey): k is Wrapped {
  return typeof (k as Wrapped).wrapped !== 'undefined';
}

/** A fresh key that script can use but never read. */
export function newDatabaseKey(): Promise<CryptoKey> {
  return crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

/** A slot's name, the associated data of what is sealed in it: the store, its key, and any
 *  clear fields stored beside the sealed part that must not change without it. NUL-separated
 *  (no part holds a NUL: ids are UUIDs, kv keys are fixed prefixes and UUIDs). */
export function slotOf(store: string, key: string, ...clear: string[]): string {
  return ['sotto-at-rest-v2', store, key, ...clear].join('\0');
}
/** The slot of a message row (worker.ts MessageRow): its id, conversation and sender. */
export function messageSlot(r: { id: string; conversationId: string; senderId: string }): string {
  return slotOf('messages', r.id, r.conversationId, r.senderId);
}
export const kvSlot = (key: string): string => slotOf('kv', key);

export async function sealBytes(key: CryptoKey, data: Uint8Array, slot: string): Promise<Sealed> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  return { iv, ct: await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(slot) }, key, ab(data)) };
}
/** Throws unless `s` was sealed under `key` for exactly this slot. */
export async function openBytes(key: CryptoKey, s: Sealed, slot: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: s.iv, additionalData: enc.encode(slot) }, key, s.ct));
}
/** A format-1 value (no associated data): read only by the migration. */
async function openUnbound(key: CryptoKey, s: Sealed): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: s.iv }, key, s.ct));
}
export function sealJSON(key: CryptoKey, v: unknown, slot: string): Promise<Sealed> {
  return sealBytes(key, enc.encode(JSON.stringify(v)), slot);
}
export async function openJSON<T>(key: CryptoKey, s: Sealed, slot: string): Promise<T> {
  return JSON.parse(dec.decode(await openBytes(key, s, slot))) as T;
}

/** The database format: 2 once every sealed value is bound to its slot. Kept in the 'keys'
 *  store (not secret; deleting it only makes the next start check every row again). */
export const FORMAT_KEY = 'format';
export const FORMAT = 2;

function isSealed(v: unknown): v is Sealed {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && 'iv' in v && 'ct' in v;
}

/**
 * Re-seals every value of a database made before slot binding (format 1) under `next`, bound
 * to its slot, and records format 2, in one transaction. A value already bound (a start after
 * the format mark was lost) is re-sealed too, from its bound form. `next` is a new database
 * key, so old unbound ciphertexts copied off the disk open under nothing from then on; the
 * caller writes its record (`nextStored`) in the same transaction. Returns the number of
 * values re-sealed.
 */
export async function migrateToBound(db: IDBDatabase, old: CryptoKey, next: CryptoKey, nextStored: StoredKey): Promise<number> {
  const writes: Write[] = [{ store: 'keys', key: 'db', value: nextStored }];
  const reseal = async (v: Sealed, slot: string): Promise<Sealed> => {
    let plain: Uint8Array;
    try {
      plain = await openUnbound(old, v);
    } catch {
      plain = await openBytes(old, v, slot); // already bound; anything else throws: no migration
    }
    return sealBytes(next, plain, slot);
  };
  const kvKeys = (await request(db.transaction('kv').objectStore('kv').getAllKeys())) as string[];
  for (const k of kvKeys) {
    const v = await get<unknown>(db, 'kv', k);
    if (isSealed(v)) writes.push({ store: 'kv', key: k, value: await reseal(v, kvSlot(k)) });
  }
  const rows = (await request(db.transaction('messages').objectStore('messages').getAll())) as {
    id: string;
    conversationId: string;
    senderId: string;
    sealed: Sealed;
  }[];
  for (const r of rows) writes.push({ store: 'messages', value: { ...r, sealed: await reseal(r.sealed, messageSlot(r)) } });
  writes.push({ store: 'keys', key: FORMAT_KEY, value: FORMAT });
  await commit(db, writes);
  return writes.length - 2;
}

async function aesKey(raw: Uint8Array, usages: KeyUsage[]): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', ab(raw), 'AES-GCM', false, usages);
}

/** The key-encryption key of a record: Argon2id, or PBKDF2 for a record from before it. */
async function kek(passphrase: string, w: Omit<Wrapped, 'iv' | 'wrapped'>, kdf: PassphraseKdf): Promise<CryptoKey> {
  if (w.kdf === 'argon2id') {
    const raw = kdf(passphrase, w.salt, w.ops ?? ARGON2_OPS, w.memKiB ?? ARGON2_MEM_KIB);
    try {
      return await aesKey(raw, ['encrypt', 'decrypt']);
    } finally {
      raw.fill(0);
    }
  }
  const base = await crypto.subtle.importKey('raw', enc.encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', salt: w.salt, iterations: w.iterations ?? 0, hash: 'SHA-256' },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** `raw` wrapped under the passphrase with Argon2id and fresh salt and nonce. */
async function wrapRaw(passphrase: string, raw: Uint8Array, kdf: PassphraseKdf): Promise<Wrapped> {
  const params = { kdf: 'argon2id' as const, salt: crypto.getRandomValues(new Uint8Array(16)), ops: ARGON2_OPS, memKiB: ARGON2_MEM_KIB };
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const k = await kek(passphrase, params, kdf);
  return { ...params, iv, wrapped: await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, k, ab(raw)) };
}

/** A new database key protected by a passphrase: the raw key exists only inside this call. */
export async function newWrappedKey(passphrase: string, kdf: PassphraseKdf): Promise<{ key: CryptoKey; stored: Wrapped }> {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  try {
    const stored = await wrapRaw(passphrase, raw, kdf);
    return { key: await aesKey(raw, ['encrypt', 'decrypt']), stored };
  } finally {
    raw.fill(0);
  }
}

/**
 * The database key from its passphrase, or null when the passphrase is wrong. A PBKDF2
 * record also comes back re-wrapped with Argon2id (`upgraded`), for the caller to store.
 */
export async function unwrapKey(
  passphrase: string,
  w: Wrapped,
  kdf: PassphraseKdf,
): Promise<{ key: CryptoKey; upgraded?: Wrapped } | null> {
  let raw: Uint8Array | null = null;
  try {
    const k = await kek(passphrase, w, kdf);
    raw = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: w.iv }, k, w.wrapped));
    const key = await aesKey(raw, ['encrypt', 'decrypt']);
    return w.kdf === 'argon2id' ? { key } : { key, upgraded: await wrapRaw(passphrase, raw, kdf) };
  } catch {
    return null;
  } finally {
    raw?.fill(0);
  }
}
