/* devices.c: devices, their bundles, revocation and activity. */
#include "store/devices.h"

#include "store/tokens.h"
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#define DEVICE_COLS                                                                            \
    "id, user_id, name, platform, identity_key, signing_key, identity_signature, spk_id, "     \
    "spk_public, spk_signature, revoked_at, last_ip, user_agent, last_active_at, created_at, " \
    "tokens_not_before"

static const char devices_insert[] =
    "INSERT INTO devices (id, user_id, name, platform, identity_key, signing_key, "
    "identity_signature, spk_id, spk_public, spk_signature, last_ip, user_agent, "
    "last_active_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
    "$13, $13)";
static const char devices_get[] = "SELECT " DEVICE_COLS " FROM devices WHERE id = $1";
static const char devices_list_all[] =
    "SELECT " DEVICE_COLS " FROM devices WHERE user_id = $1 ORDER BY created_at, id";
static const char devices_list_not_revoked[] =
    "SELECT " DEVICE_COLS " FROM devices WHERE user_id = $1 AND revoked_at IS NULL "
    "ORDER BY created_at, id";
static const char devices_list_active[] =
    "SELECT " DEVICE_COLS " FROM devices WHERE user_id = $1 AND revoked_at IS NULL "
    "AND identity_key IS NOT NULL ORDER BY created_at, id";
static const char devices_key_used[] =
    "SELECT 1 FROM devices WHERE id <> $1 AND (identity_key = $2 OR signing_key = $3)";
static const char devices_own_keys[] = "SELECT identity_key, signing_key FROM devices "
                                       "WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL";
/* Conditional, so two concurrent uploads of different keys cannot both win. */
static const char devices_set_bundle[] =
    "UPDATE devices SET identity_key = $3, signing_key = $4, identity_signature = $5, "
    "spk_id = $6, spk_public = $7, spk_signature = $8, last_active_at = $9 "
    "WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL "
    "AND (identity_key IS NULL OR (identity_key = $3 AND signing_key = $4))";
static const char devices_set_spk[] =
    "UPDATE devices SET spk_id = $3, spk_public = $4, spk_signature = $5, last_active_at = $6 "
    "WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND identity_key IS NOT NULL";
static const char devices_rename[] =
    "UPDATE devices SET name = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL";
static const char devices_revoke[] =
    "UPDATE devices SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL";
static const char devices_revoke_tokens[] =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL";
static const char devices_drop_prekeys[] = "DELETE FROM one_time_pre_keys WHERE device_id = $1";
static const char devices_drop_queue[] = "DELETE FROM device_queue WHERE device_id = $1";
static const char devices_queue_bytes_sqlite[] = QUEUED_BYTES_SUM("q.device_id = $1", "");
static const char devices_queue_bytes_pg[] =
    QUEUED_BYTES_SUM("q.device_id = $1", QUEUED_BYTES_LOCK);
/* Ending a device's tokens (logout). tokens_not_before never goes down; it rises to now, then
 * to the creation time of the device's newest refresh token if that is later: in PostgreSQL a
 * rotation that committed while the revocation waited for its row has inserted a successor
 * the revocation's snapshot could not see, minted with its own (possibly later) clock, and
 * this second statement, with a fresh snapshot, does see it. */
static const char devices_end_tokens[] =
    "UPDATE devices SET tokens_not_before = "
    "CASE WHEN tokens_not_before > $2 THEN tokens_not_before ELSE $2 END WHERE id = $1";
static const char devices_end_tokens_newest[] =
    "UPDATE devices SET tokens_not_before = "
    "(SELECT MAX(r.created_at) FROM refresh_tokens r WHERE r.device_id = devices.id) "
    "WHERE id = $1 AND tokens_not_before < "
    "(SELECT MAX(r.created_at) FROM refresh_tokens r WHERE r.device_id = devices.id)";
static const char devices_end_user_tokens[] =
    "UPDATE devices SET tokens_not_before = "
    "CASE WHEN tokens_not_before > $2 THEN tokens_not_before ELSE $2 END WHERE user_id = $1";
static const char devices_end_user_tokens_newest[] =
    "UPDATE devices SET tokens_not_before = "
    "(SELECT MAX(r.created_at) FROM refresh_tokens r WHERE r.device_id = devices.id) "
    "WHERE user_id = $1 AND tokens_not_before < "
    "(SELECT MAX(r.created_at) FROM refresh_tokens r WHERE r.device_id = devices.id)";
