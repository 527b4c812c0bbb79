/* blocks.h: who blocked whom. Across a block, in either direction, nothing flows
 * (messages, calls, receipts, typing, presence); callers ask store_block_between. */
#ifndef SOTTO_STORE_BLOCKS_H
#define SOTTO_STORE_BLOCKS_H

#include "store/store.h"
#include "store/users.h"

/* Idempotent. STORE_NOT_FOUND when blocked_id is no user; STORE_INVALID for oneself. */
enum store_err store_block_add(struct store *s, const char *blocker_id, const char *blocked_id,
                               int64_t now);
/* Idempotent: STORE_OK also when there was no block. */
enum store_err store_block_remove(struct store *s, const char *blocker_id, const char *blocked_id);
/* *blocked = whether either user has blocked the other. */
enum store_err store_block_between(struct store *s, const char *a, const char *b, bool *blocked);
/* The users blocker_id has blocked, most recent first: an array of *n (store_users_free). */
enum store_err store_block_list(struct store *s, const char *blocker_id, struct store_user **out,
                                size_t *n);

#endif
