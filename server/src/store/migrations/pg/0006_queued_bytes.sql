-- 0006_queued_bytes: a bound on the ciphertext an account keeps waiting (identical on both
-- backends).
--
-- One row per sending account: the bytes of its ciphertext still stored in device queues, that
-- is, in rows not yet acknowledged by their device (acknowledging, deleting the message, a
-- revoked device and retention all drop ciphertext). Ciphertext lives in device_queue alone,
-- so this is every byte an account can make the server keep. The store keeps the count in the
-- transaction that adds or drops the ciphertext (queued_bytes.c), so a send checks its bound
-- with one row instead of a SUM over the queue. A row appears with the account's first send;
-- the count starts from what is stored when this migration runs.
CREATE TABLE account_queued_bytes (
  user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  bytes   BIGINT NOT NULL DEFAULT 0
);
INSERT INTO account_queued_bytes (user_id, bytes)
  SELECT m.sender_user_id, SUM(length(q.ciphertext))
  FROM device_queue q JOIN messages m ON m.id = q.message_id
  WHERE q.ciphertext IS NOT NULL
  GROUP BY m.sender_user_id;
