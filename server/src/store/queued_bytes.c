/* queued_bytes.c: the per-account count of queued ciphertext (queued_bytes.h): reading it,
 * charging a send or an edit against its bound, and releasing what acks, deletes, revokes and
 * retention drop. */
#include "store/queued_bytes.h"

#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

static const char qb_get[] = "SELECT bytes FROM account_queued_bytes WHERE user_id = $1";
static const char qb_recount[] =
    "SELECT SUM(length(q.ciphertext)) FROM device_queue q JOIN messages m "
    "ON m.id = q.message_id WHERE m.sender_user_id = $1 AND q.ciphertext IS NOT NULL";
/* Conditional: over the bound the row is left alone and nothing is written, which a batched
 * send needs (store_begin_batch: refusals come before the first write). */
static const char qb_charge[] =
    "INSERT INTO account_queued_bytes (user_id, bytes) VALUES ($1, $2) "
    "ON CONFLICT (user_id) DO UPDATE SET bytes = account_queued_bytes.bytes + excluded.bytes "
    "WHERE account_queued_bytes.bytes + excluded.bytes <= $3";
static const char qb_release[] =
    "UPDATE account_queued_bytes SET bytes = bytes - $2 WHERE user_id = $1";

/* One sender's share of what a statement is about to drop. */
struct qb_share {
    char user_id[STORE_ID_SIZE];
    int64_t bytes;
};

static enum store_err qb_one(struct store *s, const char *sql, const char *user_id, int64_t *bytes)
{
    struct db_param p = db_text(user_id);
    struct db_rows *r;
    *bytes = 0;
    int rc = s->drv->query(s->db, sql, &p, 1, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1)
        *bytes = s->drv->get_int(r, 0); /* SUM over no rows is NULL: 0 */
    s->drv->done(r);
    return rc < 0 ? store_map(rc) : STORE_OK;
}

enum store_err store_queued_bytes(struct store *s, const char *user_id, int64_t *bytes)
{
    return qb_one(s, qb_get, user_id, bytes);
}

enum store_err store_queued_bytes_recount(struct store *s, const char *user_id, int64_t *bytes)
{
    return qb_one(s, qb_recount, user_id, bytes);
}

enum store_err queued_bytes_charge(struct store *s, const char *user_id, int64_t bytes, int64_t max)
{
    int64_t changes = 0;
    if (max <= 0)
        max = INT64_MAX;
    if (bytes > max) /* the first send of an account inserts without the check below */
        return STORE_QUOTA;
    struct db_param p[] = {db_text(user_id), DB_INT(bytes), DB_INT(max)};
    enum store_err rc = store_exec(s, qb_charge, p, 3, &changes);
    return rc == STORE_OK && changes != 1 ? STORE_QUOTA : rc;
}

/* Read every share before the first UPDATE: a connection runs one statement at a time. */
static enum store_err qb_shares(struct store *s, const char *sql, const struct db_param *p, int n,
                                struct qb_share **out, size_t *count)
{
    struct db_rows *r;
    size_t cap = 0;
    int rc = s->drv->query(s->db, sql, p, n, &r);
    while (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        *out = store_xgrow(*out, &cap, *count, sizeof **out);
        struct qb_share *sh = &(*out)[(*count)++];
        store_col_id(s, r, 0, sh->user_id);
        sh->bytes = s->drv->get_int(r, 1);
        rc = DB_OK;
    }
    s->drv->done(r);
    return store_map(rc);
}

enum store_err queued_bytes_release(struct store *s, const char *sum_sql, const struct db_param *p,
                                    int n)
{
    struct qb_share *shares = NULL;
    size_t count = 0;
    enum store_err rc = qb_shares(s, sum_sql, p, n, &shares, &count);
    for (size_t i = 0; i < count && rc == STORE_OK; i++) {
        struct db_param u[] = {db_text(shares[i].user_id), DB_INT(shares[i].bytes)};
        if (shares[i].bytes)
            rc = store_exec(s, qb_release, u, 2, NULL);
    }
    free(shares);
    return rc;
}
