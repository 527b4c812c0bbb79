/* messages.h: sending, editing and deleting messages (with their per-device envelopes and
 * queue rows, each in one transaction), history, and read cursors.
 *
 * A message carries one envelope per target device. The targets of a message sent, edited
 * or deleted by (user U, device D) in a direct conversation with user O are exactly:
 * every active device of O, plus every active device of U except D ("active": not revoked
 * and with a bundle). Envelopes must name exactly those devices, or nothing is stored and
 * the caller gets STORE_MISMATCH with the missing and extra device ids.
 *
 * Every envelope becomes a device_queue row with that device's next seq, taken by an
 * UPDATE ... RETURNING on the device row inside the same transaction: concurrent sends to a
 * device serialize on that row and can neither repeat nor skip a seq. Device rows are
 * always locked in device-id order, after the conversation row, so two sends never wait on
 * each other in a cycle.
 *
 * Errors, as the API maps them: STORE_NOT_FOUND (404) for a conversation or message the
 * caller is not in, STORE_FORBIDDEN (403) for a participant who may not do this (not the
 * sender; blocked; the sending device revoked), STORE_MISMATCH (409 device_list_mismatch),
 * STORE_CONFLICT (a clientMessageId reused for another conversation), STORE_INVALID (sizes
 * out of bounds, an empty or over-long clientMessageId, a device named twice, a bad limit),
 * STORE_BUSY (retry; a send retried with its clientMessageId is safe), STORE_QUOTA (send and
 * edit: the sender's queued ciphertext would pass its bound, queued_bytes.h; nothing stored).
 *
 * Conventions as in store.h; result structs are filled by the store and freed with their
 * _free function, also after an error (they are zeroed first).
 */
#ifndef SOTTO_STORE_MESSAGES_H
#define SOTTO_STORE_MESSAGES_H

#include "store/store.h"

/* Sanity bounds the store enforces itself (the API checks the same before calling). */
#define STORE_ENVELOPE_MAX (64 * 1024) /* bytes of ciphertext per envelope */
#define STORE_ENVELOPES_MAX 100        /* 50 devices for each of the two users */
#define STORE_HISTORY_MAX 100          /* most messages per history page */
#define STORE_CLIENT_ID_MAX 64         /* bytes of a clientMessageId (a UUID is 36) */

enum store_envelope_type { STORE_ENVELOPE_PREKEY = 1, STORE_ENVELOPE_MESSAGE = 2 };

enum store_message_status {
    STORE_STATUS_SENT = 0,
    STORE_STATUS_DELIVERED = 1, /* some device of the recipient acknowledged it */
    STORE_STATUS_READ = 2,      /* the recipient's read cursor reached it */
};

/* One envelope given to send or edit. Everything is borrowed for the call. */
struct store_envelope {
    const char *device_id;
    enum store_envelope_type type;
    const uint8_t *ciphertext; /* 1..STORE_ENVELOPE_MAX bytes */
    size_t len;
};

struct store_message {
    char id[STORE_ID_SIZE]; /* UUIDv7 */
    char conversation_id[STORE_ID_SIZE];
    char sender_id[STORE_ID_SIZE];
    char sender_device_id[STORE_ID_SIZE];
    char client_message_id[STORE_CLIENT_ID_MAX + 1]; /* as the client gave it */
    int64_t sent_at, edited_at, deleted_at;          /* 0 when not edited / deleted */
    int64_t delivered_at;                            /* 0 until a recipient device acked it */
    enum store_message_status status;
    /* The newest envelope addressed to the device that asked, while its ciphertext is still
     * stored (not yet delivered to that device, not deleted). */
    bool has_envelope;
    enum store_envelope_type envelope_type;
    uint8_t *ciphertext; /* malloc'ed; freed by store_message_free */
    size_t ciphertext_len;
};

/* Free the ciphertext of one message (not the struct) and zero it. NULL allowed. */
void store_message_free(struct store_message *m);
/* Free an array from store_message_history. */
void store_messages_free(struct store_message *list, size_t n);

/* A queue row made for one target device: what the server pushes to it live. */
struct store_fanout {
    char device_id[STORE_ID_SIZE];
    char user_id[STORE_ID_SIZE]; /* the device's owner */
    int64_t seq;
};

/* What send, edit and delete return. On STORE_OK: message (as the acting device sees it),
 * created (send: false for an idempotent retry; edit and delete: whether anything changed)
 * and the new queue rows in device-id order (none when nothing changed); for a send that
 * created its message, contact_made (below). On
 * STORE_MISMATCH: missing (target devices without an envelope) and extra (envelopes for
 * devices that are not targets), each sorted by id. */
struct store_message_result {
    struct store_message message;
    bool created;
    struct store_fanout *fanout;
    size_t n_fanout;
    /* Send: this message was its sender's first in the conversation and the other participant
     * had already sent one, so the two have just become contacts (conversations.h); other_id
     * names the other participant then. */
    bool contact_made;
    char other_id[STORE_ID_SIZE];
    char (*missing)[STORE_ID_SIZE];
    size_t n_missing;
    char (*extra)[STORE_ID_SIZE];
    size_t n_extra;
    /* Send, on STORE_INVALID: an attachment id was refused (store_attachments_link). */
    bool attachments_refused;
    /* Delete, on STORE_OK: the attachments deleted with the message, whose blobs the caller
     * removes now that the rows are gone. */
    char (*attachments)[STORE_ID_SIZE];
    size_t n_attachments;
};

