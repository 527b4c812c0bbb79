/* The client's own model of a conversation's history: plaintext, stored encrypted at rest by
 * the crypto worker, held in memory by the stores. */

/** queued: written without a connection, waiting in the outbox (engine/outbox.ts). */
export type MessageStatus = 'queued' | 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

export type MessageKind = 'text' | 'notice' | 'undecryptable' | 'security';

/**
 * Why something was refused (issue 17; the CLI's reasons, docs/protocol.md "Clients"):
 * key-mismatch: the envelope or the pinned session is not under the signing key listed and
 * accepted for that (user, device); unlisted-device: the sender's device list does not hold
 * the device; unaccepted-device: listed but not accepted (held); claimed-key-mismatch: a
 * claimed bundle (sending) is not the listed key; refused-edit: an edit that is not one by
 * the edited message's own sender (user and device) of that message; refused-delete: a delete
 * payload from someone who is not the deleted message's sender (rules.ts deleteVerdict).
 */
export type SecurityReason =
  'key-mismatch' | 'unlisted-device' | 'unaccepted-device' | 'claimed-key-mismatch' | 'refused-edit' | 'refused-delete';

export interface LocalMessage {
  /** Server message id (UUIDv7) once known; `local:<clientMessageId>` before. */
  id: string;
  clientMessageId: string;
  conversationId: string;
  senderId: string;
  /** Ordering time, ms: the server's sentAt when known, else the local clock. */
  ts: number;
  body: string;
  kind: MessageKind;
  status: MessageStatus;
  replyTo?: string;
  editedAt?: number;
  deleted?: boolean;
  /** For notices: whose safety number changed; for security notices: who was claimed. */
  noticeUserId?: string;
  /** The device that sent it (received, or this device for what it sent; for an undecryptable
   *  row, the device the server labelled it with); absent in rows from before issue 17. An
   *  edit must come from the same user and device. */
  senderDeviceId?: string;
  /** Filled in by a resend from its sender device after it could not be decrypted here. */
  resent?: boolean;
  /** An undecryptable row whose sender device was asked to resend it (or the request is queued
   *  to go out): when, ms. Shown as waiting for a while (lib/resend.ts), then as unreadable. */
  awaiting?: number;
  /** This device resent its message because that device could not read it (issue 17, item 6). */
  resentFor?: { userId: string; deviceId: string };
  /** A delete for everyone that could not be sent yet ('queued') or was given up ('failed'). */
  deleteState?: 'queued' | 'failed';
  /** For kind 'security': what was refused and which device was named. */
  security?: { reason: SecurityReason; deviceId: string };
  /** The files the message carries (payload tag 17). */
  files?: FileRef[];
}

/** deviceId → base64 signing key, as a device listing (GET /api/keys/users/:id) gives them. */
export type DeviceSet = Record<string, string>;

export interface ContactTrust {
  userId: string;
  /** Sorted base64 signing keys of the accepted set (the values of `devices`). */
  keys: string[];
  /** The accepted set: the only devices (and keys) this device encrypts to and accepts from.
   *  Absent in records from before issue 17 (adopted from the listing when it has `keys`). */
  devices?: DeviceSet;
  /** While held: the listing awaiting acceptance (the accepted set stays `devices`). */
  pending?: DeviceSet;
  verified: boolean;
  /** A change not accepted yet (a verified contact's, or a device added to one's own account):
   *  sending waits, and the new devices are refused, until the user accepts. */
  held: boolean;
  /** This user's own account. */
  own?: boolean;
}

export interface ConversationMeta {
  id: string;
  /** Last message id this device has read (UUIDv7 compare). */
  readUpTo: string;
}

/** One file a message carries (docs/protocol.md, "Attachments"), binary fields in base64:
 *  the server's attachment id, the key and digest that open its ciphertext, the file's own
 *  size (its stream is padded), and what is shown before it is fetched. */
export interface FileRef {
  id: string;
  key: string;
  digest: string;
  size: number;
  name: string;
  type: string;
  width: number;
  height: number;
  durationMs: number;
  thumbnail?: string;
}
