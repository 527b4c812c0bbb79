/* The crypto worker: the only code that touches libsotto (WebAssembly), the device's keys,
 * the ratchet state and the local history at rest. Every operation that changes crypto state
 * commits it (with any plaintext it produced) to IndexedDB before it answers, so the caller
 * may then send or acknowledge. */
/// <reference lib="webworker" />
import createSotto from '@sotto-wasm/libsotto.mjs';
import wasmUrl from '@sotto-wasm/libsotto.wasm?url';
import { E_KEY_MISMATCH, loadSotto, SottoError, type Payload, type Sotto } from '@sotto-core/sotto';
import { fromBase64, toBase64 } from '../lib/bytes';
import { isLocalId } from '../lib/uuid';
import { foldedIncludes } from '../lib/fold';
import type { ContactTrust, ConversationMeta, LocalMessage, MessageStatus } from '../state/types';
import {
  FORMAT,
  FORMAT_KEY,
  isWrapped,
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
  type StoredKey,
} from './atrest';
import { decryptAbort, decryptFinish, decryptOpen, decryptPart, encryptFile, fromPointer, toPointer } from './files';
import { deleteVerdict, editTarget, payloadAction, refusalOf, resendFills, resendSourceVerdict } from './rules';
import { commit, deleteDatabase, get, openDatabase, request, type Write } from './idb';
import type {
  CallSignal,
  Encrypted,
  Incoming,
  KeyUpkeep,
  OutgoingPayload,
  Profile,
  RequestName,
  Requests,
  WorkerRequest,
  WorkerResponse,
} from './protocol';

declare const self: DedicatedWorkerGlobalScope;

/** A message row: ids, order and status in clear (the server knows them), the rest sealed. */
interface MessageRow {
  id: string;
  clientMessageId: string;
  conversationId: string;
  senderId: string;
  ts: number;
  status: MessageStatus;
  sealed: Sealed;
}
type SealedPart = Pick<
  LocalMessage,
  | 'body'
  | 'kind'
  | 'replyTo'
  | 'editedAt'
  | 'deleted'
  | 'noticeUserId'
  | 'senderDeviceId'
  | 'security'
  | 'resent'
  | 'awaiting'
  | 'resentFor'
  | 'deleteState'
  | 'files'
>;
/** The security notice standing in for a refused queue item (a redelivery is a duplicate). */
const refusedId = (messageId: string) => `security:${messageId}`;
/** A control payload (delete, retry, resend, unknown type) is no history row: its id is
 *  remembered in kv so that a redelivery is a duplicate (the CLI's `ctl:<id>`). */
const controlId = (messageId: string) => `ctl:${messageId}`;
/** This device sent a retry for the message (so a resend of it is accepted). */
const askedId = (messageId: string) => `retry:${messageId}`;
/** This device resent its message once (never twice). */
const resentId = (messageId: string) => `resent:${messageId}`;
/** The engine's retry bookkeeping (engine/retries.ts), one sealed kv entry per key. */
const ledgerId = (key: string) => `ledger:${key}`;
/** SOTTO_E_REPLAY: an envelope seen before is no reason to ask again. */
const E_REPLAY = -7;

const ONE_TIME_KEY_LOW = 25;
const ONE_TIME_KEY_BATCH = 75;
/** A rotated signed pre-key not yet uploaded (sealed kv). */
const SPK_UPLOAD = 'spkUpload';

let db: IDBDatabase | null = null;
let dbKey: CryptoKey | null = null;
let sotto: Sotto | null = null;
let storageKey: Uint8Array | null = null;
let profile: Profile | null = null;
let lastProofTime = 0;
const enc = new TextEncoder();
const dec = new TextDecoder();

async function wasm(): Promise<Sotto> {
  if (!sotto) {
    const bin = new Uint8Array(await (await fetch(wasmUrl)).arrayBuffer());
    sotto = await loadSotto(createSotto, bin);
  }
  return sotto;
}

/** Argon2id from libsotto, for the passphrase lock (atrest.ts). */
async function passphraseKdf(): Promise<PassphraseKdf> {
  const s = await wasm();
  return (passphrase, salt, ops, memKiB) => s.passphraseKey(passphrase, salt, ops, memKiB);
}

function need<T>(v: T | null, what: string): T {
  if (v === null) throw new Error(`${what} is not available`);
  return v;
}
const theDb = () => need(db, 'the database');
const theKey = () => need(dbKey, 'the database key (locked?)');

