/* queue.c: per-device delivery queues: fetch, acknowledge (with first-delivery receipts),
 * retention. */
#include "store/queue.h"

#include "message_row.h"
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

static const char queue_device[] =
    "SELECT next_seq - 1, user_id, acked_seq FROM devices WHERE id = $1 AND revoked_at IS NULL";
static const char queue_fetch[] =
    "SELECT " MESSAGE_ROW_COLS ", q.envelope_type, q.ciphertext, q.seq, q.event "
    "FROM device_queue q JOIN messages m ON m.id = q.message_id "
    "WHERE q.device_id = $1 AND q.seq > $2 AND q.delivered_at IS NULL "
    "ORDER BY q.seq LIMIT $3";
/* Every range below starts above the device's acked_seq ($5 / $4): rows at or below it are
 * delivered already, and without the bound each ack would walk the device's whole history
 * (delivered rows stay until retention). The bound is only an optimisation: a stale
 * acked_seq read beside a concurrent ack widens the range, and `delivered_at IS NULL` still
 * decides. */
/* First deliveries: messages of the acknowledged rows that were not delivered before and
 * were sent by someone else (the sender's own devices don't make a receipt). The
 * conditional UPDATE reports each message once, however many devices ack it, concurrently
 * or not. PostgreSQL locks the message rows in id order, so two acks never deadlock. */
#define QUEUE_FIRST_DELIVERIES                                                          \
    "FROM device_queue q JOIN messages m ON m.id = q.message_id "                       \
    "WHERE q.device_id = $1 AND q.seq > $5 AND q.seq <= $2 AND q.delivered_at IS NULL " \
    "AND q.event <> 'deleted' AND m.sender_user_id <> $4 AND m.delivered_at IS NULL"
static const char queue_deliver_pg[] =
    "UPDATE messages SET delivered_at = $3 WHERE delivered_at IS NULL AND id IN ("
    "SELECT m.id " QUEUE_FIRST_DELIVERIES " ORDER BY m.id FOR UPDATE OF m) "
    "RETURNING id, conversation_id, sender_user_id";
/* SQLite: the one writer holds the whole database, so it reads the first deliveries and then
 * marks them one by one. UPDATE ... RETURNING would buffer its rows in a temporary b-tree,
 * opened and freed on every ack (a tenth of the writer's time, with the same in
 * messages.c's queue_take_seq). */
static const char queue_first_sqlite[] =
    "SELECT m.id, m.conversation_id, m.sender_user_id " QUEUE_FIRST_DELIVERIES;
static const char queue_delivered_sqlite[] =
    "UPDATE messages SET delivered_at = $2 WHERE id = $1 AND delivered_at IS NULL";
static const char queue_mark[] =
    "UPDATE device_queue SET delivered_at = $3, ciphertext = NULL "
    "WHERE device_id = $1 AND seq > $4 AND seq <= $2 AND delivered_at IS NULL";
/* The ciphertext the ack drops, per sender (queued_bytes.c); $3 is the acked_seq bound. */
#define QUEUE_ACK_ROWS "q.device_id = $1 AND q.seq > $3 AND q.seq <= $2 AND q.delivered_at IS NULL"
static const char queue_ack_bytes_sqlite[] = QUEUED_BYTES_SUM(QUEUE_ACK_ROWS, "");
static const char queue_ack_bytes_pg[] = QUEUED_BYTES_SUM(QUEUE_ACK_ROWS, QUEUED_BYTES_LOCK);
static const char queue_purge_bytes_sqlite[] = QUEUED_BYTES_SUM("q.created_at < $1", "");
static const char queue_purge_bytes_pg[] = QUEUED_BYTES_SUM("q.created_at < $1", QUEUED_BYTES_LOCK);
static const char queue_acked[] =
    "UPDATE devices SET acked_seq = $2 WHERE id = $1 AND acked_seq < $2";
static const char queue_purge[] = "DELETE FROM device_queue WHERE created_at < $1";

void store_queue_items_free(struct store_queue_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        store_message_free(&items[i].message);
    free(items);
}

/* The device's newest seq, owner and acknowledged seq; STORE_NOT_FOUND when unknown or
 * revoked. */
static enum store_err queue_device_load(struct store *s, const char *device_id, int64_t *last_seq,
                                        char user_id[STORE_ID_SIZE], int64_t *acked_seq)
{
    struct db_param p = db_text(device_id);
    struct db_rows *r;
    int rc = s->drv->query(s->db, queue_device, &p, 1, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        *last_seq = s->drv->get_int(r, 0);
        store_col_id(s, r, 1, user_id);
        *acked_seq = s->drv->get_int(r, 2);
    }
    s->drv->done(r);
    return rc == 1 ? STORE_OK : rc == 0 ? STORE_NOT_FOUND : store_map(rc);
}

static enum store_queue_event queue_event(const char *name)
{
    if (name && !strcmp(name, "edited"))
        return STORE_EVENT_EDITED;
    if (name && !strcmp(name, "deleted"))
        return STORE_EVENT_DELETED;
    return STORE_EVENT_NEW;
}

static enum store_err queue_rows(struct store *s, const char *device_id, int64_t after, size_t max,
                                 struct store_queue_item **out, size_t *n)
{
    struct db_param p[] = {db_text(device_id), DB_INT(after), DB_INT(max)};
    struct db_rows *r;
    size_t cap = 0;
    int rc = s->drv->query(s->db, queue_fetch, p, 3, &r);
    while (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        *out = store_xgrow(*out, &cap, *n, sizeof **out);
        struct store_queue_item *it = &(*out)[(*n)++];
        message_row_read(s, r, &it->message);
        it->seq = s->drv->get_int(r, 12);
        it->event = queue_event(s->drv->get_text(r, 13, NULL));
        rc = DB_OK;
    }
    s->drv->done(r);
    return store_map(rc);
}

