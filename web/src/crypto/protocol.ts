/* The crypto worker's request/response contract. The worker owns the device's keys, the
 * ratchet state and the encrypted-at-rest history; the rest of the app holds only what these
 * types carry (public keys, envelopes, plaintext it is meant to show). */
import type { Bundle, ClaimedDeviceKeys, Message, PreKey, WireEnvelope } from '../net/types';
import type { ContactTrust, ConversationMeta, FileRef, LocalMessage, MessageStatus } from '../state/types';

export interface Profile {
  userId: string;
  deviceId: string;
  email: string;
  username: string;
}

export interface PeerRef {
  userId: string;
  deviceId: string;
}

/** What binds a call signal to its call (docs/protocol.md, the call payload): a payload is
 *  accepted only for the call it names, between those two devices, of that type. */
export interface CallBinding {
  callId: string;
  callerDeviceId: string;
  calleeDeviceId: string;
  callType: 'audio' | 'video';
  signal: 'offer' | 'answer' | 'candidate' | 'restart-offer' | 'restart-answer';
}

/** What to put in one message's payload (the worker encodes it). */
export interface OutgoingPayload {
  clientMessageId: string;
  conversationId: string;
  contentType: 'text' | 'edit' | 'delete' | 'sync' | 'retry' | 'resend' | 'call';
  sentAt: number;
  body: string;
  replyTo?: string;
  editOf?: string;
  /** A call signal's binding (contentType 'call' only). */
  call?: CallBinding;
  /** Files (text, and its sync copies, only). */
  attachments?: FileRef[];
}

/** A call signal that decrypted: the payload's fields the engine checks (engine/callrules.ts).
 *  `refused`: sealed under other keys than the accepted ones; `failed`: not readable. */
export type CallSignal =
  { ok: true; conversationId: string; contentType: string; body: string; call?: CallBinding } | { ok: false; reason: 'refused' | 'failed' };

export interface EncryptTarget extends PeerRef {
  /** The device's signing key in the accepted set (base64): a claimed bundle or an existing
   *  session under any other key is refused. */
  expectedSigningKey: string;
  claimed?: ClaimedDeviceKeys;
  /** Own other devices get a 'sync' copy of a new text message. */
  sync?: boolean;
  /** A new session from `claimed` even where one exists (a resend to the device that asked). */
  fresh?: boolean;
}

/** A retry payload received: `from` could not decrypt `target` and asks its sender to resend. */
export interface RetryRequest {
  target: string;
  conversationId: string;
  from: PeerRef;
}

/** What decrypting a queued item did to local history. `refused`: a security notice (kind
 *  'security') was stored in its place; nothing of the item is shown. */
export type Incoming =
  | { kind: 'message'; message: LocalMessage }
  | { kind: 'edited'; message: LocalMessage }
  | { kind: 'deleted'; message: LocalMessage }
  | { kind: 'duplicate' }
  /** An authentic payload that is no message to show (retry, resend, a type this client does
   *  not know): its ratchet step is committed and its id remembered; acknowledge it. */
  | { kind: 'control'; retry?: RetryRequest }
  | { kind: 'refused'; message: LocalMessage }
  /** `retry`: it did not decrypt (not a replay, not a refusal): ask its sender device to resend it. */
  | { kind: 'failed'; message: LocalMessage; retry?: boolean };

/** How to decrypt a queue item: under the sender device's accepted signing key (base64), or
 *  refused without trying (the engine's trust check found no accepted key). */
export type Expected = { signingKey: string } | { refuse: 'unlisted-device' | 'unaccepted-device' };

/** What encrypting gave: envelopes to send, or a refusal (nothing was committed). */
export type Encrypted =
  { ok: true; envelopes: WireEnvelope[] } | { ok: false; refused: PeerRef; reason: 'claimed-key-mismatch' | 'key-mismatch' };

export interface KeyUpkeep {
  oneTimeKeys?: PreKey[];
  signedPreKey?: { keyId: number; publicKey: string; signature: string };
}

