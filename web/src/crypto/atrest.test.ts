import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import {
  ARGON2_MEM_KIB,
  ARGON2_OPS,
  FORMAT,
  FORMAT_KEY,
  kvSlot,
  messageSlot,
  migrateToBound,
  newDatabaseKey,
  newWrappedKey,
  openBytes,
  openJSON,
  sealBytes,
  sealJSON,
  unwrapKey,
  type PassphraseKdf,
  type Sealed,
  type Wrapped,
} from './atrest';
import { commit, get, openDatabase, request } from './idb';

/* A stand-in for libsotto's Argon2id (tested against the reference implementation in
 * core/tests/test_kat.c and core/wasm/test, and for real in Chromium by tests/web/03_flows):
 * what this file tests is the wrapping around it. It records the cost it was asked for. */
const calls: { ops: number; memKiB: number; salt: number }[] = [];
const bytes = (s: string) => new TextEncoder().encode(s);
const kdf: PassphraseKdf = (passphrase, salt, ops, memKiB) => {
  calls.push({ ops, memKiB, salt: salt.length });
  // Any deterministic function of all four will do (FNV-1a rounds); no security is asked of it.
  const input = [...bytes(passphrase), 0, ...salt, ops, memKiB & 255, (memKiB >> 8) & 255, (memKiB >> 16) & 255];
  const out = new Uint8Array(32);
  let h = 2166136261;
  for (let i = 0; i < out.length; i += 1) {
    for (const b of input) h = Math.imul(h ^ b, 16777619) >>> 0;
    out[i] = h & 255;
    h ^= i + 1;
  }
  return out;
};

/** A record as the versions before Argon2id stored it: PBKDF2-SHA-256 (few iterations here). */
async function legacyRecord(passphrase: string, raw: Uint8Array): Promise<Wrapped> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const base = await crypto.subtle.importKey('raw', bytes(passphrase), 'PBKDF2', false, ['deriveKey']);
  const k = await crypto.subtle.deriveKey(
    { name: 'PBKDF2', salt, iterations: 1000, hash: 'SHA-256' },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt'],
  );
  return { salt, iterations: 1000, iv, wrapped: await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, k, raw as Uint8Array<ArrayBuffer>) };
}

describe('the passphrase lock', () => {
  test("a new lock is Argon2id at libsotto's cost and opens only with its passphrase", async () => {
    calls.length = 0;
    const { key, stored } = await newWrappedKey('correct horse', kdf);
    expect(stored).toMatchObject({ kdf: 'argon2id', ops: ARGON2_OPS, memKiB: ARGON2_MEM_KIB });
    expect(stored.salt.length).toBe(16);
    expect(stored.iterations).toBeUndefined();
    expect(calls).toEqual([{ ops: 2, memKiB: 65536, salt: 16 }]);
    const sealed = await sealBytes(key, bytes('history'), kvSlot('x'));

    const back = await unwrapKey('correct horse', stored, kdf);
    expect(back?.upgraded).toBeUndefined();
    expect(new TextDecoder().decode(await openBytes(back!.key, sealed, kvSlot('x')))).toBe('history');
    expect(await unwrapKey('correct horsf', stored, kdf)).toBeNull();
    // The record's own cost is what unlocking asks for.
    calls.length = 0;
    await unwrapKey('correct horse', { ...stored, ops: 3, memKiB: 8192 }, kdf);
    expect(calls).toEqual([{ ops: 3, memKiB: 8192, salt: 16 }]);
  });

  test('a PBKDF2 record from before opens, and comes back re-wrapped with Argon2id', async () => {
    const raw = crypto.getRandomValues(new Uint8Array(32));
    const old = await legacyRecord('old passphrase', raw);
    const dbKey = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
    const sealed = await sealBytes(dbKey, bytes('from before'), kvSlot('x'));

    expect(await unwrapKey('wrong', old, kdf)).toBeNull();
    const opened = await unwrapKey('old passphrase', old, kdf);
    expect(opened?.upgraded).toMatchObject({ kdf: 'argon2id', ops: ARGON2_OPS, memKiB: ARGON2_MEM_KIB });
    expect(new TextDecoder().decode(await openBytes(opened!.key, sealed, kvSlot('x')))).toBe('from before');
    // The upgraded record wraps the same database key: the history needs no re-encryption.
    const again = await unwrapKey('old passphrase', opened!.upgraded!, kdf);
    expect(again?.upgraded).toBeUndefined();
    expect(new TextDecoder().decode(await openBytes(again!.key, sealed, kvSlot('x')))).toBe('from before');
  });
});

/* ------------------------------------------------------------------ slot binding */

let dbn = 0;
const freshDb = () => openDatabase(`atrest-test-${dbn++}`);
/** A value as format 1 sealed it: AES-GCM without associated data. */
async function unbound(key: CryptoKey, v: unknown): Promise<Sealed> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  return { iv, ct: await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, bytes(JSON.stringify(v))) };
}
const row = (id: string, conversationId: string, senderId: string, sealed: Sealed) => ({
  id,
  clientMessageId: id,
  conversationId,
  senderId,
  ts: 1,
  status: 'read',
  sealed,
});