enum store_err store_queue_fetch(struct store *s, const char *device_id, int64_t after, size_t max,
                                 struct store_queue_item **out, size_t *n, int64_t *last_seq)
{
    char user_id[STORE_ID_SIZE];
    int64_t acked = 0;
    *out = NULL;
    *n = 0;
    *last_seq = 0;
    if (max < 1 || max > STORE_QUEUE_BATCH_MAX)
        return STORE_INVALID;
    /* The newest seq first: a committed next_seq implies its rows are committed too (one
     * transaction), so every row up to *last_seq is visible to the fetch that follows. */
    enum store_err rc = queue_device_load(s, device_id, last_seq, user_id, &acked);
    if (rc == STORE_OK)
        rc = queue_rows(s, device_id, after > acked ? after : acked, max, out, n);
    if (rc != STORE_OK) {
        store_queue_items_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

static int delivered_cmp(const void *a, const void *b)
{
    return strcmp(((const struct store_delivered *)a)->message_id,
                  ((const struct store_delivered *)b)->message_id);
}

static enum store_err queue_deliver(struct store *s, const char *device_id, int64_t seq,
                                    int64_t acked, const char *user_id, int64_t now,
                                    struct store_delivered **out, size_t *n)
{
    struct db_param p[] = {db_text(device_id), DB_INT(seq), DB_INT(now), db_text(user_id),
                           DB_INT(acked)};
    struct db_rows *r;
    size_t cap = 0;
    const char *sql = store_sql(s, queue_first_sqlite, queue_deliver_pg);
    int rc = s->drv->query(s->db, sql, p, 5, &r);
    while (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        *out = store_xgrow(*out, &cap, *n, sizeof **out);
        struct store_delivered *d = &(*out)[(*n)++];
        store_col_id(s, r, 0, d->message_id);
        store_col_id(s, r, 1, d->conversation_id);
        store_col_id(s, r, 2, d->sender_id);
        memcpy(d->user_id, user_id, STORE_ID_SIZE);
        d->delivered_at = now;
        rc = DB_OK;
    }
    s->drv->done(r);
    for (size_t i = 0; rc == DB_OK && s->drv->dialect == DB_SQLITE && i < *n; i++) {
        struct db_param u[] = {db_text((*out)[i].message_id), DB_INT(now)};
        rc = s->drv->exec(s->db, queue_delivered_sqlite, u, 2, NULL);
    }
    if (*n > 1)
        qsort(*out, *n, sizeof **out, delivered_cmp);
    return store_map(rc);
}

static enum store_err queue_ack_run(struct store *s, const char *device_id, int64_t seq,
                                    int64_t now, struct store_delivered **out, size_t *n)
{
    char user_id[STORE_ID_SIZE];
    int64_t last = 0, acked = 0;
    enum store_err rc = queue_device_load(s, device_id, &last, user_id, &acked);
    struct db_param p[] = {db_text(device_id), DB_INT(seq), DB_INT(now), DB_INT(acked)};
    if (rc == STORE_OK && (seq < 0 || seq > last))
        rc = STORE_INVALID;
    if (rc == STORE_OK && seq <= acked)
        return STORE_OK; /* nothing new: an old or repeated ack */
    /* Message rows first, then queue rows, the senders' counts, then the device row. */
    if (rc == STORE_OK)
        rc = queue_deliver(s, device_id, seq, acked, user_id, now, out, n);
    if (rc == STORE_OK) {
        struct db_param b[] = {db_text(device_id), DB_INT(seq), DB_INT(acked)};
        rc =
            queued_bytes_release(s, store_sql(s, queue_ack_bytes_sqlite, queue_ack_bytes_pg), b, 3);
    }
    if (rc == STORE_OK)
        rc = store_exec(s, queue_mark, p, 4, NULL);
    if (rc == STORE_OK)
        rc = store_exec(s, queue_acked, p, 2, NULL);
    return rc;
}

enum store_err store_queue_ack(struct store *s, const char *device_id, int64_t seq, int64_t now,
                               struct store_delivered **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = store_finish(s, queue_ack_run(s, device_id, seq, now, out, n));
    if (rc != STORE_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* The senders' counts and the rows go together: one transaction. */
static enum store_err queue_purge_run(struct store *s, int64_t cutoff, int64_t *changes)
{
    struct db_param p = DB_INT(cutoff);
    enum store_err rc = queued_bytes_release(
        s, store_sql(s, queue_purge_bytes_sqlite, queue_purge_bytes_pg), &p, 1);
    if (rc == STORE_OK)
        rc = store_exec(s, queue_purge, &p, 1, changes);
    return rc;
}

enum store_err store_queue_purge(struct store *s, int64_t now, int64_t retention_ms,
                                 int64_t *deleted)
{
    int64_t changes = 0;
    if (retention_ms < 0)
        return STORE_INVALID;
    enum store_err rc = store_begin(s);
    if (rc == STORE_OK)
        rc = store_finish(s, queue_purge_run(s, now - retention_ms, &changes));
    if (deleted)
        *deleted = rc == STORE_OK ? changes : 0;
    return rc;
}