async function kvGetJSON<T>(k: string): Promise<T | null> {
  const s = await get<Sealed>(theDb(), 'kv', k);
  return s ? openJSON<T>(theKey(), s, kvSlot(k)) : null;
}
async function kvSealed(k: string, v: unknown): Promise<Write> {
  return { store: 'kv', key: k, value: await sealJSON(theKey(), v, kvSlot(k)) };
}
async function kvGetBytes(k: string): Promise<Uint8Array | null> {
  return (await get<Uint8Array>(theDb(), 'kv', k)) ?? null;
}

async function loadStorageKey(): Promise<Uint8Array | null> {
  if (storageKey) return storageKey;
  const s = await get<Sealed>(theDb(), 'kv', 'storageKey');
  if (!s) return null;
  storageKey = await openBytes(theKey(), s, kvSlot('storageKey'));
  return storageKey;
}

async function account(): Promise<{ s: Sotto; key: Uint8Array; acct: Uint8Array }> {
  const s = await wasm();
  const key = need(await loadStorageKey(), 'the device key');
  const acct = need(await kvGetBytes('account'), 'the device account');
  return { s, key, acct };
}

const slot = (userId: string, deviceId: string) => `peer:${userId}:${deviceId}`;

/** The payload libsotto encodes for one target (a sync copy of a text for this user's devices). */
function payloadOf(payload: OutgoingPayload, sync: boolean): Payload {
  return {
    clientMessageId: payload.clientMessageId,
    conversationId: payload.conversationId,
    contentType: sync && payload.contentType === 'text' ? 'sync' : payload.contentType,
    sentAt: payload.sentAt,
    body: enc.encode(payload.body),
    replyTo: payload.replyTo,
    editOf: payload.editOf,
    call: payload.call, // libsotto requires it on a call signal and refuses it on anything else
    attachments: payload.attachments?.map(toPointer),
  };
}

async function rowOf(m: LocalMessage): Promise<MessageRow> {
  const part: SealedPart = {
    body: m.body,
    kind: m.kind,
    replyTo: m.replyTo,
    editedAt: m.editedAt,
    deleted: m.deleted,
    noticeUserId: m.noticeUserId,
    senderDeviceId: m.senderDeviceId,
    security: m.security,
    resent: m.resent,
    awaiting: m.awaiting,
    resentFor: m.resentFor,
    deleteState: m.deleteState,
    files: m.files,
  };
  return {
    id: m.id,
    clientMessageId: m.clientMessageId,
    conversationId: m.conversationId,
    senderId: m.senderId,
    ts: m.ts,
    status: m.status,
    sealed: await sealJSON(theKey(), part, messageSlot(m)),
  };
}
async function messageOf(r: MessageRow): Promise<LocalMessage> {
  const part = await openJSON<SealedPart>(theKey(), r.sealed, messageSlot(r));
  return {
    id: r.id,
    clientMessageId: r.clientMessageId,
    conversationId: r.conversationId,
    senderId: r.senderId,
    ts: r.ts,
    status: r.status,
    ...part,
  };
}
async function getRow(id: string): Promise<MessageRow | undefined> {
  return get<MessageRow>(theDb(), 'messages', id);
}

function byConversation(rows: MessageRow[]): Map<string, MessageRow[]> {
  const out = new Map<string, MessageRow[]>();
  for (const r of rows) {
    const list = out.get(r.conversationId);
    if (list) list.push(r);
    else out.set(r.conversationId, [r]);
  }
  return out;
}

/** Ids of the other participant's messages after `after` (and up to `upTo`), oldest first;
 *  deleted ones do not count (the server's unread count leaves them out too). */
async function unreadOf(rows: MessageRow[], me: string, after: string, upTo?: string): Promise<string[]> {
  const out: string[] = [];
  const candidates = rows
    .filter((r) => r.senderId !== me && !isLocalId(r.id) && !isNoticeId(r.id) && r.id > after && (upTo === undefined || r.id <= upTo))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const r of candidates) if (!(await messageOf(r)).deleted) out.push(r.id);
  return out;
}

/** Notices (key changes, security) are no one's message: never unread. */
function isNoticeId(id: string): boolean {
  return id.startsWith('notice:') || id.startsWith('security:');
}

/** Databases from before slot binding are re-sealed once, under a new key (atrest.ts). */
async function upgradeFormat(key: CryptoKey, passphrase: string | null): Promise<CryptoKey> {
  const d = theDb();
  if ((await get<number>(d, 'keys', FORMAT_KEY)) === FORMAT) return key;
  const next = passphrase ? await newWrappedKey(passphrase, await passphraseKdf()) : null;
  const k = next ? next.key : await newDatabaseKey();
  await migrateToBound(d, key, k, next ? next.stored : k);
  return k;
}

