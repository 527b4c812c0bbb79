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

/* Most attachments one message may carry (api.md: attachmentIds, at most 10). */
#define STORE_ATTACHMENTS_PER_MESSAGE 10

struct store_attachment {
    char id[STORE_ID_SIZE], owner_id[STORE_ID_SIZE];
    char message_id[STORE_ID_SIZE]; /* the message it was sent with; "" while unsent */
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

/* The upload id as user_id may download it: their own, or sent with a message of a
 * conversation user_id is in when neither of user_id and the uploader blocked the other.
 * STORE_NOT_FOUND for everyone else, and once expired. */
enum store_err store_attachment_readable(struct store *s, const char *id, const char *user_id,
                                         int64_t now, struct store_attachment *out);

/* Deletes the owner's unsent upload row (the caller removes the blob after). STORE_NOT_FOUND
 * when it is not theirs, STORE_CONFLICT when it has been sent (it goes with its message). */
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

/* Sending, before it writes anything (a refused send must write nothing): whether each of
 * ids[0..n) is owner_id's upload, complete, unsent and not expired at now, and named once;
 * STORE_INVALID when one is not. On PostgreSQL the rows are locked until the commit, so two
 * sends cannot both take one upload. */
enum store_err store_attachments_check(struct store *s, const char *owner_id,
                                       const char (*ids)[STORE_ID_SIZE], size_t n, int64_t now);

/* Sending, after the message row is written, in the same transaction: links the uploads
 * ids[0..n) (checked above) to message_id. STORE_INVALID when one is no longer linkable.
 * Linked uploads expire at expires_at (the queue's retention; 0: never). */
enum store_err store_attachments_link(struct store *s, const char *owner_id, const char *message_id,
                                      const char (*ids)[STORE_ID_SIZE], size_t n, int64_t now,
                                      int64_t expires_at);

/* Deleting a message (inside its transaction): deletes the rows linked to it. *ids gets their
 * ids (malloc'ed, free(); NULL when none) and *n how many, for the caller to remove the blobs
 * after the commit. */
enum store_err store_attachments_unlink_message(struct store *s, const char *message_id,
                                                char (**ids)[STORE_ID_SIZE], size_t *n);

/* The ids of owner_id's uploads, sent or not, as store_attachments_unlink_message gives them:
 * read in the transaction that deletes the account (its rows go with the user row), for the
 * caller to remove the blobs after the commit. */
enum store_err store_attachments_of_owner(struct store *s, const char *owner_id,
                                          char (**ids)[STORE_ID_SIZE], size_t *n);

#endif
