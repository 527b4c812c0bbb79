/*
 * sotto.ts: the typed, high-level face of libsotto's WebAssembly build, meant to run
 * inside a Web Worker (web/src/crypto/ alone talks to it). It deals in sealed state,
 * envelopes, payloads, bundles in the contract's JSON shape, safety numbers and
 * attachment streams. It never returns a private key and signs nothing on request.
 *
 * State lives sealed (sotto_seal, XChaCha20-Poly1305 under the caller's storage key, with
 * the slot name as associated data): every call that changes state returns the new sealed
 * blobs, which the caller stores before acting on the result. Secrets pass through the
 * WebAssembly heap only, and the buffers that held them are zeroed before they are freed.
 */

/** The parts of the Emscripten module (libsotto.mjs) this wrapper uses. */
export interface SottoModule {
  HEAPU8: Uint8Array;
  HEAPU32: Uint32Array;
  _malloc(n: number): number;
  _free(p: number): void;
  UTF8ToString(p: number): string;
  [name: `_sotto_${string}`]: (...args: (number | bigint)[]) => number;
}

export interface ModuleOptions {
  wasmBinary?: Uint8Array;
  getRandomValue?: () => number;
}
export type SottoFactory = (options: ModuleOptions) => Promise<SottoModule>;

/** A failed libsotto call: `code` is the sotto_error value, never secret material. */
export class SottoError extends Error {
  constructor(message: string, readonly code = 0) {
    super(message);
    this.name = 'SottoError';
  }
}

/** The contract's bundle (api.md, "Devices and their keys"); binary fields in base64. */
export interface BundleJSON {
  identityKey: string;
  signingKey: string;
  identitySignature: string;
  signedPreKey: { keyId: number; publicKey: string; signature: string };
  oneTimePreKeys?: { keyId: number; publicKey: string }[];
}
/** One device as `POST /api/keys/claim` returns it. */
export interface ClaimedBundleJSON extends Omit<BundleJSON, 'oneTimePreKeys'> {
  oneTimePreKey: { keyId: number; publicKey: string } | null;
}

/** Content types 1..7 by name (docs/protocol.md, Payload); 'unknown' for any other (a reader
 *  skips it: acknowledged, remembered, never shown). */
export type ContentType = 'text' | 'edit' | 'delete' | 'sync' | 'retry' | 'resend' | 'call' | 'unknown';
export type CallType = 'audio' | 'video';
export type CallSignal = 'offer' | 'answer' | 'candidate' | 'restart-offer' | 'restart-answer';
/** Tag 16, the call a call signal belongs to (docs/protocol.md, "Calls"); required on a 'call'
 *  payload and refused on any other. A receiver compares it with the call the server's event
 *  names (`sameCall`) and the signal kind with the event it came in. */
export interface CallBinding {
  callId: string;
  callerDeviceId: string;
  calleeDeviceId: string;
  callType: CallType;
  signal: CallSignal;
}
/** One file a message carries (tag 17; docs/protocol.md, "Attachments"): the server's
 *  attachment id, the key and digest that open its ciphertext, the file's own size (the
 *  stream is padded to `attachmentPaddedSize(size)`), and what a receiver shows before it
 *  fetches the file. The core refuses a hostile name (control characters, / or \, . or ..),
 *  a type that is not a lower-case MIME type, and a thumbnail that is not a small JPEG, PNG or
 *  WebP, both when encoding and when decoding. */
export interface AttachmentPointer {
  id: string;
  key: Uint8Array; // 32 bytes
  digest: Uint8Array; // 32 bytes
  size: number;
  name: string;
  type: string;
  width: number; // 0 when not an image or a video
  height: number;
  durationMs: number; // 0 when not a video or audio
  thumbnail?: Uint8Array;
}
/** At most this many files per message (SOTTO_ATTACHMENTS_MAX), each at most FILE_MAX bytes. */
export const ATTACHMENTS_MAX = 10;
export const ATTACHMENT_FILE_MAX = 104857600;
export const ATTACHMENT_THUMB_MAX = 4096;
/** What a message is (the payload inside the ciphertext). UUIDs in canonical text form. */
export interface Payload {
  clientMessageId: string;
  conversationId: string;
  contentType: ContentType;
  /** The numeric content type (tag 3). Decoding always sets it; when encoding, it overrides
   *  `contentType` (a type this wrapper has no name for). */
  type?: number;
  sentAt: number; // ms since the epoch
  body: Uint8Array;
  replyTo?: string;
  /** Tag 7, the target: the server id of the message an edit, delete, retry or resend is about. */
  editOf?: string;
  call?: CallBinding;
  /** Only on text, sync and resend; a text with files may have an empty body. */
  attachments?: AttachmentPointer[];
}

export interface Envelope {
  type: 'prekey' | 'message';
  ciphertext: Uint8Array;
}
/** A peer device: the record slot is named after it, so blobs cannot be swapped. */
export interface PeerDevice {
  userId: string;
  deviceId: string;
}

const KEY = 32;
/** sotto_passphrase_key's salt size and default cost (SOTTO_PASSPHRASE_* in sotto.h). */
export const PASSPHRASE_SALT = 16;
export const PASSPHRASE_OPS = 2;
export const PASSPHRASE_MEM_KIB = 65536;
const SIG = 64;
const BUNDLE_BYTES = 265;
const QR_BYTES = 97; // SOTTO_SAFETY_QRBYTES
const PAYLOAD_STRUCT = 1440; // sizeof(sotto_payload) in wasm32 (checked in payload.c)
const POINTERS_AT = 160; // offsetof(sotto_payload, attachments); n_attachments at 152
const POINTER_STRUCT = 128; // sizeof(sotto_attachment_pointer) in wasm32
const CONTENT: ContentType[] = ['text', 'edit', 'delete', 'sync', 'retry', 'resend', 'call'];
const CALL_TYPES: CallType[] = ['audio', 'video'];
const SIGNALS: CallSignal[] = ['offer', 'answer', 'candidate', 'restart-offer', 'restart-answer'];
export const E_NO_SESSION = -9;
/** SOTTO_E_KEY_MISMATCH: the peer's signing key is not the one the device list gives. */
export const E_KEY_MISMATCH = -12;
/** SOTTO_E_UNTRUSTED: another account key than the one pinned (or another user's list). */
export const E_UNTRUSTED = -8;
/** SOTTO_E_REPLAY: an older device list than one seen, or another list of the same version. */
export const E_REPLAY = -7;

