/* prekeys.c: one-time pre-keys: upload with a cap, count, atomic claim. */
#include "store/prekeys.h"

#include "store_internal.h"

#include <string.h>

static const char prekeys_insert[] =
    "INSERT INTO one_time_pre_keys (device_id, key_id, public_key, created_at) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (device_id, key_id) DO NOTHING";
static const char prekeys_get[] =
    "SELECT public_key FROM one_time_pre_keys WHERE device_id = $1 AND key_id = $2";
static const char prekeys_count[] = "SELECT COUNT(*) FROM one_time_pre_keys WHERE device_id = $1";
/* The claim differs by dialect. PostgreSQL: concurrent claimers skip each other's locked
 * row instead of queueing on it and then finding it gone. SQLite: writers are serialized
 * (BEGIN IMMEDIATE), so the plain form is already atomic. */
static const char prekeys_claim_sqlite[] =
    "DELETE FROM one_time_pre_keys WHERE device_id = $1 AND key_id = "
    "(SELECT MIN(key_id) FROM one_time_pre_keys WHERE device_id = $1) "
    "RETURNING key_id, public_key";
static const char prekeys_claim_pg[] =
    "DELETE FROM one_time_pre_keys WHERE device_id = $1 AND key_id = "
    "(SELECT key_id FROM one_time_pre_keys WHERE device_id = $1 ORDER BY key_id LIMIT 1 "
    "FOR UPDATE SKIP LOCKED) RETURNING key_id, public_key";

/* A key_id already present is fine only with the same public key (a retried upload). */
static enum store_err prekey_same(struct store *s, const char *device_id,
                                  const struct store_prekey *k)
{
    struct db_param p[] = {db_text(device_id), DB_INT(k->key_id)};
    struct db_rows *r;
    enum store_err err = STORE_CONFLICT;
    int rc = s->drv->query(s->db, prekeys_get, p, 2, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        size_t len = 0;
        const void *pub = s->drv->get_blob(r, 0, &len);
        if (len == STORE_KEY_SIZE && !memcmp(pub, k->public_key, len))
            err = STORE_OK;
    } else if (rc < 0) {
        err = store_map(rc);
    }
    s->drv->done(r);
    return err;
}

static enum store_err prekey_insert(struct store *s, const char *device_id,
                                    const struct store_prekey *k, int64_t now)
{
    struct db_param p[] = {db_text(device_id), DB_INT(k->key_id),
                           DB_BLOB(k->public_key, STORE_KEY_SIZE), DB_INT(now)};
    int64_t changes = 0;
    enum store_err rc = store_exec(s, prekeys_insert, p, 4, &changes);
    if (rc == STORE_OK && changes == 0)
        rc = prekey_same(s, device_id, k);
    return rc;
}

enum store_err store_prekeys_count(struct store *s, const char *device_id, int64_t *count)
{
    struct db_param p = db_text(device_id);
    struct db_rows *r;
    *count = 0;
    int rc = s->drv->query(s->db, prekeys_count, &p, 1, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1)
        *count = s->drv->get_int(r, 0);
    s->drv->done(r);
    return rc == 1 ? STORE_OK : store_map(rc < 0 ? rc : DB_ERR);
}

enum store_err store_prekeys_add(struct store *s, const char *device_id,
                                 const struct store_prekey *keys, size_t n, size_t max_stored,
                                 int64_t now)
{
    int64_t count = 0;
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    for (size_t i = 0; i < n && rc == STORE_OK; i++)
        rc = prekey_insert(s, device_id, &keys[i], now);
    if (rc == STORE_OK)
        rc = store_prekeys_count(s, device_id, &count);
    if (rc == STORE_OK && count > (int64_t)max_stored)
        rc = STORE_LIMIT;
    return store_finish(s, rc);
}

static enum store_err prekey_take(struct store *s, const char *device_id, struct store_prekey *out,
                                  bool *found)
{
    struct db_param p = db_text(device_id);
    struct db_rows *r;
    enum store_err err = STORE_OK;
    const char *sql = store_sql(s, prekeys_claim_sqlite, prekeys_claim_pg);
    int rc = s->drv->query(s->db, sql, &p, 1, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        out->key_id = (uint32_t)s->drv->get_int(r, 0);
        err = store_col_fixed(s, r, 1, out->public_key, STORE_KEY_SIZE);
        *found = err == STORE_OK;
        rc = s->drv->next(r); /* run the statement to its end before commit */
    }
    s->drv->done(r);
    return err != STORE_OK ? err : store_map(rc < 0 ? rc : DB_OK);
}

enum store_err store_prekeys_claim(struct store *s, const char *device_id, struct store_prekey *out,
                                   bool *found)
{
    *found = false;
    memset(out, 0, sizeof *out);
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = prekey_take(s, device_id, out, found);
    rc = store_finish(s, rc);
    if (rc != STORE_OK)
        *found = false;
    return rc;
}
