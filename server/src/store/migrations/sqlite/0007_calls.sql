-- 0007_calls: the record of each 1-1 call (identical on both backends).
--
-- State only: who called whom in which conversation, the type, when it rang, was answered and
-- ended, why it ended and how long it lasted. No SDP, candidate or envelope is ever stored: they
-- travel end-to-end encrypted and are relayed live only (docs/security.md). The live state of a
-- call in progress is the bus's (bus/bus.h); these rows are written as it changes, each write
-- carrying everything known so far, so writes that land out of order still converge
-- (store/calls.c).
--
-- 0001 made a placeholder calls table that nothing ever wrote (its statuses mixed the state of a
-- call in progress with its end): it goes, empty, with its indexes.
DROP TABLE calls;
CREATE TABLE calls (
  id               TEXT PRIMARY KEY,          -- UUIDv7: time-ordered, the history's cursor
  conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  caller_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  caller_device_id TEXT NOT NULL,
  callee_device_id TEXT,                      -- the device that answered
  call_type        TEXT NOT NULL CHECK (call_type IN ('audio', 'video')),
  started_at       BIGINT NOT NULL,
  answered_at      BIGINT,
  ended_at         BIGINT,
  ended_by         TEXT,
  reason           TEXT CHECK (reason IN ('hangup', 'rejected', 'missed', 'busy', 'failed')),
  duration         BIGINT NOT NULL DEFAULT 0  -- seconds from the answer to the end
);
-- A conversation's calls, newest first.
CREATE INDEX calls_conversation ON calls (conversation_id, id);
