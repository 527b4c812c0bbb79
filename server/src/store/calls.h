/* calls.h: the record of 1-1 calls (what the history shows), never their content.
 *
 * A call's live state is the bus's (bus/bus.h); the calls room writes the record as the call
 * changes, without waiting: store_call_record merges what it is given into the row (a time
 * once set stays, the end once set stays), so two writes of one call that reach the store
 * in either order leave the same row.
 *
 * Conventions as in store.h: times in ms passed in, ids as strings, structs out freed with
 * their _free function, strings passed in are borrowed. */
#ifndef SOTTO_STORE_CALLS_H
#define SOTTO_STORE_CALLS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_CALLS_PAGE_MAX 100 /* most calls per history page */

enum store_call_reason {
    STORE_CALL_ONGOING = 0, /* not ended (yet) */
    STORE_CALL_HANGUP,
    STORE_CALL_REJECTED,
    STORE_CALL_MISSED,
    STORE_CALL_BUSY,
    STORE_CALL_FAILED,
};

/* One call as recorded. */
struct store_call {
    char id[STORE_ID_SIZE], conversation_id[STORE_ID_SIZE];
    char caller_id[STORE_ID_SIZE], caller_device_id[STORE_ID_SIZE];
    char callee_device_id[STORE_ID_SIZE]; /* "" until answered */
    char ended_by[STORE_ID_SIZE];         /* "" when nobody ended it (missed, failed) */
    bool video;
    int64_t started_at, answered_at, ended_at; /* 0 when not (yet) */
    int64_t duration;                          /* seconds from the answer to the end */
    enum store_call_reason reason;
};

/* The reason's name in the contract ("hangup", ...), or NULL for STORE_CALL_ONGOING. */
const char *store_call_reason_name(enum store_call_reason r);

/* Creates c's row or merges c into it: answered_at, callee_device_id, ended_at, ended_by,
 * reason and duration are set where c has them and the row does not (0 or "" in c: not
 * known). STORE_INVALID for a reason out of range or an empty id; STORE_NOT_FOUND (a
 * foreign key) when the conversation is gone. */
enum store_err store_call_record(struct store *s, const struct store_call *c);

/* The calls of conversation_id as user_id may see them (a participant; else
 * STORE_NOT_FOUND), newest first, before the call id `before` (NULL: the newest), at most
 * limit (1..STORE_CALLS_PAGE_MAX, else STORE_INVALID); *has_more when older ones exist.
 * *out: array of *n (free() it; NULL when 0). */
enum store_err store_call_history(struct store *s, const char *user_id, const char *conversation_id,
                                  const char *before, int64_t limit, struct store_call **out,
                                  size_t *n, bool *has_more);

#endif