/** An account's device list (issue 23; docs/protocol.md, "Account key and device list"). */
export interface DeviceList {
  userId: string;
  accountKey: Uint8Array; // Ed25519 public key, 32 bytes
  version: number; // from 1, only grows
  issuedAt: number; // ms since the epoch
  devices: { deviceId: string; signingKey: Uint8Array }[];
}
const LIST_STRUCT = 3144; // sizeof(sotto_device_list) in wasm32
const LIST_MAX = 64;

/** What the caller verified about the peer device (the server's device list), and when. */
export interface PeerCheck {
  /** The device's `signingKey` from GET /api/keys/users/:userId (32 bytes). */
  expectedSigningKey: Uint8Array;
  now?: Date;
}

function b64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
function unb64(s: string, len: number): Uint8Array {
  const bin = atob(s);
  if (bin.length !== len) throw new SottoError(`expected ${len} bytes of base64`);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
/** True when two bindings name the same call, caller and callee device and call type (the
 *  signal kind is not compared: the receiver checks it against the event it came in). The
 *  C core's sotto_call_binding_same_call, on the canonical text form. */
export function sameCall(a: CallBinding, b: CallBinding): boolean {
  const eq = (x: string, y: string) => x.toLowerCase() === y.toLowerCase();
  return (
    eq(a.callId, b.callId) &&
    eq(a.callerDeviceId, b.callerDeviceId) &&
    eq(a.calleeDeviceId, b.calleeDeviceId) &&
    a.callType === b.callType
  );
}

function uuidBytes(u: string): Uint8Array {
  if (!/^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/.test(u)) throw new SottoError('bad UUID');
  const hex = u.replace(/-/g, '');
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}
function uuidText(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Web Crypto, or nothing: a wrapper without a CSPRNG must not start. */
function webCrypto(): Crypto {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (!c || typeof c.getRandomValues !== 'function') {
    throw new SottoError('crypto.getRandomValues is not available: refusing to start');
  }
  return c;
}

/** libsodium's own randomness (e.g. the attachment stream header) asks for one value at a
 * time; serve it from crypto.getRandomValues 1 KiB at a time, zeroing what was handed out. */
function randomValueSource(c: Crypto): () => number {
  const pool = new Uint32Array(256);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      c.getRandomValues(pool);
      next = 0;
    }
    const v = pool[next];
    pool[next++] = 0;
    return v;
  };
}

/** Loads the module and checks it works. Throws without crypto.getRandomValues. */
export async function loadSotto(factory: SottoFactory, wasmBinary?: Uint8Array): Promise<Sotto> {
  const c = webCrypto();
  const m = await factory({ wasmBinary, getRandomValue: randomValueSource(c) });
  const s = new Sotto(m);
  s.check(m._sotto_init(), 'init');
  return s;
}

/** Scratch allocations in the WebAssembly heap, all zeroed and freed by release(). */
class Heap {
  private blocks: [number, number][] = [];
  constructor(private m: SottoModule) {}
  alloc(n: number): number {
    const p = this.m._malloc(Math.max(n, 1));
    if (p === 0) throw new SottoError('out of memory', -3);
    this.m.HEAPU8.fill(0, p, p + Math.max(n, 1));
    this.blocks.push([p, Math.max(n, 1)]);
    return p;
  }
  put(bytes: Uint8Array): number {
    const p = this.alloc(bytes.length);
    this.m.HEAPU8.set(bytes, p);
    return p;
  }
  get(p: number, n: number): Uint8Array {
    return this.m.HEAPU8.slice(p, p + n);
  }
  u32(p: number): number {
    return this.m.HEAPU32[p >>> 2];
  }
  release(): void {
    for (const [p, n] of this.blocks) {
      this.m.HEAPU8.fill(0, p, p + n);
      this.m._free(p);
    }
    this.blocks = [];
  }
}

export class Sotto {
  /** @internal */
  constructor(readonly m: SottoModule) {}

  /** @internal */
  check(rc: number, what: string): void {
    if (rc !== 0) throw new SottoError(`${what}: ${this.m.UTF8ToString(this.m._sotto_strerror(rc))}`, rc);
  }

  /** @internal runs f with a scratch heap that is wiped afterwards, whatever happens. */
  scratch<T>(f: (h: Heap) => T): T {
    const h = new Heap(this.m);
    try {
      return f(h);
    } finally {
      h.release();
    }
  }

  /** Seals `len` bytes at `p` for `slot`. */
  private seal(h: Heap, p: number, len: number, slot: string, key: Uint8Array): Uint8Array {
    const s = new TextEncoder().encode(slot);
    const out = h.alloc(len + 41);
    this.check(this.m._sotto_seal(out, p, len, h.put(s), s.length, h.put(key)), 'seal');
    return h.get(out, len + 41);
  }

  /** Opens a sealed blob into the heap; returns [pointer, length]. */
  private open(h: Heap, sealed: Uint8Array, slot: string, key: Uint8Array): [number, number] {
    const s = new TextEncoder().encode(slot);
    if (sealed.length < 41) throw new SottoError('sealed state too short', -1);
    const out = h.alloc(sealed.length - 41);
    this.check(this.m._sotto_seal_open(out, h.put(sealed), sealed.length, h.put(s), s.length, h.put(key)), 'open sealed state');
    return [out, sealed.length - 41];
  }

