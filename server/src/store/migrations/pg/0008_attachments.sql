-- 0008_attachments: uploads of encrypted attachments (identical on both backends).
--
-- The ciphertext itself is in the blob store (server/src/blobs/), under the row's id; this row
-- holds only what the tus protocol needs (the declared length, the bytes durably received) and
-- who may see it. No name, type or size of the plaintext: those travel inside the message's
-- ciphertext. An upload not sent within a day expires (expires_at); sending will clear it.
CREATE TABLE attachments (
  id            TEXT PRIMARY KEY,            -- UUIDv4, also the blob's id
  owner_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  upload_length BIGINT NOT NULL,             -- ciphertext bytes declared at creation
  upload_offset BIGINT NOT NULL DEFAULT 0,   -- bytes durably in the blob store
  created_at    BIGINT NOT NULL,
  completed_at  BIGINT,                      -- when upload_offset reached upload_length
  expires_at    BIGINT                       -- NULL once sent
);
-- A user's uploads (quota), and the expiry sweep.
CREATE INDEX attachments_owner ON attachments (owner_id);
CREATE INDEX attachments_expires ON attachments (expires_at);
