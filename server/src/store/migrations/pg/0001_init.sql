-- 0001_init (PostgreSQL): the first product slice. Kept column-for-column equal to
-- migrations/sqlite/0001_init.sql so the store's shared SQL runs on both; only types differ
-- (BYTEA/BLOB, SMALLINT/INTEGER booleans).
--
-- Conventions: ids are TEXT UUIDs made by the store (messages: UUIDv7, so they sort by
-- time and double as cursors); times are BIGINT milliseconds since the Unix epoch (UTC);
-- booleans are 0/1; secrets are stored only as hashes (tokens, codes) or encrypted by the
-- caller (the MFA secret). No column holds message content, content type, file name or
-- MIME type: those travel inside the ciphertext.

CREATE TABLE users (
  id             TEXT PRIMARY KEY,
  email          TEXT NOT NULL,
  email_key      TEXT NOT NULL UNIQUE,      -- ASCII-lowercased by the store: one rule on both backends
  username       TEXT NOT NULL,
  username_key   TEXT NOT NULL UNIQUE,      -- likewise: "Alice" and "alice" are one name
  password_hash  TEXT NOT NULL,             -- Argon2id encoded string
  display_name   TEXT,
  bio            TEXT,
  avatar_url     TEXT,
  email_verified SMALLINT NOT NULL DEFAULT 0,
  mfa_enabled    SMALLINT NOT NULL DEFAULT 0,
  mfa_secret     BYTEA,                      -- encrypted with MFA_ENCRYPTION_KEY by the caller
  mfa_last_step  BIGINT NOT NULL DEFAULT 0, -- last TOTP step accepted: a code works once
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL
);

CREATE TABLE devices (
  id                 TEXT PRIMARY KEY,
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name               TEXT NOT NULL,
  platform           TEXT NOT NULL CHECK (platform IN ('web', 'ios', 'android', 'cli')),
  identity_key       BYTEA UNIQUE,           -- X25519; NULL until the bundle is uploaded
  signing_key        BYTEA UNIQUE,           -- Ed25519; the device's identity for people
  identity_signature BYTEA,
  spk_id             BIGINT,
  spk_public         BYTEA,
  spk_signature      BYTEA,
  revoked_at         BIGINT,
  last_ip            TEXT,
  user_agent         TEXT,
  last_active_at     BIGINT NOT NULL,
  created_at         BIGINT NOT NULL,
  next_seq           BIGINT NOT NULL DEFAULT 1, -- next device-queue seq
  acked_seq          BIGINT NOT NULL DEFAULT 0, -- highest seq the device acknowledged
  CHECK ((identity_key IS NULL) = (signing_key IS NULL))
);
CREATE INDEX devices_user ON devices (user_id, revoked_at);

CREATE TABLE one_time_pre_keys (
  device_id  TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  key_id     BIGINT NOT NULL,
  public_key BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (device_id, key_id)
);

CREATE TABLE refresh_tokens (
  token_hash BYTEA PRIMARY KEY,              -- SHA-256 of the token; the token is never stored
  family_id  TEXT NOT NULL,                 -- one login's chain of rotations
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  device_id  TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  rotated_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_device ON refresh_tokens (device_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE device_login_proofs (
  device_id  TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  proof_hash BYTEA NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (device_id, proof_hash)
);
CREATE INDEX device_login_proofs_expiry ON device_login_proofs (expires_at);

CREATE TABLE email_tokens (
  token_hash BYTEA PRIMARY KEY,
  kind       TEXT NOT NULL CHECK (kind IN ('verify', 'reset')),
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at    BIGINT
);
CREATE INDEX email_tokens_user ON email_tokens (user_id, kind);

CREATE TABLE mfa_backup_codes (
  user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash BYTEA NOT NULL,
  used_at   BIGINT,
  PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE conversations (
  id              TEXT PRIMARY KEY,
  type            TEXT NOT NULL DEFAULT 'direct' CHECK (type IN ('direct')),
  direct_key      TEXT UNIQUE,             -- "<lower user id>:<higher user id>": one per pair
  created_by      TEXT REFERENCES users(id) ON DELETE SET NULL,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL,
  last_message_at BIGINT
);
CREATE INDEX conversations_updated ON conversations (updated_at);

CREATE TABLE conversation_participants (
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  joined_at       BIGINT NOT NULL,
  accepted        SMALLINT NOT NULL DEFAULT 0, -- set when they first send in it
  left_at         BIGINT,
  read_cursor     TEXT,                       -- id of the last message read (UUIDv7 order)
  read_at         BIGINT,
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_participants_user ON conversation_participants (user_id);

CREATE TABLE messages (
  id                TEXT PRIMARY KEY,         -- UUIDv7
  conversation_id   TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  sender_user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  sender_device_id  TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  client_message_id TEXT NOT NULL,
  sent_at           BIGINT NOT NULL,
  edited_at         BIGINT,
  deleted_at        BIGINT,
  UNIQUE (sender_user_id, client_message_id)
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE INDEX messages_sender ON messages (sender_user_id);

-- The per-device queue: one row per event addressed to a device, in seq order. The
-- ciphertext is dropped once the device acknowledges (delivered_at set); the row stays as
-- the delivery receipt until retention removes it.
CREATE TABLE device_queue (
  device_id     TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  seq           BIGINT NOT NULL,
  message_id    TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  event         TEXT NOT NULL CHECK (event IN ('new', 'edited', 'deleted')),
  envelope_type TEXT CHECK (envelope_type IN ('prekey', 'message')),
  ciphertext    BYTEA,
  created_at    BIGINT NOT NULL,
  delivered_at  BIGINT,
  PRIMARY KEY (device_id, seq)
);
CREATE INDEX device_queue_message ON device_queue (message_id);
CREATE INDEX device_queue_created ON device_queue (created_at);

CREATE TABLE calls (
  id               TEXT PRIMARY KEY,
  conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  caller_user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  caller_device_id TEXT REFERENCES devices(id) ON DELETE SET NULL,
  call_type        TEXT NOT NULL CHECK (call_type IN ('audio', 'video')),
  status           TEXT NOT NULL DEFAULT 'initiated'
                   CHECK (status IN ('initiated', 'ringing', 'answered', 'rejected', 'missed', 'ended', 'failed')),
  initiated_at     BIGINT NOT NULL,
  answered_at      BIGINT,
  ended_at         BIGINT,
  ended_by         TEXT,
  duration_s       BIGINT
);
CREATE INDEX calls_conversation ON calls (conversation_id, initiated_at);
CREATE INDEX calls_caller ON calls (caller_user_id);

CREATE TABLE blocks (
  blocker_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  blocked_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (blocker_id, blocked_id),
  CHECK (blocker_id <> blocked_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_id);

-- Never a password, token or code here; user_id survives the user as NULL.
CREATE TABLE audit_log (
  id         TEXT PRIMARY KEY,
  at         BIGINT NOT NULL,
  user_id    TEXT REFERENCES users(id) ON DELETE SET NULL,
  device_id  TEXT,
  action     TEXT NOT NULL,
  success    SMALLINT NOT NULL,
  ip         TEXT,
  user_agent TEXT,
  detail     TEXT
);
CREATE INDEX audit_log_user ON audit_log (user_id, at);
CREATE INDEX audit_log_action ON audit_log (action, at);