describe('every sealed value is bound to its slot', () => {
  test('a kv value opens only under its own key name', async () => {
    const key = await newDatabaseKey();
    const s = await sealJSON(key, { userId: 'bob', verified: true }, kvSlot('trust:bob'));
    expect(await openJSON(key, s, kvSlot('trust:bob'))).toEqual({ userId: 'bob', verified: true });
    await expect(openJSON(key, s, kvSlot('trust:mallory'))).rejects.toThrow();
    await expect(openJSON(key, s, messageSlot({ id: 'trust:bob', conversationId: '', senderId: '' }))).rejects.toThrow();
  });

  test('a message row opens only with its id, conversation and sender', async () => {
    const key = await newDatabaseKey();
    const r = { id: 'm1', conversationId: 'c1', senderId: 'alice' };
    const s = await sealJSON(key, { body: 'hi' }, messageSlot(r));
    expect(await openJSON(key, s, messageSlot(r))).toEqual({ body: 'hi' });
    for (const moved of [
      { ...r, id: 'm2' },
      { ...r, conversationId: 'c2' },
      { ...r, senderId: 'mallory' },
    ]) {
      await expect(openJSON(key, s, messageSlot(moved))).rejects.toThrow();
    }
  });

  test('a database from before is re-sealed under a new key, bound; nothing unbound or moved opens after', async () => {
    const db = await freshDb();
    const old = await newDatabaseKey();
    const storageKey = crypto.getRandomValues(new Uint8Array(32));
    const oldStorage = await unbound(old, 'unused');
    oldStorage.ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: oldStorage.iv }, old, storageKey);
    const trust = await unbound(old, { userId: 'bob', verified: true });
    const m1 = row('m1', 'c1', 'bob', await unbound(old, { body: 'first', kind: 'text' }));
    const m2 = row('m2', 'c1', 'me', await unbound(old, { body: 'second', kind: 'text' }));
    await commit(db, [
      { store: 'keys', key: 'db', value: old },
      { store: 'kv', key: 'storageKey', value: oldStorage },
      { store: 'kv', key: 'trust:bob', value: trust },
      { store: 'kv', key: 'account', value: new Uint8Array([1, 2, 3]) }, // libsotto's own sealed blob: left as is
      { store: 'messages', value: m1 },
      { store: 'messages', value: m2 },
    ]);

    const next = await newDatabaseKey();
    expect(await migrateToBound(db, old, next, next)).toBe(4);
    expect(await get(db, 'keys', FORMAT_KEY)).toBe(FORMAT);
    expect(await get(db, 'keys', 'db')).toBeInstanceOf(CryptoKey);
    expect(await get(db, 'kv', 'account')).toEqual(new Uint8Array([1, 2, 3]));

    const kv = async (k: string) => (await get<Sealed>(db, 'kv', k))!;
    expect(await openBytes(next, await kv('storageKey'), kvSlot('storageKey'))).toEqual(storageKey);
    expect(await openJSON(next, await kv('trust:bob'), kvSlot('trust:bob'))).toEqual({ userId: 'bob', verified: true });
    const rows = (await request(db.transaction('messages').objectStore('messages').getAll())) as (typeof m1)[];
    expect(await Promise.all(rows.map((r) => openJSON<{ body: string }>(next, r.sealed, messageSlot(r))))).toMatchObject([
      { body: 'first' },
      { body: 'second' },
    ]);
    // The old key opens nothing any more, and the old unbound form does not open under the new one.
    await expect(openBytes(old, await kv('trust:bob'), kvSlot('trust:bob'))).rejects.toThrow();
    await expect(openJSON(next, trust, kvSlot('trust:bob'))).rejects.toThrow();
    // A row moved to another slot (Bob's message relabelled as this user's) fails to open.
    const [r1, r2] = rows as [typeof m1, typeof m1];
    await expect(openJSON(next, r1.sealed, messageSlot({ ...r1, senderId: 'me' }))).rejects.toThrow();
    await expect(openJSON(next, r1.sealed, messageSlot(r2))).rejects.toThrow();
    db.close();
  });

  test('run again (the format mark lost), it re-seals the bound values; a value that opens neither way stops it', async () => {
    const db = await freshDb();
    const k1 = await newDatabaseKey();
    await commit(db, [{ store: 'kv', key: 'conv:c1', value: await sealJSON(k1, { id: 'c1', readUpTo: 'x' }, kvSlot('conv:c1')) }]);
    const k2 = await newDatabaseKey();
    await migrateToBound(db, k1, k2, k2);
    expect(await openJSON(k2, (await get<Sealed>(db, 'kv', 'conv:c1'))!, kvSlot('conv:c1'))).toEqual({ id: 'c1', readUpTo: 'x' });
    // A bound value planted in another slot: neither form opens, nothing is changed.
    await commit(db, [
      { store: 'kv', key: 'conv:c2', value: (await get<Sealed>(db, 'kv', 'conv:c1'))! },
      { store: 'keys', key: FORMAT_KEY, del: true },
    ]);
    const k3 = await newDatabaseKey();
    await expect(migrateToBound(db, k2, k3, k3)).rejects.toThrow();
    expect(await get(db, 'keys', FORMAT_KEY)).toBeUndefined();
    db.close();
  });
});
