-- 0012_avatars: profile pictures (the files issue). Public, not end-to-end encrypted: the
-- server decodes what a user uploads and keeps only its own re-encoding (accounts/avatar.c),
-- at most STORE_AVATAR_MAX bytes. Identical on both backends but the blob type.
--
-- users.avatar_version only grows, across removals too, so a version in the avatar's URL
-- (/api/users/{id}/avatar?v=N) never names two different pictures and may be cached for good.
ALTER TABLE users ADD COLUMN avatar_version BIGINT NOT NULL DEFAULT 0;
CREATE TABLE avatars (
  user_id      TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  version      BIGINT NOT NULL CHECK (version >= 1),
  content_type TEXT NOT NULL,
  image        BLOB NOT NULL,
  updated_at   BIGINT NOT NULL
);
