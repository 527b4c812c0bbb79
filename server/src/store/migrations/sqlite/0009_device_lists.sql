-- 0009_device_lists: each account's device list signed by its account key (issue 23;
-- docs/protocol.md, "Account key and device list"). Identical on both backends but the blob type.
--
-- The server keeps only the latest list, as given: clients verify its signature and refuse an
-- older version than one they have seen, so the server cannot add, drop or swap a device, or
-- roll a list back, without them noticing. The version only grows (store/signed_lists.c).
CREATE TABLE device_lists (
  user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  version    BIGINT NOT NULL CHECK (version >= 1),
  list       BLOB NOT NULL,
  updated_at BIGINT NOT NULL
);
