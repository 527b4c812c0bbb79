-- 0002_messaging: what the messaging slice needs beyond 0001 (identical on both backends).
--
-- messages.delivered_at: when a device of the recipient first acknowledged the message.
-- Kept on the message, not derived from device_queue, because queue rows go away (retention,
-- a revoked device's queue) while `status: delivered` must not; and the conditional
-- UPDATE ... WHERE delivered_at IS NULL is what reports `message:delivered` exactly once.
ALTER TABLE messages ADD COLUMN delivered_at BIGINT;

-- The conversation list: a user's visible conversations, most recently active first.
CREATE INDEX conversations_updated_id ON conversations (updated_at, id);
-- Unread counts and "latest not deleted" scan one conversation's messages by id.
CREATE INDEX messages_conversation_sender ON messages (conversation_id, sender_user_id, id);
