/* queue.h: each device's delivery queue: fetch in seq order, acknowledge, retention.
 *
 * Rows are written by messages.c (send, edit, delete), one per target device with that
 * device's next seq. A device reads its rows after a seq, acknowledges up to a seq with
 * store_queue_ack (which drops the delivered ciphertext and turns first deliveries into
 * receipts for the sender), and store_device_revoke drops a revoked device's whole queue.
 * Whatever drops ciphertext (ack, delete, revoke, retention) lowers its sender's count of
 * queued bytes in the same transaction (queued_bytes.h).
 *
 * The device id is always the authenticated caller's, never taken from a request: a device
 * can only read and acknowledge its own rows.
 */
#ifndef SOTTO_STORE_QUEUE_H
#define SOTTO_STORE_QUEUE_H

#include "store/messages.h"
#include "store/store.h"

#define STORE_QUEUE_RETENTION_MS (30LL * 24 * 3600 * 1000) /* default: 30 days */
#define STORE_QUEUE_BATCH_MAX 1000                         /* most items per fetch */

enum store_queue_event {
    STORE_EVENT_NEW = 1,     /* message:new */
    STORE_EVENT_EDITED = 2,  /* message:edited */
    STORE_EVENT_DELETED = 3, /* message:deleted (never an envelope) */
};

struct store_queue_item {
    int64_t seq;
    enum store_queue_event event;
    /* The message as it is now (edited_at, deleted_at, status), with this row's envelope in
     * has_envelope/envelope_type/ciphertext: absent for `deleted` rows, and for any row whose
     * message was deleted since it was queued. */
    struct store_message message;
};

/* Free an array from store_queue_fetch with every item's ciphertext. */
void store_queue_items_free(struct store_queue_item *items, size_t n);

/* The device's unacknowledged rows with seq > after, in seq order, at most max
 * (1..STORE_QUEUE_BATCH_MAX, else STORE_INVALID). *out: array of *n (free with
 * store_queue_items_free; NULL when 0). *last_seq gets the device's newest seq (0 when it
 * never had a row): what queue:drained reports once a fetch returns fewer than max.
 * STORE_NOT_FOUND for an unknown or revoked device. */
enum store_err store_queue_fetch(struct store *s, const char *device_id, int64_t after, size_t max,
                                 struct store_queue_item **out, size_t *n, int64_t *last_seq);

/* A message that reached a device of its recipient for the first time. */
struct store_delivered {
    char message_id[STORE_ID_SIZE];
    char conversation_id[STORE_ID_SIZE];
    char sender_id[STORE_ID_SIZE]; /* whose devices get message:delivered */
    char user_id[STORE_ID_SIZE];   /* the recipient, owner of the acknowledging device */
    int64_t delivered_at;
};

/* The device acknowledges every one of its rows with seq <= seq, in one transaction: their
 * ciphertext is dropped, acked_seq moves up (never down), and every message that thereby
 * reached its recipient for the first time is returned once in *out (array of *n, sorted by
 * message id, free() it; NULL when 0). Rows of the sender's own other devices never count
 * as delivery. Acknowledging again is STORE_OK with nothing new. STORE_INVALID for a seq
 * below 0 or beyond the device's newest; STORE_NOT_FOUND for an unknown or revoked device. */
enum store_err store_queue_ack(struct store *s, const char *device_id, int64_t seq, int64_t now,
                               struct store_delivered **out, size_t *n);

/* Retention: delete every queue row created before now - retention_ms, delivered or not;
 * *deleted (may be NULL) gets the count. Called periodically by the server. */
enum store_err store_queue_purge(struct store *s, int64_t now, int64_t retention_ms,
                                 int64_t *deleted);

#endif
