/* What the web client needs from libsotto beyond core/wasm's wrapper: the login proof for
 * signing in again as this device, signed pre-key rotation and the safety-number QR payload.
 * Built on the wrapper's own heap and sealing helpers, so secrets stay inside the WebAssembly
 * heap and are wiped the same way. Worker-only. */
import type { Sotto } from '@sotto-core/sotto';

const SIG = 64;
const KEY = 32;
const QR = 97;

function withAccount<T>(s: Sotto, sealed: Uint8Array, key: Uint8Array, f: (a: number, put: (b: Uint8Array) => number, alloc: (n: number) => number, get: (p: number, n: number) => Uint8Array) => T, reseal: boolean): { value: T; account: Uint8Array | null } {
  return s.scratch((h) => {
    const [p, n] = s.open(h, sealed, 'account', key);
    const pa = h.alloc(4);
    s.check(s.m._sotto_account_deserialize(pa, p, n), 'load account');
    const a = h.u32(pa);
    try {
      const value = f(a, (b) => h.put(b), (k) => h.alloc(k), (q, k) => h.get(q, k));
      let account: Uint8Array | null = null;
      if (reseal) {
        const size = s.m._sotto_account_serialized_size(a);
        const out = h.alloc(size), len = h.alloc(4);
        s.check(s.m._sotto_account_serialize(a, out, size, len), 'save account');
        account = s.seal(h, out, size, 'account', key);
      }
      return { value, account };
    } finally {
      s.m._sotto_account_free(a);
    }
  });
}

/** api.md's device proof: Ed25519 over 'Sotto-v1-login' || email || seconds (u64 BE). */
export function loginProof(s: Sotto, account: Uint8Array, key: Uint8Array, email: string, seconds: number): Uint8Array {
  return withAccount(s, account, key, (a, put, alloc, get) => {
    const e = put(new TextEncoder().encode(email + '\0'));
    const sig = alloc(SIG);
    s.check(s.m._sotto_account_login_proof(a, e, BigInt(seconds), sig), 'login proof');
    return get(sig, SIG);
  }, false).value;
}

/** Rotates the signed pre-key when it is a week old; returns the new sealed account or null. */
export function rotateSignedPreKeyIfDue(s: Sotto, account: Uint8Array, key: Uint8Array, nowSeconds: number): Uint8Array | null {
  const due = withAccount(s, account, key, (a) => s.m._sotto_account_signed_pre_key_due(a, BigInt(nowSeconds)) === 1, false).value;
  if (!due) return null;
  return withAccount(s, account, key, (a) => {
    s.check(s.m._sotto_account_rotate_signed_pre_key(a, BigInt(nowSeconds)), 'rotate signed pre-key');
    s.m._sotto_account_prune(a, BigInt(nowSeconds));
  }, true).account;
}

/** The 97-byte safety-number QR payload for two users' signing keys. */
export function safetyQr(s: Sotto, userA: string, keysA: Uint8Array[], userB: string, keysB: Uint8Array[]): Uint8Array {
  return s.scratch((h) => {
    const str = (x: string) => h.put(new TextEncoder().encode(x + '\0'));
    const keys = (ks: Uint8Array[]) => {
      const p = h.alloc(Math.max(ks.length, 1) * KEY);
      ks.forEach((k, i) => s.m.HEAPU8.set(k, p + i * KEY));
      return p;
    };
    const out = h.alloc(QR);
    s.check(s.m._sotto_safety_qr(out, str(userA), keys(keysA), keysA.length, str(userB), keys(keysB), keysB.length), 'safety QR');
    return h.get(out, QR);
  });
}