static const char devices_touch[] =
    "UPDATE devices SET last_ip = COALESCE($2, last_ip), "
    "user_agent = COALESCE($3, user_agent), last_active_at = $4 WHERE id = $1";

void store_device_free(struct store_device *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->last_ip);
    free(d->user_agent);
    memset(d, 0, sizeof *d);
}

void store_devices_free(struct store_device *devices, size_t n)
{
    for (size_t i = 0; devices && i < n; i++)
        store_device_free(&devices[i]);
    free(devices);
}

bool store_device_active(const struct store_device *d)
{
    return d->revoked_at == 0 && d->has_bundle;
}

static enum store_err device_read_bundle(struct store *s, struct db_rows *r, struct store_bundle *b)
{
    enum store_err rc = store_col_fixed(s, r, 4, b->identity_key, STORE_KEY_SIZE);
    if (rc == STORE_OK)
        rc = store_col_fixed(s, r, 5, b->signing_key, STORE_KEY_SIZE);
    if (rc == STORE_OK)
        rc = store_col_fixed(s, r, 6, b->identity_signature, STORE_SIG_SIZE);
    if (rc == STORE_OK)
        rc = store_col_fixed(s, r, 8, b->spk_public, STORE_KEY_SIZE);
    if (rc == STORE_OK)
        rc = store_col_fixed(s, r, 9, b->spk_signature, STORE_SIG_SIZE);
    b->spk_id = (uint32_t)s->drv->get_int(r, 7);
    return rc;
}

static enum store_err device_read(struct store *s, struct db_rows *r, struct store_device *d)
{
    size_t len = 0;
    const char *platform = s->drv->get_text(r, 3, &len);
    memset(d, 0, sizeof *d);
    store_col_id(s, r, 0, d->id);
    store_col_id(s, r, 1, d->user_id);
    d->name = store_col_strdup(s, r, 2);
    if (platform && len < sizeof d->platform)
        memcpy(d->platform, platform, len + 1);
    d->revoked_at = s->drv->get_int(r, 10);
    d->last_ip = store_col_strdup(s, r, 11);
    d->user_agent = store_col_strdup(s, r, 12);
    d->last_active_at = s->drv->get_int(r, 13);
    d->created_at = s->drv->get_int(r, 14);
    d->tokens_not_before = s->drv->get_int(r, 15);
    d->has_bundle = !s->drv->is_null(r, 4);
    return d->has_bundle ? device_read_bundle(s, r, &d->bundle) : STORE_OK;
}

/* 1 when a device other than device_id holds either key, 0 when not, or a db_err. */
static int device_key_used(struct store *s, const char *device_id, const struct store_bundle *b)
{
    struct db_param p[] = {db_text(device_id), DB_BLOB(b->identity_key, STORE_KEY_SIZE),
                           DB_BLOB(b->signing_key, STORE_KEY_SIZE)};
    return db_exists(s->drv, s->db, devices_key_used, p, 3);
}

static enum store_err device_insert(struct store *s, const char *user_id,
                                    const struct store_new_device *d, int64_t now, const char *id)
{
    const struct store_bundle *b = d->bundle;
    struct db_param p[] = {
        db_text(id),
        db_text(user_id),
        db_text(d->name),
        db_text(d->platform),
        b ? DB_BLOB(b->identity_key, STORE_KEY_SIZE) : DB_NULL,
        b ? DB_BLOB(b->signing_key, STORE_KEY_SIZE) : DB_NULL,
        b ? DB_BLOB(b->identity_signature, STORE_SIG_SIZE) : DB_NULL,
        b ? DB_INT(b->spk_id) : DB_NULL,
        b ? DB_BLOB(b->spk_public, STORE_KEY_SIZE) : DB_NULL,
        b ? DB_BLOB(b->spk_signature, STORE_SIG_SIZE) : DB_NULL,
        db_text(d->ip),
        db_text(d->user_agent),
        DB_INT(now),
    };
    enum store_err rc = store_exec(s, devices_insert, p, 13, NULL);
    return rc == STORE_CONFLICT ? STORE_CONFLICT_KEY : rc; /* lost a race for the keys */
}

enum store_err store_device_create(struct store *s, const char *user_id,
                                   const struct store_new_device *d, int64_t now,
                                   char id[STORE_ID_SIZE])
{
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    store_uuid_v4(id);
    if (d->bundle) {
        int used = device_key_used(s, id, d->bundle);
        rc = used == 1 ? STORE_CONFLICT_KEY : store_map(used);
    }
    if (rc == STORE_OK)
        rc = device_insert(s, user_id, d, now, id);
    return store_finish(s, rc);
}

