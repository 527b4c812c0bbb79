/* The wire contract's shapes (shared/spec/api.md, v1), exactly as the server sends them.
 * Nothing here is trusted for what a message *is*: that lives inside the ciphertext. */

export type Platform = 'web' | 'ios' | 'android' | 'cli';

export interface User {
  id: string;
  username: string;
  displayName: string | null;
  avatarUrl: string | null;
  bio: string | null;
  createdAt: string;
}
/** readReceipts off: none sent, none received. lastSeen 'nobody': null to everyone else. */
export interface Privacy {
  readReceipts: boolean;
  lastSeen: 'contacts' | 'nobody';
}
export interface Me extends User {
  email: string;
  emailVerified: boolean;
  mfaEnabled: boolean;
  language?: 'en' | 'vi';
  /** What others may see (the server applies it to every event). */
  privacy?: Privacy;
  /** Unused backup codes; only while two-factor is on. */
  backupCodesLeft?: number;
}
/** One field's rule as GET /api/auth/rules gives it (docs/api/accounts.md). */
export interface FieldRule {
  minLength: number;
  maxLength: number;
  unit: 'characters';
  pattern?: string;
  refused?: string;
  notEqualTo?: string[];
}
export type RuleField = 'password' | 'email' | 'username' | 'displayName' | 'bio' | 'deviceName';
export type AuthRules = Record<RuleField, FieldRule>;
export interface Device {
  id: string;
  name: string;
  platform: Platform;
  createdAt: string;
  lastActiveAt: string | null;
  active: boolean;
  current: boolean;
}
export interface Tokens {
  accessToken: string;
  refreshToken?: string;
  expiresIn: number;
}
export interface Session {
  user: User;
  device: Device;
  tokens: Tokens;
}

export interface PreKey {
  keyId: number;
  publicKey: string;
}
export interface Bundle {
  identityKey: string;
  signingKey: string;
  identitySignature: string;
  signedPreKey: { keyId: number; publicKey: string; signature: string };
  oneTimePreKeys?: PreKey[];
}
export interface DeviceKeys {
  deviceId: string;
  identityKey: string;
  signingKey: string;
  identitySignature: string;
  signedPreKey: { keyId: number; publicKey: string; signature: string };
}
export interface ClaimedDeviceKeys extends DeviceKeys {
  oneTimePreKey: PreKey | null;
}
export interface UserKeys {
  userId: string;
  devices: DeviceKeys[];
}

export interface Participant {
  user: User;
  joinedAt: string;
  accepted: boolean;
}
export interface Conversation {
  id: string;
  type: 'direct';
  participants: Participant[];
  createdAt: string;
  updatedAt: string;
  lastMessage?: { id: string; senderId: string; sentAt: string } | null;
  unreadCount: number;
  /** The caller has accepted it (written in it, or accepted the request). */
  accepted?: boolean;
  /** A message request to the caller: the other started it, the caller has not accepted. */
  request?: boolean;
}

export type EnvelopeType = 'prekey' | 'message';
export interface WireEnvelope {
  deviceId: string;
  type: EnvelopeType;
  ciphertext: string;
}
export type ServerStatus = 'sent' | 'delivered' | 'read';
export interface Message {
  id: string;
  conversationId: string;
  senderId: string;
  senderDeviceId: string;
  sentAt: string;
  editedAt?: string | null;
  deletedAt?: string | null;
  envelope?: { type: EnvelopeType; ciphertext: string } | null;
  status: ServerStatus;
}
export interface QueuedMessage extends Message {
  seq: number;
}

export interface ApiErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export interface MfaSetup {
  secret: string;
  otpauthUrl: string;
  qrCode: string;
  backupCodes: string[];
}

export type CallType = 'audio' | 'video';
export type CallEndReason = 'hangup' | 'rejected' | 'missed' | 'busy' | 'failed';
/** A call's envelope for one device (the payload binds it to the call: docs/protocol.md). */
export interface CallEnvelope {
  type: EnvelopeType;
  ciphertext: string;
}
/** One call of a conversation's history (GET /api/conversations/:id/calls). */
export interface CallRecord {
  id: string;
  callerId: string;
  callType: CallType;
  startedAt: string;
  answeredAt?: string | null;
  endedAt?: string | null;
  duration: number;
  /** Absent while the call is still ringing or active. */
  reason?: CallEndReason;
}
export interface TurnCredentials {
  urls: string[];
  username?: string;
  credential?: string;
  ttl: number;
}

/** Server → client WebSocket events (api.md, "WebSocket /ws"). */
export interface ServerEvents {
  authenticated: { userId: string; deviceId: string };
  presence: { users: { userId: string; online: boolean; lastSeen: string | null }[] };
  'message:new': QueuedMessage;
  'message:edited': QueuedMessage;
  'message:deleted': { id: string; conversationId: string; deletedAt: string; seq: number };
  'message:delivered': { messageId: string; conversationId: string; userId: string; deliveredAt: string };
  'message:read': { messageId: string; conversationId: string; userId: string; readAt: string };
  'typing:start': { conversationId: string; userId: string };
  'typing:stop': { conversationId: string; userId: string };
  'user:online': { userId: string; lastSeen: string | null };
  'user:offline': { userId: string; lastSeen: string | null };
  'conversation:new': { conversation: Conversation };
  'conversation:updated': { conversation: Conversation };
  'conversation:removed': { conversationId: string };
  /** This user accepted a message request on another device. */
  'conversation:accepted': { conversationId: string };
  'queue:drained': { lastSeq: number };
  /** A login created a device on this account (never sent to that device itself). */
  'device:added': { deviceId: string; name: string; platform: Platform; createdAt: string; address: string };
  /** Someone who shared a conversation with this user deleted their account. */
  'user:deleted': { userId: string };
  'call:incoming': {
    callId: string;
    conversationId: string;
    callerId: string;
    callerDeviceId: string;
    callType: CallType;
    envelope: CallEnvelope;
  };
  'call:answered': { callId: string; calleeDeviceId: string; envelope: CallEnvelope };
  'call:accepted-elsewhere': { callId: string };
  'call:ice-candidate': { callId: string; senderDeviceId: string; envelope: CallEnvelope };
  'call:ended': { callId: string; conversationId: string; endedBy?: string | null; reason: CallEndReason; duration: number };
}
export type ServerEventName = keyof ServerEvents;

/** Client → server requests and what their ack carries. */
export interface ClientRequests {
  authenticate: [{ token: string }, { userId: string; deviceId: string }];
  'message:send': [{ conversationId: string; clientMessageId: string; envelopes: WireEnvelope[]; attachmentIds?: string[] }, Message];
  'queue:ack': [{ seq: number }, Record<string, never>];
  'message:read': [{ messageId: string }, Record<string, never>];
  'typing:start': [{ conversationId: string }, Record<string, never>];
  'typing:stop': [{ conversationId: string }, Record<string, never>];
  'call:initiate': [{ conversationId: string; callType: CallType }, { callId: string }];
  'call:offer': [{ callId: string; envelopes: WireEnvelope[] }, Record<string, never>];
  'call:answer': [{ callId: string; envelope: CallEnvelope }, Record<string, never>];
  'call:ice-candidate': [{ callId: string; recipientDeviceId: string; envelope: CallEnvelope }, Record<string, never>];
  'call:reject': [{ callId: string }, Record<string, never>];
  'call:end': [{ callId: string }, Record<string, never>];
}
export type ClientRequestName = keyof ClientRequests;