function bodyText(p: Payload): string {
  return dec.decode(p.body);
}
function filesOf(p: Payload): LocalMessage['files'] {
  return p.attachments?.length ? p.attachments.map(fromPointer) : undefined;
}

/* ------------------------------------------------------------------ operations */

type Handler<K extends RequestName> = (arg: Requests[K][0]) => Promise<Requests[K][1]>;
type Handlers = { [K in RequestName]: Handler<K> };

const ops: Handlers = {
  async open() {
    db ??= await openDatabase();
    let stored = await get<StoredKey>(db, 'keys', 'db');
    if (!stored) {
      stored = await newDatabaseKey();
      await commit(db, [
        { store: 'keys', key: 'db', value: stored },
        { store: 'keys', key: FORMAT_KEY, value: FORMAT },
      ]);
    }
    if (!isWrapped(stored) && !dbKey) dbKey = await upgradeFormat(stored, null);
    if (!dbKey) return { profile: null, locked: true, hasAccount: true };
    profile = await kvGetJSON<Profile>('profile');
    const hasAccount = (await kvGetBytes('account')) !== null;
    return { profile, locked: false, hasAccount };
  },

  async unlock({ passphrase }) {
    const stored = await get<StoredKey>(theDb(), 'keys', 'db');
    if (!stored || !isWrapped(stored)) return { ok: true };
    const k = await unwrapKey(passphrase, stored, await passphraseKdf());
    if (!k) return { ok: false };
    // A record from before Argon2id: the same database key, wrapped again with it.
    if (k.upgraded) await commit(theDb(), [{ store: 'keys', key: 'db', value: k.upgraded }]);
    // A database from before slot binding: re-sealed under a new key wrapped the same way.
    dbKey = await upgradeFormat(k.key, passphrase);
    return { ok: true };
  },

  async setPassphrase({ passphrase }) {
    // A new key either way, and everything re-encrypted under it: the old key (readable by
    // anyone with the profile directory) then protects nothing.
    const old = theKey();
    const next = passphrase ? await newWrappedKey(passphrase, await passphraseKdf()) : null;
    const key = next ? next.key : await newDatabaseKey();
    const writes: Write[] = [{ store: 'keys', key: 'db', value: next ? next.stored : key }];
    const d = theDb();
    const kvKeys = (await request(d.transaction('kv').objectStore('kv').getAllKeys())) as string[];
    for (const k of kvKeys) {
      const v = await get<Sealed | Uint8Array>(d, 'kv', k);
      if (v && !(v instanceof Uint8Array)) {
        writes.push({ store: 'kv', key: k, value: await sealBytes(key, await openBytes(old, v, kvSlot(k)), kvSlot(k)) });
      }
    }
    const rows = (await request(d.transaction('messages').objectStore('messages').getAll())) as MessageRow[];
    for (const r of rows) {
      const slot = messageSlot(r);
      writes.push({ store: 'messages', value: { ...r, sealed: await sealBytes(key, await openBytes(old, r.sealed, slot), slot) } });
    }
    await commit(d, writes);
    dbKey = key;
  },

  async createDevice({ oneTimeKeys }) {
    const s = await wasm();
    const key = s.newStorageKey();
    const acct = s.createDevice(key);
    const pub = s.publicBundle(acct, key, oneTimeKeys);
    // A new device replaces whatever was here (another account's history included).
    const d = theDb();
    const tx = d.transaction(['kv', 'messages'], 'readwrite');
    tx.objectStore('kv').clear();
    tx.objectStore('messages').clear();
    await new Promise<void>((res, rej) => {
      tx.oncomplete = () => res();
      tx.onerror = () => rej(tx.error ?? new Error('transaction failed'));
    });
    await commit(d, [
      { store: 'kv', key: 'storageKey', value: await sealBytes(theKey(), key, kvSlot('storageKey')) },
      { store: 'kv', key: 'account', value: pub.account },
    ]);
    storageKey = key;
    profile = null;
    return { bundle: pub.bundle };
  },

  async bindProfile(p) {
    await commit(theDb(), [await kvSealed('profile', p)]);
    profile = p;
  },

  async loginProof({ email }) {
    if (!profile || profile.email.toLowerCase() !== email.toLowerCase()) return null;
    const { s, key, acct } = await account();
    // The server remembers every proof and refuses one twice, even after a wrong password or
    // an MFA prompt; the signature is deterministic, so two attempts in one second would be
    // the same proof. Each attempt gets a later second.
    const proofTime = Math.max(Math.floor(Date.now() / 1000), lastProofTime + 1);
    lastProofTime = proofTime;
    return { proof: toBase64(s.loginProof(acct, key, email, proofTime)), proofTime };
  },

  async missingSessions({ peers, now }) {
    const { s, key } = await account();
    const out = [];
    for (const p of peers) if (!s.hasSession(await kvGetBytes(slot(p.userId, p.deviceId)), p, key, new Date(now))) out.push(p);
    return out;
  },

  async encrypt({ targets, payload, marks }): Promise<Encrypted> {
    const { s, key, acct } = await account();
    const writes: Write[] = [];
    const envelopes = [];
    const now = new Date();
    for (const t of targets) {
      const peer = { userId: t.userId, deviceId: t.deviceId };
      // A fresh session (a resend to the device that asked): the existing record is not used.
      const record = t.fresh && t.claimed ? null : await kvGetBytes(slot(t.userId, t.deviceId));
      const p = payloadOf(payload, !!t.sync);
      let r;
      try {
        r = s.encrypt(acct, key, peer, record, p, t.claimed ?? undefined, { expectedSigningKey: fromBase64(t.expectedSigningKey), now });
      } catch (e) {
        // Not the listed key (a claimed bundle, or a session pinned to another): nothing of
        // this message is committed or sent.
        if (e instanceof SottoError && e.code === E_KEY_MISMATCH) {
          return {
            ok: false,
            refused: peer,
            reason: t.claimed && !s.hasSession(record, peer, key, now) ? 'claimed-key-mismatch' : 'key-mismatch',
          };
        }
        throw e;
      }
      writes.push({ store: 'kv', key: slot(t.userId, t.deviceId), value: r.record });
      envelopes.push({ deviceId: t.deviceId, type: r.envelope.type, ciphertext: toBase64(r.envelope.ciphertext) });
    }
    for (const k of marks ?? []) writes.push(await kvSealed(k, Date.now()));
    await commit(theDb(), writes); // state committed before the caller sends
    return { ok: true, envelopes };
  },

  async decryptCall({ from, envelope, expected }): Promise<CallSignal> {
    if ('refuse' in expected) return { ok: false, reason: 'refused' };
    const { s, key, acct } = await account();
    const record = await kvGetBytes(slot(from.userId, from.deviceId));
    let r;
    try {
      r = s.decrypt(acct, key, from, record, fromBase64(envelope.ciphertext), new Date(), fromBase64(expected.signingKey));
    } catch (e) {
      return { ok: false, reason: e instanceof SottoError && refusalOf(e.code) ? 'refused' : 'failed' };
    }
    await commit(theDb(), [
      { store: 'kv', key: 'account', value: r.account },
      { store: 'kv', key: slot(from.userId, from.deviceId), value: r.record },
    ]);
    const p = r.payload;
    return { ok: true, conversationId: p.conversationId, contentType: p.contentType, body: dec.decode(p.body), call: p.call };
  },

  async decrypt({ message, kind, expected }): Promise<Incoming> {
    const me = need(profile, 'the profile').userId;
    const existing = await getRow(message.id);
    if (kind === 'new' && (existing || (await getRow(refusedId(message.id))) || (await get(theDb(), 'kv', controlId(message.id))))) {
      return { kind: 'duplicate' };
    }
    const ts = Date.parse(message.sentAt) || Date.now();
    /* Refused for security: a notice in its place (naming the claimed sender and device), with
     * `also` (the ratchet step of a refused edit that did decrypt), and nothing else. */
    const refuse = async (reason: NonNullable<LocalMessage['security']>['reason'], also: Write[] = []): Promise<Incoming> => {
      const id = kind === 'new' ? refusedId(message.id) : `security:edit:${crypto.randomUUID()}`;
      const m: LocalMessage = {
        id,
        clientMessageId: message.id,
        conversationId: message.conversationId,
        senderId: message.senderId,
        ts,
        body: '',
        kind: 'security',
        status: 'read',
        noticeUserId: message.senderId,
        security: { reason, deviceId: message.senderDeviceId },
      };
      await commit(theDb(), [...also, { store: 'messages', value: await rowOf(m) }]);
      return { kind: 'refused', message: m };
    };
    if ('refuse' in expected) return refuse(expected.refuse);
    const failed = async (retry = false): Promise<Incoming> => {
      if (existing) return { kind: 'duplicate' };
      const m: LocalMessage = {
        id: message.id,
        clientMessageId: message.id,
        conversationId: message.conversationId,
        senderId: message.senderId,
        ts,
        body: '',
        kind: 'undecryptable',
        status: message.status,
        // The device the server labelled it with: only that device may delete it.
        senderDeviceId: message.senderDeviceId,
      };
      await commit(theDb(), [{ store: 'messages', value: await rowOf(m) }]);
      return { kind: 'failed', message: m, retry: retry && kind === 'new' };
    };
    if (!message.envelope) return failed();
    const { s, key, acct } = await account();
    const peer = { userId: message.senderId, deviceId: message.senderDeviceId };
    const record = await kvGetBytes(slot(peer.userId, peer.deviceId));
    let r;
    try {
      r = s.decrypt(acct, key, peer, record, fromBase64(message.envelope.ciphertext), new Date(), fromBase64(expected.signingKey));
    } catch (e) {
      // Sealed by other keys than those listed and accepted for that device: never its message.
      const reason = e instanceof SottoError ? refusalOf(e.code) : null;
      if (reason) return refuse(reason);
      // Not readable here: kept as undecryptable, and its sender device is asked to resend it
      // (not for a replay: that one was read before).
      return failed(!(e instanceof SottoError && e.code === E_REPLAY));
    }
    const p = r.payload;
    const writes: Write[] = [
      { store: 'kv', key: 'account', value: r.account },
      { store: 'kv', key: slot(peer.userId, peer.deviceId), value: r.record },
    ];
    let out: Incoming;
    if (p.conversationId !== message.conversationId) {
      // The payload names another conversation: the server (or a bug) moved it. Keep the
      // ratchet step, show nothing from it.
      await commit(theDb(), writes);
      return failed();
    }
    const action = payloadAction(kind, p.contentType);
    if (action === 'delete') {
      // Applied only when the user who authenticated it sent the target (for an undecryptable
      // row: the device it was labelled with); another's is refused and noted.
      const row = p.editOf ? await getRow(p.editOf) : undefined;
      const target = row ? await messageOf(row) : null;
      const verdict = deleteVerdict(p, message, target);
      if (verdict === 'refuse') return refuse('refused-delete', writes);
      writes.push(await kvSealed(controlId(message.id), { type: p.type, target: p.editOf }));
      if (verdict === 'apply' && target) {
        const m: LocalMessage = { ...target, body: '', deleted: true, replyTo: undefined, files: undefined };
        writes.push({ store: 'messages', value: await rowOf(m) });
        await commit(theDb(), writes);
        return { kind: 'deleted', message: m };
      }
      await commit(theDb(), writes);
      return { kind: 'control' };
    }
    if (action === 'retry') {
      // The engine decides whether to answer (resendSource, rate limits, the requester).
      writes.push(await kvSealed(controlId(message.id), { type: p.type, target: p.editOf }));
      await commit(theDb(), writes);
      const from = { userId: message.senderId, deviceId: message.senderDeviceId };
      return p.editOf && kind === 'new'
        ? { kind: 'control', retry: { target: p.editOf, conversationId: p.conversationId, from } }
        : { kind: 'control' };
    }
    if (action === 'resend') {
      // Fills the row it asked for, from the device it was labelled with; else ignored silently.
      const row = p.editOf ? await getRow(p.editOf) : undefined;
      const target = row ? await messageOf(row) : null;
      const asked = !!p.editOf && (await get(theDb(), 'kv', askedId(p.editOf))) !== undefined;
      writes.push(await kvSealed(controlId(message.id), { type: p.type, target: p.editOf }));
      if (target && resendFills(p, message, target, asked)) {
        const m: LocalMessage = {
          ...target,
          clientMessageId: p.clientMessageId,
          body: bodyText(p),
          kind: 'text',
          replyTo: p.replyTo,
          files: filesOf(p),
          resent: true,
          awaiting: undefined,
          status: message.senderId === me ? 'sent' : 'delivered',
        };
        writes.push({ store: 'messages', value: await rowOf(m) });
        await commit(theDb(), writes);
        return { kind: 'message', message: m };
      }
      await commit(theDb(), writes);
      return { kind: 'control' };
    }
    if (action === 'skip') {
      // Authentic, but nothing to show (a type this client does not know): the ratchet step is
      // kept, the id remembered, nothing shown.
      writes.push(await kvSealed(controlId(message.id), { type: p.type, target: p.editOf }));
      await commit(theDb(), writes);
      return { kind: 'control' };
    }
    if (action === 'edit') {
      // An edit only when the payload says it is one, of the message the server names (for a
      // message:new, of the one it names itself), by that message's own sender: same user and
      // same device. Anything else is refused and noted.
      const named = kind === 'edited' ? message.id : p.editOf;
      const row = named ? await getRow(named) : undefined;
      const target = row ? await messageOf(row) : null;
      if (!target || !editTarget(kind, p, message, target)) return refuse('refused-edit', writes);
      const m = { ...target, body: bodyText(p), editedAt: Date.parse(message.editedAt ?? '') || Date.now() };
      writes.push({ store: 'messages', value: await rowOf(m) });
      out = { kind: 'edited', message: m };
    } else {
      const m: LocalMessage = {
        id: message.id,
        clientMessageId: p.clientMessageId,
        conversationId: message.conversationId,
        senderId: message.senderId,
        ts,
        body: bodyText(p),
        kind: 'text',
        status: message.senderId === me ? message.status : 'delivered',
        replyTo: p.replyTo,
        senderDeviceId: message.senderDeviceId,
        files: filesOf(p),
      };
      writes.push({ store: 'messages', value: await rowOf(m) });
      out = { kind: 'message', message: m };
    }
    await commit(theDb(), writes); // plaintext and ratchet state together, before the ack
    return out;
  },

  async resendSource({ target, conversationId }) {
    const me = need(profile, 'the profile');
    const row = await getRow(target);
    const m = row ? await messageOf(row) : null;
    const resent = (await get(theDb(), 'kv', resentId(target))) !== undefined;
    const verdict = resendSourceVerdict(m, me, { target, conversationId }, resent);
    return verdict === 'ok' && m ? { ok: true, message: m } : { ok: false, reason: verdict === 'ok' ? 'not-ours' : verdict };
  },

  async ledgerList({ prefix }) {
    const d = theDb();
    const first = ledgerId(prefix);
    const range = IDBKeyRange.bound(first, `${first}\uffff`);
    const keys = (await request(d.transaction('kv').objectStore('kv').getAllKeys(range))) as string[];
    const out = [];
    for (const k of keys) {
      const v = await kvGetJSON<unknown>(k);
      if (v !== null) out.push({ key: k.slice('ledger:'.length), value: v });
    }
    return out;
  },

  async ledgerWrite({ entries }) {
    const writes: Write[] = [];
    for (const e of entries) {
      writes.push(e.value === null ? { store: 'kv', key: ledgerId(e.key), del: true } : await kvSealed(ledgerId(e.key), e.value));
    }
    await commit(theDb(), writes);
  },

  async pruneMarks({ before }) {
    const d = theDb();
    const keys = (await request(d.transaction('kv').objectStore('kv').getAllKeys())) as string[];
    const writes: Write[] = [];
    for (const k of keys.filter((x) => x.startsWith('retry:') || x.startsWith('resent:'))) {
      const at = await kvGetJSON<number>(k);
      if (typeof at !== 'number' || at < before) writes.push({ store: 'kv', key: k, del: true });
    }
    await commit(d, writes);
    return writes.length;
  },

  async annotate({ id, awaiting, resentFor, deleteState }) {
    const row = await getRow(id);
    if (!row) return null;
    const m = await messageOf(row);
    const next: LocalMessage = { ...m };
    if (awaiting !== undefined && m.kind === 'undecryptable' && !m.deleted) next.awaiting = awaiting ?? undefined;
    if (resentFor && m.kind === 'text' && m.senderId === profile?.userId) next.resentFor = resentFor;
    if (deleteState !== undefined && !m.deleted) next.deleteState = deleteState ?? undefined;
    await commit(theDb(), [{ store: 'messages', value: await rowOf(next) }]);
    return next;
  },

  async markDeleted({ id }) {
    const row = await getRow(id);
    if (!row) return null;
    const m: LocalMessage = {
      ...(await messageOf(row)),
      body: '',
      deleted: true,
      replyTo: undefined,
      deleteState: undefined,
      files: undefined,
    };
    await commit(theDb(), [{ store: 'messages', value: await rowOf(m) }]);
    return m;
  },

  async saveMessage(m) {
    await commit(theDb(), [{ store: 'messages', value: await rowOf(m) }]);
  },

  async confirmSent({ localId, id, ts }) {
    const row = await getRow(localId);
    if (!row) return null;
    const already = await getRow(id);
    const status: MessageStatus = already && already.status !== 'pending' && already.status !== 'queued' ? already.status : 'sent';
    // The row's slot names its id: re-sealed for the new one.
    const next: MessageRow = { ...(await rowOf({ ...(await messageOf(row)), id, ts })), status };
    await commit(theDb(), [
      { store: 'messages', key: localId, del: true },
      { store: 'messages', value: next },
    ]);
    return messageOf(next);
  },

  async setStatus({ conversationId, upTo, ids, status, mineOnly }) {
    const me = profile?.userId;
    const d = theDb();
    const rank: Record<MessageStatus, number> = { failed: 0, queued: 1, pending: 1, sent: 2, delivered: 3, read: 4 };
    const tx = d.transaction('messages', 'readwrite');
    const store = tx.objectStore('messages');
    const changed: string[] = [];
    const range = IDBKeyRange.bound([conversationId, -Infinity], [conversationId, Infinity]);
    const rows = (await request(store.index('conv').getAll(range))) as MessageRow[];
    for (const r of rows) {
      if (mineOnly && r.senderId !== me) continue;
      if (isLocalId(r.id)) continue;
      const hit = ids ? ids.includes(r.id) : upTo !== undefined && r.id <= upTo;
      if (!hit || rank[r.status] >= rank[status]) continue;
      store.put({ ...r, status });
      changed.push(r.id);
    }
    await new Promise<void>((res, rej) => {
      tx.oncomplete = () => res();
      tx.onerror = () => rej(tx.error ?? new Error('transaction failed'));
    });
    return changed;
  },

  async unsettled({ me, max }) {
    const rows = (await request(theDb().transaction('messages').objectStore('messages').getAll())) as MessageRow[];
    const open = new Map<string, { oldest: string; last: number }>();
    for (const r of rows) {
      if (r.senderId !== me || isLocalId(r.id) || (r.status !== 'sent' && r.status !== 'delivered')) continue;
      const o = open.get(r.conversationId);
      if (!o) open.set(r.conversationId, { oldest: r.id, last: r.ts });
      else {
        if (r.id < o.oldest) o.oldest = r.id;
        o.last = Math.max(o.last, r.ts);
      }
    }
    return [...open]
      .sort((a, b) => b[1].last - a[1].last)
      .slice(0, max)
      .map(([conversationId, o]) => ({ conversationId, oldest: o.oldest }));
  },

  async listMessages({ conversationId }) {
    const range = IDBKeyRange.bound([conversationId, -Infinity], [conversationId, Infinity]);
    const rows = (await request(theDb().transaction('messages').objectStore('messages').index('conv').getAll(range))) as MessageRow[];
    return Promise.all(rows.map(messageOf));
  },

  async lastMessages() {
    const out: Record<string, LocalMessage> = {};
    const store = theDb().transaction('messages').objectStore('messages').index('conv');
    // Walk conversations backwards by [conversationId, ts]: the first row seen per id is the newest.
    const rows: MessageRow[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = store.openCursor(null, 'prev');
      let current = '';
      req.onsuccess = () => {
        const c = req.result;
        if (!c) return resolve();
        const r = c.value as MessageRow;
        if (r.conversationId !== current) {
          current = r.conversationId;
          rows.push(r);
          c.continue([r.conversationId, -Infinity]);
        } else c.continue();
      };
      req.onerror = () => reject(req.error ?? new Error('request failed'));
    });
    for (const r of rows) out[r.conversationId] = await messageOf(r);
    return out;
  },

  async unreadCounts({ me }) {
    const out: Record<string, number> = {};
    const rows = (await request(theDb().transaction('messages').objectStore('messages').getAll())) as MessageRow[];
    for (const [conversationId, list] of byConversation(rows)) {
      const n = (await unreadOf(list, me, (await ops.getConvMeta({ id: conversationId })).readUpTo)).length;
      if (n) out[conversationId] = n;
    }
    return out;
  },

  async reconcileUnread({ me, conversations }) {
    const changed: string[] = [];
    for (const c of conversations) {
      const range = IDBKeyRange.bound([c.id, -Infinity], [c.id, Infinity]);
      const rows = (await request(theDb().transaction('messages').objectStore('messages').index('conv').getAll(range))) as MessageRow[];
      const unread = await unreadOf(rows, me, (await ops.getConvMeta({ id: c.id })).readUpTo, c.lastId);
      if (unread.length <= c.unread) continue;
      // The newest `c.unread` of them stay unread; the cursor moves to the one before.
      await ops.setConvMeta({ id: c.id, readUpTo: unread[unread.length - c.unread - 1] });
      changed.push(c.id);
    }
    return changed;
  },

  async getMessage({ id }) {
    const r = await getRow(id);
    return r ? messageOf(r) : null;
  },

  async search({ query, limit }) {
    if (!query.trim()) return [];
    const rows = (await request(theDb().transaction('messages').objectStore('messages').getAll())) as MessageRow[];
    const hits: LocalMessage[] = [];
    for (const r of rows.sort((a, b) => b.ts - a.ts)) {
      const m = await messageOf(r);
      if (m.kind === 'text' && !m.deleted && foldedIncludes(m.body, query)) {
        hits.push(m);
        if (hits.length >= limit) break;
      }
    }
    return hits;
  },

  async getConvMeta({ id }) {
    return (await kvGetJSON<ConversationMeta>(`conv:${id}`)) ?? { id, readUpTo: '' };
  },
  async setConvMeta(meta) {
    await commit(theDb(), [await kvSealed(`conv:${meta.id}`, meta)]);
  },
  async getTrust({ userId }) {
    return kvGetJSON<ContactTrust>(`trust:${userId}`);
  },
  async setTrust(t) {
    await commit(theDb(), [await kvSealed(`trust:${t.userId}`, t)]);
  },

  async keyUpkeep({ serverOneTimeKeys, now }): Promise<KeyUpkeep> {
    const { s, key } = await account();
    const out: KeyUpkeep = {};
    if (serverOneTimeKeys < ONE_TIME_KEY_LOW) {
      const pub = s.publicBundle(need(await kvGetBytes('account'), 'account'), key, ONE_TIME_KEY_BATCH);
      await commit(theDb(), [{ store: 'kv', key: 'account', value: pub.account }]); // before the upload
      out.oneTimeKeys = pub.bundle.oneTimePreKeys;
    }
    // Rotation when due and pruning (sotto_account_maintain); a rotated key is marked for upload
    // in the same commit, and offered again until the server took it.
    const m = s.maintain(need(await kvGetBytes('account'), 'account'), key, new Date(now));
    const writes: Write[] = [{ store: 'kv', key: 'account', value: m.account }];
    if (m.signedPreKey) writes.push(await kvSealed(SPK_UPLOAD, m.signedPreKey));
    await commit(theDb(), writes); // before the upload
    const pending = m.signedPreKey ?? (await kvGetJSON<NonNullable<KeyUpkeep['signedPreKey']>>(SPK_UPLOAD));
    if (pending) out.signedPreKey = pending;
    return out;
  },

  async signedPreKeyUploaded({ keyId }) {
    const pending = await kvGetJSON<NonNullable<KeyUpkeep['signedPreKey']>>(SPK_UPLOAD);
    if (pending?.keyId === keyId) await commit(theDb(), [{ store: 'kv', key: SPK_UPLOAD, del: true }]);
  },

  async safetyNumber({ me, myKeys, them, theirKeys }) {
    const s = await wasm();
    const a = myKeys.map(fromBase64),
      b = theirKeys.map(fromBase64);
    return { digits: s.safetyNumber(me, a, them, b), qr: toBase64(s.safetyQr(me, a, them, b)) };
  },

  async wipe() {
    db?.close();
    db = null;
    dbKey = null;
    storageKey?.fill(0);
    storageKey = null;
    profile = null;
    await deleteDatabase();
  },

  async attachEncrypt({ file }) {
    return encryptFile(await wasm(), file);
  },
  async attachOpen(a) {
    return decryptOpen(await wasm(), a);
  },
  attachPart({ download, data }) {
    decryptPart(download, data);
    return Promise.resolve();
  },
  attachFinish({ download, type }) {
    return Promise.resolve(decryptFinish(download, type));
  },
  attachAbort({ download }) {
    decryptAbort(download);
    return Promise.resolve();
  },
};

/* Requests run one at a time, in order: crypto state is read, changed and written back by
 * each, so two must never interleave. */
let queue: Promise<void> = Promise.resolve();

self.onmessage = (ev: MessageEvent<WorkerRequest>) => {
  const { id, op, arg } = ev.data;
  queue = queue.then(async () => {
    let res: WorkerResponse;
    try {
      const h = ops[op] as (a: unknown) => Promise<unknown>;
      res = { id, ok: true, value: await h(arg) };
    } catch (e) {
      const err = e as { message?: string; code?: number };
      res = { id, ok: false, error: err.message ?? String(e), code: err.code };
    }
    self.postMessage(res);
  });
};