  /** A fresh 32-byte key for sealing state at rest (store it as the platform allows). */
  newStorageKey(): Uint8Array {
    return this.scratch((h) => {
      const k = h.alloc(KEY);
      this.m._sotto_seal_keygen(k);
      return h.get(k, KEY);
    });
  }

  /**
   * A 32-byte key from a passphrase (Argon2id v1.3, one lane; sotto_passphrase_key): what a
   * passphrase lock wraps its storage key with. Store `salt`, `ops` and `memKiB` beside what
   * it protects. A cost outside libsotto's bounds throws; the passphrase copy in the heap is
   * wiped afterwards.
   */
  passphraseKey(passphrase: string, salt: Uint8Array, ops: number = PASSPHRASE_OPS, memKiB: number = PASSPHRASE_MEM_KIB): Uint8Array {
    if (salt.length !== PASSPHRASE_SALT) throw new SottoError(`the salt must be ${PASSPHRASE_SALT} bytes`, -1);
    return this.scratch((h) => {
      const p = new TextEncoder().encode(passphrase);
      const k = h.alloc(KEY);
      try {
        this.check(this.m._sotto_passphrase_key(k, h.put(p), p.length, h.put(salt), ops >>> 0, memKiB >>> 0), 'passphrase key');
      } finally {
        p.fill(0);
      }
      return h.get(k, KEY);
    });
  }

  /** A new device: its keys, sealed under `storageKey`. */
  createDevice(storageKey: Uint8Array, now: Date = new Date()): Uint8Array {
    return this.withAccount(null, storageKey, now, () => undefined).account;
  }

  /**
   * The device's public bundle in the contract's JSON shape, with `oneTimeKeys` new
   * one-time pre-keys (0 for none). Returns the new sealed account too: store it before
   * uploading the bundle, or the one-time keys' private halves are lost.
   */
  publicBundle(account: Uint8Array, storageKey: Uint8Array, oneTimeKeys = 0): { bundle: BundleJSON; account: Uint8Array } {
    let bundle!: BundleJSON;
    const r = this.withAccount(account, storageKey, new Date(), (a, h) => {
      const b = h.alloc(512), bytes = h.alloc(BUNDLE_BYTES);
      this.m._sotto_account_bundle(a, b);
      this.m._sotto_bundle_encode(b, bytes);
      bundle = bundleJSON(h.get(bytes, BUNDLE_BYTES));
      if (oneTimeKeys > 0) {
        const keys = h.alloc(oneTimeKeys * 36);
        this.check(this.m._sotto_account_generate_one_time_keys(a, oneTimeKeys, keys), 'one-time keys');
        bundle.oneTimePreKeys = [];
        for (let i = 0; i < oneTimeKeys; i++) {
          const k = keys + 36 * i;
          bundle.oneTimePreKeys.push({ keyId: h.u32(k), publicKey: b64(h.get(k + 4, KEY)) });
        }
      }
    });
    return { bundle, account: r.account };
  }

  /**
   * Encrypts a payload to one peer device. Without a record yet, `claimed` (the peer's
   * bundle from /api/keys/claim) starts a session after verifying both signatures.
   * Returns the envelope to send and the new sealed record to store first.
   * With `check` (use it): the bundle's and the record's signing key must be the listed one
   * (SottoError code E_KEY_MISMATCH otherwise: an existing session pinned to another key is
   * not used), and a session nobody answered for 7 days
   * counts as none (code E_NO_SESSION without `claimed`: claim a new bundle).
   */
  encrypt(
    account: Uint8Array,
    storageKey: Uint8Array,
    peer: PeerDevice,
    record: Uint8Array | null,
    payload: Payload,
    claimed?: ClaimedBundleJSON,
    check?: PeerCheck,
  ): { envelope: Envelope; record: Uint8Array } {
    if (check && check.expectedSigningKey.length !== KEY) throw new SottoError('a signing key is 32 bytes', -1);
    return this.scratch((h) => {
      const [ap, al] = this.open(h, account, 'account', storageKey);
      const pa = h.alloc(4), pr = h.alloc(4);
      this.check(this.m._sotto_account_deserialize(pa, ap, al), 'load account');
      const a = h.u32(pa);
      let r = 0;
      try {
        r = this.loadRecord(h, pr, peer, record, storageKey);
        const now = seconds(check?.now ?? new Date());
        const has = check ? this.m._sotto_record_has_session_at(r, now) : this.m._sotto_record_has_session(r);
        if (has && check) {
          // A session is used only while its pinned signing key is the listed one.
          const ik = h.alloc(KEY), sk = h.alloc(KEY);
          this.check(this.m._sotto_record_peer_keys(r, ik, sk), 'peer keys');
          if (!sameBytes(h.get(sk, KEY), check.expectedSigningKey)) {
            throw new SottoError('the session is pinned to another signing key than the listed one', E_KEY_MISMATCH);
          }
        }
        if (!has) {
          if (!claimed) throw new SottoError('no session with this device: pass its claimed bundle', E_NO_SESSION);
          const b = h.alloc(512);
          this.check(this.m._sotto_bundle_decode(b, h.put(claimedBytes(claimed)), BUNDLE_BYTES), 'bundle');
          if (check) {
            this.check(this.m._sotto_record_initiate_expected(r, a, b, h.put(check.expectedSigningKey), now), 'start session');
          } else {
            this.check(this.m._sotto_record_initiate(r, a, b), 'start session');
          }
        }
        const pt = this.encodePayload(h, payload);
        const cap = this.m._sotto_envelope_max();
        const out = h.alloc(cap), len = h.alloc(4), type = h.alloc(4);
        if (check) {
          this.check(this.m._sotto_record_encrypt_at(r, pt.p, pt.len, now, out, cap, len, type), 'encrypt');
        } else {
          this.check(this.m._sotto_record_encrypt(r, pt.p, pt.len, out, cap, len, type), 'encrypt');
        }
        const envelope: Envelope = { type: h.u32(type) === 1 ? 'prekey' : 'message', ciphertext: h.get(out, h.u32(len)) };
        return { envelope, record: this.sealRecord(h, r, peer, storageKey) };
      } finally {
        if (r) this.m._sotto_record_free(r);
        this.m._sotto_account_free(a);
      }
    });
  }

