import { describe, expect, test } from 'vitest';
import { ARGON2_MEM_KIB, ARGON2_OPS, newWrappedKey, openBytes, sealBytes, unwrapKey, type PassphraseKdf, type Wrapped } from './atrest';

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
    const sealed = await sealBytes(key, bytes('history'));

    const back = await unwrapKey('correct horse', stored, kdf);
    expect(back?.upgraded).toBeUndefined();
    expect(new TextDecoder().decode(await openBytes(back!.key, sealed))).toBe('history');
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
    const sealed = await sealBytes(dbKey, bytes('from before'));

    expect(await unwrapKey('wrong', old, kdf)).toBeNull();
    const opened = await unwrapKey('old passphrase', old, kdf);
    expect(opened?.upgraded).toMatchObject({ kdf: 'argon2id', ops: ARGON2_OPS, memKiB: ARGON2_MEM_KIB });
    expect(new TextDecoder().decode(await openBytes(opened!.key, sealed))).toBe('from before');
    // The upgraded record wraps the same database key: the history needs no re-encryption.
    const again = await unwrapKey('old passphrase', opened!.upgraded!, kdf);
    expect(again?.upgraded).toBeUndefined();
    expect(new TextDecoder().decode(await openBytes(again!.key, sealed))).toBe('from before');
  });
});
