-- 0004_drop_redundant_indexes: two indexes that only cost writes (identical on both backends).
--
-- Every message send inserts into the messages indexes and moves its conversation's
-- updated_at, so each index on those columns is one more page written per message (the
-- messaging benchmark, bench/RESULTS-messaging.md). Both of these are prefixes of another
-- index, which serves every query and foreign-key lookup they served:
--   messages_sender (sender_user_id)    <- UNIQUE (sender_user_id, client_message_id)
--   conversations_updated (updated_at)  <- conversations_updated_id (updated_at, id)
DROP INDEX IF EXISTS messages_sender;
DROP INDEX IF EXISTS conversations_updated;