  /**
   * Decrypts an envelope from one peer device. Returns the payload the sender
   * authenticated and the new sealed account and record: store both before showing it.
   * On any failure nothing changes (and nothing is returned). With `expectedSigningKey`
   * (use it: the sending device's `signingKey` from the device list), a pre-key message
   * signed by another key or a record pinned to another is refused (code E_KEY_MISMATCH).
   */
  decrypt(
    account: Uint8Array,
    storageKey: Uint8Array,
    peer: PeerDevice,
    record: Uint8Array | null,
    envelope: Uint8Array,
    now: Date = new Date(),
    expectedSigningKey?: Uint8Array,
  ): { payload: Payload; account: Uint8Array; record: Uint8Array } {
    if (expectedSigningKey && expectedSigningKey.length !== KEY) throw new SottoError('a signing key is 32 bytes', -1);
    return this.scratch((h) => {
      const [ap, al] = this.open(h, account, 'account', storageKey);
      const pa = h.alloc(4), pr = h.alloc(4);
      this.check(this.m._sotto_account_deserialize(pa, ap, al), 'load account');
      const a = h.u32(pa);
      let r = 0;
      try {
        r = this.loadRecord(h, pr, peer, record, storageKey);
        const out = h.alloc(envelope.length), len = h.alloc(4);
        this.check(
          expectedSigningKey
            ? this.m._sotto_record_decrypt_expected(r, a, h.put(envelope), envelope.length, seconds(now),
                h.put(expectedSigningKey), out, envelope.length, len)
            : this.m._sotto_record_decrypt(r, a, h.put(envelope), envelope.length, seconds(now), out, envelope.length, len),
          'decrypt',
        );
        const payload = this.decodePayload(h, out, h.u32(len));
        const acct = this.sealAccount(h, a, storageKey);
        return { payload, account: acct, record: this.sealRecord(h, r, peer, storageKey) };
      } finally {
        if (r) this.m._sotto_record_free(r);
        this.m._sotto_account_free(a);
      }
    });
  }

  /**
   * Whether `record` has a session to encrypt with at `now` (sotto_record_has_session_at: a
   * pre-key session nobody answered for SOTTO_PENDING_MAX_AGE counts as none). No record: false.
   */
  hasSession(record: Uint8Array | null, peer: PeerDevice, storageKey: Uint8Array, now: Date = new Date()): boolean {
    if (!record) return false;
    return this.scratch((h) => {
      const pr = h.alloc(4);
      const r = this.loadRecord(h, pr, peer, record, storageKey);
      try {
        return this.m._sotto_record_has_session_at(r, seconds(now)) === 1;
      } finally {
        this.m._sotto_record_free(r);
      }
    });
  }

  /**
   * The account's key schedule in one call (sotto_account_maintain): rotates the signed
   * pre-key when due and prunes replaced keys and claimed one-time keys past retention.
   * Returns the new sealed account (store it before uploading anything) and, when it
   * rotated, the new signed pre-key for PUT /api/keys/signed-pre-key.
   */
  maintain(
    account: Uint8Array,
    storageKey: Uint8Array,
    now: Date = new Date(),
  ): { account: Uint8Array; signedPreKey: BundleJSON['signedPreKey'] | null } {
    let signedPreKey: BundleJSON['signedPreKey'] | null = null;
    const r = this.withAccount(account, storageKey, now, (a, h) => {
      const rotated = h.alloc(4);
      this.check(this.m._sotto_account_maintain(a, seconds(now), rotated), 'maintain');
      if (h.u32(rotated)) {
        const b = h.alloc(512), bytes = h.alloc(BUNDLE_BYTES);
        this.m._sotto_account_bundle(a, b);
        this.m._sotto_bundle_encode(b, bytes);
        signedPreKey = bundleJSON(h.get(bytes, BUNDLE_BYTES)).signedPreKey;
      }
    });
    return { account: r.account, signedPreKey };
  }

  /** The 60-digit safety number of two users, from their active devices' signing keys. */
  safetyNumber(userA: string, keysA: Uint8Array[], userB: string, keysB: Uint8Array[]): string {
    return this.scratch((h) => {
      const str = (s: string) => h.put(new TextEncoder().encode(s + '\0'));
      const keys = (ks: Uint8Array[]) => this.putKeys(h, ks);
      const out = h.alloc(61);
      this.check(
        this.m._sotto_safety_number(out, str(userA), keys(keysA), keysA.length, str(userB), keys(keysB), keysB.length),
        'safety number',
      );
      return this.m.UTF8ToString(out);
    });
  }

  /** A fresh account key: its 32-byte seed (the secret: seal it with the device's state) and
   *  its public key. */
  createAccountKey(): { seed: Uint8Array; publicKey: Uint8Array } {
    return this.scratch((h) => {
      const seed = h.alloc(KEY), pk = h.alloc(KEY);
      this.check(this.m._sotto_account_key_create(seed, pk), 'account key');
      return { seed: h.get(seed, KEY), publicKey: h.get(pk, KEY) };
    });
  }

