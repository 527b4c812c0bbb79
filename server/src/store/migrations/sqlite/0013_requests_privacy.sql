-- 0013_requests_privacy: what a user lets others see (identical on both backends).
-- read_receipts: 1 sends read receipts and receives others' (api.md "Privacy"); 0 neither.
-- last_seen_hidden: 1 gives null for lastSeen in presence to everyone else.
-- Message requests need no column: a participant's accepted flag (0002) now also becomes 1 by
-- POST /api/conversations/:id/accept, and created_by says who started the conversation.
ALTER TABLE users ADD COLUMN read_receipts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN last_seen_hidden INTEGER NOT NULL DEFAULT 0;
