-- 0011_attachment_links: the message an attachment was sent with (identical on both backends).
--
-- Sending links an upload to its message, and through it to the conversation whose
-- participants may download it (api.md "Attachments"). One message per attachment: deleting
-- the message deletes its attachments, which another message could not then keep. NULL while
-- unsent. The row goes with its message (and so with its sender's account); the blob is
-- removed after the commit, or by the reconciliation at start after a crash.
ALTER TABLE attachments ADD COLUMN message_id TEXT REFERENCES messages(id) ON DELETE CASCADE;
-- The attachments of a message (its deletion).
CREATE INDEX attachments_message ON attachments (message_id);