  /** The signed list's bytes (devices in any order; the core sorts them). The seed's public
   *  key must be list.accountKey. */
  signDeviceList(list: DeviceList, seed: Uint8Array): Uint8Array {
    return this.scratch((h) => {
      const l = this.putList(h, list);
      const cap = this.m._sotto_device_list_signed_size(list.devices.length);
      if (cap === 0) throw new SottoError('a device list holds 1 to 64 devices', -1);
      const out = h.alloc(cap), len = h.alloc(4);
      this.check(this.m._sotto_device_list_sign(l, h.put(seed), out, cap, len), 'sign device list');
      return h.get(out, h.u32(len));
    });
  }

  /** Opens a signed list: its signature under the account key it names, and with `pinned`
   *  (the account key this client holds for the user) that key (E_UNTRUSTED otherwise). */
  openDeviceList(bytes: Uint8Array, pinned?: Uint8Array): DeviceList {
    return this.scratch((h) => {
      const l = h.alloc(LIST_STRUCT);
      this.check(this.m._sotto_device_list_open(l, h.put(bytes), bytes.length, pinned ? h.put(pinned) : 0), 'device list');
      return this.getList(h, l);
    });
  }

  /** Throws unless `next` may replace `seen` (both signed lists' bytes, both valid): the same
   *  user and account key, and a greater version or the very same list (E_REPLAY for a
   *  rollback or a fork, E_UNTRUSTED for another account key). */
  checkDeviceListUpdate(seen: Uint8Array, next: Uint8Array): void {
    this.scratch((h) => {
      const a = h.alloc(LIST_STRUCT), b = h.alloc(LIST_STRUCT);
      this.check(this.m._sotto_device_list_open(a, h.put(seen), seen.length, 0), 'device list');
      this.check(this.m._sotto_device_list_open(b, h.put(next), next.length, 0), 'device list');
      this.check(this.m._sotto_device_list_update_ok(a, b), 'device list update');
    });
  }

  /** Safety number version 2, over the two users' account keys. */
  safetyNumberAccounts(userA: string, accountKeyA: Uint8Array, userB: string, accountKeyB: Uint8Array): string {
    return this.scratch((h) => {
      const str = (s: string) => h.put(new TextEncoder().encode(s + '\0'));
      const out = h.alloc(61);
      this.check(
        this.m._sotto_safety_number_accounts(out, str(userA), h.put(accountKeyA), str(userB), h.put(accountKeyB)),
        'safety number',
      );
      return this.m.UTF8ToString(out);
    });
  }

  /* sotto_device_list in wasm32: user_id 0, account_key 16, version 48 (u64), issued_at 56,
   * n 64, devices 68 (device_id 16 || signing_key 32 each). */
  private putList(h: Heap, list: DeviceList): number {
    if (list.devices.length < 1 || list.devices.length > LIST_MAX) throw new SottoError('a device list holds 1 to 64 devices', -1);
    const l = h.alloc(LIST_STRUCT), H = this.m.HEAPU8, dv = new DataView(H.buffer);
    H.set(uuidBytes(list.userId), l);
    H.set(list.accountKey, l + 16);
    dv.setBigUint64(l + 48, BigInt(list.version), true);
    dv.setBigUint64(l + 56, BigInt(list.issuedAt), true);
    this.m.HEAPU32[(l + 64) >>> 2] = list.devices.length;
    list.devices.forEach((d, i) => {
      if (d.signingKey.length !== KEY) throw new SottoError('a signing key is 32 bytes', -1);
      H.set(uuidBytes(d.deviceId), l + 68 + 48 * i);
      H.set(d.signingKey, l + 68 + 48 * i + 16);
    });
    return l;
  }

  private getList(h: Heap, l: number): DeviceList {
    const H = this.m.HEAPU8, dv = new DataView(H.buffer), n = h.u32(l + 64);
    return {
      userId: uuidText(H.slice(l, l + 16)),
      accountKey: H.slice(l + 16, l + 48),
      version: Number(dv.getBigUint64(l + 48, true)),
      issuedAt: Number(dv.getBigUint64(l + 56, true)),
      devices: Array.from({ length: n }, (_, i) => ({
        deviceId: uuidText(H.slice(l + 68 + 48 * i, l + 84 + 48 * i)),
        signingKey: H.slice(l + 84 + 48 * i, l + 116 + 48 * i),
      })),
    };
  }

  /**
   * The 97-byte safety-number QR payload (sotto_safety_qr) for the same inputs as
   * safetyNumber(): what this device shows for the other side to scan.
   */
  safetyQr(userA: string, keysA: Uint8Array[], userB: string, keysB: Uint8Array[]): Uint8Array {
    return this.scratch((h) => {
      const str = (s: string) => h.put(new TextEncoder().encode(s + '\0'));
      const out = h.alloc(QR_BYTES);
      this.check(
        this.m._sotto_safety_qr(out, str(userA), this.putKeys(h, keysA), keysA.length, str(userB), this.putKeys(h, keysB), keysB.length),
        'safety QR',
      );
      return h.get(out, QR_BYTES);
    });
  }

  /** True when a scanned QR payload equals ours (compared in constant time). */
  safetyQrMatches(ours: Uint8Array, scanned: Uint8Array): boolean {
    if (ours.length !== QR_BYTES) throw new SottoError(`a safety QR payload is ${QR_BYTES} bytes`, -1);
    return this.scratch((h) => this.m._sotto_safety_qr_verify(h.put(ours), h.put(scanned), scanned.length) === 0);
  }

  /**
   * api.md's device proof for signing in again as this device: Ed25519, under the device's
   * signing key, over exactly "Sotto-v1-login" || email || unixSeconds (u64 big-endian).
   * The caller chooses only the email and the time; the signed bytes are fixed here.
   */
  loginProof(account: Uint8Array, storageKey: Uint8Array, email: string, unixSeconds: number): Uint8Array {
    if (!Number.isSafeInteger(unixSeconds) || unixSeconds < 0) throw new SottoError('bad proof time', -1);
    if (email.includes('\0')) throw new SottoError('bad email', -1);
    return this.scratch((h) => {
      const [p, n] = this.open(h, account, 'account', storageKey);
      const pa = h.alloc(4);
      this.check(this.m._sotto_account_deserialize(pa, p, n), 'load account');
      const a = h.u32(pa);
      try {
        const sig = h.alloc(SIG);
        this.check(this.m._sotto_account_login_proof(a, h.put(new TextEncoder().encode(email + '\0')), BigInt(unixSeconds), sig), 'login proof');
        return h.get(sig, SIG);
      } finally {
        this.m._sotto_account_free(a);
      }
    });
  }