void store_message_result_free(struct store_message_result *r);

struct store_send {
    const char *conversation_id;
    const char *sender_id;        /* the authenticated user ... */
    const char *sender_device_id; /* ... and device (never from the request body) */
    const char *client_message_id;
    const struct store_envelope *envelopes;
    size_t n_envelopes;
    /* Bound on the sender's queued ciphertext, bytes (queued_bytes.h); 0: none. */
    int64_t queued_bytes_max;
    /* The sender's finished uploads the message carries (attachments.h), at most
     * STORE_ATTACHMENTS_PER_MESSAGE, and when they expire once sent (0: never). */
    const char (*attachment_ids)[STORE_ID_SIZE];
    size_t n_attachments;
    int64_t attachments_expire_at;
};

/* Send a message, in one transaction: the sender is a participant (else STORE_NOT_FOUND),
 * the sending device is theirs and not revoked, nobody blocked anybody (STORE_FORBIDDEN),
 * the envelopes name exactly the targets (STORE_MISMATCH). Idempotent by (sender,
 * client_message_id): a retry returns the stored message with created = false and makes no
 * queue rows (STORE_CONFLICT when that id was used in another conversation). A new message
 * whose envelopes would take the sender's queued ciphertext past queued_bytes_max is refused
 * with STORE_QUOTA before anything is written (so a group commit can keep its others). A new
 * message gets a UUIDv7 id from now, a queue row per target, marks the sender accepted, brings the
 * conversation back to both lists, and moves its activity time to now. Its attachments are
 * linked to it in the same transaction: one that is not the sender's finished, unsent upload
 * refuses the whole send with STORE_INVALID and attachments_refused (a retry by
 * clientMessageId returns the stored message and links nothing). */
enum store_err store_message_send(struct store *s, const struct store_send *req, int64_t now,
                                  struct store_message_result *out);

/* Edit: the sender only (another participant: STORE_FORBIDDEN), not deleted
 * (STORE_NOT_FOUND), not across a block (STORE_FORBIDDEN); envelopes for the current
 * targets of device_id (STORE_MISMATCH); within queued_bytes_max (as in store_send,
 * STORE_QUOTA); sets edited_at and queues `edited` rows. */
enum store_err store_message_edit(struct store *s, const char *user_id, const char *device_id,
                                  const char *message_id, const struct store_envelope *envelopes,
                                  size_t n, int64_t queued_bytes_max, int64_t now,
                                  struct store_message_result *out);

/* Delete: the sender only (STORE_FORBIDDEN otherwise); allowed across a block (it only
 * removes content). Sets deleted_at, drops the ciphertext of every queue row of the
 * message, deletes its attachments' rows (their ids in attachments, for the caller to remove
 * the blobs after the commit), and queues a `deleted` row (no ciphertext) for every target of
 * device_id.
 * Deleting a deleted message is STORE_OK with created = false and no queue rows. */
enum store_err store_message_delete(struct store *s, const char *user_id, const char *device_id,
                                    const char *message_id, int64_t now,
                                    struct store_message_result *out);

/* One message as (user_id, device_id) sees it, or STORE_NOT_FOUND when user_id is not in
 * its conversation. Free with store_message_free. */
enum store_err store_message_get(struct store *s, const char *user_id, const char *device_id,
                                 const char *message_id, struct store_message *out);

/* History of a conversation for (user_id, device_id): newest first, messages older than
 * `before` (a message id; NULL for the newest), at most limit (1..STORE_HISTORY_MAX, else
 * STORE_INVALID). Deleted messages are included (deleted_at set, no envelope). *out: array
 * of *n (store_messages_free; NULL when 0); *has_more says whether older ones exist.
 * STORE_NOT_FOUND when user_id is not in the conversation. */
enum store_err store_message_history(struct store *s, const char *user_id, const char *device_id,
                                     const char *conversation_id, const char *before, int64_t limit,
                                     struct store_message **out, size_t *n, bool *has_more);

/* What a read receipt needs. */
struct store_read_result {
    bool moved; /* false when the cursor was already at or past the message */
    char conversation_id[STORE_ID_SIZE];
    char reader_id[STORE_ID_SIZE];
    char other_id[STORE_ID_SIZE]; /* the participant whose messages were read */
    char message_id[STORE_ID_SIZE];
    int64_t read_at;
    bool blocked; /* either blocked the other: tell only the reader's own devices */
    /* Not for the other either: one of them has read receipts off, or the reader has not
     * accepted the conversation (a message request is read without saying so). */
    bool withheld;
};

/* user_id has read message_id and every earlier message of its conversation: the read
 * cursor moves forward to it, never back. STORE_NOT_FOUND when the message does not exist
 * or user_id is not in its conversation. */
enum store_err store_message_read(struct store *s, const char *user_id, const char *message_id,
                                  int64_t now, struct store_read_result *out);

#endif
