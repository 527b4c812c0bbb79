/* Encryption at rest for the local database: AES-256-GCM under a non-extractable WebCrypto
 * key kept in IndexedDB, or, with a passphrase lock, a key unwrapped from PBKDF2 each time
 * the app is unlocked (then nothing on disk decrypts the history without the passphrase). */

export interface Sealed {
  iv: Uint8Array<ArrayBuffer>;
  ct: ArrayBuffer;
}
export interface Wrapped {
  salt: Uint8Array<ArrayBuffer>;
  iterations: number;
  iv: Uint8Array<ArrayBuffer>;
  wrapped: ArrayBuffer;
}
export type StoredKey = CryptoKey | Wrapped;

export const PBKDF2_ITERATIONS = 600_000;
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

export async function sealBytes(key: CryptoKey, data: Uint8Array): Promise<Sealed> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  return { iv, ct: await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, ab(data)) };
}
export async function openBytes(key: CryptoKey, s: Sealed): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: s.iv }, key, s.ct));
}
export function sealJSON(key: CryptoKey, v: unknown): Promise<Sealed> {
  return sealBytes(key, enc.encode(JSON.stringify(v)));
}
export async function openJSON<T>(key: CryptoKey, s: Sealed): Promise<T> {
  return JSON.parse(dec.decode(await openBytes(key, s))) as T;
}

async function kek(passphrase: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', enc.encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', salt, iterations, hash: 'SHA-256' },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** A new database key protected by a passphrase: the raw key exists only inside this call. */
export async function newWrappedKey(passphrase: string): Promise<{ key: CryptoKey; stored: Wrapped }> {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  try {
    const k = await kek(passphrase, salt, PBKDF2_ITERATIONS);
    const wrapped = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, k, raw);
    const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
    return { key, stored: { salt, iterations: PBKDF2_ITERATIONS, iv, wrapped } };
  } finally {
    raw.fill(0);
  }
}

/** The database key from its passphrase, or null when the passphrase is wrong. */
export async function unwrapKey(passphrase: string, w: Wrapped): Promise<CryptoKey | null> {
  let raw: Uint8Array | null = null;
  try {
    const k = await kek(passphrase, w.salt, w.iterations);
    raw = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: w.iv }, k, w.wrapped));
    return await crypto.subtle.importKey('raw', ab(raw), 'AES-GCM', false, ['encrypt', 'decrypt']);
  } catch {
    return null;
  } finally {
    raw?.fill(0);
  }
}