  /**
   * Rotates the signed pre-key once it is a week old (SOTTO_SPK_ROTATION), pruning replaced
   * keys past their retention. Returns null when not due; otherwise the new signed pre-key
   * (contract shape, for PUT /api/keys/signed-pre-key) and the new sealed account, which the
   * caller stores before uploading.
   */
  rotateSignedPreKey(
    account: Uint8Array,
    storageKey: Uint8Array,
    now: Date = new Date(),
  ): { signedPreKey: BundleJSON['signedPreKey']; account: Uint8Array } | null {
    let due = false;
    let signedPreKey!: BundleJSON['signedPreKey'];
    const r = this.scratch((h) => {
      const [p, n] = this.open(h, account, 'account', storageKey);
      const pa = h.alloc(4);
      this.check(this.m._sotto_account_deserialize(pa, p, n), 'load account');
      const a = h.u32(pa);
      try {
        due = this.m._sotto_account_signed_pre_key_due(a, seconds(now)) === 1;
        if (!due) return null;
        this.check(this.m._sotto_account_rotate_signed_pre_key(a, seconds(now)), 'rotate signed pre-key');
        this.m._sotto_account_prune(a, seconds(now));
        const b = h.alloc(512), bytes = h.alloc(BUNDLE_BYTES);
        this.m._sotto_account_bundle(a, b);
        this.m._sotto_bundle_encode(b, bytes);
        signedPreKey = bundleJSON(h.get(bytes, BUNDLE_BYTES)).signedPreKey;
        return this.sealAccount(h, a, storageKey);
      } finally {
        this.m._sotto_account_free(a);
      }
    });
    return r ? { signedPreKey, account: r } : null;
  }

  /** Starts encrypting one attachment: a fresh key, released only by finish(). */
  /** Bytes a file of `size` bytes is padded to (zeros after it) before it is encrypted, so
   *  the server sees a size bucket, not the size; 0 for a file over ATTACHMENT_FILE_MAX. */
  attachmentPaddedSize(size: number): number {
    return Number(this.m._sotto_attachment_padded_size(BigInt(size)));
  }

  attachmentEncryptor(): AttachmentEncryptor {
    return new AttachmentEncryptor(this);
  }

  /** Starts decrypting one attachment with what its message carried. */
  attachmentDecryptor(key: Uint8Array, digest: Uint8Array, size: number): AttachmentDecryptor {
    return new AttachmentDecryptor(this, key, digest, size);
  }

  private withAccount(
    sealed: Uint8Array | null,
    storageKey: Uint8Array,
    now: Date,
    f: (a: number, h: Heap) => void,
  ): { account: Uint8Array } {
    return this.scratch((h) => {
      const pa = h.alloc(4);
      if (sealed) {
        const [p, n] = this.open(h, sealed, 'account', storageKey);
        this.check(this.m._sotto_account_deserialize(pa, p, n), 'load account');
      } else {
        this.check(this.m._sotto_account_create(pa, seconds(now)), 'create account');
      }
      const a = h.u32(pa);
      try {
        f(a, h);
        return { account: this.sealAccount(h, a, storageKey) };
      } finally {
        this.m._sotto_account_free(a);
      }
    });
  }

  /** n signing keys of 32 bytes each, packed into the heap. */
  private putKeys(h: Heap, ks: Uint8Array[]): number {
    const p = h.alloc(ks.length * KEY);
    ks.forEach((k, i) => {
      if (k.length !== KEY) throw new SottoError('a signing key is 32 bytes', -1);
      this.m.HEAPU8.set(k, p + i * KEY);
    });
    return p;
  }

  private loadRecord(h: Heap, pr: number, peer: PeerDevice, sealed: Uint8Array | null, key: Uint8Array): number {
    if (sealed) {
      const [p, n] = this.open(h, sealed, slotOf(peer), key);
      this.check(this.m._sotto_record_deserialize(pr, p, n), 'load record');
    } else {
      this.check(this.m._sotto_record_create(pr), 'create record');
    }
    return h.u32(pr);
  }

  private sealAccount(h: Heap, a: number, key: Uint8Array): Uint8Array {
    const n = this.m._sotto_account_serialized_size(a), p = h.alloc(n), len = h.alloc(4);
    this.check(this.m._sotto_account_serialize(a, p, n, len), 'save account');
    return this.seal(h, p, n, 'account', key);
  }

  private sealRecord(h: Heap, r: number, peer: PeerDevice, key: Uint8Array): Uint8Array {
    const n = this.m._sotto_record_serialized_size(r), p = h.alloc(n), len = h.alloc(4);
    this.check(this.m._sotto_record_serialize(r, p, n, len), 'save record');
    return this.seal(h, p, n, slotOf(peer), key);
  }