export interface Requests {
  /** Opens the local database. locked: a passphrase is needed before anything else. */
  open: [void, { profile: Profile | null; locked: boolean; hasAccount: boolean }];
  unlock: [{ passphrase: string }, { ok: boolean }];
  setPassphrase: [{ passphrase: string | null }, void];
  /** A new device: keys generated and saved, then its bundle (with one-time keys). */
  createDevice: [{ oneTimeKeys: number }, { bundle: Bundle }];
  bindProfile: [Profile, void];
  loginProof: [{ email: string }, { proof: string; proofTime: number } | null];
  /** The peers without a session to encrypt with at `now` (a pending one older than 7 days counts as none). */
  missingSessions: [{ peers: PeerRef[]; now: number }, PeerRef[]];
  /** Encrypts one payload per target, each checked against its expected signing key, and
   *  commits every new record (and the kv `marks`, e.g. retry:<id>) before returning; one
   *  refusal and nothing is committed. */
  encrypt: [{ targets: EncryptTarget[]; payload: OutgoingPayload; marks?: string[] }, Encrypted];
  /** Whether this device answers a retry for `target`: its own message, sent from this device,
   *  in that conversation, still held and not resent yet (kv `resent:<id>`). */
  resendSource: [
    { target: string; conversationId: string },
    { ok: true; message: LocalMessage } | { ok: false; reason: 'not-ours' | 'deleted' | 'resent' },
  ];
  decrypt: [{ message: Message; kind: 'new' | 'edited'; expected: Expected }, Incoming];
  /** A call envelope from one device (never queued, never stored in history): the ratchet step
   *  is committed when it decrypts, whatever the engine then decides about its content. */
  decryptCall: [{ from: PeerRef; envelope: { type: string; ciphertext: string }; expected: Expected }, CallSignal];
  /** The engine's retry bookkeeping (engine/retries.ts: rate windows, the control queue), sealed
   *  in kv under `ledger:<key>` and bound to that name: the entries whose key starts with `prefix`. */
  ledgerList: [{ prefix: string }, { key: string; value: unknown }[]];
  /** Puts (value) or deletes (null) ledger entries, all in one commit. */
  ledgerWrite: [{ entries: { key: string; value: unknown }[] }, void];
  /** Drops the kv marks retry:<id> and resent:<id> committed before `before` (ms); how many. */
  pruneMarks: [{ before: number }, number];
  /** Notes on a message row: `awaiting` (a number sets it, null clears it) only on a row still
   *  undecryptable; `resentFor` only on this user's own text; `deleteState` (null clears) only
   *  on a row not deleted. The row as it is now, or null when there is none. */
  annotate: [
    {
      id: string;
      awaiting?: number | null;
      resentFor?: { userId: string; deviceId: string };
      deleteState?: 'queued' | 'failed' | null;
    },
    LocalMessage | null,
  ];
  markDeleted: [{ id: string }, LocalMessage | null];
  saveMessage: [LocalMessage, void];
  /** Replaces a pending message's local id by the server's once sent. */
  confirmSent: [{ localId: string; id: string; ts: number }, LocalMessage | null];
  setStatus: [{ conversationId: string; upTo?: string; ids?: string[]; status: MessageStatus; mineOnly: boolean }, string[]];
  /** Conversations whose sent messages are not all read yet, most recently active first (at
   *  most `max`), each with the oldest such message's id. */
  unsettled: [{ me: string; max: number }, { conversationId: string; oldest: string }[]];
  listMessages: [{ conversationId: string }, LocalMessage[]];
  lastMessages: [void, Record<string, LocalMessage>];
  unreadCounts: [{ me: string }, Record<string, number>];
  /** Moves read cursors forward where the server counts fewer unread messages than this
   *  device (read on another device meanwhile): `unread` and `lastId` are the server's. */
  reconcileUnread: [{ me: string; conversations: { id: string; unread: number; lastId: string }[] }, string[]];
  getMessage: [{ id: string }, LocalMessage | null];
  search: [{ query: string; limit: number }, LocalMessage[]];
  getConvMeta: [{ id: string }, ConversationMeta];
  setConvMeta: [ConversationMeta, void];
  getTrust: [{ userId: string }, ContactTrust | null];
  setTrust: [ContactTrust, void];
  /** One-time keys when low; then maintain. `signedPreKey`: rotated now or not uploaded yet. */
  keyUpkeep: [{ serverOneTimeKeys: number; now: number }, KeyUpkeep];
  /** The server took this signed pre-key: it is no longer offered for upload. */
  signedPreKeyUploaded: [{ keyId: number }, void];
  safetyNumber: [{ me: string; myKeys: string[]; them: string; theirKeys: string[] }, { digits: string; qr: string }];
  wipe: [void, void];
  /** Pads and encrypts one file in 64 KiB chunks (crypto/files.ts): the ciphertext to upload
   *  and what the message must carry to open it. */
  attachEncrypt: [{ file: Blob }, { data: Blob; key: string; digest: string }];
  /** Opens a download as it arrives (crypto/files.ts): a number for the pieces that follow. */
  attachOpen: [{ key: string; digest: string; size: number }, number];
  /** The next piece of its ciphertext (as the response's chunks came), checked and
   *  decrypted; throws (and ends it) when a chunk does not open. */
  attachPart: [{ download: number; data: Uint8Array[] }, void];
  /** The file's own `size` bytes once the whole stream is checked (digest, size, final tag);
   *  throws when it does not open. */
  attachFinish: [{ download: number; type: string }, Blob];
  /** Forgets a download that broke off. */
  attachAbort: [{ download: number }, void];
}
export type RequestName = keyof Requests;

export interface WorkerRequest<K extends RequestName = RequestName> {
  id: number;
  op: K;
  arg: Requests[K][0];
}
export type WorkerResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string; code?: number };
