/* attachments.h: the rows of attachment uploads (api.md "Attachments"): their declared
 * length, the bytes durably received, the owner, the expiry of an unsent upload. The bytes
 * themselves are in the blob store (blobs/blobs.h), under the same id.
 *
 * Conventions as in store.h: times in ms passed in, ids as strings, strings borrowed. */
#ifndef SOTTO_STORE_ATTACHMENTS_H
#define SOTTO_STORE_ATTACHMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct store_attachment {
    char id[STORE_ID_SIZE], owner_id[STORE_ID_SIZE];
    int64_t length, offset;
    int64_t created_at, completed_at, expires_at; /* 0 when not (yet), or not any more */
};

/* Creates a's row (offset 0) unless the owner's uploads (their declared lengths, complete
 * or not) and a->length together pass quota (0 or less: no bound): STORE_QUOTA then, with
 * nothing written. */
enum store_err store_attachment_create(struct store *s, const struct store_attachment *a,
                                       int64_t quota);

/* The upload id as its owner sees it; STORE_NOT_FOUND for anyone else, and once expired
 * (expires_at <= now). */
enum store_err store_attachment_get(struct store *s, const char *id, const char *owner_id,
                                    int64_t now, struct store_attachment *out);

/* Records that the upload's bytes now reach `to` (from `from`, what the caller read): the
 * upload is complete when to is its length. STORE_CONFLICT when its offset is no longer
 * `from` (another transfer moved it), STORE_INVALID when to is past its length,
 * STORE_NOT_FOUND when it is not the owner's. */
enum store_err store_attachment_advance(struct store *s, const char *id, const char *owner_id,
                                        int64_t from, int64_t to, int64_t now);

/* The upload id whoever owns it (the start-up reconciliation with the blob store). */
enum store_err store_attachment_find(struct store *s, const char *id, struct store_attachment *out);

/* Deletes the owner's upload row (the caller removes the blob after). STORE_NOT_FOUND when
 * it is not theirs. */
enum store_err store_attachment_delete(struct store *s, const char *id, const char *owner_id);

/* The declared bytes of the owner's uploads (what counts against the quota). */
enum store_err store_attachment_used(struct store *s, const char *owner_id, int64_t *used);

/* Up to max ids of uploads expired at now, oldest expiry first, into ids (STORE_ID_SIZE
 * each); *n how many. */
enum store_err store_attachments_expired(struct store *s, int64_t now, size_t max,
                                         char (*ids)[STORE_ID_SIZE], size_t *n);

/* Deletes an expired upload's row (the sweep; the caller removes the blob after):
 * STORE_NOT_FOUND when it is gone or no longer expired. */
enum store_err store_attachment_expire(struct store *s, const char *id, int64_t now);

#endif