  /* sotto_payload in wasm32: ids 0/16, content_type 32, sent_at_ms 40 (u64), body ptr 48,
   * body_len 52, has_reply_to 56, reply_to 60, has_edit_of 76, edit_of 80, has_call 96,
   * call 100: call_id, caller_device_id, callee_device_id (16 each), call_type 148, signal 149. */
  private encodePayload(h: Heap, p: Payload): { p: number; len: number } {
    const s = h.alloc(PAYLOAD_STRUCT);
    const H = this.m.HEAPU8;
    const type = p.type ?? CONTENT.indexOf(p.contentType) + 1;
    if (!Number.isInteger(type) || type < 1 || type > 255) throw new SottoError('unknown content type', -1);
    H.set(uuidBytes(p.clientMessageId), s);
    H.set(uuidBytes(p.conversationId), s + 16);
    H[s + 32] = type;
    new DataView(H.buffer).setBigUint64(s + 40, BigInt(p.sentAt), true);
    this.m.HEAPU32[(s + 48) >>> 2] = h.put(p.body);
    this.m.HEAPU32[(s + 52) >>> 2] = p.body.length;
    if (p.replyTo) {
      this.m.HEAPU32[(s + 56) >>> 2] = 1;
      H.set(uuidBytes(p.replyTo), s + 60);
    }
    if (p.editOf) {
      this.m.HEAPU32[(s + 76) >>> 2] = 1;
      H.set(uuidBytes(p.editOf), s + 80);
    }
    if (p.call) this.putCall(s, p.call);
    if (p.attachments?.length) this.putFiles(h, s, p.attachments);
    const n = this.m._sotto_payload_encoded_size(s);
    if (n === 0) throw new SottoError('payload too large or invalid', -1);
    const out = h.alloc(n), len = h.alloc(4);
    this.check(this.m._sotto_payload_encode(s, out, n, len), 'payload');
    return { p: out, len: n };
  }

  private decodePayload(h: Heap, p: number, n: number): Payload {
    const s = h.alloc(PAYLOAD_STRUCT);
    this.check(this.m._sotto_payload_decode(s, p, n), 'payload');
    const H = this.m.HEAPU8;
    const bodyPtr = this.m.HEAPU32[(s + 48) >>> 2], bodyLen = this.m.HEAPU32[(s + 52) >>> 2];
    const type = H[s + 32];
    // Every type the core decodes is returned (a future one as 'unknown', with its number):
    // the caller commits the ratchet step and skips what it does not know.
    const payload: Payload = {
      clientMessageId: uuidText(H.slice(s, s + 16)),
      conversationId: uuidText(H.slice(s + 16, s + 32)),
      contentType: CONTENT[type - 1] ?? 'unknown',
      type,
      sentAt: Number(new DataView(H.buffer).getBigUint64(s + 40, true)),
      body: H.slice(bodyPtr, bodyPtr + bodyLen),
    };
    if (this.m.HEAPU32[(s + 56) >>> 2]) payload.replyTo = uuidText(H.slice(s + 60, s + 76));
    if (this.m.HEAPU32[(s + 76) >>> 2]) payload.editOf = uuidText(H.slice(s + 80, s + 96));
    if (this.m.HEAPU32[(s + 96) >>> 2]) payload.call = this.getCall(s);
    const files = this.m.HEAPU32[(s + 152) >>> 2];
    if (files) payload.attachments = this.getFiles(s, files);
    // the decoded struct holds the files' keys: wipe it before the heap is reused
    H.fill(0, s, s + PAYLOAD_STRUCT);
    return payload;
  }

  /* sotto_attachment_pointer in wasm32: id 0, key 16, digest 48, size 80 (u64), width 88,
   * height 92, duration_ms 96, name ptr 100 / len 104, type 108 / 112, thumbnail 116 / 120. */
  private putFiles(h: Heap, s: number, files: AttachmentPointer[]): void {
    if (files.length > ATTACHMENTS_MAX) throw new SottoError(`at most ${ATTACHMENTS_MAX} files`, -1);
    const H = this.m.HEAPU8, U = this.m.HEAPU32, enc = new TextEncoder();
    const view = new DataView(H.buffer);
    U[(s + 152) >>> 2] = files.length;
    files.forEach((f, i) => {
      const a = s + POINTERS_AT + i * POINTER_STRUCT;
      if (f.key.length !== KEY || f.digest.length !== KEY) throw new SottoError('a file key or digest is 32 bytes', -1);
      if (!Number.isSafeInteger(f.size) || f.size < 0) throw new SottoError('bad file size', -1);
      const name = enc.encode(f.name), type = enc.encode(f.type), thumb = f.thumbnail ?? new Uint8Array(0);
      H.set(uuidBytes(f.id), a);
      H.set(f.key, a + 16);
      H.set(f.digest, a + 48);
      view.setBigUint64(a + 80, BigInt(f.size), true);
      U[(a + 88) >>> 2] = f.width >>> 0;
      U[(a + 92) >>> 2] = f.height >>> 0;
      U[(a + 96) >>> 2] = f.durationMs >>> 0;
      U[(a + 100) >>> 2] = h.put(name);
      U[(a + 104) >>> 2] = name.length;
      U[(a + 108) >>> 2] = h.put(type);
      U[(a + 112) >>> 2] = type.length;
      U[(a + 116) >>> 2] = thumb.length ? h.put(thumb) : 0;
      U[(a + 120) >>> 2] = thumb.length;
    });
  }

  private getFiles(s: number, n: number): AttachmentPointer[] {
    const H = this.m.HEAPU8, U = this.m.HEAPU32, dec = new TextDecoder('utf-8', { fatal: true });
    const view = new DataView(H.buffer), out: AttachmentPointer[] = [];
    for (let i = 0; i < n; i += 1) {
      const a = s + POINTERS_AT + i * POINTER_STRUCT;
      const str = (at: number) => dec.decode(H.subarray(U[at >>> 2], U[at >>> 2] + U[(at + 4) >>> 2]));
      const thumbLen = U[(a + 120) >>> 2], thumbAt = U[(a + 116) >>> 2];
      const f: AttachmentPointer = {
        id: uuidText(H.slice(a, a + 16)),
        key: H.slice(a + 16, a + 48),
        digest: H.slice(a + 48, a + 80),
        size: Number(view.getBigUint64(a + 80, true)),
        width: U[(a + 88) >>> 2],
        height: U[(a + 92) >>> 2],
        durationMs: U[(a + 96) >>> 2],
        name: str(a + 100),
        type: str(a + 108),
      };
      if (thumbLen) f.thumbnail = H.slice(thumbAt, thumbAt + thumbLen);
      out.push(f);
    }
    return out;
  }

