-- 0005_drop_messages_conversation_sender: an index that only cost writes (identical on both
-- backends).
--
-- messages_conversation_sender (conversation_id, sender_user_id, id) was meant for unread
-- counts, but they filter on sender_user_id <> the reader, which no index range can use: with
-- a read cursor the planner takes messages_conversation (conversation_id, id > cursor), and
-- without one it used this index for its conversation_id prefix only, which
-- messages_conversation serves as well. Every send inserted into it at its own
-- (conversation, sender) leaf: one more page written per message (bench/RESULTS-messaging.md).
DROP INDEX IF EXISTS messages_conversation_sender;