enum store_err store_device_get(struct store *s, const char *device_id, struct store_device *out)
{
    struct db_param p = db_text(device_id);
    struct db_rows *r;
    enum store_err err = STORE_OK;
    memset(out, 0, sizeof *out);
    int rc = s->drv->query(s->db, devices_get, &p, 1, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1)
        err = device_read(s, r, out);
    s->drv->done(r);
    if (rc != 1)
        return rc == 0 ? STORE_NOT_FOUND : store_map(rc);
    if (err != STORE_OK)
        store_device_free(out);
    return err;
}

static const char *device_list_sql(enum store_device_filter filter)
{
    switch (filter) {
    case STORE_DEVICES_NOT_REVOKED: return devices_list_not_revoked;
    case STORE_DEVICES_ACTIVE: return devices_list_active;
    case STORE_DEVICES_ALL:
    default: return devices_list_all;
    }
}

enum store_err store_device_list(struct store *s, const char *user_id,
                                 enum store_device_filter filter, struct store_device **out,
                                 size_t *n)
{
    struct db_param p = db_text(user_id);
    struct db_rows *r;
    size_t cap = 0;
    enum store_err err = STORE_OK;
    *out = NULL;
    *n = 0;
    int rc = s->drv->query(s->db, device_list_sql(filter), &p, 1, &r);
    while (rc == DB_OK && err == STORE_OK && (rc = s->drv->next(r)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            struct store_device *grown = realloc(*out, cap * sizeof **out);
            if (!grown)
                abort();
            *out = grown;
        }
        err = device_read(s, r, &(*out)[(*n)++]);
        rc = DB_OK;
    }
    s->drv->done(r);
    if (err == STORE_OK)
        err = store_map(rc);
    if (err != STORE_OK) {
        store_devices_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return err;
}

/* May this device take bundle b? STORE_OK when it has no keys yet or these same keys;
 * STORE_IDENTITY_IMMUTABLE when it has others; STORE_NOT_FOUND when not theirs or revoked. */
static enum store_err device_bundle_allowed(struct store *s, const char *user_id,
                                            const char *device_id, const struct store_bundle *b)
{
    struct db_param p[] = {db_text(device_id), db_text(user_id)};
    struct db_rows *r;
    enum store_err err = STORE_OK;
    int rc = s->drv->query(s->db, devices_own_keys, p, 2, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1 && !s->drv->is_null(r, 0)) {
        size_t il = 0, sl = 0;
        const void *ik = s->drv->get_blob(r, 0, &il), *sk = s->drv->get_blob(r, 1, &sl);
        bool same = il == STORE_KEY_SIZE && sl == STORE_KEY_SIZE &&
                    !memcmp(ik, b->identity_key, il) && !memcmp(sk, b->signing_key, sl);
        err = same ? STORE_OK : STORE_IDENTITY_IMMUTABLE;
    } else if (rc != 1) {
        err = rc == 0 ? STORE_NOT_FOUND : store_map(rc);
    }
    s->drv->done(r);
    return err;
}

static enum store_err device_bundle_write(struct store *s, const char *user_id,
                                          const char *device_id, const struct store_bundle *b,
                                          int64_t now)
{
    struct db_param p[] = {db_text(device_id),
                           db_text(user_id),
                           DB_BLOB(b->identity_key, STORE_KEY_SIZE),
                           DB_BLOB(b->signing_key, STORE_KEY_SIZE),
                           DB_BLOB(b->identity_signature, STORE_SIG_SIZE),
                           DB_INT(b->spk_id),
                           DB_BLOB(b->spk_public, STORE_KEY_SIZE),
                           DB_BLOB(b->spk_signature, STORE_SIG_SIZE),
                           DB_INT(now)};
    int64_t changes = 0;
    enum store_err rc = store_exec(s, devices_set_bundle, p, 9, &changes);
    if (rc == STORE_CONFLICT)
        return STORE_CONFLICT_KEY;      /* another device took the keys meanwhile (PG) */
    if (rc == STORE_OK && changes == 0) /* a concurrent upload set other keys first */
        rc = device_bundle_allowed(s, user_id, device_id, b);
    return rc == STORE_OK && changes == 0 ? STORE_IDENTITY_IMMUTABLE : rc;
}

enum store_err store_device_set_bundle(struct store *s, const char *user_id, const char *device_id,
                                       const struct store_bundle *b, int64_t now)
{
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    /* Immutability first: a device re-sending other keys hears why, not about a clash. */
    rc = device_bundle_allowed(s, user_id, device_id, b);
    if (rc == STORE_OK) {
        int used = device_key_used(s, device_id, b);
        rc = used == 1 ? STORE_CONFLICT_KEY : store_map(used);
    }
    if (rc == STORE_OK)
        rc = device_bundle_write(s, user_id, device_id, b, now);
    return store_finish(s, rc);
}

enum store_err store_device_set_signed_prekey(struct store *s, const char *user_id,
                                              const char *device_id, uint32_t spk_id,
                                              const uint8_t spk_public[STORE_KEY_SIZE],
                                              const uint8_t spk_signature[STORE_SIG_SIZE],
                                              int64_t now)
{
    struct db_param p[] = {db_text(device_id),
                           db_text(user_id),
                           DB_INT(spk_id),
                           DB_BLOB(spk_public, STORE_KEY_SIZE),
                           DB_BLOB(spk_signature, STORE_SIG_SIZE),
                           DB_INT(now)};
    int64_t changes = 0;
    enum store_err rc = store_exec(s, devices_set_spk, p, 6, &changes);
    return rc == STORE_OK && changes == 0 ? STORE_NOT_FOUND : rc;
}

static enum store_err device_drop_state(struct store *s, const char *device_id, int64_t now)
{
    struct db_param p[] = {db_text(device_id), DB_INT(now)};
    enum store_err rc = store_exec(s, devices_revoke_tokens, p, 2, NULL);
    if (rc == STORE_OK)
        rc = store_exec(s, devices_drop_prekeys, p, 1, NULL);
    if (rc == STORE_OK) /* its undelivered ciphertext no longer counts against the senders */
        rc = queued_bytes_release(
            s, store_sql(s, devices_queue_bytes_sqlite, devices_queue_bytes_pg), p, 1);
    if (rc == STORE_OK)
        rc = store_exec(s, devices_drop_queue, p, 1, NULL);
    return rc;
}

enum store_err store_device_rename(struct store *s, const char *user_id, const char *device_id,
                                   const char *name)
{
    struct db_param p[] = {db_text(device_id), db_text(user_id), db_text(name)};
    int64_t changes = 0;
    enum store_err rc = store_exec(s, devices_rename, p, 3, &changes);
    return rc == STORE_OK && changes == 0 ? STORE_NOT_FOUND : rc;
}

enum store_err store_device_revoke(struct store *s, const char *user_id, const char *device_id,
                                   int64_t now)
{
    struct db_param p[] = {db_text(device_id), db_text(user_id), DB_INT(now)};
    int64_t changes = 0;
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = store_exec(s, devices_revoke, p, 3, &changes);
    if (rc == STORE_OK && changes == 0)
        rc = STORE_NOT_FOUND;
    if (rc == STORE_OK)
        rc = device_drop_state(s, device_id, now);
    return store_finish(s, rc);
}

enum store_err store_device_end_tokens(struct store *s, const char *device_id, int64_t now)
{
    struct db_param p[] = {db_text(device_id), DB_INT(now)};
    int64_t changes = 0;
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = store_refresh_revoke_device(s, device_id, now);
    if (rc == STORE_OK)
        rc = store_exec(s, devices_end_tokens, p, 2, &changes);
    if (rc == STORE_OK && changes == 0)
        rc = STORE_NOT_FOUND;
    if (rc == STORE_OK)
        rc = store_exec(s, devices_end_tokens_newest, p, 1, NULL);
    return store_finish(s, rc);
}

enum store_err store_user_end_tokens(struct store *s, const char *user_id, int64_t now)
{
    struct db_param p[] = {db_text(user_id), DB_INT(now)};
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = store_refresh_revoke_user(s, user_id, now);
    if (rc == STORE_OK)
        rc = store_exec(s, devices_end_user_tokens, p, 2, NULL);
    if (rc == STORE_OK)
        rc = store_exec(s, devices_end_user_tokens_newest, p, 1, NULL);
    return store_finish(s, rc);
}

enum store_err store_device_touch(struct store *s, const char *device_id, const char *ip,
                                  const char *user_agent, int64_t now)
{
    struct db_param p[] = {db_text(device_id), db_text(ip), db_text(user_agent), DB_INT(now)};
    int64_t changes = 0;
    enum store_err rc = store_exec(s, devices_touch, p, 4, &changes);
    return rc == STORE_OK && changes == 0 ? STORE_NOT_FOUND : rc;
}