  private putCall(s: number, c: CallBinding): void {
    const H = this.m.HEAPU8;
    const type = CALL_TYPES.indexOf(c.callType) + 1, signal = SIGNALS.indexOf(c.signal) + 1;
    if (type === 0 || signal === 0) throw new SottoError('unknown call type or signal', -1);
    this.m.HEAPU32[(s + 96) >>> 2] = 1;
    H.set(uuidBytes(c.callId), s + 100);
    H.set(uuidBytes(c.callerDeviceId), s + 116);
    H.set(uuidBytes(c.calleeDeviceId), s + 132);
    H[s + 148] = type;
    H[s + 149] = signal;
  }

  private getCall(s: number): CallBinding {
    const H = this.m.HEAPU8;
    return {
      callId: uuidText(H.slice(s + 100, s + 116)),
      callerDeviceId: uuidText(H.slice(s + 116, s + 132)),
      calleeDeviceId: uuidText(H.slice(s + 132, s + 148)),
      callType: CALL_TYPES[H[s + 148] - 1],
      signal: SIGNALS[H[s + 149] - 1],
    };
  }
}

const CHUNK = 65536;
const CHUNK_OVERHEAD = 17;

/** One attachment's encryption: the header first, then chunk() per 64 KiB, then finish(). */
export class AttachmentEncryptor {
  readonly header: Uint8Array;
  private st: number;
  private key: Uint8Array;

  /** @internal */
  constructor(private s: Sotto) {
    const r = s.scratch((h) => {
      const pp = h.alloc(4), k = h.alloc(KEY), hd = h.alloc(24);
      s.check(s.m._sotto_attachment_encrypt_create(pp, k, hd), 'attachment');
      return { st: h.u32(pp), key: h.get(k, KEY), header: h.get(hd, 24) };
    });
    this.st = r.st;
    this.key = r.key;
    this.header = r.header;
  }

  /** Exactly 64 KiB, or fewer with last = true (the final chunk, possibly empty). */
  chunk(data: Uint8Array, last: boolean): Uint8Array {
    return this.s.scratch((h) => {
      const out = h.alloc(data.length + CHUNK_OVERHEAD);
      this.s.check(this.s.m._sotto_attachment_encrypt_chunk(this.st, h.put(data), data.length, last ? 1 : 0, out), 'attachment chunk');
      return h.get(out, data.length + CHUNK_OVERHEAD);
    });
  }

  /** After the last chunk: what the message must carry. Frees the stream state. */
  finish(): { key: Uint8Array; digest: Uint8Array } {
    try {
      return this.s.scratch((h) => {
        const d = h.alloc(32);
        this.s.check(this.s.m._sotto_attachment_encrypt_final(this.st, d), 'attachment final');
        return { key: this.key, digest: h.get(d, 32) };
      });
    } finally {
      this.s.m._sotto_attachment_free(this.st);
      this.st = 0;
    }
  }
}

/** One attachment's decryption: update() with ciphertext in any pieces, then finish().
 * What update() returns is provisional: keep it aside until finish() has returned. */
export class AttachmentDecryptor {
  private st: number;

  /** @internal */
  constructor(private s: Sotto, key: Uint8Array, digest: Uint8Array, size: number) {
    this.st = s.scratch((h) => {
      const pp = h.alloc(4);
      s.check(s.m._sotto_attachment_decrypt_create(pp, h.put(key), h.put(digest), BigInt(size)), 'attachment');
      return h.u32(pp);
    });
  }

  update(data: Uint8Array): Uint8Array {
    return this.s.scratch((h) => {
      const out = h.alloc(data.length + CHUNK), len = h.alloc(4);
      this.s.check(this.s.m._sotto_attachment_decrypt_update(this.st, h.put(data), data.length, out, len), 'attachment');
      return h.get(out, h.u32(len));
    });
  }

  /** Throws unless the stream ended with its final chunk and size and digest match. */
  finish(): void {
    try {
      this.s.check(this.s.m._sotto_attachment_decrypt_final(this.st), 'attachment');
    } finally {
      this.s.m._sotto_attachment_free(this.st);
      this.st = 0;
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

function seconds(d: Date): bigint {
  return BigInt(Math.floor(d.getTime() / 1000));
}

function slotOf(peer: PeerDevice): string {
  return `peer:${peer.userId}:${peer.deviceId}`;
}

/* The bundle's byte form (sotto.h, SOTTO_BUNDLE_BYTES) to and from the contract's JSON. */
function bundleJSON(b: Uint8Array): BundleJSON {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    identityKey: b64(b.slice(0, 32)),
    signingKey: b64(b.slice(32, 64)),
    identitySignature: b64(b.slice(64, 128)),
    signedPreKey: { keyId: v.getUint32(128), publicKey: b64(b.slice(132, 164)), signature: b64(b.slice(164, 228)) },
  };
}

function claimedBytes(c: ClaimedBundleJSON): Uint8Array {
  const b = new Uint8Array(BUNDLE_BYTES);
  const v = new DataView(b.buffer);
  b.set(unb64(c.identityKey, KEY), 0);
  b.set(unb64(c.signingKey, KEY), 32);
  b.set(unb64(c.identitySignature, SIG), 64);
  v.setUint32(128, c.signedPreKey.keyId);
  b.set(unb64(c.signedPreKey.publicKey, KEY), 132);
  b.set(unb64(c.signedPreKey.signature, SIG), 164);
  if (c.oneTimePreKey) {
    b[228] = 1;
    v.setUint32(229, c.oneTimePreKey.keyId);
    b.set(unb64(c.oneTimePreKey.publicKey, KEY), 233);
  }
  return b;
}
