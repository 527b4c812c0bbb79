/* queued_bytes.h: the bound on each account's ciphertext waiting in device queues.
 *
 * Every account has a count of the bytes of ciphertext it sent that are still stored: queue
 * rows whose device has not acknowledged them (acknowledging, deleting the message, revoking
 * the device and retention drop the ciphertext; message rows hold none). The store keeps the
 * count in the same transaction as the rows it describes: a send or an edit adds its
 * envelopes' bytes, or is refused with STORE_QUOTA before it writes anything when the count
 * would pass the caller's bound; the rest subtract what they drop. Conventions as in store.h.
 */
#ifndef SOTTO_STORE_QUEUED_BYTES_H
#define SOTTO_STORE_QUEUED_BYTES_H

#include "store/store.h"

/* The account's count (0 for an account that never sent). */
enum store_err store_queued_bytes(struct store *s, const char *user_id, int64_t *bytes);

/* The same figure counted from the queue itself (a SUM over every row of the account's
 * messages): for tests and audits, never for the send path. */
enum store_err store_queued_bytes_recount(struct store *s, const char *user_id, int64_t *bytes);

#endif
