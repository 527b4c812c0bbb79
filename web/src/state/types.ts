/* The client's own model of a conversation's history: plaintext, stored encrypted at rest by
 * the crypto worker, held in memory by the stores. */

export type MessageStatus = 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

export type MessageKind = 'text' | 'notice' | 'undecryptable';

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
  /** For notices: whose safety number changed. */
  noticeUserId?: string;
}

export interface ContactTrust {
  userId: string;
  /** Sorted base64 signing keys of their active devices, as last accepted. */
  keys: string[];
  verified: boolean;
  /** Their key set changed after they were verified: sending waits until accepted. */
  held: boolean;
}

export interface ConversationMeta {
  id: string;
  /** Last message id this device has read (UUIDv7 compare). */
  readUpTo: string;
}
